"""The delivery log window of a distribution: every lead's delivery, sent again or exported."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from leaddesk.core.status import DeliveryState, Status
from leaddesk.errors import LeadDeskError
from leaddesk.services import delivery_log
from leaddesk.services.delivery_log import DeliveryLogSummary, LogColumn
from leaddesk.storage.database import Database
from leaddesk.ui.delivery_log_model import DeliveryLogModel
from leaddesk.ui.distributions_model import status_note

log = logging.getLogger(__name__)

# The sender reports every lead it sends; the log reads the file once for a burst of them.
REFRESH_DELAY_MS = 500
# Changes made by another program (`leaddesk run`) are looked for this often while shown.
POLL_INTERVAL_MS = 3000
BUSY = "The data file is busy, so nothing was sent again. Try again in a moment."
EXPORT_FILTER = "CSV files (*.csv)"

FILTER_STATES = (
    DeliveryState.ACCEPTED,
    DeliveryState.REJECTED,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
    DeliveryState.QUEUED,
    DeliveryState.SKIPPED,
)
ALL = "All"

# Each column starts wide enough for a typical value; the manager may resize it.
COLUMN_SAMPLES = {
    LogColumn.POSITION: "Position",
    LogColumn.LEAD: "Katrin Hoffmann",
    LogColumn.EMAIL: "anna.kowalski42@example.com",
    LogColumn.PHONE: "+49 30 1234567",
    LogColumn.STATE: "Outcome unknown",
    LogColumn.TIME: "2026-12-04 15:02:11",
    LogColumn.HTTP: "HTTP",
    LogColumn.DURATION: "Duration",
    LogColumn.ADVERTISER_LEAD_ID: "Advertiser lead id",
    LogColumn.AUTOLOGIN: "https://adv.example/login",
}
CELL_PADDING_PX = 16
# A header needs room for its title and the arrow showing the order.
HEADER_PADDING_PX = 36
# The window opens this large, or as large as the screen allows.
DEFAULT_WIDTH = 1480
DEFAULT_HEIGHT = 640
SCREEN_MARGIN_PX = 80
# The line under the table shows this much of a reason; its tooltip shows the rest.
DETAIL_REASON_CHARS = 300


def summary_text(summary: DeliveryLogSummary) -> str:
    """`Active · 100 leads: 30 accepted, 5 rejected, …`."""
    total = sum(summary.counts.values())
    leads = "1 lead" if total == 1 else f"{total} leads"
    return f"{summary.status.label} · {leads}: {delivery_log.counts_text(summary.counts)}"


def shown_text(count: int) -> str:
    return f"{count} delivery shown" if count == 1 else f"{count} deliveries shown"


def detail_text(row: delivery_log.DeliveryLogRow) -> str:
    """The whole story of one delivery, for the line under the table."""
    text = f"{row.position}. {row.lead_label}: {row.state.label}"
    if row.http_status is not None:
        text += f" (HTTP {row.http_status})"
    if row.time is not None:
        text += f" at {delivery_log.local_time_text(row.time)}"
    reason = " ".join(row.reason.split())
    if reason:
        if len(reason) > DETAIL_REASON_CHARS:
            reason = reason[: DETAIL_REASON_CHARS - 1] + "…"
        text += f". {reason}"
    if row.history:
        text += f"\nSent before: {delivery_log.history_text(row.history)}"
    return text


class DeliveryLogDialog(QDialog):
    """A window, not modal, over the deliveries of one distribution."""

    # Deliveries of this distribution went back to the queue: the sender should look.
    deliveries_requeued = Signal(int)

    def __init__(
        self, database: Database, distribution_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._database = database
        self.distribution_id = distribution_id
        self._summary: DeliveryLogSummary | None = None
        self.model = DeliveryLogModel(database, distribution_id, self)

        self._build_header()
        self._build_table()
        self._build_buttons()
        self._lay_out()
        self._connect()
        self._read_summary()
        self.setWindowTitle(f"Delivery log — {self._summary.title}")
        # Turning sorting on runs the first search: every state, in list order.
        self.table.setSortingEnabled(True)
        self._update_buttons()
        self._update_detail()
        self._size_to_screen()

    # Building ------------------------------------------------------------------------------

    def _build_header(self) -> None:
        self.summary_label = QLabel()
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        self.reason_label.setStyleSheet("color: #b26a00;")
        self.reason_label.hide()
        self.state_combo = QComboBox()
        self.state_combo.addItem(ALL, None)
        for state in FILTER_STATES:
            self.state_combo.addItem(state.label, state.value)
        self.shown_label = QLabel()

    def _build_table(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(LogColumn.POSITION, Qt.SortOrder.AscendingOrder)
        metrics = self.table.fontMetrics()
        for column, sample in COLUMN_SAMPLES.items():
            width = max(
                metrics.horizontalAdvance(sample) + CELL_PADDING_PX,
                metrics.horizontalAdvance(LogColumn.TITLES[column]) + HEADER_PADDING_PX,
            )
            header.resizeSection(column, width)

    def _build_buttons(self) -> None:
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label = QLabel()
        self.send_again_button = QPushButton("Send again…")
        self.send_again_button.setToolTip(
            "Send the selected rejected, failed or outcome-unknown leads again, at the "
            "distribution's pace"
        )
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the deliveries shown, in this order, to a CSV file")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.send_again_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(REFRESH_DELAY_MS)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_INTERVAL_MS)

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.state_combo)
        bar.addStretch(1)
        bar.addWidget(self.shown_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message_label, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.reason_label)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail_label)
        layout.addLayout(bottom)

    def _connect(self) -> None:
        self.state_combo.currentIndexChanged.connect(self._on_state_chosen)
        self.table.customContextMenuRequested.connect(self._show_menu)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.selectionModel().currentRowChanged.connect(self._update_detail)
        self.send_again_button.clicked.connect(self.ask_and_send_again)
        self.export_button.clicked.connect(self.ask_and_export)
        self.buttons.rejected.connect(self.reject)
        self._refresh_soon.timeout.connect(self.refresh)
        self.poll_timer.timeout.connect(self.refresh)
        for signal in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(self._update_shown)

    # Showing -------------------------------------------------------------------------------

    @property
    def status(self) -> Status | None:
        return self._summary.status if self._summary else None

    def _read_summary(self) -> bool:
        """Read the counts and reasons; True when the counts changed."""
        with self._database.session() as session:
            summary = delivery_log.log_summary(session, self.distribution_id)
        changed = self._summary is None or summary.counts != self._summary.counts
        self._summary = summary
        self.summary_label.setText(summary_text(summary))
        note = status_note(
            summary.status, summary.waiting_reason, summary.waiting_until, summary.status_reason
        )
        self.reason_label.setText(note[:1].upper() + note[1:])
        self.reason_label.setVisible(bool(note))
        total = sum(summary.counts.values())
        self.state_combo.setItemText(0, f"{ALL} ({total})")
        for index, state in enumerate(FILTER_STATES, start=1):
            self.state_combo.setItemText(index, f"{state.label} ({summary.counts[state]})")
        return changed

    def _size_to_screen(self) -> None:
        screen = self.screen().availableGeometry()
        self.resize(
            min(DEFAULT_WIDTH, screen.width() - SCREEN_MARGIN_PX),
            min(DEFAULT_HEIGHT, screen.height() - SCREEN_MARGIN_PX),
        )

    @Slot()
    def _update_detail(self) -> None:
        current = self.table.currentIndex()
        row = self.model.row_at(current.row()) if current.isValid() else None
        self.detail_label.setText(detail_text(row) if row else "")
        self.detail_label.setToolTip(row.reason if row else "")

    @Slot()
    def _update_shown(self) -> None:
        self.shown_label.setText(shown_text(self.model.rowCount()))

    @Slot(int)
    def _on_state_chosen(self, index: int) -> None:
        value = self.state_combo.itemData(index)
        self.model.set_states([DeliveryState(value)] if value else [])

    def choose_state(self, state: DeliveryState | None) -> None:
        """Show only the deliveries in one state, or every one with None."""
        self.state_combo.setCurrentIndex(self.state_combo.findData(state.value if state else None))

    # Live updates --------------------------------------------------------------------------

    @Slot(int)
    def on_distribution_updated(self, distribution_id: int) -> None:
        """The sender changed a distribution; this log reads the file soon if it is this one."""
        if distribution_id == self.distribution_id and not self._refresh_soon.isActive():
            self._refresh_soon.start()

    @Slot()
    def refresh(self) -> None:
        """Show the current deliveries and counts, keeping the selection."""
        selected = self.selected_ids()
        if self._read_summary():
            if self.model.refresh():
                self.select_ids(selected)
        else:
            # No delivery changed state, so no row came or went: reread the rows in sight.
            self.model.reload_loaded()
        self._update_buttons()
        self._update_detail()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.poll_timer.start()

    def hideEvent(self, event) -> None:
        self.poll_timer.stop()
        super().hideEvent(event)

    # Selection -----------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        rows: set[int] = set()
        for selected in self.table.selectionModel().selection():
            rows.update(range(selected.top(), selected.bottom() + 1))
        return sorted(rows)

    def selected_ids(self) -> list[int]:
        return self.model.ids_of_rows(self.selected_rows())

    def select_ids(self, ids: list[int]) -> None:
        selection = QItemSelection()
        last_column = self.model.columnCount() - 1
        for row in self.model.rows_of_ids(ids):
            selection.select(self.model.index(row, 0), self.model.index(row, last_column))
        self.table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    def can_send_again(self, ids: list[int]) -> bool:
        """True when some of these deliveries may be sent again."""
        if not ids or self.status is Status.DELETED:
            return False
        unread = []
        for delivery_id in ids:
            row = self.model.cached_row(delivery_id)
            if row is None:
                unread.append(delivery_id)
            elif row.can_send_again:
                return True
        if not unread:
            return False
        with self._database.session() as session:
            return delivery_log.resend_preview(session, self.distribution_id, unread).count > 0

    @Slot()
    def _update_buttons(self) -> None:
        self.send_again_button.setEnabled(self.can_send_again(self.selected_ids()))

    # Sending again -------------------------------------------------------------------------

    @Slot()
    def ask_and_send_again(self) -> int | None:
        """Ask, saying how many leads go again and what it risks; then queue them."""
        ids = self.selected_ids()
        with self._database.session() as session:
            preview = delivery_log.resend_preview(session, self.distribution_id, ids)
        if not preview.count:
            return None
        answer = QMessageBox.question(
            self,
            "Send again",
            delivery_log.resend_question(preview),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return self.send_again(ids)

    def send_again(self, ids: list[int]) -> int | None:
        """Queue these deliveries again, if they may be; None if nothing could be done."""
        try:
            with self._database.writer() as session:
                count = delivery_log.send_again(session, self.distribution_id, ids)
                session.commit()
        except LeadDeskError as error:
            QMessageBox.warning(self, "LeadDesk", str(error))
            return None
        except OperationalError as error:
            log.warning("Sending again in distribution %s failed: %s", self.distribution_id, error)
            QMessageBox.warning(self, "LeadDesk", BUSY)
            return None
        leads = "1 lead goes" if count == 1 else f"{count} leads go"
        self.message_label.setText(f"{leads} again.")
        self.refresh()
        self.deliveries_requeued.emit(self.distribution_id)
        return count

    # Context menu --------------------------------------------------------------------------

    def context_menu(self, row: int) -> QMenu:
        """The menu of a row: copy its auto-login link; send the selected leads again."""
        menu = QMenu(self)
        delivery = self.model.row_at(row)
        copy = menu.addAction("Copy auto-login link")
        copy.setEnabled(bool(delivery and delivery.autologin_url))
        copy.setData(self.model.delivery_id(row))
        copy.triggered.connect(self._copy_autologin)
        again = menu.addAction("Send again…")
        again.setEnabled(self.send_again_button.isEnabled())
        again.triggered.connect(self.ask_and_send_again)
        return menu

    @Slot()
    def _copy_autologin(self) -> None:
        delivery = self.model.cached_row(self.sender().data())
        if delivery is not None and delivery.autologin_url:
            QGuiApplication.clipboard().setText(delivery.autologin_url)
            self.message_label.setText("Auto-login link copied.")

    def _show_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        menu = self.context_menu(index.row())
        menu.exec(self.table.viewport().mapToGlobal(position))
        menu.deleteLater()

    # Exporting -----------------------------------------------------------------------------

    @Slot()
    def ask_and_export(self) -> None:
        title = self._summary.title if self._summary else str(self.distribution_id)
        name = "".join("_" if ch in '/\\:*?"<>|' else ch for ch in title)
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export delivery log", str(Path.home() / f"{name} deliveries.csv"), EXPORT_FILTER
        )
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> int | None:
        """Write the deliveries shown, in their order, to a CSV file; None if it failed."""
        if not path.suffix:
            path = path.with_suffix(".csv")
        try:
            with self._database.session() as session:
                count = delivery_log.export_csv(
                    session,
                    self.distribution_id,
                    self.model.states,
                    path,
                    self.model.sort_column,
                    self.model.descending,
                )
        except LeadDeskError as error:
            QMessageBox.warning(self, "LeadDesk", f"Cannot export the delivery log. {error}")
            return None
        self.message_label.setText(f"Exported {count} deliveries to {path}.")
        return count
