"""The Distributions page: search, sort and act on distributions, and create new ones."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, QModelIndex, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from leaddesk.core.filters import DistributionFilter, SearchField
from leaddesk.core.status import Action, Status, allowed_actions
from leaddesk.errors import LeadDeskError
from leaddesk.services import distributions
from leaddesk.services.distributions import Column
from leaddesk.storage.database import Database
from leaddesk.ui.create_dialog import CreateDistributionDialog
from leaddesk.ui.delivery_log import DeliveryLogDialog
from leaddesk.ui.distributions_model import DistributionsModel

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 2000
DELIVERY_LOG = "Delivery log…"
ANY_STATUS = "Any status"
BUSY = "The data file is busy, so the change was not saved. Try again in a moment."

# Each column starts wide enough for a typical value; the manager may resize it.
COLUMN_SAMPLES = {
    Column.ID: "99999",
    Column.LIST_TITLE: "Spring leads Germany",
    Column.MANAGERS: "Managername",
    Column.SEND_INTERVAL: "2026-12-04 15:02 – 16:42 (est.)",
    Column.PERIOD: "1 h 40 min (every 1 min)",
    Column.AFFILIATES: "Süd Partner GmbH",
    Column.OFFERS: "Sun offer (Solar)",
    Column.DATA_SETTING: "first_name, email",
    Column.LAST_SEND_LEAD: "Anna-Maria K. at 15:47:34",
    Column.LAST_SEND: "2026-12-04 16:05",
    # Room for the start of a reason: "Paused · Not sent: …".
    Column.STATUS: "Active · waiting until 14:32",
    Column.PROGRESS: "37 / 100 (35 accepted, 2 rejected)",
}
CELL_PADDING_PX = 24


def count_text(count: int) -> str:
    return f"{count} distribution" if count == 1 else f"{count} distributions"


def confirmation_text(
    distribution_id: int, title: str, action: Action, status: Status | None = None
) -> str:
    if action is Action.DONE:
        return (
            f"Mark distribution {distribution_id} '{title}' Done? "
            "Leads not yet sent will not be sent."
        )
    if action is Action.DELETE:
        stops = "Sending stops; its" if status in (Status.ACTIVE, Status.PAUSED) else "Its"
        return (
            f"Delete distribution {distribution_id} '{title}'? {stops} records "
            "are kept and it shows under status Deleted."
        )
    return f"{action.label} distribution {distribution_id} '{title}'?"


class DistributionsPage(QWidget):
    """The table of distributions with its filter bar."""

    distributions_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self.model = DistributionsModel(database, self)
        # Replaceable, so that a test can answer instead of a person.
        self.confirm: Callable[[str], bool] = self._ask
        self.warn: Callable[[str], None] = self._warn
        # The delivery logs open, by distribution.
        self.log_dialogs: dict[int, DeliveryLogDialog] = {}

        self._build_filter_bar()
        self._build_table()
        self._lay_out()
        self._connect()

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self.refresh_timer.timeout.connect(self.refresh_visible)

        # Turning sorting on runs the first search: newest first, every status but Deleted.
        self.table.setSortingEnabled(True)
        self._update_count()

    # Building ------------------------------------------------------------------------------

    def _build_filter_bar(self) -> None:
        self.field_combo = QComboBox()
        for field in SearchField:
            self.field_combo.addItem(field.label, field)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search text")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(160)
        self.from_check = QCheckBox("Created from")
        self.from_edit = _date_edit()
        self.to_check = QCheckBox("to")
        self.to_edit = _date_edit()
        self.status_combo = QComboBox()
        self.status_combo.addItem(ANY_STATUS, None)
        for status in Status:
            self.status_combo.addItem(status.label, status)
        self.apply_button = QPushButton("Apply")
        self.clear_button = QPushButton("Clear")
        self.new_button = QPushButton("New distribution…")

    def _build_table(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(Column.ID, Qt.SortOrder.DescendingOrder)
        metrics = self.table.fontMetrics()
        for column, sample in COLUMN_SAMPLES.items():
            widest = max(sample, Column.TITLES[column], key=metrics.horizontalAdvance)
            header.resizeSection(column, metrics.horizontalAdvance(widest) + CELL_PADDING_PX)
        self.count_label = QLabel()

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Search"))
        bar.addWidget(self.field_combo)
        bar.addWidget(self.search_edit, 1)
        for widget in (self.from_check, self.from_edit, self.to_check, self.to_edit):
            bar.addWidget(widget)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.apply_button)
        bar.addWidget(self.clear_button)
        bar.addSpacing(16)
        bar.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

    def _connect(self) -> None:
        self.search_edit.returnPressed.connect(self.apply_filter)
        self.apply_button.clicked.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filter)
        self.new_button.clicked.connect(self.open_create_dialog)
        self.from_check.toggled.connect(self.from_edit.setEnabled)
        self.to_check.toggled.connect(self.to_edit.setEnabled)
        self.table.customContextMenuRequested.connect(self._show_menu)
        self.table.doubleClicked.connect(self._on_double_click)
        for signal in (
            self.model.modelReset,
            self.model.rowsInserted,
            self.model.rowsRemoved,
        ):
            signal.connect(self._update_count)

    # Searching -----------------------------------------------------------------------------

    def current_filter(self) -> DistributionFilter:
        """The filter the widgets describe."""
        # A combo box hands back an enum member it was given as its plain string.
        status = self.status_combo.currentData()
        return DistributionFilter(
            field=SearchField(self.field_combo.currentData()),
            text=self.search_edit.text(),
            created_from=_chosen_date(self.from_check, self.from_edit),
            created_to=_chosen_date(self.to_check, self.to_edit),
            status=Status(status) if status else None,
        )

    @Slot()
    def apply_filter(self) -> None:
        self.model.set_filter(self.current_filter())

    @Slot()
    def clear_filter(self) -> None:
        self.field_combo.setCurrentIndex(0)
        self.search_edit.clear()
        today = QDate.currentDate()
        for check, edit in ((self.from_check, self.from_edit), (self.to_check, self.to_edit)):
            check.setChecked(False)
            edit.setDate(today)
        self.status_combo.setCurrentIndex(0)
        self.apply_filter()

    def _update_count(self) -> None:
        self.count_label.setText(count_text(self.model.rowCount()))

    # Live updates --------------------------------------------------------------------------

    @Slot(int)
    def on_distribution_updated(self, distribution_id: int) -> None:
        self.model.refresh_distribution(distribution_id)
        self._tell_log(distribution_id)

    def _tell_log(self, distribution_id: int) -> None:
        """Let the open delivery log of a distribution, if any, show what changed."""
        dialog = self.log_dialogs.get(distribution_id)
        if dialog is not None:
            dialog.on_distribution_updated(distribution_id)

    @Slot()
    def refresh_visible(self) -> None:
        """Reread the rows in sight, catching changes made by another program."""
        rows = self.model.rowCount()
        if not rows:
            return
        viewport = self.table.viewport()
        first = self.table.rowAt(0)
        last = self.table.rowAt(viewport.height() - 1)
        self.model.refresh_visible(max(first, 0), rows - 1 if last < 0 else last)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_timer.start()

    def hideEvent(self, event) -> None:
        self.refresh_timer.stop()
        super().hideEvent(event)

    # Creating ------------------------------------------------------------------------------

    @Slot()
    def open_create_dialog(self) -> None:
        dialog = CreateDistributionDialog(self._database, self)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted and dialog.created_id is not None:
                self.show_created(dialog.created_id)
        finally:
            dialog.deleteLater()

    def show_created(self, distribution_id: int) -> None:
        """Bring a new distribution into the table and tell the sender about it."""
        self.model.refresh_distribution(distribution_id)
        row = self.model.row_of(distribution_id)
        if row is not None:
            self.table.selectRow(row)
        self.distributions_changed.emit()

    # Delivery logs -------------------------------------------------------------------------

    def open_delivery_log(self, distribution_id: int) -> DeliveryLogDialog:
        """Show the delivery log of a distribution, in a window of its own, opened once."""
        dialog = self.log_dialogs.get(distribution_id)
        if dialog is None:
            dialog = DeliveryLogDialog(self._database, distribution_id, self)
            dialog.deliveries_requeued.connect(self._on_deliveries_requeued)
            dialog.finished.connect(self._on_log_closed)
            self.log_dialogs[distribution_id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    @Slot(QModelIndex)
    def _on_double_click(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_delivery_log(self.model.distribution_id(index.row()))

    @Slot()
    def _on_log_entry(self) -> None:
        self.open_delivery_log(self.sender().data())

    @Slot(int)
    def _on_deliveries_requeued(self, distribution_id: int) -> None:
        self.model.refresh_distribution(distribution_id)
        self.distributions_changed.emit()

    @Slot()
    def _on_log_closed(self) -> None:
        dialog = self.sender()
        self.log_dialogs.pop(dialog.distribution_id, None)
        dialog.deleteLater()

    # Actions -------------------------------------------------------------------------------

    def actions_for_row(self, row: int) -> list[Action]:
        """What the context menu offers for a row, as the row's status allows."""
        distribution = self.model.row_at(row)
        return [] if distribution is None else list(allowed_actions(distribution.status))

    def apply_action(self, distribution_id: int, action: Action, confirm: bool = True) -> bool:
        """Apply an action, asking first when it cannot be undone; True if it was applied."""
        if confirm and action.needs_confirmation:
            row = self.model.row_of(distribution_id)
            shown = self.model.row_at(row) if row is not None else None
            title = shown.title if shown else ""
            status = shown.status if shown else None
            if not self.confirm(confirmation_text(distribution_id, title, action, status)):
                return False
        try:
            with self._database.writer() as session:
                distributions.apply_action(session, distribution_id, action)
                session.commit()
        except LeadDeskError as error:
            self.warn(str(error))
            return False
        except OperationalError as error:
            log.warning("Distribution %s: %s failed: %s", distribution_id, action.value, error)
            self.warn(BUSY)
            return False
        self.model.refresh_distribution(distribution_id)
        self._tell_log(distribution_id)
        self.distributions_changed.emit()
        return True

    def context_menu(self, row: int) -> QMenu:
        """The menu of a row: its delivery log, then the actions its status allows."""
        distribution_id = self.model.distribution_id(row)
        menu = QMenu(self)
        entry = menu.addAction(DELIVERY_LOG)
        entry.setData(distribution_id)
        entry.triggered.connect(self._on_log_entry)
        actions = self.actions_for_row(row)
        if actions:
            menu.addSeparator()
        for action in actions:
            entry = menu.addAction(action.label)
            entry.setData((distribution_id, action.value))
            entry.triggered.connect(self._on_menu_entry)
        return menu

    @Slot()
    def _on_menu_entry(self) -> None:
        distribution_id, action = self.sender().data()
        self.apply_action(distribution_id, Action(action))

    def _show_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if index.isValid():
            menu = self.context_menu(index.row())
            menu.exec(self.table.viewport().mapToGlobal(position))
            menu.deleteLater()

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            "LeadDesk",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _warn(self, text: str) -> None:
        QMessageBox.warning(self, "LeadDesk", text)


def _date_edit() -> QDateEdit:
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setEnabled(False)
    return edit


def _chosen_date(check: QCheckBox, edit: QDateEdit) -> date | None:
    return edit.date().toPython() if check.isChecked() else None
