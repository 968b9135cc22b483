"""The delivery log over a real data file: finding, counting, paging, sorting, sending again."""

from __future__ import annotations

import csv
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.errors import InputError, NotFoundError
from leaddesk.services import deliveries, delivery_log, distributions, integrity, lead_lists
from leaddesk.services.deliveries import Outcome
from leaddesk.services.delivery_log import LogColumn
from leaddesk.storage.models import Delivery, Distribution

OFFER_URL = "http://127.0.0.1:9/leads"

# What the advertiser answered to the first leads of the list, in order.
OUTCOMES = [
    Outcome(
        DeliveryState.ACCEPTED,
        http_status=200,
        advertiser_lead_id="adv-1",
        verdict="accepted",
        duration_ms=120,
        autologin_url="https://advertiser.example/login?t=abc",
    ),
    Outcome(
        DeliveryState.REJECTED,
        http_status=409,
        reason="Duplicate lead",
        verdict="duplicate",
        duration_ms=95,
    ),
    Outcome(DeliveryState.FAILED, reason="Not sent: could not connect (3 attempts).", attempts=3),
    Outcome(
        DeliveryState.UNKNOWN,
        http_status=502,
        reason="The advertiser failed (HTTP 502)",
        duration_ms=2400,
    ),
    Outcome(DeliveryState.REJECTED, http_status=400, reason="Invalid phone", verdict="invalid"),
]
LEADS = [
    LeadRecord(row_number=2, first_name="Zoe", last_name="Adams", email="zoe@example.com"),
    LeadRecord(row_number=3, first_name="anna", last_name="Berg", email="anna@example.com"),
    LeadRecord(row_number=4, email='=HYPERLINK("x")@example.com', phone="+4930100"),
    LeadRecord(row_number=5, first_name="Émile", email="emile@example.com"),
    LeadRecord(row_number=6, first_name="Bob", email="bob@example.com"),
    LeadRecord(row_number=7, first_name="Carl", email="carl@example.com"),
    LeadRecord(row_number=8, first_name="Dora", email="dora@example.com"),
]


def create(database, make_offer, title="Spring", every_s=60) -> int:
    affiliate_id, offer_id = make_offer(OFFER_URL, name=f"Offer {title}", affiliate=title)
    with database.writer() as session:
        result = ImportResult(len(LEADS), LEADS, [], "utf-8", ",", {})
        lead_list = lead_lists.store_list(session, f"{title} list", result, "Dana", "x.csv")
        created = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title=title,
                lead_list_id=lead_list.id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=SendInterval(every_s, PeriodUnit.SECONDS),
                fixed_fields={},
                include_repeats=True,
            ),
        )
        session.commit()
        return created.id


def send(database, distribution_id, outcomes) -> None:
    """Claim and answer the next leads as the sender does, one outcome each."""
    for outcome in outcomes:
        with database.writer() as session:
            claim = deliveries.claim_next(session, distribution_id)
        with database.writer() as session:
            deliveries.record_outcome(session, claim, outcome)


@pytest.fixture
def spring(database, make_offer) -> int:
    """Seven leads: accepted, rejected, failed, unknown, rejected, one in flight, one queued."""
    distribution_id = create(database, make_offer)
    send(database, distribution_id, OUTCOMES)
    with database.writer() as session:
        deliveries.claim_next(session, distribution_id)
    return distribution_id


def ids_by_position(database, distribution_id) -> dict[int, int]:
    with database.session() as session:
        found = session.execute(
            select(Delivery.position, Delivery.id).where(
                Delivery.distribution_id == distribution_id
            )
        )
        return {position + 1: delivery_id for position, delivery_id in found}


def positions(database, distribution_id, **options) -> list[int]:
    with database.session() as session:
        ids = delivery_log.find_delivery_ids(session, distribution_id, **options)
        rows = delivery_log.load_rows(session, ids)
    return [rows[delivery_id].position for delivery_id in ids]


def stored(database, distribution_id) -> Distribution:
    with database.session() as session:
        return session.get_one(Distribution, distribution_id)


def resend(database, distribution_id, delivery_ids) -> int:
    with database.writer() as session:
        count = delivery_log.send_again(session, distribution_id, delivery_ids)
        session.commit()
    return count


def assert_counters_agree_with_records(database) -> None:
    with database.session() as session:
        assert integrity.check(session).counter_mismatches == []


# Finding and counting --------------------------------------------------------------------


def test_every_state_is_shown_in_list_order_when_none_is_chosen(database, spring):
    assert positions(database, spring) == [1, 2, 3, 4, 5, 6, 7]
    assert positions(database, spring, states=[]) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([DeliveryState.ACCEPTED], [1]),
        (["rejected"], [2, 5]),
        ([DeliveryState.FAILED, DeliveryState.UNKNOWN], [3, 4]),
        ([DeliveryState.IN_FLIGHT], [6]),
        ([DeliveryState.QUEUED], [7]),
        ([DeliveryState.SKIPPED], []),
    ],
)
def test_filtering_by_state(database, spring, states, expected):
    assert positions(database, spring, states=states) == expected


def test_counts_per_state_list_every_state(database, spring):
    with database.session() as session:
        counts = delivery_log.count_by_state(session, spring)

    assert counts == {
        DeliveryState.QUEUED: 1,
        DeliveryState.IN_FLIGHT: 1,
        DeliveryState.ACCEPTED: 1,
        DeliveryState.REJECTED: 2,
        DeliveryState.FAILED: 1,
        DeliveryState.UNKNOWN: 1,
        DeliveryState.SKIPPED: 0,
    }
    assert delivery_log.counts_text(counts) == (
        "1 accepted, 2 rejected, 1 failed, 1 outcome unknown, 1 queued, 0 skipped, 1 being sent"
    )


def test_a_row_holds_every_field_of_the_log(database, spring):
    by_position = ids_by_position(database, spring)
    with database.session() as session:
        rows = delivery_log.load_rows(session, [by_position[1], by_position[3], by_position[6]])

    accepted = rows[by_position[1]]
    assert accepted.position == 1
    assert accepted.lead_label == "Zoe Adams"
    assert accepted.email == "zoe@example.com"
    assert accepted.state is DeliveryState.ACCEPTED
    assert accepted.verdict == "accepted"
    assert accepted.http_status == 200
    assert accepted.duration_ms == 120
    assert accepted.advertiser_lead_id == "adv-1"
    assert accepted.autologin_url == "https://advertiser.example/login?t=abc"
    assert accepted.attempts == 1
    assert abs(accepted.time - utc_now()) < timedelta(minutes=1)
    assert not accepted.can_send_again
    nameless = rows[by_position[3]]
    assert nameless.lead_label == "row 4"
    assert nameless.phone == "+4930100"
    assert nameless.state is DeliveryState.FAILED and nameless.can_send_again
    assert nameless.attempts == 3 and nameless.http_status is None
    in_flight = rows[by_position[6]]
    # A lead on its way shows when it left.
    assert in_flight.state is DeliveryState.IN_FLIGHT and in_flight.time is not None


@pytest.mark.parametrize("column", range(len(LogColumn.TITLES)))
@pytest.mark.parametrize("descending", [False, True])
def test_every_column_sorts_without_losing_rows(database, spring, column, descending):
    found = positions(database, spring, sort_column=column, descending=descending)

    assert sorted(found) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (LogColumn.POSITION, [1, 2, 3, 4, 5, 6, 7]),
        # Nameless row 4 first, then by name ignoring case: anna, Bob, Carl, Dora, Zoe, Émile.
        (LogColumn.LEAD, [3, 2, 5, 6, 7, 1, 4]),
        (LogColumn.EMAIL, [3, 2, 5, 6, 7, 4, 1]),
        # Queued, being sent, accepted, rejected, failed, unknown: then by position.
        (LogColumn.STATE, [7, 6, 1, 2, 5, 3, 4]),
        # No status first, then 200, 400, 409, 502.
        (LogColumn.HTTP, [3, 6, 7, 1, 5, 2, 4]),
    ],
)
def test_sorting_is_done_in_sql(database, spring, column, expected):
    assert positions(database, spring, sort_column=column) == expected
    assert positions(database, spring, sort_column=column, descending=True)[0] == expected[-1]


def test_rows_are_read_a_page_at_a_time(database, spring, monkeypatch):
    pages: list[int] = []
    load = delivery_log.load_rows

    def counting_load(session, ids):
        pages.append(len(ids))
        return load(session, ids)

    monkeypatch.setattr(delivery_log, "PAGE_ROWS", 3)
    monkeypatch.setattr(delivery_log, "load_rows", counting_load)

    with database.session() as session:
        rows = list(delivery_log.iter_rows(session, spring, sort_column=LogColumn.EMAIL))

    assert pages == [3, 3, 1]
    assert [row.position for row in rows] == [3, 2, 5, 6, 7, 4, 1]


def test_rows_load_only_the_ids_asked_for(database, spring):
    by_position = ids_by_position(database, spring)
    with database.session() as session:
        rows = delivery_log.load_rows(session, [by_position[2]])

    assert list(rows) == [by_position[2]]
    assert delivery_log.load_rows(session, []) == {}


def test_an_unknown_distribution_is_named(database):
    with database.session() as session, pytest.raises(NotFoundError, match="ID 42"):
        delivery_log.find_delivery_ids(session, 42)


# Sending again ---------------------------------------------------------------------------


def test_sending_again_queues_the_lead_and_keeps_its_outcome_in_history(database, spring):
    by_position = ids_by_position(database, spring)
    before = stored(database, spring)

    assert resend(database, spring, [by_position[2], by_position[4]]) == 2

    after = stored(database, spring)
    assert (after.sent, after.rejected, after.unknown) == (
        before.sent - 2,
        before.rejected - 1,
        before.unknown - 1,
    )
    assert (after.accepted, after.failed, after.total) == (
        before.accepted,
        before.failed,
        before.total,
    )
    assert_counters_agree_with_records(database)
    with database.session() as session:
        rejected = session.get_one(Delivery, by_position[2])
    assert rejected.state == DeliveryState.QUEUED.value
    assert (rejected.http_status, rejected.finished_at, rejected.claimed_at) == (None, None, None)
    assert (rejected.reason, rejected.verdict, rejected.response_text) == ("", "", "")
    assert rejected.duration_ms is None
    [earlier] = rejected.history
    assert earlier["state"] == "rejected"
    assert earlier["verdict"] == "duplicate"
    assert earlier["http_status"] == 409
    assert earlier["reason"] == "Duplicate lead"
    assert earlier["finished_at"].endswith("Z")
    assert earlier["sent_again_at"].endswith("Z")
    assert positions(database, spring, states=[DeliveryState.QUEUED]) == [2, 4, 7]


def test_a_lead_sent_again_twice_keeps_both_outcomes(database, spring):
    by_position = ids_by_position(database, spring)
    resend(database, spring, [by_position[2]])
    # The lead goes first, being first in the queue, and is refused again.
    send(database, spring, [Outcome(DeliveryState.REJECTED, http_status=409, reason="Again")])

    assert resend(database, spring, [by_position[2]]) == 1

    with database.session() as session:
        history = session.get_one(Delivery, by_position[2]).history
        row = delivery_log.load_rows(session, [by_position[2]])[by_position[2]]
    assert [entry["reason"] for entry in history] == ["Duplicate lead", "Again"]
    assert len(row.history) == 2
    assert delivery_log.history_text(row.history).count("Rejected at") == 2


@pytest.mark.parametrize("position", [1, 6, 7])
def test_accepted_in_flight_and_queued_leads_are_never_sent_again(database, spring, position):
    by_position = ids_by_position(database, spring)
    before = stored(database, spring)

    assert resend(database, spring, [by_position[position]]) == 0

    after = stored(database, spring)
    assert (after.sent, after.accepted, after.status) == (
        before.sent,
        before.accepted,
        before.status,
    )
    with database.session() as session:
        assert session.get_one(Delivery, by_position[position]).history == []


def test_deliveries_of_another_distribution_are_left_alone(database, make_offer, spring):
    other = create(database, make_offer, title="Autumn")
    send(database, other, OUTCOMES[:2])
    other_rejected = ids_by_position(database, other)[2]

    assert resend(database, spring, [other_rejected]) == 0

    assert positions(database, other, states=[DeliveryState.REJECTED]) == [2]


def test_a_done_distribution_becomes_active_and_starts_its_pace_from_now(database, spring):
    by_position = ids_by_position(database, spring)
    long_ago = utc_now() - timedelta(hours=3)
    with database.writer() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.distribution_id == spring, Delivery.state == "in_flight")
            .values(state="accepted", finished_at=long_ago)
        )
        distribution = session.get_one(Distribution, spring)
        distribution.accepted += 1
        distributions.apply_action(session, spring, Action.DONE)
        distribution.last_sent_at = long_ago
        session.commit()
    assert stored(database, spring).status == Status.DONE.value

    assert resend(database, spring, [by_position[3]]) == 1

    after = stored(database, spring)
    assert after.status == Status.ACTIVE.value
    assert after.finished_at is None
    assert after.anchor_index == after.sent == 5
    assert abs(after.anchor_at - utc_now()) < timedelta(minutes=1)
    assert_counters_agree_with_records(database)
    # The lead skipped when it was marked Done stays skipped.
    assert positions(database, spring, states=[DeliveryState.SKIPPED]) == [7]


def test_a_lead_that_left_moments_ago_keeps_its_interval_to_the_next(database, spring):
    by_position = ids_by_position(database, spring)
    last = stored(database, spring).last_sent_at
    assert utc_now() - last < timedelta(seconds=60)

    resend(database, spring, [by_position[2]])

    after = stored(database, spring)
    assert after.status == Status.ACTIVE.value
    # The lead before the next one is the one just sent; the next is due an interval later.
    assert (after.anchor_at, after.anchor_index) == (last, after.sent - 1)


def test_a_paused_distribution_stays_paused_and_sends_them_when_resumed(database, spring):
    by_position = ids_by_position(database, spring)
    with database.writer() as session:
        distributions.apply_action(session, spring, Action.PAUSE)
        session.commit()
    before = stored(database, spring)

    assert resend(database, spring, [by_position[2], by_position[5]]) == 2

    after = stored(database, spring)
    assert after.status == Status.PAUSED.value
    assert (after.anchor_at, after.anchor_index) == (before.anchor_at, before.anchor_index)
    assert after.rejected == before.rejected - 2
    with database.writer() as session:
        resumed = distributions.apply_action(session, spring, Action.RESUME)
        assert resumed.anchor_index == resumed.sent == after.sent
        session.commit()


def test_a_deleted_distribution_refuses_and_changes_nothing(database, spring):
    by_position = ids_by_position(database, spring)
    with database.writer() as session:
        distributions.apply_action(session, spring, Action.DELETE)
        session.commit()

    with pytest.raises(InputError, match="Deleted"):
        resend(database, spring, [by_position[2]])

    assert positions(database, spring, states=[DeliveryState.REJECTED]) == [2, 5]
    assert stored(database, spring).rejected == 2


def test_the_question_counts_the_leads_and_warns_of_unknown_outcomes(database, spring):
    by_position = ids_by_position(database, spring)
    chosen = [by_position[p] for p in (1, 2, 3, 4)]
    with database.session() as session:
        preview = delivery_log.resend_preview(session, spring, chosen)

    assert (preview.count, preview.unknown, preview.left_alone) == (3, 1, 1)
    assert delivery_log.resend_question(preview) == (
        "Send 3 leads of “Spring” again?\n\n"
        "1 of them has an outcome that is unknown: if it did arrive, the advertiser receives "
        "it twice. Check with the advertiser first if you can.\n\n"
        "At the distribution's pace, they go before the leads not sent yet.\n\n"
        "1 of the chosen leads was accepted or not sent yet; it stays as it is."
    )


@pytest.mark.parametrize(
    ("count", "unknown", "status", "left_alone", "says"),
    [
        (1, 1, Status.PAUSED, 0, ["Send 1 lead", "Its outcome is unknown: if it did", "it goes"]),
        (2, 2, Status.DONE, 0, ["Their outcome is unknown: if one did", "becomes Active again"]),
        (4, 2, Status.ACTIVE, 3, ["2 of them have an outcome", "3 of the chosen leads were"]),
        (2, 0, Status.PAUSED, 0, ["Send 2 leads", "they go when you resume it"]),
    ],
)
def test_the_question_fits_what_was_chosen(count, unknown, status, left_alone, says):
    preview = delivery_log.ResendPreview(1, "Spring", status, count, unknown, left_alone)

    question = delivery_log.resend_question(preview)

    assert all(words in question for words in says)
    assert ("twice" in question) == bool(unknown)


def test_the_log_line_names_no_lead(database, spring, caplog):
    by_position = ids_by_position(database, spring)
    with caplog.at_level(logging.INFO, logger="leaddesk.services.delivery_log"):
        resend(database, spring, list(by_position.values()))

    [message] = [record.getMessage() for record in caplog.records]
    assert message == (
        f"Distribution {spring}: 4 deliveries queued to be sent again "
        "(1 failed, 2 rejected, 1 unknown)"
    )


# Exporting -------------------------------------------------------------------------------


def test_export_writes_the_chosen_states_with_formulas_neutralised(database, spring, tmp_path):
    path = tmp_path / "log.csv"
    with database.session() as session:
        count = delivery_log.export_csv(
            session, spring, [DeliveryState.FAILED, DeliveryState.ACCEPTED], path
        )

    assert count == 2
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header == list(delivery_log.EXPORT_HEADERS)
    assert [row[0] for row in rows] == ["1", "3"]
    accepted = dict(zip(header, rows[0], strict=True))
    assert accepted["State"] == "Accepted"
    assert accepted["Auto-login link"] == "https://advertiser.example/login?t=abc"
    assert accepted["Advertiser lead id"] == "adv-1"
    assert accepted["HTTP"] == "200" and accepted["Duration (ms)"] == "120"
    failed = dict(zip(header, rows[1], strict=True))
    assert failed["E-mail"] == '\'=HYPERLINK("x")@example.com'
    assert failed["State"] == "Failed"
    assert failed["Attempts"] == "3"


def test_a_row_shows_when_its_lead_was_sent_not_when_the_answer_came(database, spring):
    by_position = ids_by_position(database, spring)
    sent_at, answered_at = datetime(2026, 12, 4, 9, 0, 0), datetime(2026, 12, 4, 9, 0, 30)
    with database.writer() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == by_position[1])
            .values(claimed_at=sent_at, finished_at=answered_at)
        )
        session.commit()
    with database.session() as session:
        row = delivery_log.load_rows(session, [by_position[1]])[by_position[1]]

    assert row.time == sent_at
