"""The sender's thread sends through a real local advertiser and stops cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Slot

from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Status
from leaddesk.services import directory, distributions, lead_lists, sender_lease
from leaddesk.storage.database import Database
from leaddesk.storage.models import Distribution
from leaddesk.ui.main_window import WAITING_FOR_OTHER_SENDER, sender_state_text
from leaddesk.ui.sender_worker import SenderThread, _step_delay_ms

SEND_TIMEOUT_MS = 20_000
LEADS = [
    LeadRecord(row_number=2, first_name="Ada", email="ada@example.com"),
    LeadRecord(row_number=3, first_name="Grace", email="grace@example.com"),
    LeadRecord(row_number=4, first_name="Edsger", phone="+31201234567"),
]


class Recorder(QObject):
    """Collects what the worker reports, in the test's (the window's) thread."""

    def __init__(self) -> None:
        super().__init__()
        self.changed: list[int] = []
        self.errors: list[str] = []
        self.active_counts: list[int] = []
        self.stopped = False

    @Slot(int)
    def on_changed(self, distribution_id: int) -> None:
        self.changed.append(distribution_id)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.errors.append(message)

    @Slot(int)
    def on_active_count(self, active_count: int) -> None:
        self.active_counts.append(active_count)

    @Slot()
    def on_stopped(self) -> None:
        self.stopped = True


def seed_distribution(database: Database, url: str) -> int:
    with database.writer() as session:
        affiliate = directory.add_affiliate(session, "North Media")
        offer = directory.add_offer(session, "Solar DE", url)
        result = ImportResult(len(LEADS), list(LEADS), [], "utf-8", ",", {})
        lead_list = lead_lists.store_list(session, "Spring leads", result, "Tester", "x.csv")
        distribution = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title="Spring leads",
                lead_list_id=lead_list.id,
                affiliate_id=affiliate.id,
                offer_id=offer.id,
                interval=SendInterval(1, PeriodUnit.SECONDS),
                fixed_fields={},
                manager_name="Tester",
            ),
        )
        session.commit()
        return distribution.id


def distribution_state(database: Database, distribution_id: int) -> tuple[str, int]:
    with database.session() as session:
        distribution = session.get_one(Distribution, distribution_id)
        return distribution.status, distribution.accepted


@pytest.fixture
def sender_thread(database: Database) -> Iterator[SenderThread]:
    """A sender's thread that is stopped at the end of the test, even a failed one."""
    thread = SenderThread(database)
    yield thread
    thread.shutdown()


def connect(sender_thread: SenderThread, recorder: Recorder) -> None:
    worker = sender_thread.worker
    worker.distribution_changed.connect(recorder.on_changed)
    worker.error.connect(recorder.on_error)
    worker.active_count_changed.connect(recorder.on_active_count)
    worker.stopped.connect(recorder.on_stopped)


def test_step_delay_is_bounded():
    assert _step_delay_ms(0) == 20
    assert _step_delay_ms(0.25) == 250
    assert _step_delay_ms(30) == 500


def test_worker_sends_every_lead_and_stops(qtbot, database, sandbox, sender_thread):
    distribution_id = seed_distribution(database, sandbox.url)
    recorder = Recorder()
    connect(sender_thread, recorder)

    sender_thread.start()
    qtbot.waitUntil(
        lambda: distribution_state(database, distribution_id) == (Status.DONE.value, 3),
        timeout=SEND_TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: 0 in recorder.active_counts[1:], timeout=SEND_TIMEOUT_MS)

    assert len(sandbox.received) == 3
    emails = {entry["payload"].get("email") for entry in sandbox.received}
    assert {"ada@example.com", "grace@example.com"} <= emails
    assert recorder.changed and set(recorder.changed) == {distribution_id}
    assert recorder.active_counts[0] == 1
    assert recorder.errors == []

    assert sender_thread.shutdown()
    assert not sender_thread.is_running()
    qtbot.waitUntil(lambda: recorder.stopped)


def test_idle_worker_wakes_and_stops(qtbot, sender_thread):
    recorder = Recorder()
    connect(sender_thread, recorder)

    sender_thread.start()
    qtbot.waitUntil(lambda: recorder.active_counts == [0])
    sender_thread.wake()

    assert sender_thread.shutdown()
    assert not sender_thread.is_running()
    qtbot.waitUntil(lambda: recorder.stopped)
    assert recorder.errors == []
    # A second shutdown has nothing left to stop.
    assert sender_thread.shutdown()


def test_a_worker_says_when_another_process_holds_the_sending_lease(
    qtbot, database, sender_thread
):
    with database.writer() as session:
        sender_lease.acquire(session, "another-computer:1:abcd")
    recorder = Recorder()
    connect(sender_thread, recorder)

    sender_thread.start()

    qtbot.waitUntil(lambda: recorder.active_counts == [WAITING_FOR_OTHER_SENDER])
    assert "another LeadDesk" in sender_state_text(recorder.active_counts[0])
