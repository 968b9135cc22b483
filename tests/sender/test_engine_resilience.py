"""The sender when things around it go wrong: a locked data file, a dead holder, a moved clock."""

from __future__ import annotations

import itertools
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from running_sender import (
    FAST_RETRIES,
    distribute,
    distribution,
    emails,
    states,
    wait_until,
)

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core import clock
from leaddesk.core.status import DeliveryState, Status
from leaddesk.sender import engine
from leaddesk.sender.engine import Sender
from leaddesk.services import sender_lease
from leaddesk.storage import database as storage
from leaddesk.storage.database import open_database

SLOW_ANSWER_MS = 1500
# Long enough for the first answer to arrive while the file is locked.
LOCK_HELD_S = 4.0
SHORT_BUSY_TIMEOUT_MS = 500
CLOCK_JUMP = timedelta(hours=2)


@pytest.fixture
def busy_timeout_ms() -> int | None:
    """How long the data file waits for a lock; None keeps the product's setting."""
    return None


@pytest.fixture
def database(tmp_path, monkeypatch, busy_timeout_ms):
    if busy_timeout_ms is not None:
        monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", busy_timeout_ms)
    opened = open_database(tmp_path / "data")
    yield opened
    opened.close()


def hold_write_lock(database, seconds: float, distribution_id: int) -> tuple[list[str], float]:
    """Lock the data file from another connection, as a long import would.

    Returns the distribution's delivery states just before the release, and its time.
    """
    other = sqlite3.connect(database.path, isolation_level=None, timeout=10)
    try:
        other.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        held = [
            state
            for (state,) in other.execute(
                "SELECT state FROM delivery WHERE distribution_id = ? ORDER BY position",
                (distribution_id,),
            )
        ]
        released_at = time.time()
        other.execute("COMMIT")
    finally:
        other.close()
    return held, released_at


# A locked data file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "busy_timeout_ms", [None, SHORT_BUSY_TIMEOUT_MS], ids=["waits-for-lock", "lock-times-out"]
)
def test_a_locked_data_file_delays_records_but_loses_and_repeats_nothing(
    database, make_list, make_offer, running, monkeypatch, busy_timeout_ms
):
    monkeypatch.setattr(engine, "RECORD_RETRY_S", 0.2)
    with SandboxAdvertiser(port=0, latency_ms=SLOW_ANSWER_MS) as slow:
        affiliate_id, offer_id = make_offer(slow.url)
        distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id)
        sender = running()
        wait_until(
            lambda: states(database, distribution_id).get(DeliveryState.IN_FLIGHT.value, 0) >= 1
        )

        held, released_at = hold_write_lock(database, LOCK_HELD_S, distribution_id)
        wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)
        first_answered_at = slow.received[0]["received_at"] + SLOW_ANSWER_MS / 1000
        received = emails(slow)

    # The first answer came while the file was locked, and waited to be written.
    assert first_answered_at < released_at
    assert held[0] == DeliveryState.IN_FLIGHT.value

    assert states(database, distribution_id) == {DeliveryState.ACCEPTED.value: 3}
    assert len(received) == 3 == len(set(received))
    finished = distribution(database, distribution_id)
    assert (finished.sent, finished.accepted, finished.unknown) == (3, 3, 0)
    if busy_timeout_ms is not None:
        assert any("recorded as soon as" in error for error in sender.errors)


@pytest.mark.parametrize("busy_timeout_ms", [SHORT_BUSY_TIMEOUT_MS])
def test_a_lock_held_past_the_late_restart_does_not_stop_the_sender(
    database, make_list, make_offer, running, monkeypatch, busy_timeout_ms
):
    """PRODUCT BUG: Sender._restart_pace writes without catching OperationalError.

    When the file stays locked for longer than LATE_RESTART_S, the next due lead is late
    enough to restart the pace; that write fails on the lock and the exception ends the
    sender's loop thread, so nothing more is sent until LeadDesk is restarted.
    """
    monkeypatch.setattr(engine, "RECORD_RETRY_S", 0.2)
    with SandboxAdvertiser(port=0) as advertiser:
        affiliate_id, offer_id = make_offer(advertiser.url)
        distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id)
        sender = running()
        wait_until(lambda: distribution(database, distribution_id).accepted >= 1)

        hold_write_lock(database, engine.LATE_RESTART_S + 2, distribution_id)
        wait_until(
            lambda: (
                not sender.thread.is_alive()
                or distribution(database, distribution_id).status == Status.DONE.value
            )
        )
        received = emails(advertiser)

    assert sender.thread.is_alive()
    assert states(database, distribution_id) == {DeliveryState.ACCEPTED.value: 3}
    assert len(received) == 3 == len(set(received))


# The sending lease ----------------------------------------------------------------------


def test_a_lease_left_by_a_dead_process_here_is_taken_over_at_once(database):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(10)
    with database.writer() as session:
        assert sender_lease.acquire(session, f"{socket.gethostname()}:{ended.pid}:abcd")

    sender = Sender(database, retry_backoff_s=FAST_RETRIES)
    sender.start()

    try:
        assert sender.holds_lease
    finally:
        assert sender.shutdown(1) == 0


def test_a_fresh_lease_held_on_another_computer_is_respected(database):
    with database.writer() as session:
        assert sender_lease.acquire(session, "otherhost:1:abcd")

    sender = Sender(database, retry_backoff_s=FAST_RETRIES)
    sender.start()

    try:
        assert not sender.holds_lease
    finally:
        assert sender.shutdown(1) == 0


# A moved wall clock ---------------------------------------------------------------------


# PRODUCT BUG, seen as [before-start-ahead]: Sender._pace carries over up to a whole interval
# of wall-clock time elapsed since the anchor. A clock set ahead makes that a full interval,
# which reaches lead 1 whenever its jitter is not positive (about half of all distributions),
# so leads 0 and 1 leave back to back.
@pytest.mark.parametrize("jump", [CLOCK_JUMP, -CLOCK_JUMP], ids=["ahead", "back"])
@pytest.mark.parametrize("moved", ["before-start", "after-first-lead"])
def test_a_moved_wall_clock_neither_bursts_nor_stalls(
    database, sandbox, make_list, make_offer, running, monkeypatch, jump, moved
):
    def moved_clock() -> datetime:
        return clock.utc_now() + jump

    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=4), affiliate_id, offer_id)
    started_at = time.time()
    if moved == "before-start":
        monkeypatch.setattr(engine, "utc_now", moved_clock)
    running()
    if moved == "after-first-lead":
        wait_until(lambda: len(sandbox.received) >= 1)
        monkeypatch.setattr(engine, "utc_now", moved_clock)
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    times = [request["received_at"] for request in sandbox.received]
    assert len(times) == 4 == len(set(emails(sandbox)))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.3 for gap in gaps), gaps
    assert times[-1] - started_at <= 5.0
    assert states(database, distribution_id) == {DeliveryState.ACCEPTED.value: 4}
