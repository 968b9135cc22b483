"""Staging an import: a lead file read and checked into a SQLite file of its own.

This is the part of an import that is pure Python: it holds the interpreter lock nearly all
the time, so the window runs it in a process of its own (`stage_in_child`, started by
`import_process`). The module imports neither SQLAlchemy nor Qt, so that process starts fast.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import traceback
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path

from leaddesk.core.lead_import import (
    ImportCancelled,
    LeadRecord,
    LeadStream,
    ReadOptions,
    RefusedRecord,
    read_leads,
)
from leaddesk.core.lead_keys import is_duplicate_reason
from leaddesk.errors import LeadDeskError

IMPORT_BATCH_ROWS = 5_000
STAGING_SCHEMA = (
    "CREATE TABLE lead (row_number INTEGER, first_name TEXT, last_name TEXT, email TEXT, "
    "phone TEXT, country TEXT, language TEXT, extra TEXT)",
    "CREATE TABLE refused_row (row_number INTEGER, reason TEXT, raw TEXT)",
)
LEAD_COLUMNS = "row_number, first_name, last_name, email, phone, country, language, extra"

# What the import's process sends its parent, as the first item of each message.
ROWS = "rows"  # (ROWS, rows read, refused rows since the last message)
STAGED = "staged"  # (STAGED, summary without the refused rows sent before)
FAILED = "failed"  # (FAILED, the LeadDeskError or ImportCancelled, pickled)
STAGING_FAILED = "staging-failed"  # (STAGING_FAILED, the text of a disk or SQLite error)
CRASHED = "crashed"  # (CRASHED, the traceback of a bug)


@dataclass
class ImportSummary:
    """What an import read and stored, for the manager."""

    rows_read: int = 0
    leads: int = 0
    refused: list[RefusedRecord] = field(default_factory=list)
    duplicates: int = 0
    encoding: str = ""
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)
    kind: str = ""
    sheet: str = ""
    header_row: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    # The file's headers, in order: the remembered mapping is kept under their signature.
    headers: list[str] = field(default_factory=list)


def stage(
    stream: LeadStream, staging: Path, summary: ImportSummary | None = None
) -> ImportSummary:
    """Write the stream's leads and refused rows to a staging file, batch by batch.

    `summary`, when given, is filled as the rows are read: its refused rows can be sent on
    while the file is still being read.
    """
    summary = ImportSummary() if summary is None else summary
    connection = sqlite3.connect(staging)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        for statement in STAGING_SCHEMA:
            connection.execute(statement)
        leads: list[tuple] = []
        refused: list[tuple] = []
        for record in stream:
            if isinstance(record, LeadRecord):
                leads.append(_lead_row(record))
                if len(leads) >= IMPORT_BATCH_ROWS:
                    _write_batch(connection, leads, refused)
                    summary.leads += len(leads)
                    leads = []
            else:
                summary.refused.append(record)
                refused.append((record.row_number, record.reason, json.dumps(record.raw)))
                summary.duplicates += is_duplicate_reason(record.reason)
        _write_batch(connection, leads, refused)
        summary.leads += len(leads)
        connection.commit()
    finally:
        connection.close()
    summary.rows_read = stream.rows_read
    summary.encoding, summary.delimiter = stream.encoding, stream.delimiter
    summary.notes = stream.notes
    summary.kind, summary.sheet = stream.kind, stream.sheet
    summary.header_row, summary.mapping = stream.header_row, dict(stream.mapping)
    summary.headers = list(stream.headers)
    return summary


def _lead_row(lead: LeadRecord) -> tuple:
    return (
        lead.row_number,
        lead.first_name,
        lead.last_name,
        lead.email,
        lead.phone,
        lead.country,
        lead.language,
        json.dumps(lead.extra),
    )


def _write_batch(connection: sqlite3.Connection, leads: list[tuple], refused: list) -> None:
    connection.executemany(f"INSERT INTO lead ({LEAD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", leads)
    connection.executemany("INSERT INTO refused_row VALUES (?,?,?)", refused)
    refused.clear()


# The import's process ---------------------------------------------------------------------


def stage_in_child(channel: Connection, path: Path, options: ReadOptions, staging: Path) -> None:
    """Read `path` into `staging` and report to the parent over `channel`; the process's body.

    Any message from the parent, or the parent going away, cancels the import. Every outcome
    is the last message sent; errors travel as messages, never as a traceback on stderr.
    """
    reporter = _Reporter(channel)
    try:
        outcome = reporter.stage(path, options, staging)
    except (ImportCancelled, LeadDeskError) as error:
        outcome = (FAILED, error)
    except (sqlite3.Error, OSError) as error:
        # Reading the lead file turns its own failures into InputError: these are the
        # staging file's, which sits beside the data file, where a full disk stops it first.
        outcome = (STAGING_FAILED, str(error))
    except Exception:
        outcome = (CRASHED, traceback.format_exc())
    try:
        channel.send(outcome)
    except OSError:
        pass  # the parent has gone: no one is left to tell
    finally:
        channel.close()


class _Reporter:
    """Stages a file in the import's process, sending its progress and refused rows along."""

    def __init__(self, channel: Connection) -> None:
        self._channel = channel
        self._cancel = threading.Event()
        self._summary = ImportSummary()
        self._refused_sent = 0

    def stage(self, path: Path, options: ReadOptions, staging: Path) -> tuple:
        stream = read_leads(path, options, self._on_rows, self._cancel)
        try:
            summary = stage(stream, staging, self._summary)
        finally:
            stream.close()
        return (STAGED, replace(summary, refused=self._unsent_refused()))

    def _on_rows(self, rows: int) -> None:
        # The stream checks the event before each report: a cancel stops it at the next one.
        try:
            if self._channel.poll():
                self._cancel.set()
            self._channel.send((ROWS, rows, self._unsent_refused()))
        except OSError:
            self._cancel.set()  # the parent has gone

    def _unsent_refused(self) -> list[RefusedRecord]:
        refused = self._summary.refused[self._refused_sent :]
        self._refused_sent += len(refused)
        return refused
