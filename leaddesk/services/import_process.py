"""Importing a lead file with its reading and checking done in a process of its own.

Reading and checking a file is pure Python that holds the interpreter lock nearly all the time.
On a thread of the window's process it makes each call the window makes into Python wait for
the lock to come round (up to the interpreter's switch interval): a repaint that asks a table
model for hundreds of cells then stalls the window for tens of milliseconds, and a collection
of the garbage collector over the import's objects stalls it as long. In a process of its
own the import shares no lock with the window. Only the final copy into the data file, which
SQLite does without the lock, runs in the calling process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from leaddesk.core.lead_import import ReadOptions, RefusedRecord
from leaddesk.errors import DataFileError
from leaddesk.services import lead_lists
from leaddesk.services.lead_staging import (
    CRASHED,
    FAILED,
    ROWS,
    STAGED,
    STAGING_FAILED,
    ImportSummary,
    stage_in_child,
)
from leaddesk.storage.database import Database, describe_error

log = logging.getLogger(__name__)

# A cancel is passed on to the import's process, and its end noticed, this often at least.
POLL_INTERVAL_S = 0.1
# The import's process ends right after its last message; one still running is stopped.
PROCESS_END_WAIT_S = 10.0


class ImportProcessError(RuntimeError):
    """The import's process failed by a bug, or ended without saying how it went."""


class StagingError(Exception):
    """A failure of the staging file, as the import's process reported it."""


def import_in_process(
    database: Database,
    path: str | Path,
    title: str,
    options: ReadOptions = lead_lists.DEFAULT_OPTIONS,
    manager_name: str | None = None,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[int, ImportSummary]:
    """What `lead_lists.import_stream` does, with the file read in a process of its own.

    `progress(rows_read)` is called in this thread as the process reports; setting `cancel`
    stops the process at its next report and raises ImportCancelled. Errors the process
    meets are raised here as `import_stream` raises them.
    """
    title = lead_lists.import_title(database, title)
    path = Path(path)
    staging = lead_lists.new_staging_file(database)
    try:
        summary = _stage_in_process(database, path, options, staging, progress, cancel)
        return lead_lists.finish_import(database, staging, title, summary, manager_name, path)
    finally:
        staging.unlink(missing_ok=True)


def _stage_in_process(
    database: Database,
    path: Path,
    options: ReadOptions,
    staging: Path,
    progress: Callable[[int], None] | None,
    cancel: threading.Event | None,
) -> ImportSummary:
    # Spawned, not forked: a fork would copy the window's threads' locks in whatever state.
    context = multiprocessing.get_context("spawn")
    channel, child_end = context.Pipe()
    process = context.Process(
        target=stage_in_child,
        args=(child_end, path, options, staging),
        name="leaddesk-import",
        daemon=True,
    )
    process.start()
    # Only the child holds its end now, so its exit shows here as the end of the pipe.
    child_end.close()
    try:
        return _follow(database, process, channel, progress, cancel)
    finally:
        channel.close()
        _end(process)


def _follow(
    database: Database,
    process: BaseProcess,
    channel: Connection,
    progress: Callable[[int], None] | None,
    cancel: threading.Event | None,
) -> ImportSummary:
    """Pass on the process's reports until its outcome; raise what it failed with."""
    refused: list[RefusedRecord] = []
    cancel_sent = False
    while True:
        if cancel is not None and cancel.is_set() and not cancel_sent:
            cancel_sent = True
            # A process that has ended already has said how in its last message.
            with contextlib.suppress(OSError):
                channel.send(None)
        if not channel.poll(POLL_INTERVAL_S):
            continue
        try:
            kind, value, *more = channel.recv()
        except EOFError:
            process.join(PROCESS_END_WAIT_S)
            raise ImportProcessError(
                f"The import's process ended without a result (exit code {process.exitcode})"
            ) from None
        if kind == ROWS:
            refused.extend(more[0])
            if progress is not None:
                progress(value)
            continue
        if kind == STAGED:
            value.refused = refused + value.refused
            return value
        raise _failure(database, kind, value)


def _failure(database: Database, kind: str, value: object) -> Exception:
    """The exception to raise for the process's failure message."""
    if kind == FAILED and isinstance(value, Exception):
        return value
    if kind == STAGING_FAILED:
        error = StagingError(value)
        failure = DataFileError(describe_error(error, database.path))
        failure.__cause__ = error
        return failure
    if kind == CRASHED:
        return ImportProcessError(f"The import's process failed:\n{value}")
    return ImportProcessError(f"The import's process sent an unknown message: {kind!r}")


def _end(process: BaseProcess) -> None:
    process.join(PROCESS_END_WAIT_S)
    if process.is_alive():
        log.error("The import's process did not end; stopping it")
        process.terminate()
        process.join()
    process.close()
