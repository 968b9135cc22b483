"""Fixtures of the advertiser tests: local servers only, on 127.0.0.1."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver's own server listens on 127.0.0.1 at a free port, never elsewhere."""
    return ("127.0.0.1", 0)
