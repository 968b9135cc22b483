"""New lead lists from stored leads: by a filter, by splitting a list, by merging lists.

A new list holds copies of the leads, so the lists it came from stay as they were and keep
their history of deliveries. Its leads are numbered 2, 3, ... as rows under a header would be.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, func, insert, literal_column, select
from sqlalchemy.orm import Session

from leaddesk.core.clock import local_to_utc, utc_now
from leaddesk.core.lead_filter import LastOutcome, LeadFilter, SplitMode
from leaddesk.core.lead_keys import PersonIndex, duplicate_reason
from leaddesk.core.status import DeliveryState
from leaddesk.errors import InputError
from leaddesk.services.directory import resolve_manager
from leaddesk.services.lead_history import (
    STORED_LEAD_COLUMNS,
    StoredLead,
    keys_sent_to_offer,
    last_outcome_of,
    last_outcomes,
    leads_of_list,
    stored_leads,
)
from leaddesk.services.lead_lists import LEAD_FIELD_HEADERS, free_title, get_list
from leaddesk.storage.models import Lead, LeadList, Offer, RefusedRow

log = logging.getLogger(__name__)

FIRST_ROW_NUMBER = 2
ROWS_PER_INSERT = 5_000
MAX_PARTS = 100
SOURCE_TEXT_MAX_CHARS = 500
_OUTCOME_STATES = {
    LastOutcome.ACCEPTED: DeliveryState.ACCEPTED,
    LastOutcome.REJECTED: DeliveryState.REJECTED,
    LastOutcome.FAILED: DeliveryState.FAILED,
    LastOutcome.UNKNOWN: DeliveryState.UNKNOWN,
}


@dataclass(frozen=True)
class Selection:
    """Stored leads chosen for a new list: the kept ones, and the repeats left out."""

    leads: list[StoredLead]
    duplicates: list[tuple[StoredLead, str]]


@dataclass(frozen=True)
class NewList:
    """A list just made, as plain values."""

    id: int
    title: str
    lead_count: int
    duplicates_left_out: int


# Choosing leads -------------------------------------------------------------------------------


def select_leads(session: Session, wanted: LeadFilter) -> Selection:
    """The stored leads the filter asks for, oldest list first, each person once."""
    query = (
        select(*STORED_LEAD_COLUMNS)
        .join(LeadList, LeadList.id == Lead.lead_list_id)
        .where(and_(True, *_conditions(wanted)))
        .order_by(LeadList.created_at, LeadList.id, Lead.row_number, Lead.id)
    )
    keep = _history_test(session, wanted)
    return _without_repeats(lead for lead in stored_leads(session, query) if keep(lead))


def describe_filter(session: Session, wanted: LeadFilter) -> str:
    """The filter in a manager's words, for the source of the list it builds."""
    parts = []
    if wanted.lead_list_ids:
        titles = session.scalars(
            select(LeadList.title).where(LeadList.id.in_(wanted.lead_list_ids))
        )
        parts.append("lists " + ", ".join(f"'{title}'" for title in titles))
    if wanted.country:
        parts.append(f"country {wanted.country.upper()}")
    if wanted.language:
        parts.append(f"language {wanted.language.lower()}")
    if wanted.imported_from or wanted.imported_to:
        start = wanted.imported_from.isoformat() if wanted.imported_from else "…"
        end = wanted.imported_to.isoformat() if wanted.imported_to else "…"
        parts.append(f"imported {start} to {end}")
    if wanted.custom_field:
        parts.append(f"{wanted.custom_field} = '{wanted.custom_value}'")
    if wanted.never_sent_to_offer_id is not None:
        parts.append(f"never sent to {_offer_name(session, wanted.never_sent_to_offer_id)}")
    if wanted.last_outcome is not None:
        where = ""
        if wanted.outcome_offer_id is not None:
            where = f" at {_offer_name(session, wanted.outcome_offer_id)}"
        parts.append(f"last outcome{where} {wanted.last_outcome.label.lower()}")
    return "; ".join(parts) or "every stored lead"


def _offer_name(session: Session, offer_id: int) -> str:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise InputError(f"There is no offer with ID {offer_id}.")
    return f"'{offer.name}'"


def _conditions(wanted: LeadFilter) -> list:
    conditions = []
    if wanted.lead_list_ids:
        conditions.append(Lead.lead_list_id.in_(wanted.lead_list_ids))
    elif not wanted.include_archived:
        conditions.append(LeadList.archived_at.is_(None))
    if wanted.country.strip():
        conditions.append(Lead.country == wanted.country.strip().upper())
    if wanted.language.strip():
        conditions.append(Lead.language == wanted.language.strip().lower())
    if wanted.imported_from:
        start = local_to_utc(datetime.combine(wanted.imported_from, time.min))
        conditions.append(LeadList.created_at >= start)
    if wanted.imported_to:
        end = local_to_utc(datetime.combine(wanted.imported_to + timedelta(days=1), time.min))
        conditions.append(LeadList.created_at < end)
    if wanted.custom_field.strip():
        conditions.append(_custom_field_is(wanted.custom_field.strip(), wanted.custom_value))
    return conditions


def _custom_field_is(name: str, value: str):
    """The lead keeps a column `name` of its file with this value; case does not matter."""
    # json_each reads any key, whatever characters its name holds, unlike a JSON path.
    entries = func.json_each(Lead.extra).table_valued("key", "value").alias("custom")
    return (
        select(literal_column("1"))
        .select_from(entries)
        .where(
            func.ld_fold(entries.c.key) == name.casefold(),
            func.ld_fold(func.trim(entries.c.value)) == value.strip().casefold(),
        )
        .exists()
    )


def _history_test(session: Session, wanted: LeadFilter):
    """A test of a lead against the conditions on what was sent before, done in Python."""
    sent = set()
    if wanted.never_sent_to_offer_id is not None:
        sent = keys_sent_to_offer(session, wanted.never_sent_to_offer_id)
    latest = {}
    if wanted.last_outcome is not None:
        latest = last_outcomes(session, wanted.outcome_offer_id)

    def keep(lead: StoredLead) -> bool:
        keys = lead.keys
        if sent and any(key in sent for key in keys):
            return False
        if wanted.last_outcome is None:
            return True
        outcome = last_outcome_of(keys, latest)
        if wanted.last_outcome is LastOutcome.NEVER_SENT:
            return outcome is None
        return outcome is _OUTCOME_STATES[wanted.last_outcome]

    return keep


def _without_repeats(leads: Iterable[StoredLead]) -> Selection:
    """Each person once: a later lead with an e-mail or phone seen before is left out."""
    people = PersonIndex()
    kept: list[StoredLead] = []
    duplicates: list[tuple[StoredLead, str]] = []
    for lead in leads:
        keys = lead.keys
        found = people.find(keys)
        if found:
            key, kept_index = found
            duplicates.append((lead, duplicate_reason(kept_index + FIRST_ROW_NUMBER, key)))
            continue
        people.add(keys, len(kept))
        kept.append(lead)
    return Selection(kept, duplicates)


# Making lists ----------------------------------------------------------------------------------


def build_list(
    session: Session, title: str, wanted: LeadFilter, manager_name: str | None = None
) -> NewList:
    """A new list of copies of the stored leads the filter asks for, each person once."""
    title = free_title(session, title)
    selection = select_leads(session, wanted)
    if not selection.leads:
        raise InputError("No stored lead matches these conditions, so no list was made.")
    source = "built from " + describe_filter(session, wanted)
    return _store(session, title, source, selection, manager_name)


def merge_lists(
    session: Session, lead_list_ids: Sequence[int], title: str, manager_name: str | None = None
) -> NewList:
    """A new list of the leads of several lists, in their order, each person once."""
    if len(set(lead_list_ids)) < 2:
        raise InputError("Choose at least two lead lists to merge.")
    title = free_title(session, title)
    lists = [get_list(session, list_id) for list_id in dict.fromkeys(lead_list_ids)]
    selection = _without_repeats(
        lead for lead_list in lists for lead in leads_of_list(session, lead_list.id)
    )
    if not selection.leads:
        raise InputError("These lead lists have no leads, so no list was made.")
    source = "built from " + " + ".join(f"'{lead_list.title}'" for lead_list in lists)
    return _store(session, title, source, selection, manager_name)


def split_list(
    session: Session,
    lead_list_id: int,
    parts: int,
    mode: SplitMode,
    manager_name: str | None = None,
) -> list[NewList]:
    """New lists `<title> (part 1 of N)`..., dealt round-robin or in consecutive stretches."""
    lead_list = get_list(session, lead_list_id)
    leads = list(leads_of_list(session, lead_list_id))
    if not 2 <= parts <= min(MAX_PARTS, max(len(leads), 2)):
        raise InputError(
            f"A list of {len(leads)} leads can be split into 2 to "
            f"{min(MAX_PARTS, len(leads))} parts; {parts} is not possible."
            if len(leads) >= 2
            else f"The lead list '{lead_list.title}' has fewer than 2 leads to split."
        )
    titles = [
        free_title(session, _part_title(lead_list.title, index, parts))
        for index in range(1, parts + 1)
    ]
    made = []
    for index, part in enumerate(deal(leads, parts, mode)):
        source = f"built from '{lead_list.title}': part {index + 1} of {parts}, {mode.label}"
        made.append(_store(session, titles[index], source, Selection(part, []), manager_name))
    return made


def deal(leads: Sequence[StoredLead], parts: int, mode: SplitMode) -> list[list[StoredLead]]:
    """Leads dealt into parts whose sizes differ by one at most."""
    if mode is SplitMode.ROUND_ROBIN:
        return [list(leads[index::parts]) for index in range(parts)]
    size, larger = divmod(len(leads), parts)
    dealt, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < larger else 0)
        dealt.append(list(leads[start:end]))
        start = end
    return dealt


def _part_title(title: str, index: int, parts: int) -> str:
    suffix = f" (part {index} of {parts})"
    return title[: 200 - len(suffix)] + suffix


def _store(
    session: Session,
    title: str,
    source: str,
    selection: Selection,
    manager_name: str | None,
) -> NewList:
    kept, duplicates = selection.leads, selection.duplicates
    lead_list = LeadList(
        title=title,
        source_file=source[:SOURCE_TEXT_MAX_CHARS],
        created_at=utc_now(),
        created_by_id=resolve_manager(session, manager_name).id,
        rows_read=len(kept) + len(duplicates),
        lead_count=len(kept),
        refused_count=len(duplicates),
        duplicate_count=len(duplicates),
    )
    session.add(lead_list)
    session.flush()
    copies = (
        _copy(lead, lead_list.id, index + FIRST_ROW_NUMBER) for index, lead in enumerate(kept)
    )
    _insert_chunked(session, Lead, copies)
    next_row = len(kept) + FIRST_ROW_NUMBER
    left_out = (
        {
            "lead_list_id": lead_list.id,
            "row_number": next_row + index,
            "reason": reason,
            "raw": _raw(lead),
        }
        for index, (lead, reason) in enumerate(duplicates)
    )
    _insert_chunked(session, RefusedRow, left_out)
    log.info(
        "Made list %s: %d leads, %d duplicates left out", lead_list.id, len(kept), len(duplicates)
    )
    return NewList(lead_list.id, lead_list.title, len(kept), len(duplicates))


def _copy(lead: StoredLead, lead_list_id: int, row_number: int) -> dict:
    return {
        "lead_list_id": lead_list_id,
        "row_number": row_number,
        **{name: getattr(lead, name) for name in LEAD_FIELD_HEADERS},
        "extra": dict(lead.extra),
    }


def _raw(lead: StoredLead) -> dict[str, str]:
    fields = {header: getattr(lead, name) for name, header in LEAD_FIELD_HEADERS.items()}
    return {**{header: value for header, value in fields.items() if value}, **lead.extra}


def _insert_chunked(session: Session, table: type, rows: Iterable[dict]) -> None:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= ROWS_PER_INSERT:
            session.execute(insert(table), chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
