"""What a manager asks of stored leads when building a new list from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum


class LastOutcome(str, Enum):
    """What came of the last time a person was sent to any offer (or to the chosen one)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NEVER_SENT = "never_sent"

    @property
    def label(self) -> str:
        return "Never sent" if self is LastOutcome.NEVER_SENT else self.value.capitalize()


class SplitMode(str, Enum):
    """How a list is dealt into parts."""

    # Lead 1 to part 1, lead 2 to part 2, ... like dealing cards: parts alike in age and source.
    ROUND_ROBIN = "round_robin"
    # The first leads to part 1, the next to part 2: each part a stretch of the list.
    CONSECUTIVE = "consecutive"

    @property
    def label(self) -> str:
        return "round-robin" if self is SplitMode.ROUND_ROBIN else "consecutive"


@dataclass(frozen=True)
class LeadFilter:
    """Conditions on stored leads; an empty condition matches every lead.

    `imported_from`/`imported_to` are local dates, both included, of the list a lead is in.
    `custom_field` names a column of the file kept beside the lead fields; name and value are
    compared without regard to case. `never_sent_to_offer_id` leaves out anyone already sent
    to that offer. `last_outcome` looks at the person's latest delivery to any offer, or to
    `outcome_offer_id` when it is given.
    """

    country: str = ""
    language: str = ""
    lead_list_ids: tuple[int, ...] = ()
    imported_from: date | None = None
    imported_to: date | None = None
    custom_field: str = ""
    custom_value: str = ""
    never_sent_to_offer_id: int | None = None
    last_outcome: LastOutcome | None = None
    outcome_offer_id: int | None = None
    # Leads of archived lists are candidates only when asked for, or when their list is named.
    include_archived: bool = False
