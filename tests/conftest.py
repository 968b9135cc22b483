"""Fixtures shared by every test: a real data file, a real local advertiser, lead lists."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Log files of the tests, and of the processes they start, stay out of the user's log folder.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="leaddesk-test-state-")
# No test, nor a process a test starts, reaches the keyring of the user running the tests.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.services import directory, lead_lists, offer_secrets
from leaddesk.storage.database import open_database

SAMPLES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture
def samples_dir() -> Path:
    """The sample lead files beside the project, when this checkout has them."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"sample lead files not found at {SAMPLES_DIR} (they sit beside the repo)")
    return SAMPLES_DIR


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in this process's memory; `fail_with` makes every call raise it."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.fail_with: Exception | None = None

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_fail()
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail()
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail()
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def no_system_keyring():
    """Every test starts with the fail keyring backend: as on a computer without a keyring."""
    keyring.set_keyring(keyring.backends.fail.Keyring())
    offer_secrets.clear_cache()
    yield
    keyring.set_keyring(keyring.backends.fail.Keyring())
    offer_secrets.clear_cache()


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """A working keyring in memory, in place of the system's."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    offer_secrets.clear_cache()
    return backend


@pytest.fixture
def database(tmp_path):
    opened = open_database(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def sandbox():
    with SandboxAdvertiser(port=0) as advertiser:
        yield advertiser


def leads(count: int, prefix: str = "lead") -> list[LeadRecord]:
    return [
        LeadRecord(
            row_number=index + 2,
            first_name=f"First{index}",
            last_name=f"Last{index}",
            email=f"{prefix}{index}@example.com",
            phone=f"+4930{1000000 + index}",
            country="DE",
        )
        for index in range(count)
    ]


@pytest.fixture
def make_list(database):
    """Store a lead list of `count` made-up leads and return its id."""

    def make(title: str = "Spring leads", count: int = 5) -> int:
        result = ImportResult(
            rows_read=count,
            leads=leads(count, prefix=title.replace(" ", "").lower()),
            refused=[],
            encoding="utf-8",
            delimiter=",",
            columns={},
        )
        with database.writer() as session:
            lead_list = lead_lists.store_list(session, title, result, "Dana", "made-up.csv")
            session.commit()
            return lead_list.id

    return make


@pytest.fixture
def make_offer(database):
    """Store an affiliate and an offer sending to `url`; returns (affiliate_id, offer_id)."""

    def make(url: str, name: str = "Solar", affiliate: str = "North") -> tuple[int, int]:
        with database.writer() as session:
            product = directory.get_or_create_product(session, "Energy")
            found = directory.add_affiliate(session, affiliate)
            offer = directory.add_offer(session, name, url, product.id)
            session.commit()
            return found.id, offer.id

    return make


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver's own server listens on 127.0.0.1 at a free port, never elsewhere."""
    return ("127.0.0.1", 0)
