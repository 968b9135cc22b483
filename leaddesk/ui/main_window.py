"""The main window: Distributions, Lead lists and Directory pages, and the status bar."""

from __future__ import annotations

import getpass
import logging
from enum import Enum

from PySide6.QtCore import QDateTime, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSystemTrayIcon,
    QTabWidget,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from leaddesk.core.status import Action
from leaddesk.errors import LeadDeskError
from leaddesk.services import deliveries, directory, distributions
from leaddesk.storage.database import Database
from leaddesk.ui.directory_page import DirectoryPage
from leaddesk.ui.distributions_page import DistributionsPage
from leaddesk.ui.lead_lists_page import LeadListsPage
from leaddesk.ui.sender_worker import SenderThread

log = logging.getLogger(__name__)

DEFAULT_WIDTH = 1280
DEFAULT_HEIGHT = 760
CLOSE_QUESTION = "Leads are still being sent. What should happen when LeadDesk closes?"
IN_FLIGHT_NOTE = (
    "Leads already on their way get a few seconds to be answered; their outcome is recorded."
)
PAUSE_FAILED = (
    "The data file is busy, so nothing was paused and LeadDesk stays open. Try again in a moment."
)
TRAY_MESSAGE = "LeadDesk keeps sending. Open it or quit from this icon."
TRAY_MESSAGE_MS = 5000


class CloseChoice(Enum):
    """What closing the window can do while distributions are Active."""

    TRAY = "Keep sending in the tray"
    PAUSE_ALL = "Pause all and quit"
    QUIT = "Quit"
    CANCEL = "Cancel"

    @property
    def label(self) -> str:
        return self.value


CLOSE_EXPLANATIONS = {
    CloseChoice.TRAY: (
        "Keep sending in the tray: the window closes and sending goes on; the LeadDesk icon "
        "in the system tray shows the window again or quits."
    ),
    CloseChoice.PAUSE_ALL: (
        "Pause all and quit: every Active distribution is paused; nothing is sent until you "
        "resume it."
    ),
    CloseChoice.QUIT: (
        "Quit: sending stops now and resumes the next time LeadDesk (or `leaddesk run`) is open."
    ),
}
CLOSE_BUTTON_ROLES = {
    CloseChoice.TRAY: QMessageBox.ButtonRole.AcceptRole,
    CloseChoice.PAUSE_ALL: QMessageBox.ButtonRole.AcceptRole,
    CloseChoice.QUIT: QMessageBox.ButtonRole.DestructiveRole,
    CloseChoice.CANCEL: QMessageBox.ButtonRole.RejectRole,
}


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


def close_explanation(choices: list[CloseChoice]) -> str:
    """What each offered choice does, one paragraph each, then what happens to requests."""
    lines = [CLOSE_EXPLANATIONS[choice] for choice in choices if choice in CLOSE_EXPLANATIONS]
    return "\n\n".join([*lines, IN_FLIGHT_NOTE])


def build_close_dialog(
    parent: QWidget | None, choices: list[CloseChoice]
) -> tuple[QMessageBox, dict[QAbstractButton, CloseChoice]]:
    """The question asked when closing while sending, and which button means which choice."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit LeadDesk")
    box.setText(CLOSE_QUESTION)
    box.setInformativeText(close_explanation(choices))
    buttons: dict[QAbstractButton, CloseChoice] = {}
    for choice in choices:
        buttons[box.addButton(choice.label, CLOSE_BUTTON_ROLES[choice])] = choice
    by_choice = {choice: button for button, choice in buttons.items()}
    # Enter keeps sending where it can; otherwise it changes nothing.
    default = CloseChoice.TRAY if CloseChoice.TRAY in by_choice else CloseChoice.CANCEL
    if default in by_choice:
        box.setDefaultButton(by_choice[default])
    if CloseChoice.CANCEL in by_choice:
        box.setEscapeButton(by_choice[CloseChoice.CANCEL])
    return box, buttons


class MainWindow(QMainWindow):
    """The pages in tabs; closing stops the sender's thread, asking first if it is busy.

    While leads are being sent, closing offers to keep sending from a tray icon instead.
    """

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
        self.tray: QSystemTrayIcon | None = None
        self._quit_on_last_window_closed: bool | None = None
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
        self._update_tray_tooltip()

    @Slot(str)
    def on_sender_error(self, message: str) -> None:
        moment = QDateTime.currentDateTime().toString("HH:mm:ss")
        self.error_label.setText(f"Last sender error ({moment}): {message}")
        self.error_label.setToolTip(message)
        self.error_label.show()
        self._update_tray_tooltip()

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

    def tray_available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def close_choices(self) -> list[CloseChoice]:
        """What closing offers while sending; the tray only where there is one to send from."""
        choices = [CloseChoice.PAUSE_ALL, CloseChoice.QUIT, CloseChoice.CANCEL]
        if self.sender_thread is not None and self.tray_available():
            choices.insert(0, CloseChoice.TRAY)
        return choices

    def ask_close_choice(self) -> CloseChoice:
        """Ask what closing should do while sending; Cancel when the question is dismissed."""
        box, buttons = build_close_dialog(self, self.close_choices())
        box.exec()
        return buttons.get(box.clickedButton(), CloseChoice.CANCEL)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._ask_before_closing and self.is_sending():
            choice = self.ask_close_choice()
            log.info("Closing while sending: %s", choice.name)
            if choice is CloseChoice.TRAY:
                self.keep_sending_in_tray()
            if choice in (CloseChoice.TRAY, CloseChoice.CANCEL):
                event.ignore()
                return
            if choice is CloseChoice.PAUSE_ALL and not self.pause_all():
                event.ignore()
                return
        self.stop_sender()
        event.accept()
        if self.tray is not None:
            was_in_tray = self.tray.isVisible()
            self._leave_tray()
            if was_in_tray:
                # Hidden already, the window's closing does not end the application.
                QApplication.quit()

    def pause_all(self) -> bool:
        """Pause every Active distribution in one transaction; False, after saying why, if not."""
        try:
            with self._database.writer() as session:
                active = deliveries.active_distributions(session)
                for distribution in active:
                    distributions.apply_action(session, distribution.id, Action.PAUSE)
                session.commit()
        except LeadDeskError as error:
            QMessageBox.warning(self, "LeadDesk", str(error))
            return False
        except OperationalError as error:
            log.warning("Pausing every Active distribution failed: %s", error)
            QMessageBox.warning(self, "LeadDesk", PAUSE_FAILED)
            return False
        log.info("Paused %d Active distributions before quitting", len(active))
        return True

    def stop_sender(self) -> None:
        """Stop the sender's thread, waiting a bounded time for requests in flight."""
        if self.sender_thread is None:
            return
        self.sender_label.setText("Sender: stopping…")
        self.sender_thread.shutdown()
        self.sender_label.setText("Sender: stopped")

    # The tray ----------------------------------------------------------------------------

    def keep_sending_in_tray(self) -> None:
        """Hide the window and keep sending; the tray icon shows the window again or quits."""
        if self.tray is None:
            self.tray = self._build_tray()
        app = QApplication.instance()
        if self._quit_on_last_window_closed is None:
            self._quit_on_last_window_closed = app.quitOnLastWindowClosed()
        # Hiding the only window must not end the application while it sends.
        app.setQuitOnLastWindowClosed(False)
        self._update_tray_tooltip()
        self.tray.show()
        self.hide()
        if self.tray_available() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage("LeadDesk", TRAY_MESSAGE, self.windowIcon(), TRAY_MESSAGE_MS)

    def is_in_tray(self) -> bool:
        return self.tray is not None and self.tray.isVisible()

    def _build_tray(self) -> QSystemTrayIcon:
        tray = QSystemTrayIcon(self.windowIcon(), self)
        menu = QMenu(self)
        menu.addAction("Show LeadDesk").triggered.connect(self.show_from_tray)
        menu.addSeparator()
        menu.addAction("Quit").triggered.connect(self.quit_from_tray)
        tray.setContextMenu(menu)
        tray.activated.connect(self._on_tray_activated)
        return tray

    def _update_tray_tooltip(self) -> None:
        if self.tray is None:
            return
        lines = ["LeadDesk", self.sender_label.text()]
        if self.error_label.isVisibleTo(self):
            lines.append(self.error_label.text())
        self.tray.setToolTip("\n".join(lines))

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_from_tray()

    @Slot()
    def show_from_tray(self) -> None:
        """Show the window again; closing it asks again what to do."""
        self._leave_tray()
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot()
    def quit_from_tray(self) -> None:
        """Quit without asking again, still waiting for requests in flight."""
        self.close_without_asking()

    def _leave_tray(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        if self._quit_on_last_window_closed is not None:
            QApplication.instance().setQuitOnLastWindowClosed(self._quit_on_last_window_closed)
            self._quit_on_last_window_closed = None
