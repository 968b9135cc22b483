"""Runs a lead file import off the window's thread and reports its progress to the window.

The file is read and checked in a process of its own (see `import_process`); a thread of the
window's process waits for it, passes its progress on, and makes the list at the end.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from leaddesk.core.import_progress import ImportPace
from leaddesk.core.lead_import import ImportCancelled, ReadOptions
from leaddesk.errors import LeadDeskError
from leaddesk.services import import_process
from leaddesk.storage.database import Database

log = logging.getLogger(__name__)

# An import checks for Cancel between batches; waiting longer means the data file is stuck.
THREAD_WAIT_MS = 30_000
UNEXPECTED_ERROR = "An unexpected error stopped the import; the details are in the log."


@dataclass(frozen=True)
class ImportRequest:
    """What to import: plain values only, as they cross to the import's thread."""

    path: Path
    title: str
    options: ReadOptions
    manager_name: str | None = None
    estimated_rows: int | None = None


class ImportWorker(QObject):
    """Imports one file in the thread it lives in; the outcome is its last signal."""

    progress = Signal(int, float, float)
    finished = Signal(int, object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, database: Database, request: ImportRequest, cancel: threading.Event):
        super().__init__()
        self._database = database
        self._request = request
        self._cancel = cancel
        self._pace = ImportPace(request.estimated_rows)
        self._rows = 0

    @Slot()
    def run(self) -> None:
        """Import the file, then move back to the application's thread and report."""
        request = self._request
        outcome: tuple = ()
        try:
            list_id, summary = import_process.import_in_process(
                self._database,
                request.path,
                request.title,
                request.options,
                manager_name=request.manager_name,
                progress=self._on_rows,
                cancel=self._cancel,
            )
        except ImportCancelled:
            log.info("The import of a lead file was cancelled after %d rows", self._rows)
            outcome = (self.cancelled,)
        except LeadDeskError as error:
            outcome = (self.failed, str(error))
        except Exception:
            log.exception("The import of a lead file failed")
            outcome = (self.failed, UNEXPECTED_ERROR)
        else:
            report = self._pace.final(self._rows)
            self.progress.emit(report.rows, report.rows_per_s, report.seconds_left)
            outcome = (self.finished, list_id, summary)
        app = QCoreApplication.instance()
        if app is not None and self.thread() is not app.thread():
            self.moveToThread(app.thread())
        signal, *values = outcome
        signal.emit(*values)

    def _on_rows(self, rows: int) -> None:
        self._rows = rows
        report = self._pace.update(rows)
        if report is not None:
            self.progress.emit(report.rows, report.rows_per_s, report.seconds_left)


class ImportRunner(QObject):
    """Owns the thread of one import at a time: starts it, cancels it, and waits for it."""

    progress = Signal(int, float, float)
    finished = Signal(int, object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._thread: QThread | None = None
        self._worker: ImportWorker | None = None
        self._cancel = threading.Event()

    def start(self, request: ImportRequest) -> None:
        if self.is_running():
            raise RuntimeError("an import is already running")
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("leaddesk-import")
        self._worker = ImportWorker(self._database, request, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @Slot()
    def cancel(self) -> None:
        """Ask the import to stop at its next batch; `cancelled` follows."""
        self._cancel.set()

    def shutdown(self, wait_ms: int = THREAD_WAIT_MS) -> bool:
        """Cancel a running import and wait for its thread; False if it did not end in time."""
        if self._thread is None:
            return True
        self._cancel.set()
        return self._end_thread(wait_ms)

    def _end_thread(self, wait_ms: int = THREAD_WAIT_MS) -> bool:
        thread = self._thread
        if thread is None:
            return True
        thread.quit()
        if not thread.wait(wait_ms):
            log.error("The import's thread did not stop within %d ms", wait_ms)
            return False
        self._thread = None
        self._worker = None
        return True

    @Slot(int, float, float)
    def _on_progress(self, rows: int, rows_per_s: float, seconds_left: float) -> None:
        self.progress.emit(rows, rows_per_s, seconds_left)

    @Slot(int, object)
    def _on_finished(self, list_id: int, summary: object) -> None:
        self._end_thread()
        self.finished.emit(list_id, summary)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._end_thread()
        self.cancelled.emit()
