"""The sender against a real local advertiser: pace, status changes and outcomes."""

from __future__ import annotations

import itertools
import statistics
import time

from running_sender import distribute, distribution, emails, states, wait_until
from sqlalchemy import select

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.services import distributions, sender_lease
from leaddesk.storage.models import Delivery


def act(database, distribution_id, action) -> None:
    with database.writer() as session:
        distributions.apply_action(session, distribution_id, action)
        session.commit()


def test_a_list_is_sent_once_at_its_pace_and_turns_done(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    list_id = make_list(count=6)
    created_at = time.time()
    distribution_id = distribute(database, list_id, affiliate_id, offer_id)
    sender = running()

    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    received = sandbox.received
    assert len(received) == 6
    assert len(set(emails(sandbox))) == 6
    assert received[0]["received_at"] - created_at < 1.0
    assert received[0]["payload"]["language"] == "de"
    assert received[0]["payload"]["affiliate_name"] == "North"
    gaps = [b["received_at"] - a["received_at"] for a, b in itertools.pairwise(received)]
    assert all(0.3 <= gap <= 1.7 for gap in gaps)
    finished = distribution(database, distribution_id)
    assert (finished.sent, finished.accepted) == (6, 6)
    assert finished.finished_at is not None and finished.last_sent_at is not None
    assert finished.last_lead_label == "First5 Last5"
    assert states(database, distribution_id) == {DeliveryState.ACCEPTED.value: 6}
    assert distribution_id in sender.changes


def test_pause_holds_the_list_and_resume_goes_on_with_the_next_lead(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=6), affiliate_id, offer_id)
    running()
    wait_until(lambda: distribution(database, distribution_id).accepted >= 2)
    act(database, distribution_id, Action.PAUSE)
    held = len(sandbox.received)
    time.sleep(2.5)
    assert len(sandbox.received) == held
    assert held < 6

    resumed_at = time.time()
    act(database, distribution_id, Action.RESUME)
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    assert sorted(emails(sandbox)) == sorted(set(emails(sandbox)))
    assert len(sandbox.received) == 6
    # The pace starts again from the resume: the next lead leaves at once.
    assert sandbox.received[held]["received_at"] - resumed_at < 1.0


def test_done_stops_at_once_and_skips_what_is_left(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=10), affiliate_id, offer_id)
    running()
    wait_until(lambda: distribution(database, distribution_id).accepted >= 2)
    act(database, distribution_id, Action.DONE)
    sent = len(sandbox.received)
    time.sleep(2.0)

    assert len(sandbox.received) == sent
    counts = states(database, distribution_id)
    assert counts[DeliveryState.SKIPPED.value] == 10 - sent
    assert distribution(database, distribution_id).status == Status.DONE.value


def test_delete_stops_keeps_records_and_shows_under_deleted(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=10), affiliate_id, offer_id)
    running()
    wait_until(lambda: distribution(database, distribution_id).accepted >= 1)
    act(database, distribution_id, Action.DELETE)
    sent = len(sandbox.received)
    time.sleep(2.0)

    assert len(sandbox.received) == sent
    assert sum(states(database, distribution_id).values()) == 10
    with database.session() as session:
        shown = distributions.find_rows(session, distributions.DistributionFilter())
        deleted = distributions.find_rows(
            session, distributions.DistributionFilter(status=Status.DELETED)
        )
    assert distribution_id not in [row.id for row in shown]
    assert [row.id for row in deleted] == [distribution_id]


def test_rejections_are_recorded_with_their_reason(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    list_id = make_list(count=2)
    first = distribute(database, list_id, affiliate_id, offer_id, title="First")
    second = distribute(database, list_id, affiliate_id, offer_id, title="Again")
    running()
    for each in (first, second):
        wait_until(lambda each=each: distribution(database, each).status == Status.DONE.value)

    assert distribution(database, first).accepted + distribution(database, second).accepted == 2
    assert distribution(database, first).rejected + distribution(database, second).rejected == 2
    with database.session() as session:
        rejected = session.scalars(
            select(Delivery).where(Delivery.state == DeliveryState.REJECTED.value)
        ).all()
    assert {d.http_status for d in rejected} == {409}
    assert {d.verdict for d in rejected} == {"duplicate"}
    assert all("Duplicate" in d.reason for d in rejected)
    assert all(d.duration_ms is not None and d.duration_ms >= 0 for d in rejected)


def test_an_advertiser_that_cannot_be_reached_holds_the_list_and_fails_no_lead(
    database, make_list, make_offer, running
):
    closed = SandboxAdvertiser(port=0)
    closed.listen()
    closed_url = closed.url
    closed.stop()
    affiliate_id, offer_id = make_offer(closed_url, name="Gone")
    distribution_id = distribute(database, make_list(count=2), affiliate_id, offer_id)
    running()

    wait_until(
        lambda: "could not connect" in distribution(database, distribution_id).waiting_reason
    )
    time.sleep(1.0)

    held = distribution(database, distribution_id)
    assert held.waiting_reason.startswith("Waiting for the advertiser: ")
    assert "could not connect" in held.waiting_reason.lower()
    assert held.status == Status.ACTIVE.value
    assert (held.sent, held.failed, held.unknown) == (0, 0, 0)
    assert held.waiting_until is not None
    assert states(database, distribution_id) == {DeliveryState.QUEUED.value: 2}
    with database.session() as session:
        first = session.scalars(
            select(Delivery).where(Delivery.distribution_id == distribution_id)
        ).first()
    assert first.attempts >= 2


def test_slow_answers_do_not_stretch_the_schedule(database, make_list, make_offer, running):
    with SandboxAdvertiser(port=0, latency_ms=3000) as slow:
        affiliate_id, offer_id = make_offer(slow.url)
        distribution_id = distribute(database, make_list(count=8), affiliate_id, offer_id)
        running()
        wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)
        received = slow.received

    times = [request["received_at"] for request in received]
    assert len(times) == 8
    # Eight leads one second apart take seven seconds, however slowly each is answered.
    assert times[-1] - times[0] <= 7 + 1
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.3 <= gap <= 1.7 for gap in gaps)


def test_many_distributions_run_at_once_without_delaying_each_other(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    ids = [
        distribute(
            database, make_list(f"List {n}", count=4), affiliate_id, offer_id, title=f"D{n}"
        )
        for n in range(12)
    ]
    running()
    wait_until(lambda: all(distribution(database, i).status == Status.DONE.value for i in ids))

    by_list: dict[str, list[float]] = {}
    for request in sandbox.received:
        by_list.setdefault(request["payload"]["email"].split("0")[0][:6], []).append(
            request["received_at"]
        )
    assert len(sandbox.received) == 48
    assert len(set(emails(sandbox))) == 48
    spans = [max(t) - min(t) for t in by_list.values()]
    assert statistics.median(spans) <= 3 + 1


def test_two_senders_on_one_data_file_never_send_a_lead_twice(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=8), affiliate_id, offer_id)
    first, second = running(), running()
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    assert len(sandbox.received) == 8
    assert len(set(emails(sandbox))) == 8
    assert [first.sender.holds_lease, second.sender.holds_lease].count(True) == 1
    gaps = [b["received_at"] - a["received_at"] for a, b in itertools.pairwise(sandbox.received)]
    assert all(gap >= 0.3 for gap in gaps)


def test_a_waiting_sender_takes_over_when_the_holder_stops(
    database, sandbox, make_list, make_offer, running, monkeypatch
):
    monkeypatch.setattr(sender_lease, "RENEW_EVERY_S", 0.2)
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=6), affiliate_id, offer_id)
    first = running()
    wait_until(lambda: distribution(database, distribution_id).accepted >= 2)
    second = running()
    assert not second.sender.holds_lease
    first.stop()
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    assert second.sender.holds_lease
    assert len(sandbox.received) == 6 == len(set(emails(sandbox)))


def test_a_sender_started_again_soon_keeps_the_interval_after_the_last_lead(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id, every_s=3)
    first_sender = running()
    wait_until(lambda: distribution(database, distribution_id).accepted == 1)
    first_sender.stop()

    running()
    wait_until(lambda: distribution(database, distribution_id).accepted == 2, timeout_s=10)

    first, second = (entry["received_at"] for entry in sandbox.received[:2])
    assert second - first >= 2.9


def test_resuming_soon_after_a_pause_keeps_the_interval_after_the_last_lead(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id, every_s=3)
    running()
    wait_until(lambda: distribution(database, distribution_id).accepted == 1)
    act(database, distribution_id, Action.PAUSE)
    act(database, distribution_id, Action.RESUME)

    wait_until(lambda: distribution(database, distribution_id).accepted == 2, timeout_s=10)

    first, second = (entry["received_at"] for entry in sandbox.received[:2])
    assert second - first >= 2.9
