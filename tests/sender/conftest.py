"""Fixtures of the sender's tests."""

import pytest
from running_sender import RunningSender


@pytest.fixture
def running(database):
    """Start real senders on the test's data file; each is stopped at the end of the test."""
    started: list[RunningSender] = []

    def start() -> RunningSender:
        started.append(RunningSender(database))
        return started[-1]

    yield start
    for each in started:
        each.stop()
