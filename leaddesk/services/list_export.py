"""Exporting a lead list, or its refused rows with their reasons, to CSV or XLSX."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaddesk.core.table_export import write_table
from leaddesk.errors import InputError
from leaddesk.services.lead_history import leads_of_list
from leaddesk.services.lead_lists import (
    LEAD_FIELD_HEADERS,
    REASON_COLUMN,
    ROW_COLUMN,
    get_list,
    refused_rows,
)
from leaddesk.storage.models import Lead

log = logging.getLogger(__name__)


def custom_fields(session: Session, lead_list_id: int) -> list[str]:
    """The names of the file's own columns kept with the list's leads, in first-seen order."""
    names: dict[str, None] = {}
    extras = session.scalars(
        select(Lead.extra)
        .where(Lead.lead_list_id == lead_list_id)
        .execution_options(yield_per=5_000)
    )
    for extra in extras:
        for name in extra or {}:
            names.setdefault(name, None)
    return list(names)


def _unique_headers(names: list[str]) -> list[str]:
    """Headers for the lead fields and custom fields, a custom one renamed if it repeats."""
    taken: set[str] = set()
    headers = []
    for name in names:
        header, copy = name, 1
        while header.casefold() in taken:
            copy += 1
            header = f"{name} ({copy})"
        taken.add(header.casefold())
        headers.append(header)
    return headers


def export_list(session: Session, lead_list_id: int, path: Path) -> int:
    """Write the leads of a list, with every custom field, to a CSV or XLSX file."""
    lead_list = get_list(session, lead_list_id)
    extra_names = custom_fields(session, lead_list_id)
    headers = _unique_headers([*LEAD_FIELD_HEADERS.values(), *extra_names])

    def rows() -> Iterator[list[str]]:
        for lead in leads_of_list(session, lead_list_id):
            fields = [getattr(lead, name) for name in LEAD_FIELD_HEADERS]
            yield fields + [str(lead.extra.get(name, "")) for name in extra_names]

    count = write_table(path, headers, rows(), lead_list.title)
    log.info("Exported list %s: %d leads", lead_list_id, count)
    return count


def export_refused(session: Session, lead_list_id: int, path: Path) -> int:
    """Write the refused rows of a list as they were in the file, each with its reason.

    The `Row in list` column lets the same file, once fixed, be imported into the list again
    in place of these rows.
    """
    lead_list = get_list(session, lead_list_id)
    refused = refused_rows(session, lead_list_id)
    if not refused:
        raise InputError(f"The lead list '{lead_list.title}' has no refused rows to export.")
    columns: dict[str, None] = {}
    for row in refused:
        for name in row.raw or {}:
            if name not in (REASON_COLUMN, ROW_COLUMN):
                columns.setdefault(name, None)
    headers = [*columns, REASON_COLUMN, ROW_COLUMN]
    rows = (
        [*((row.raw or {}).get(name, "") for name in columns), row.reason, row.row_number]
        for row in refused
    )
    count = write_table(path, headers, rows, f"{lead_list.title} refused")
    log.info("Exported the refused rows of list %s: %d rows", lead_list_id, count)
    return count
