"""Leads a manager sends again go through the real sender to a real local advertiser."""

from __future__ import annotations

import time

from running_sender import distribute, distribution, emails, states, wait_until
from sqlalchemy import select, update

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.services import delivery_log, distributions, integrity, lead_lists
from leaddesk.storage.models import Delivery, Offer

# Quiet long enough for a lead due at once to have left, were it allowed to.
HELD_S = 1.5


def list_with_a_repeat(database) -> int:
    """Four leads; the third repeats the first's e-mail, which the sandbox refuses."""
    addresses = ["ada@example.com", "ben@example.com", "ada@example.com", "cleo@example.com"]
    leads = [
        LeadRecord(row_number=i + 2, first_name=f"Name{i}", email=email)
        for i, email in enumerate(addresses)
    ]
    with database.writer() as session:
        result = ImportResult(len(leads), leads, [], "utf-8", ",", {})
        lead_list = lead_lists.store_list(session, "Repeats", result, "Dana", "x.csv")
        session.commit()
        return lead_list.id


def rejected_ids(database, distribution_id) -> list[int]:
    with database.session() as session:
        return delivery_log.find_delivery_ids(session, distribution_id, [DeliveryState.REJECTED])


def send_again(database, distribution_id, ids) -> int:
    with database.writer() as session:
        count = delivery_log.send_again(session, distribution_id, ids)
        session.commit()
    return count


def point_offer_at(database, offer_id, url) -> None:
    with database.writer() as session:
        session.execute(update(Offer).where(Offer.id == offer_id).values(url=url))
        session.commit()


def test_a_lead_sent_again_reaches_the_advertiser_once_more(
    database, sandbox, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, list_with_a_repeat(database), affiliate_id, offer_id)
    sender = running()
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)
    assert states(database, distribution_id) == {"accepted": 3, "rejected": 1}
    [rejected] = rejected_ids(database, distribution_id)

    # An advertiser that has seen none of the leads takes the offer's leads from now on.
    with SandboxAdvertiser(port=0) as fresh:
        point_offer_at(database, offer_id, fresh.url)
        assert send_again(database, distribution_id, [rejected]) == 1
        sender.sender.wake()
        wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)
        again = emails(fresh)

    assert again == ["ada@example.com"]
    assert len(sandbox.received) == 4
    assert states(database, distribution_id) == {"accepted": 4}
    finished = distribution(database, distribution_id)
    assert (finished.sent, finished.accepted, finished.rejected) == (4, 4, 0)
    with database.session() as session:
        delivery = session.get_one(Delivery, rejected)
        assert integrity.check(session).counter_mismatches == []
    assert [entry["state"] for entry in delivery.history] == ["rejected"]
    assert delivery.history[0]["http_status"] == 409
    assert delivery.advertiser_lead_id == "sbx-1"


def test_a_paused_distribution_sends_them_only_when_resumed(
    database, sandbox, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    distribution_id = distribute(database, list_with_a_repeat(database), affiliate_id, offer_id)
    running()
    wait_until(lambda: distribution(database, distribution_id).rejected == 1)
    act(database, distribution_id, Action.PAUSE)
    wait_until(lambda: DeliveryState.IN_FLIGHT.value not in states(database, distribution_id))
    held = len(sandbox.received)

    assert send_again(database, distribution_id, rejected_ids(database, distribution_id)) == 1
    time.sleep(HELD_S)
    assert len(sandbox.received) == held
    assert distribution(database, distribution_id).status == Status.PAUSED.value

    act(database, distribution_id, Action.RESUME)
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    # The lead sent again is first in the queue; the sandbox refuses its e-mail once more.
    assert sandbox.received[held]["payload"]["email"] == "ada@example.com"
    assert len(sandbox.received) == 5
    with database.session() as session:
        history = session.scalars(
            select(Delivery.history).where(Delivery.distribution_id == distribution_id)
        ).all()
        assert integrity.check(session).counter_mismatches == []
    assert sorted(len(entries) for entries in history) == [0, 0, 0, 1]


def act(database, distribution_id, action) -> None:
    with database.writer() as session:
        distributions.apply_action(session, distribution_id, action)
        session.commit()
