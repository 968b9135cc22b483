"""What was sent of whom: the people already sent to an offer, and each person's last outcome.

A person is found by e-mail (any case) or phone in E.164, so the same person in several lists
is one person here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leaddesk.core.lead_keys import person_keys
from leaddesk.core.status import DeliveryState
from leaddesk.storage.models import Delivery, Distribution, Lead

# A lead in one of these states may have reached the advertiser: sending it again repeats it.
REACHED_STATES = (
    DeliveryState.ACCEPTED,
    DeliveryState.REJECTED,
    DeliveryState.UNKNOWN,
    DeliveryState.IN_FLIGHT,
)
# Every state of a delivery that was tried, for the last outcome of a person.
TRIED_STATES = (*REACHED_STATES, DeliveryState.FAILED)
ROWS_PER_FETCH = 5_000


@dataclass(frozen=True)
class StoredLead:
    """One stored lead, as plain values."""

    id: int
    lead_list_id: int
    row_number: int
    first_name: str
    last_name: str
    email: str
    phone: str
    country: str
    language: str
    extra: dict

    @property
    def keys(self) -> tuple[str, ...]:
        return person_keys(self.email, self.phone)


STORED_LEAD_COLUMNS = (
    Lead.id,
    Lead.lead_list_id,
    Lead.row_number,
    Lead.first_name,
    Lead.last_name,
    Lead.email,
    Lead.phone,
    Lead.country,
    Lead.language,
    Lead.extra,
)


def stored_leads(session: Session, query) -> Iterator[StoredLead]:
    """The leads a query over STORED_LEAD_COLUMNS finds, fetched a batch at a time."""
    rows = session.execute(query.execution_options(yield_per=ROWS_PER_FETCH))
    for row in rows:
        yield StoredLead(*row[:9], extra=row[9] or {})


def leads_of_list(session: Session, lead_list_id: int) -> Iterator[StoredLead]:
    """The leads of a list in their order."""
    query = (
        select(*STORED_LEAD_COLUMNS)
        .where(Lead.lead_list_id == lead_list_id)
        .order_by(Lead.row_number, Lead.id)
    )
    return stored_leads(session, query)


def keys_sent_to_offer(session: Session, offer_id: int) -> set[str]:
    """The keys of every person who may already have reached this offer."""
    rows = session.execute(
        select(Lead.email, Lead.phone)
        .join(Delivery, Delivery.lead_id == Lead.id)
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(
            Distribution.offer_id == offer_id,
            Delivery.state.in_([state.value for state in REACHED_STATES]),
        )
        .distinct()
    )
    keys: set[str] = set()
    for email, phone in rows:
        keys.update(person_keys(email, phone))
    return keys


def last_outcomes(
    session: Session, offer_id: int | None = None
) -> dict[str, tuple[int, DeliveryState]]:
    """Each person's latest tried delivery by key, as (order, state); to one offer if given."""
    # The order tells which of a person's two keys, e-mail and phone, was sent to last.
    moment = func.coalesce(Delivery.finished_at, Delivery.claimed_at)
    query = (
        select(Lead.email, Lead.phone, Delivery.state)
        .join(Delivery, Delivery.lead_id == Lead.id)
        .where(Delivery.state.in_([state.value for state in TRIED_STATES]))
        .order_by(moment, Delivery.id)
    )
    if offer_id is not None:
        query = query.join(Distribution, Distribution.id == Delivery.distribution_id).where(
            Distribution.offer_id == offer_id
        )
    latest: dict[str, tuple[int, DeliveryState]] = {}
    for order, (email, phone, state) in enumerate(session.execute(query)):
        for key in person_keys(email, phone):
            latest[key] = (order, DeliveryState(state))
    return latest


def last_outcome_of(
    keys: tuple[str, ...], latest: dict[str, tuple[int, DeliveryState]]
) -> DeliveryState | None:
    """The state of the latest delivery to the person with these keys, or None if never tried."""
    found = [latest[key] for key in keys if key in latest]
    return max(found, key=lambda pair: pair[0])[1] if found else None
