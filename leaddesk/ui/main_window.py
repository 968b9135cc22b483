"""The main window: Distributions, Lead lists and Directory pages, and the status bar."""

from __future__ import annotations

import getpass
import logging

from PySide6.QtCore import QDateTime, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from leaddesk.services import deliveries, directory
from leaddesk.storage.database import Database
from leaddesk.ui.directory_page import DirectoryPage
from leaddesk.ui.distributions_page import DistributionsPage
from leaddesk.ui.lead_lists_page import LeadListsPage
from leaddesk.ui.sender_worker import SenderThread

log = logging.getLogger(__name__)

DEFAULT_WIDTH = 1280
DEFAULT_HEIGHT = 760
QUIT_QUESTION = (
    "Leads are still being sent. Quit anyway? Sending stops and resumes the next time "
    "LeadDesk (or `leaddesk run`) is open."
)


WAITING_FOR_OTHER_SENDER = -1


def sender_state_text(active_count: int | None) -> str:
    if active_count is None:
        return "Sender: starting"
    if active_count == WAITING_FOR_OTHER_SENDER:
        return (
            "Sender: waiting, another LeadDesk (the app or `leaddesk run`) is sending from "
            "this data file"
        )
    if active_count == 0:
        return "Sender: idle, no distribution is Active"
    plural = "" if active_count == 1 else "s"
    return f"Sender: sending {active_count} Active distribution{plural}"


class MainWindow(QMainWindow):
    """The pages in tabs; closing stops the sender's thread, asking first if it is busy."""

    def __init__(
        self,
        database: Database,
        sender_thread: SenderThread | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._database = database
        self.sender_thread = sender_thread
        self._ask_before_closing = True
        self.distributions_page = DistributionsPage(database)
        self.lead_lists_page = LeadListsPage(database)
        self.directory_page = DirectoryPage(database)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.distributions_page, "Distributions")
        self.tabs.addTab(self.lead_lists_page, "Lead lists")
        self.tabs.addTab(self.directory_page, "Directory")
        self.setCentralWidget(self.tabs)
        # Qt adds the application's name after the title.
        self.setWindowTitle(self._manager_name())
        self.resize(DEFAULT_WIDTH, DEFAULT_HEIGHT)
        self._build_menu()
        self._build_status_bar()
        self._connect()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        entries = (
            ("&Import lead file…", QKeySequence("Ctrl+I"), self.lead_lists_page.choose_and_import),
            (
                "&New distribution…",
                QKeySequence("Ctrl+N"),
                self.distributions_page.open_create_dialog,
            ),
            (None, None, None),
            ("&Quit", QKeySequence("Ctrl+Q"), self.close),
        )
        for label, shortcut, slot in entries:
            if label is None:
                menu.addSeparator()
                continue
            action = QAction(label, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            menu.addAction(action)

    def _manager_name(self) -> str:
        with self._database.session() as session:
            return directory.current_manager_name(session) or getpass.getuser()

    def _build_status_bar(self) -> None:
        self.sender_label = QLabel(
            sender_state_text(None) if self.sender_thread else "Sender: not running"
        )
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.hide()
        self.data_file_label = QLabel(f"Data file: {self._database.path}")
        self.data_file_label.setToolTip(str(self._database.path))
        bar = self.statusBar()
        bar.addWidget(self.sender_label)
        bar.addWidget(self.error_label, 1)
        bar.addPermanentWidget(self.data_file_label)

    def _connect(self) -> None:
        self.lead_lists_page.lists_changed.connect(self._on_lists_changed)
        self.directory_page.directory_changed.connect(self._on_directory_changed)
        self.distributions_page.distributions_changed.connect(self.lead_lists_page.refresh)
        # Renamed affiliates, offers and products show in the distributions' rows.
        self.directory_page.directory_changed.connect(self.distributions_page.refresh_visible)
        self.tabs.currentChanged.connect(self._on_page_shown)
        if self.sender_thread is None:
            return
        worker = self.sender_thread.worker
        # The worker lives in the sender's thread: these are queued to its slots and back.
        self.distributions_page.distributions_changed.connect(worker.wake)
        worker.distribution_changed.connect(self.distributions_page.on_distribution_updated)
        worker.active_count_changed.connect(self.on_active_count_changed)
        worker.error.connect(self.on_sender_error)

    # Updates -----------------------------------------------------------------------------

    @Slot(int)
    def on_active_count_changed(self, active_count: int) -> None:
        self.sender_label.setText(sender_state_text(active_count))

    @Slot(str)
    def on_sender_error(self, message: str) -> None:
        moment = QDateTime.currentDateTime().toString("HH:mm:ss")
        self.error_label.setText(f"Last sender error ({moment}): {message}")
        self.error_label.setToolTip(message)
        self.error_label.show()

    @Slot()
    def _on_lists_changed(self) -> None:
        self.statusBar().showMessage("Lead list imported.", 5000)

    @Slot()
    def _on_directory_changed(self) -> None:
        self.statusBar().showMessage("Directory saved.", 5000)

    @Slot(int)
    def _on_page_shown(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is self.lead_lists_page:
            self.lead_lists_page.refresh()
        elif page is self.directory_page:
            self.directory_page.refresh()

    # Closing -----------------------------------------------------------------------------

    def is_sending(self) -> bool:
        with self._database.session() as session:
            return bool(deliveries.active_distributions(session))

    def close_without_asking(self) -> None:
        """Close at once, as when the system ends the session: nobody is there to answer."""
        self._ask_before_closing = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._ask_before_closing and self.is_sending():
            answer = QMessageBox.question(
                self,
                "Quit LeadDesk",
                QUIT_QUESTION,
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.stop_sender()
        event.accept()

    def stop_sender(self) -> None:
        """Stop the sender's thread, waiting a bounded time for requests in flight."""
        if self.sender_thread is None:
            return
        self.sender_label.setText("Sender: stopping…")
        self.sender_thread.shutdown()
        self.sender_label.setText("Sender: stopped")
