"""Lead lists: importing a file as a new list, and reading lists back."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_import import ImportResult, read_lead_file
from leaddesk.errors import InputError, NotFoundError
from leaddesk.services.directory import clean_name, resolve_manager
from leaddesk.storage.models import Distribution, Lead, LeadList, RefusedRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListSummary:
    id: int
    title: str
    lead_count: int
    refused_count: int
    rows_read: int
    created_by: str
    created_at: object
    source_file: str
    distribution_count: int


def import_file(
    session: Session,
    path: str | Path,
    title: str,
    manager_name: str | None = None,
    default_country: str | None = None,
) -> tuple[LeadList, ImportResult]:
    """Read a lead file and store it as a new list, with its refused rows and their reasons."""
    title = clean_name(title, "lead list")
    # The file is read before the session is first used: a writer's session takes the
    # write lock with its first statement, and the sender must not wait while a file parses.
    result = read_lead_file(path, default_country=default_country)
    if session.scalars(select(LeadList).where(LeadList.title == title)).first():
        raise InputError(f"There is already a lead list named '{title}'. Choose another title.")
    if not result.leads:
        raise InputError(
            f"No row of {Path(path).name} has a valid e-mail or phone, so no list was made "
            f"({len(result.refused)} rows refused). Check that the file has a header row."
        )
    lead_list = store_list(session, title, result, manager_name, str(path))
    log.info(
        "Imported list %s: %d leads, %d refused",
        lead_list.id,
        len(result.leads),
        len(result.refused),
    )
    return lead_list, result


def store_list(
    session: Session,
    title: str,
    result: ImportResult,
    manager_name: str | None,
    source_file: str,
) -> LeadList:
    lead_list = LeadList(
        title=title,
        source_file=source_file,
        created_at=utc_now(),
        created_by_id=resolve_manager(session, manager_name).id,
        rows_read=result.rows_read,
        lead_count=len(result.leads),
        refused_count=len(result.refused),
    )
    session.add(lead_list)
    session.flush()
    if result.leads:
        session.execute(
            insert(Lead), [{**asdict(lead), "lead_list_id": lead_list.id} for lead in result.leads]
        )
    if result.refused:
        session.execute(
            insert(RefusedRow),
            [{**asdict(row), "lead_list_id": lead_list.id} for row in result.refused],
        )
    return lead_list


def list_by_title(session: Session, title: str) -> LeadList:
    found = session.scalars(select(LeadList).where(LeadList.title == title)).first()
    if found is None:
        raise NotFoundError(f"There is no lead list named '{title}'.")
    return found


def list_summaries(session: Session) -> list[ListSummary]:
    used = (
        select(Distribution.lead_list_id, func.count().label("uses"))
        .group_by(Distribution.lead_list_id)
        .subquery()
    )
    rows = session.execute(
        select(LeadList, func.coalesce(used.c.uses, 0))
        .outerjoin(used, used.c.lead_list_id == LeadList.id)
        .order_by(LeadList.created_at.desc())
    )
    return [
        ListSummary(
            id=lead_list.id,
            title=lead_list.title,
            lead_count=lead_list.lead_count,
            refused_count=lead_list.refused_count,
            rows_read=lead_list.rows_read,
            created_by=lead_list.created_by.name if lead_list.created_by else "",
            created_at=lead_list.created_at,
            source_file=lead_list.source_file or "",
            distribution_count=uses,
        )
        for lead_list, uses in rows
    ]


def refused_rows(session: Session, lead_list_id: int) -> list[RefusedRow]:
    return list(
        session.scalars(
            select(RefusedRow)
            .where(RefusedRow.lead_list_id == lead_list_id)
            .order_by(RefusedRow.row_number)
        )
    )


def lead_fields(session: Session, lead_list_id: int) -> list[str]:
    """The lead fields that hold a value in at least one lead of the list."""
    fields = []
    for name in ("first_name", "last_name", "email", "phone", "country", "language"):
        column = getattr(Lead, name)
        has_value = session.scalar(
            select(Lead.id).where(Lead.lead_list_id == lead_list_id, column != "").limit(1)
        )
        if has_value is not None:
            fields.append(name)
    return fields
