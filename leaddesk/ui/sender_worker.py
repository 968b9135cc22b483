"""The sender's thread: a QObject that drives the Qt-free Sender with a timer."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot
from sqlalchemy.exc import OperationalError

from leaddesk.errors import LeadDeskError
from leaddesk.sender.engine import Sender
from leaddesk.storage.database import Database

log = logging.getLogger(__name__)

MIN_STEP_MS = 20
MAX_STEP_MS = 500
# Requests still in flight at shutdown get this long to finish before they are abandoned.
SENDER_SHUTDOWN_WAIT_S = 5.0
# A step may wait for the data file's busy timeout before it sees the stop request.
THREAD_WAIT_MS = 25_000
UNEXPECTED_ERROR = "An unexpected error occurred while sending; the details are in the log."


def _step_delay_ms(wait_s: float) -> int:
    return int(min(max(wait_s * 1000, MIN_STEP_MS), MAX_STEP_MS))


class SenderWorker(QObject):
    """Runs `Sender.step()` on a single-shot timer in the thread it lives in."""

    distribution_changed = Signal(int)
    active_count_changed = Signal(int)
    error = Signal(str)
    stopped = Signal()

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The Sender calls these from its pool threads; they only emit, under a lock, so
        # nothing is emitted once stop() has returned.
        self._emit_lock = threading.Lock()
        self._closed = False
        self._sender = Sender(database, on_change=self._report_change, on_error=self._report_error)
        self._timer: QTimer | None = None
        self._started = False
        self._stopping = False
        # None until the first step, so that even "waiting for another sender" is announced.
        self._active_count: int | None = None

    @Slot()
    def start(self) -> None:
        """Settle what a previous run left in flight, then step at the sender's pace."""
        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self._step)
        self._try_start()
        self._timer.start(0 if self._started else MAX_STEP_MS)

    @Slot()
    def wake(self) -> None:
        """Look at the data file now: a distribution was created, paused or resumed."""
        if self._timer is not None and not self._stopping:
            self._timer.start(0)

    @Slot()
    def stop(self) -> None:
        """Stop stepping, let requests in flight finish (bounded), and leave the thread."""
        self._stopping = True
        if self._timer is not None:
            self._timer.stop()
        left = self._sender.shutdown(SENDER_SHUTDOWN_WAIT_S)
        if left:
            log.warning("%d requests were abandoned at shutdown", left)
        with self._emit_lock:
            self._closed = True
        self.stopped.emit()
        thread = self.thread()
        # Back to the application's thread, so the worker and its timer are deleted there.
        app = QCoreApplication.instance()
        if app is not None and thread is not app.thread():
            self.moveToThread(app.thread())
        thread.quit()

    @Slot()
    def _step(self) -> None:
        if self._stopping:
            return
        if not self._started:
            self._try_start()
        wait_s = MAX_STEP_MS / 1000
        if self._started:
            try:
                active_count, wait_s = self._sender.step()
            except Exception:
                log.exception("The sender's step failed")
                self._report_error(UNEXPECTED_ERROR)
            else:
                # -1 tells the window that another process holds the sending lease.
                self._note_active(active_count if self._sender.holds_lease else -1)
        if not self._stopping and self._timer is not None:
            self._timer.start(_step_delay_ms(wait_s))

    def _try_start(self) -> None:
        if self._started:
            return
        try:
            self._sender.start()
        except (OperationalError, LeadDeskError) as error:
            self._report_error(f"The sender cannot start yet: {getattr(error, 'orig', error)}")
            return
        self._started = True

    def _note_active(self, active_count: int) -> None:
        if active_count != self._active_count:
            self._active_count = active_count
            self.active_count_changed.emit(active_count)

    def _report_change(self, distribution_id: int) -> None:
        with self._emit_lock:
            if not self._closed:
                self.distribution_changed.emit(distribution_id)

    def _report_error(self, message: str) -> None:
        with self._emit_lock:
            if not self._closed:
                self.error.emit(message)


class SenderThread(QObject):
    """Owns the QThread of a SenderWorker: starts it, wakes it and stops it, bounded."""

    _start_requested = Signal()
    _wake_requested = Signal()
    _stop_requested = Signal()

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("leaddesk-sender")
        self.worker = SenderWorker(database)
        self.worker.moveToThread(self._thread)
        self._start_requested.connect(self.worker.start)
        self._wake_requested.connect(self.worker.wake)
        self._stop_requested.connect(self.worker.stop)

    def start(self) -> None:
        if self._thread.isRunning():
            return
        self._thread.start()
        self._start_requested.emit()

    def wake(self) -> None:
        self._wake_requested.emit()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, wait_ms: int = THREAD_WAIT_MS) -> bool:
        """Ask the worker to stop and wait for its thread; False if it did not end in time."""
        if not self._thread.isRunning():
            return True
        self._stop_requested.emit()
        if self._thread.wait(wait_ms):
            return True
        log.error("The sender's thread did not stop within %d ms", wait_ms)
        return False
