"""Starting the app: logging, the data file, the manager's name, the sender and the window."""

from __future__ import annotations

import getpass
import logging
import signal
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox, QWidget

from leaddesk.errors import LeadDeskError
from leaddesk.logs import LOG_FILE_NAME, setup_logging
from leaddesk.paths import APP_NAME, log_dir, resources_dir
from leaddesk.services import directory
from leaddesk.storage.database import Database, open_database
from leaddesk.ui.main_window import MainWindow
from leaddesk.ui.sender_worker import SenderThread

log = logging.getLogger(__name__)

ICON_FILE = "leaddesk.svg"
SIGNAL_CHECK_MS = 500
NAME_QUESTION = "Your name, as it will show on the lists and distributions you create:"


def crash_message(log_path: str) -> str:
    return (
        "Something went wrong inside LeadDesk. Your data is safe; what you were doing may "
        f"not have finished.\n\nThe details are in {log_path}. Please send that file to "
        "whoever looks after LeadDesk."
    )


class CrashReporter(QObject):
    """Logs uncaught exceptions from any thread and shows one dialog in the window's thread."""

    crashed = Signal()

    def __init__(self, log_path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self._showing = False
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self.crashed.connect(self._show_dialog)

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook

    def _excepthook(
        self,
        kind: type[BaseException],
        value: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous_hook(kind, value, traceback)
            return
        log.critical("Unexpected error", exc_info=(kind, value, traceback))
        # Emitted from any thread; the dialog opens in the thread this object lives in.
        self.crashed.emit()

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self._excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot()
    def _show_dialog(self) -> None:
        if self._showing:
            return
        self._showing = True
        try:
            parent = QApplication.activeWindow()
            QMessageBox.critical(parent, "LeadDesk", crash_message(self.log_path))
        finally:
            self._showing = False


def app_icon() -> QIcon:
    path = resources_dir() / ICON_FILE
    return QIcon(str(path)) if path.exists() else QIcon()


def ask_manager_name(database: Database, parent: QWidget | None = None) -> None:
    """Ask the manager's name the first time; it is remembered in the data file."""
    with database.session() as session:
        if directory.current_manager_name(session) is not None:
            return
    name = getpass.getuser()
    while True:
        name, ok = QInputDialog.getText(
            parent, "Welcome to LeadDesk", NAME_QUESTION, QLineEdit.EchoMode.Normal, name
        )
        if not ok:
            return
        try:
            with database.writer() as session:
                directory.set_current_manager(session, name)
                session.commit()
        except LeadDeskError as error:
            QMessageBox.warning(parent, "LeadDesk", str(error))
            continue
        return


def create_main_window(database: Database, start_sender: bool = True) -> MainWindow:
    """The main window, with the sender's thread started when asked."""
    sender_thread = SenderThread(database) if start_sender else None
    window = MainWindow(database, sender_thread)
    # The tray icon, when the window keeps sending from the tray, shows the same picture.
    window.setWindowIcon(app_icon())
    if sender_thread is not None:
        sender_thread.start()
    return window


def stop_on_terminate(app: QApplication, window: MainWindow) -> QTimer:
    """Quit cleanly, recording requests in flight, when the system asks LeadDesk to end."""
    signal.signal(signal.SIGTERM, lambda *_: window.close_without_asking())
    # Python runs signal handlers only between bytecodes; a timer gives it those moments.
    wakeup = QTimer(app)
    wakeup.timeout.connect(_let_python_run)
    wakeup.start(SIGNAL_CHECK_MS)
    return wakeup


def _let_python_run() -> None:
    """Nothing to do: returning to Python is enough for a pending signal handler to run."""


def run_app(folder: Path) -> int:
    """Run the window on the data file in `folder`; returns the exit code."""
    log_path = setup_logging() or str(log_dir() / LOG_FILE_NAME)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setWindowIcon(app_icon())
    try:
        database = open_database(folder)
    except LeadDeskError as error:
        QMessageBox.critical(None, "LeadDesk cannot start", str(error))
        return 1

    reporter = CrashReporter(log_path)
    reporter.install()
    window: MainWindow | None = None
    try:
        ask_manager_name(database)
        window = create_main_window(database)
        # Without a window manager (a bare X server) maximising does nothing; fill the screen.
        window.setGeometry(app.primaryScreen().availableGeometry())
        window.showMaximized()
        stop_on_terminate(app, window)
        code = app.exec()
    except Exception:
        log.exception("LeadDesk could not start its window")
        QMessageBox.critical(None, "LeadDesk", crash_message(log_path))
        code = 1
    finally:
        if window is not None:
            window.stop_sender()
        reporter.uninstall()
        database.close()
    return code
