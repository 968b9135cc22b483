"""Deliveries: claiming the next lead of a distribution and recording what came of it.

Every write here starts with the UPDATE that takes its row, inside a transaction that holds
the write lock from its start, so two senders on one data file never claim the same lead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_fields import EXTRA_FIELDS
from leaddesk.core.offer_config import OfferConfig, ResponseRules
from leaddesk.core.offer_request import LeadValues, OutgoingRequest, build_request
from leaddesk.core.status import DeliveryState, Status, can_move
from leaddesk.errors import InputError
from leaddesk.services import offer_secrets
from leaddesk.services.directory import offer_config
from leaddesk.services.distributions import interval_of, restart_anchor
from leaddesk.services.send_rules import EffectiveRules, effective_rules
from leaddesk.storage.models import Affiliate, Delivery, Distribution, Lead, Offer

log = logging.getLogger(__name__)

RESPONSE_TEXT_LIMIT = 4000
LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "country", "language")


@dataclass(frozen=True)
class ClaimedDelivery:
    """A lead taken for sending: everything the sending thread needs, with no ORM objects."""

    delivery_id: int
    distribution_id: int
    lead_label: str
    request: OutgoingRequest
    response_rules: ResponseRules
    # How long the advertiser may stay unreachable before the distribution pauses; 0: never.
    outage_pause_after_s: float


@dataclass(frozen=True)
class Outcome:
    """What came of sending one lead.

    The state QUEUED means the lead certainly never reached the advertiser (no connection,
    or an answer asking to wait): it goes back to its place in the queue, the distribution
    holds for `wait_s`, and with `pause` it is paused with the reason until the manager acts.
    """

    state: DeliveryState
    http_status: int | None = None
    response_text: str = ""
    advertiser_lead_id: str = ""
    reason: str = ""
    attempts: int = 1
    # accepted, duplicate, invalid, denied, rejected or unknown: how the answer was read.
    verdict: str = ""
    duration_ms: int | None = None
    autologin_url: str = ""
    wait_s: float = 0.0
    pause: bool = False


def claim_next(session: Session, distribution_id: int) -> ClaimedDelivery | None:
    """Mark the next queued lead of an Active distribution in flight, and commit.

    The request is built before the claim, in the same write transaction: a lead is claimed
    only when it can be sent, and an offer that lacks a secret pauses its distribution.
    """
    next_queued = session.execute(
        select(Delivery.id, Delivery.lead_id)
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(
            Delivery.distribution_id == distribution_id,
            Delivery.state == DeliveryState.QUEUED.value,
            Distribution.status == Status.ACTIVE.value,
        )
        .order_by(Delivery.position)
        .limit(1)
    ).first()
    if next_queued is None:
        session.commit()
        return None
    delivery_id, lead_id = next_queued
    distribution = session.get_one(Distribution, distribution_id)
    lead = session.get_one(Lead, lead_id)
    offer = session.get_one(Offer, distribution.offer_id)
    config = offer_config(offer)
    try:
        request = _request_for(session, distribution, lead, offer, config)
    except InputError as error:
        _pause_for(distribution, f"Paused: {error}")
        session.commit()
        return None
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(
            state=DeliveryState.IN_FLIGHT.value,
            claimed_at=utc_now(),
            generated_password=request.generated_password,
        )
    )
    distribution.sent += 1
    claim = ClaimedDelivery(
        delivery_id=delivery_id,
        distribution_id=distribution_id,
        lead_label=lead_label(lead),
        request=request,
        response_rules=config.response,
        outage_pause_after_s=config.outage_pause_after_min * 60.0,
    )
    session.commit()
    return claim


def _request_for(
    session: Session, distribution: Distribution, lead: Lead, offer: Offer, config: OfferConfig
) -> OutgoingRequest:
    affiliate = session.get_one(Affiliate, distribution.affiliate_id)
    columns = {name: getattr(lead, name) for name in LEAD_FIELDS}
    fields = fields_to_send(config, columns, lead.extra or {})
    secrets = offer_secrets.load(session, offer.id, config.secret_names())
    values = LeadValues(fields, affiliate.id, affiliate.name, dict(distribution.fixed_fields))
    return build_request(config, values, secrets)


def fields_to_send(
    config: OfferConfig, columns: dict[str, str], extra: dict[str, object]
) -> dict[str, str]:
    """The lead's values a request may use.

    Field rules name what goes, from any of the lead's values. Without them every lead field
    goes under its own name (IP, sub-ids, password... included), but never a custom column of
    the file, which could hold anything and reaches an advertiser only when a rule names it.
    """
    if not config.fields:
        known = {name: str(extra[name]) for name in EXTRA_FIELDS if extra.get(name)}
        return {**columns, **known}
    return {**{name: str(value) for name, value in extra.items()}, **columns}


def _pause_for(distribution: Distribution, reason: str) -> None:
    distribution.status = Status.PAUSED.value
    distribution.status_reason = reason[:RESPONSE_TEXT_LIMIT]
    log.warning("Distribution %s paused: its offer cannot send", distribution.id)


def lead_label(lead: Lead) -> str:
    """How the table names a lead: its name, or its row in the file when it has none."""
    return label_of(lead.first_name, lead.last_name, lead.row_number)


def label_of(first_name: str, last_name: str, row_number: int) -> str:
    """A lead's name, or its row in the file when it has none."""
    name = f"{first_name} {last_name}".strip()
    return name or f"row {row_number}"


def record_outcome(session: Session, claim: ClaimedDelivery, outcome: Outcome) -> bool:
    """Store what the advertiser answered; returns True when the distribution just finished."""
    if not can_move(DeliveryState.IN_FLIGHT, outcome.state):
        raise ValueError(f"{outcome.state.value} is not an outcome of sending a lead")
    if outcome.state is DeliveryState.QUEUED:
        _put_back(session, claim, outcome)
        return False
    now = utc_now()
    recorded = session.execute(
        update(Delivery)
        .where(
            Delivery.id == claim.delivery_id,
            Delivery.state == DeliveryState.IN_FLIGHT.value,
        )
        .values(
            state=outcome.state.value,
            finished_at=now,
            attempts=Delivery.attempts + outcome.attempts,
            http_status=outcome.http_status,
            response_text=outcome.response_text[:RESPONSE_TEXT_LIMIT],
            advertiser_lead_id=outcome.advertiser_lead_id[:200],
            reason=outcome.reason[:RESPONSE_TEXT_LIMIT],
            verdict=outcome.verdict or outcome.state.value,
            duration_ms=outcome.duration_ms,
            autologin_url=outcome.autologin_url[:RESPONSE_TEXT_LIMIT],
        )
    ).rowcount
    if not recorded:
        log.warning("Delivery %s was no longer in flight; outcome not stored", claim.delivery_id)
        session.commit()
        return False
    distribution = session.get_one(Distribution, claim.distribution_id)
    counter = _COUNTERS[outcome.state]
    setattr(distribution, counter, getattr(distribution, counter) + 1)
    distribution.last_lead_label = claim.lead_label[:200]
    distribution.last_sent_at = now
    # The advertiser answered, so whatever it was waited for is over.
    distribution.waiting_reason = ""
    distribution.waiting_until = None
    finished = _finish_if_complete(session, distribution, now)
    session.commit()
    return finished


def _put_back(session: Session, claim: ClaimedDelivery, outcome: Outcome) -> None:
    """A lead that never reached the advertiser takes its place in the queue again."""
    now = utc_now()
    returned = session.execute(
        update(Delivery)
        .where(
            Delivery.id == claim.delivery_id,
            Delivery.state == DeliveryState.IN_FLIGHT.value,
        )
        .values(
            state=DeliveryState.QUEUED.value,
            claimed_at=None,
            attempts=Delivery.attempts + outcome.attempts,
            reason=outcome.reason[:RESPONSE_TEXT_LIMIT],
        )
    ).rowcount
    if returned:
        distribution = session.get_one(Distribution, claim.distribution_id)
        distribution.sent -= 1
        distribution.waiting_reason = outcome.reason[:RESPONSE_TEXT_LIMIT]
        distribution.waiting_until = now + timedelta(seconds=outcome.wait_s)
        if outcome.pause and distribution.status == Status.ACTIVE.value:
            distribution.status = Status.PAUSED.value
            distribution.status_reason = outcome.reason[:RESPONSE_TEXT_LIMIT]
            log.warning("Distribution %s paused: a lead could not be sent", claim.distribution_id)
    session.commit()


_COUNTERS = {
    DeliveryState.ACCEPTED: "accepted",
    DeliveryState.REJECTED: "rejected",
    DeliveryState.FAILED: "failed",
    DeliveryState.UNKNOWN: "unknown",
}


def _finish_if_complete(session: Session, distribution: Distribution, now: datetime) -> bool:
    if distribution.status != Status.ACTIVE.value:
        return False
    pending = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.distribution_id == distribution.id,
            Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.IN_FLIGHT.value]),
        )
    )
    if pending:
        return False
    distribution.status = Status.DONE.value
    distribution.finished_at = now
    log.info("Distribution %s sent every lead and is Done", distribution.id)
    return True


def settle_interrupted(session: Session) -> int:
    """Deliveries left in flight by a sender that stopped: their outcome is unknown.

    Such a lead may have reached the advertiser, so it is never re-sent without the
    manager's choice. Called when a sender starts, before it claims anything.
    """
    now = utc_now()
    stranded = list(
        session.execute(
            update(Delivery)
            .where(Delivery.state == DeliveryState.IN_FLIGHT.value)
            .values(
                state=DeliveryState.UNKNOWN.value,
                finished_at=now,
                reason="The sender stopped while this lead was being sent; check with the "
                "advertiser whether it arrived.",
            )
            .returning(Delivery.distribution_id)
        ).scalars()
    )
    for distribution_id in set(stranded):
        distribution = session.get_one(Distribution, distribution_id)
        distribution.unknown += stranded.count(distribution_id)
        _finish_if_complete(session, distribution, now)
    session.commit()
    if stranded:
        log.warning("%d deliveries were in flight when the sender stopped", len(stranded))
    return len(stranded)


def reanchor_active(session: Session) -> None:
    """Restart the pace of every Active distribution after a sender (re)starts: its next lead
    goes now, or one interval after its last lead if that is later."""
    now = utc_now()
    for distribution in session.scalars(
        select(Distribution).where(Distribution.status == Status.ACTIVE.value)
    ):
        distribution.anchor_at = restart_anchor(distribution, now)
        distribution.anchor_index = distribution.sent
    session.commit()


@dataclass(frozen=True)
class ActiveDistribution:
    id: int
    interval_seconds: int
    anchor_at: datetime
    anchor_index: int
    sent: int
    rules: EffectiveRules | None = None


def active_distributions(session: Session) -> list[ActiveDistribution]:
    result = []
    rows = session.execute(
        select(Distribution, Offer.send_rules)
        .join(Offer, Offer.id == Distribution.offer_id)
        .where(Distribution.status == Status.ACTIVE.value)
    )
    for distribution, offer_rules in rows:
        result.append(
            ActiveDistribution(
                id=distribution.id,
                interval_seconds=interval_of(distribution).seconds,
                anchor_at=distribution.anchor_at or distribution.created_at,
                anchor_index=distribution.anchor_index,
                sent=distribution.sent,
                rules=effective_rules(distribution.offer_id, offer_rules, distribution.send_rules),
            )
        )
    return result
