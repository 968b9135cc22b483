"""Lead lists: importing a file as a new list, reading lists back, and looking after them."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_import import (
    LEAD_FIELDS,
    ImportResult,
    LeadRecord,
    Preview,
    ReadOptions,
    RefusedRecord,
    header_signature,
    preview_file,
    read_lead_file,
    read_leads,
)
from leaddesk.core.lead_keys import (
    DUPLICATE_REASON_START,
    PersonIndex,
    duplicate_reason,
    is_duplicate_reason,
    person_keys,
)
from leaddesk.errors import DataFileError, InputError, NotFoundError
from leaddesk.services.directory import clean_name, resolve_manager
from leaddesk.services.lead_history import leads_of_list
from leaddesk.services.lead_staging import LEAD_COLUMNS, ImportSummary, stage
from leaddesk.storage.database import Database, describe_error
from leaddesk.storage.models import Distribution, Lead, LeadList, RefusedRow, Setting

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
    duplicate_count: int = 0
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


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
        duplicate_count=sum(is_duplicate_reason(row.reason) for row in result.refused),
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


def list_summaries(session: Session, include_archived: bool = False) -> list[ListSummary]:
    """Every list, newest first; archived lists only when asked for."""
    used = (
        select(Distribution.lead_list_id, func.count().label("uses"))
        .group_by(Distribution.lead_list_id)
        .subquery()
    )
    query = (
        select(LeadList, func.coalesce(used.c.uses, 0))
        .outerjoin(used, used.c.lead_list_id == LeadList.id)
        .order_by(LeadList.created_at.desc(), LeadList.id.desc())
    )
    if not include_archived:
        query = query.where(LeadList.archived_at.is_(None))
    rows = session.execute(query)
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
            duplicate_count=lead_list.duplicate_count,
            archived_at=lead_list.archived_at,
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


# Looking after lists ------------------------------------------------------------------------


def get_list(session: Session, lead_list_id: int) -> LeadList:
    found = session.get(LeadList, lead_list_id)
    if found is None:
        raise NotFoundError(f"There is no lead list with ID {lead_list_id}.")
    return found


def free_title(session: Session, title: str, own_id: int | None = None) -> str:
    """The title cleaned, if no other list has it; else an InputError saying so."""
    title = clean_name(title, "lead list")
    taken = session.scalars(select(LeadList.id).where(LeadList.title == title)).first()
    if taken is not None and taken != own_id:
        raise InputError(f"There is already a lead list named '{title}'. Choose another title.")
    return title


def rename_list(session: Session, lead_list_id: int, title: str) -> LeadList:
    lead_list = get_list(session, lead_list_id)
    lead_list.title = free_title(session, title, own_id=lead_list_id)
    log.info("Renamed list %s", lead_list_id)
    return lead_list


def set_archived(session: Session, lead_list_id: int, archived: bool) -> LeadList:
    """Archive a list (hidden from everyday choices, nothing lost) or bring it back."""
    lead_list = get_list(session, lead_list_id)
    if archived and lead_list.archived_at is None:
        lead_list.archived_at = utc_now()
    elif not archived:
        lead_list.archived_at = None
    log.info("List %s archived: %s", lead_list_id, archived)
    return lead_list


def count_refused(session: Session, lead_list: LeadList) -> None:
    """Set the counters of a list from its stored leads and refused rows."""
    of_list = RefusedRow.lead_list_id == lead_list.id
    lead_list.lead_count = session.scalar(
        select(func.count()).select_from(Lead).where(Lead.lead_list_id == lead_list.id)
    )
    lead_list.refused_count = session.scalar(
        select(func.count()).select_from(RefusedRow).where(of_list)
    )
    lead_list.duplicate_count = session.scalar(
        select(func.count())
        .select_from(RefusedRow)
        .where(of_list, RefusedRow.reason.startswith(DUPLICATE_REASON_START, autoescape=True))
    )
    lead_list.rows_read = lead_list.lead_count + lead_list.refused_count


# The same people in other lists --------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """How many leads of one list are also in another list."""

    lead_list_id: int
    title: str
    shared: int
    archived: bool


def duplicates_in_other_lists(session: Session, lead_list_id: int) -> list[Overlap]:
    """For each other list holding some of this list's people, how many; most first.

    Nothing is removed: the manager decides what to do with the counts.
    """
    own: dict[str, int] = {}
    for lead in leads_of_list(session, lead_list_id):
        for key in lead.keys:
            own.setdefault(key, lead.id)
    shared: dict[int, set[int]] = {}
    others = session.execute(
        select(Lead.lead_list_id, Lead.email, Lead.phone)
        .where(Lead.lead_list_id != lead_list_id)
        .execution_options(yield_per=5_000)
    )
    for other_list_id, email, phone in others:
        for key in person_keys(email, phone):
            if key in own:
                shared.setdefault(other_list_id, set()).add(own[key])
    if not shared:
        return []
    lists = session.execute(
        select(LeadList.id, LeadList.title, LeadList.archived_at).where(
            LeadList.id.in_(list(shared))
        )
    )
    overlaps = [
        Overlap(list_id, title, len(shared[list_id]), archived_at is not None)
        for list_id, title, archived_at in lists
    ]
    return sorted(overlaps, key=lambda overlap: (-overlap.shared, overlap.title))


# Importing a fixed file into a list -----------------------------------------------------------

# The lead fields, in order, under headers a lead file import recognises again.
LEAD_FIELD_HEADERS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "country": "Country",
    "language": "Language",
}
# The columns an export of refused rows adds to the file's own, dropped again on import.
REASON_COLUMN = "Reason"
ROW_COLUMN = "Row in list"
_DUPLICATE_OF_ROW = re.compile(re.escape(DUPLICATE_REASON_START) + r"(\d+)")


@dataclass(frozen=True)
class ImportIntoResult:
    """What importing a file into an existing list did."""

    added: int
    refused: int
    fixed: int
    replaced: int
    result: ImportResult


def import_into_list(
    session: Session,
    lead_list_id: int,
    path: str | Path,
    default_country: str | None = None,
) -> ImportIntoResult:
    """Add the leads of a file to a list, such as its refused rows once fixed.

    A row carrying the list's row number (as an export of refused rows writes it) takes the
    place of that refused row: fixed, it becomes a lead under its old number; still wrong, it
    is refused with its new reason. A lead the list already has is refused as a duplicate.
    """
    result = read_lead_file(path, default_country=default_country)
    lead_list = get_list(session, lead_list_id)
    if not result.leads and not result.refused:
        raise InputError(f"{Path(path).name} has no rows to import.")

    people = PersonIndex()
    for lead in leads_of_list(session, lead_list_id):
        people.add(lead.keys, lead.row_number)
    old_refused = set(
        session.scalars(
            select(RefusedRow.row_number).where(RefusedRow.lead_list_id == lead_list_id)
        )
    )
    numbering = _RowNumbering(session, lead_list_id, old_refused)
    records = sorted([*result.leads, *result.refused], key=lambda record: record.row_number)
    for record in records:
        numbering.assign(record)

    new_leads, new_refused = [], []
    for record in records:
        if isinstance(record, RefusedRecord):
            reason = numbering.translate_reason(record.reason)
            row_number = numbering.rows[record.row_number]
            new_refused.append(RefusedRecord(row_number, reason, record.raw))
            continue
        row_number = numbering.rows[record.row_number]
        keys = person_keys(record.email, record.phone)
        found = people.find(keys)
        if found:
            key, earlier_row = found
            raw = _raw_of(record)
            new_refused.append(RefusedRecord(row_number, duplicate_reason(earlier_row, key), raw))
            continue
        people.add(keys, row_number)
        new_leads.append(_renumbered(record, row_number))

    replaced = numbering.replaced
    if replaced:
        session.execute(
            delete(RefusedRow).where(
                RefusedRow.lead_list_id == lead_list_id, RefusedRow.row_number.in_(replaced)
            )
        )
    if new_leads:
        session.execute(
            insert(Lead), [{**asdict(lead), "lead_list_id": lead_list_id} for lead in new_leads]
        )
    if new_refused:
        session.execute(
            insert(RefusedRow),
            [{**asdict(row), "lead_list_id": lead_list_id} for row in new_refused],
        )
    count_refused(session, lead_list)
    fixed = len(replaced - {row.row_number for row in new_refused})
    log.info(
        "Imported into list %s: %d leads added, %d refused, %d refused rows fixed",
        lead_list_id,
        len(new_leads),
        len(new_refused),
        fixed,
    )
    return ImportIntoResult(len(new_leads), len(new_refused), fixed, len(replaced), result)


class _RowNumbering:
    """Row numbers in the list for the rows of a file imported into it."""

    def __init__(self, session: Session, lead_list_id: int, old_refused: set[int]) -> None:
        highest_lead = session.scalar(
            select(func.max(Lead.row_number)).where(Lead.lead_list_id == lead_list_id)
        )
        self.old_refused = old_refused
        self.next_row = max([highest_lead or 1, *old_refused]) + 1
        self.rows: dict[int, int] = {}
        self.replaced: set[int] = set()

    def assign(self, record: LeadRecord | RefusedRecord) -> None:
        """Take the row number the record names, if it was a refused row, else a new one."""
        values = record.extra if isinstance(record, LeadRecord) else record.raw
        named = values.pop(ROW_COLUMN, "").strip()
        values.pop(REASON_COLUMN, None)
        if named.isdigit() and int(named) in self.old_refused - self.replaced:
            self.replaced.add(int(named))
            self.rows[record.row_number] = int(named)
            return
        self.rows[record.row_number] = self.next_row
        self.next_row += 1

    def translate_reason(self, reason: str) -> str:
        """A duplicate's reason names the row in the list, not in the imported file."""
        return _DUPLICATE_OF_ROW.sub(
            lambda match: DUPLICATE_REASON_START + str(self.rows.get(int(match[1]), match[1])),
            reason,
        )


def _renumbered(record: LeadRecord, row_number: int) -> LeadRecord:
    fields = asdict(record)
    fields["row_number"] = row_number
    return LeadRecord(**fields)


def _raw_of(record: LeadRecord) -> dict[str, str]:
    """A lead refused after reading, as the values a refused row keeps."""
    fields = {header: getattr(record, name) for name, header in LEAD_FIELD_HEADERS.items()}
    return {**{header: value for header, value in fields.items() if value}, **record.extra}


# Importing a large file in batches ------------------------------------------------------------

MAPPING_KEY_PREFIX = "mapping:"
STAGING_PREFIX = ".import-"
# A staging file this old was left by an import that did not finish (a crash or power loss).
STALE_STAGING_S = 24 * 3600
DEFAULT_OPTIONS = ReadOptions()


def import_stream(
    database: Database,
    path: str | Path,
    title: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    manager_name: str | None = None,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[int, ImportSummary]:
    """Read a lead file of any size and store it as a new list; return its id and a summary.

    The rows go first to a staging file beside the data file, in batches, so that the data
    file is not locked while the file is read and checked. The list appears in one short
    final transaction that creates the list and copies its rows with one INSERT ... SELECT:
    no one ever sees a part of the list, and a cancelled (ImportCancelled) or failed import
    leaves nothing in the data file. The staging file is removed in every case.
    """
    title = import_title(database, title)
    path = Path(path)
    stream = read_leads(path, options, progress, cancel)
    staging = new_staging_file(database)
    try:
        try:
            summary = stage(stream, staging)
        except (sqlite3.Error, OSError) as error:
            # The staging file sits beside the data file: a full disk stops it first.
            raise DataFileError(describe_error(error, database.path)) from error
        return finish_import(database, staging, title, summary, manager_name, path)
    finally:
        stream.close()
        staging.unlink(missing_ok=True)


def import_title(database: Database, title: str) -> str:
    """The title of a list about to be imported, cleaned; an InputError if it is taken."""
    title = clean_name(title, "lead list")
    with database.session() as session:
        _refuse_taken_title(session, title)
    return title


def new_staging_file(database: Database) -> Path:
    """A name for a new staging file beside the data file; leftovers of old imports go."""
    _remove_stale_staging(database.path.parent)
    return database.path.parent / f"{STAGING_PREFIX}{uuid.uuid4().hex}.sqlite"


def finish_import(
    database: Database,
    staging: Path,
    title: str,
    summary: ImportSummary,
    manager_name: str | None,
    path: Path,
) -> tuple[int, ImportSummary]:
    """Make the list of a staged import, and remember the column mapping it used."""
    if not summary.leads:
        raise InputError(
            f"No row of {path.name} has a valid e-mail or phone, so no list was made "
            f"({len(summary.refused):,} rows refused). Check the header row and the "
            "column mapping."
        )
    lead_list_id = _publish(database, staging, title, summary, manager_name, str(path))
    with database.writer() as session:
        remember_mapping(session, header_signature(summary.headers), summary.mapping)
        session.commit()
    log.info(
        "Imported list %s: %d rows, %d leads, %d refused",
        lead_list_id,
        summary.rows_read,
        summary.leads,
        len(summary.refused),
    )
    return lead_list_id, summary


def _refuse_taken_title(session: Session, title: str) -> None:
    if session.scalars(select(LeadList.id).where(LeadList.title == title)).first():
        raise InputError(f"There is already a lead list named '{title}'. Choose another title.")


def _remove_stale_staging(folder: Path) -> None:
    now = time.time()
    for leftover in folder.glob(f"{STAGING_PREFIX}*.sqlite"):
        try:
            if now - leftover.stat().st_mtime > STALE_STAGING_S:
                leftover.unlink()
        except OSError:
            continue


def _publish(
    database: Database,
    staging: Path,
    title: str,
    summary: ImportSummary,
    manager_name: str | None,
    source_file: str,
) -> int:
    """Create the list and copy its staged rows in one transaction."""
    connection = database.write_engine.connect()
    # ATTACH is refused inside a transaction, so it goes to the driver before one begins.
    driver = connection.connection.driver_connection
    driver.execute("ATTACH DATABASE ? AS staging", (str(staging),))
    try:
        with Session(bind=connection) as session:
            _refuse_taken_title(session, title)
            lead_list = LeadList(
                title=title,
                source_file=source_file,
                created_at=utc_now(),
                created_by_id=resolve_manager(session, manager_name).id,
                rows_read=summary.rows_read,
                lead_count=summary.leads,
                refused_count=len(summary.refused),
                duplicate_count=summary.duplicates,
            )
            session.add(lead_list)
            session.flush()
            session.execute(
                text(
                    f"INSERT INTO lead (lead_list_id, {LEAD_COLUMNS}) "
                    f"SELECT :list_id, {LEAD_COLUMNS} FROM staging.lead ORDER BY rowid"
                ),
                {"list_id": lead_list.id},
            )
            session.execute(
                text(
                    "INSERT INTO refused_row (lead_list_id, row_number, reason, raw) "
                    "SELECT :list_id, row_number, reason, raw FROM staging.refused_row "
                    "ORDER BY rowid"
                ),
                {"list_id": lead_list.id},
            )
            session.commit()
            return lead_list.id
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("DETACH DATABASE staging")
        connection.close()


def preview_import(
    session: Session, path: str | Path, options: ReadOptions = DEFAULT_OPTIONS
) -> Preview:
    """The preview of a file, offering the mapping last used for a file of the same header."""
    preview = preview_file(path, options)
    if options.mapping is None:
        remembered = remembered_mapping(session, header_signature(preview.headers))
        if remembered:
            preview.mapping = {
                header: remembered.get(header, field) for header, field in preview.mapping.items()
            }
    return preview


def remembered_mapping(session: Session, signature: str) -> dict[str, str] | None:
    """The column mapping last used for files whose header has this signature."""
    setting = session.get(Setting, MAPPING_KEY_PREFIX + signature)
    if setting is None:
        return None
    try:
        mapping = json.loads(setting.value)
    except ValueError:
        return None
    if not isinstance(mapping, dict):
        return None
    return {str(k): str(v) for k, v in mapping.items() if v in LEAD_FIELDS or v in ("", "skip")}


def remember_mapping(session: Session, signature: str, mapping: dict[str, str]) -> None:
    """Keep the column mapping used for files whose header has this signature."""
    key = MAPPING_KEY_PREFIX + signature
    value = json.dumps(mapping, ensure_ascii=False)
    setting = session.get(Setting, key)
    if setting is None:
        session.add(Setting(key=key, value=value))
    else:
        setting.value = value
