"""The table model of the delivery log: ids found and sorted in SQL, rows loaded lazily."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from leaddesk.core.status import DeliveryState
from leaddesk.services import delivery_log
from leaddesk.services.delivery_log import (
    DeliveryLogRow,
    LogColumn,
    duration_text,
    history_text,
    local_time_text,
)
from leaddesk.storage.database import Database

log = logging.getLogger(__name__)

# Rows loaded at once around the one the view asks for, and how many are kept at most.
CHUNK_ROWS = 200
MAX_CACHED_ROWS = 10 * CHUNK_ROWS

# Beyond this many runs of rows coming and going at once, starting afresh is cheaper.
MAX_ROW_RUNS = 50

ROW_ROLES = [
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.ForegroundRole,
]

STATE_COLORS = {
    DeliveryState.ACCEPTED: QColor("#2e7d32"),
    DeliveryState.REJECTED: QColor("#b3261e"),
    DeliveryState.FAILED: QColor("#b3261e"),
    DeliveryState.UNKNOWN: QColor("#b26a00"),
    DeliveryState.SKIPPED: QColor("#757575"),
}

_RIGHT_ALIGNED = frozenset({LogColumn.POSITION, LogColumn.HTTP, LogColumn.DURATION})

# Orders that no change of state can alter, as long as no state is filtered out.
_FIXED_ORDERS = frozenset({LogColumn.POSITION, LogColumn.LEAD, LogColumn.EMAIL, LogColumn.PHONE})

COLUMN_EXPLANATIONS = {
    LogColumn.POSITION: "The lead's place in the list, in the order it is sent",
    LogColumn.LEAD: "The lead's name, or its row in the file when it has none",
    LogColumn.TIME: "When the advertiser answered, or when the lead left (local time)",
    LogColumn.HTTP: "The HTTP status of the advertiser's answer",
    LogColumn.DURATION: "How long the advertiser took to answer",
    LogColumn.ADVERTISER_LEAD_ID: "The id the advertiser gave the lead",
    LogColumn.AUTOLOGIN: "The link that logs the lead in at the advertiser",
    LogColumn.REASON: "Why the lead was refused, failed, or its outcome is unknown",
}

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def display_text(row: DeliveryLogRow, column: int) -> str:
    if column == LogColumn.POSITION:
        return str(row.position)
    if column == LogColumn.LEAD:
        return row.lead_label
    if column == LogColumn.EMAIL:
        return row.email
    if column == LogColumn.PHONE:
        return row.phone
    if column == LogColumn.STATE:
        return row.state.label
    if column == LogColumn.TIME:
        return local_time_text(row.time)
    if column == LogColumn.HTTP:
        return "" if row.http_status is None else str(row.http_status)
    if column == LogColumn.DURATION:
        return duration_text(row.duration_ms)
    if column == LogColumn.ADVERTISER_LEAD_ID:
        return row.advertiser_lead_id
    if column == LogColumn.AUTOLOGIN:
        return row.autologin_url
    if column == LogColumn.REASON:
        # One line in the cell; the tooltip holds the whole text.
        return " ".join(row.reason.split())
    return ""


def tooltip_text(row: DeliveryLogRow, column: int) -> str | None:
    if column == LogColumn.STATE:
        lines = [row.state.label]
        if row.verdict and row.verdict != row.state.value:
            lines[0] += f" ({row.verdict})"
        if row.attempts > 1:
            lines.append(f"{row.attempts} attempts")
        if row.history:
            lines.append(f"Sent before: {history_text(row.history)}")
        return "\n".join(lines)
    if column == LogColumn.REASON:
        return row.reason or None
    if column in (LogColumn.LEAD, LogColumn.EMAIL, LogColumn.AUTOLOGIN):
        return display_text(row, column) or None
    return None


def foreground(row: DeliveryLogRow, column: int) -> QColor | None:
    return STATE_COLORS.get(row.state) if column == LogColumn.STATE else None


def cell_values(row: DeliveryLogRow) -> list[tuple[object, ...]]:
    """What each cell of a row shows, to tell which cells an update changed."""
    return [
        (display_text(row, column), tooltip_text(row, column), foreground(row, column))
        for column in range(len(LogColumn.TITLES))
    ]


class DeliveryLogModel(QAbstractTableModel):
    """The deliveries of one distribution in the chosen states, in the order SQL sorted them."""

    def __init__(self, database: Database, distribution_id: int, parent=None) -> None:
        super().__init__(parent)
        self._database = database
        self.distribution_id = distribution_id
        self._states: frozenset[DeliveryState] = frozenset()
        self._sort_column = LogColumn.POSITION
        self._descending = False
        self._ids: list[int] = []
        # The row of each id, built when first needed after the ids change.
        self._row_of: dict[int, int] | None = None
        self._rows: dict[int, DeliveryLogRow] = {}

    # Qt's model interface ------------------------------------------------------------------

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(LogColumn.TITLES)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(LogColumn.TITLES):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return LogColumn.TITLES[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_EXPLANATIONS.get(section)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        column = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in _RIGHT_ALIGNED:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.UserRole:
            return self._ids[index.row()]
        if role not in ROW_ROLES:
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(row, column)
        return foreground(row, column)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(LogColumn.TITLES):
            return
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._reorder(self._query_ids())

    # Searching -----------------------------------------------------------------------------

    @property
    def states(self) -> frozenset[DeliveryState]:
        return self._states

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def descending(self) -> bool:
        return self._descending

    def set_states(self, states: Iterable[DeliveryState]) -> None:
        """Show the deliveries in these states (none: every state); a new search."""
        self._states = frozenset(states)
        self.search()

    def search(self) -> None:
        """Find the rows afresh; unlike a refresh, it resets the whole table."""
        self._reset(self._query_ids())

    def delivery_id(self, row: int) -> int:
        return self._ids[row]

    def ids_of_rows(self, rows: Iterable[int]) -> list[int]:
        return [self._ids[row] for row in rows if 0 <= row < len(self._ids)]

    def rows_of_ids(self, ids: Iterable[int]) -> list[int]:
        row_of = self._row_index()
        return sorted(row_of[i] for i in ids if i in row_of)

    def row_at(self, row: int) -> DeliveryLogRow | None:
        """The delivery shown at a row, loading it and its neighbours if needed."""
        delivery_id = self._ids[row]
        if delivery_id not in self._rows:
            if len(self._rows) >= MAX_CACHED_ROWS:
                self._rows.clear()
            first = max(row - CHUNK_ROWS // 2, 0)
            wanted = [i for i in self._ids[first : first + CHUNK_ROWS] if i not in self._rows]
            self._rows.update(self._load(wanted))
        return self._rows.get(delivery_id)

    def cached_row(self, delivery_id: int) -> DeliveryLogRow | None:
        """A row already loaded, without reading the data file."""
        return self._rows.get(delivery_id)

    # Live updates --------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Show the current deliveries, keeping selected rows; True if the table was reset.

        When no change of state can move a row, only the loaded rows are read again.
        """
        if not self._states and self._sort_column in _FIXED_ORDERS:
            self.reload_loaded()
            return False
        ids = self._query_ids()
        if ids != self._ids and not self._apply_ids(ids):
            if len(ids) != len(self._ids) or set(ids) != set(self._ids):
                self._reset(ids)
                return True
            self._reorder(ids)
        self.reload_loaded()
        return False

    def reload_loaded(self) -> None:
        """Read the loaded rows again in one query, announcing only the cells that changed."""
        if not self._rows:
            return
        fresh = self._load(list(self._rows))
        row_of = self._row_index()
        for delivery_id, old in list(self._rows.items()):
            new = fresh.get(delivery_id)
            if new is None or delivery_id not in row_of:
                del self._rows[delivery_id]
                continue
            self._rows[delivery_id] = new
            self._announce(row_of[delivery_id], old, new)

    # Inside --------------------------------------------------------------------------------

    def _query_ids(self) -> list[int]:
        with self._database.session() as session:
            return delivery_log.find_delivery_ids(
                session, self.distribution_id, self._states, self._sort_column, self._descending
            )

    def _load(self, ids: list[int]) -> dict[int, DeliveryLogRow]:
        if not ids:
            return {}
        with self._database.session() as session:
            return delivery_log.load_rows(session, ids)

    def _row_index(self) -> dict[int, int]:
        if self._row_of is None:
            self._row_of = {delivery_id: row for row, delivery_id in enumerate(self._ids)}
        return self._row_of

    def _set_ids(self, ids: list[int]) -> None:
        self._ids = ids
        self._row_of = None

    def _reset(self, ids: list[int]) -> None:
        self.beginResetModel()
        self._set_ids(ids)
        self._rows.clear()
        self.endResetModel()
        log.debug("Delivery log of %s: %d rows", self.distribution_id, len(ids))

    def _reorder(self, ids: list[int]) -> None:
        """Show rows in a new order; selected rows stay selected."""
        if len(ids) != len(self._ids) or set(ids) != set(self._ids):
            self._reset(ids)
            return
        self.layoutAboutToBeChanged.emit()
        old_indexes = self.persistentIndexList()
        old_ids = [self._ids[index.row()] for index in old_indexes]
        self._set_ids(ids)
        row_of = self._row_index()
        new_indexes = [
            self.index(row_of[delivery_id], index.column())
            for delivery_id, index in zip(old_ids, old_indexes, strict=True)
        ]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    def _apply_ids(self, ids: list[int]) -> bool:
        """Remove and insert runs of rows to reach `ids`; False if a reset is needed instead."""
        wanted = set(ids)
        shown = set(self._ids)
        if [i for i in self._ids if i in wanted] != [i for i in ids if i in shown]:
            return False
        removed = _runs([row for row, i in enumerate(self._ids) if i not in wanted])
        added = _runs([row for row, i in enumerate(ids) if i not in shown])
        if len(removed) + len(added) > MAX_ROW_RUNS:
            return False
        for first, last in reversed(removed):
            self.beginRemoveRows(_ROOT, first, last)
            for delivery_id in self._ids[first : last + 1]:
                self._rows.pop(delivery_id, None)
            self._set_ids(self._ids[:first] + self._ids[last + 1 :])
            self.endRemoveRows()
        # With the removed rows gone, each run of new rows goes in at its final place.
        for first, last in added:
            self.beginInsertRows(_ROOT, first, last)
            self._set_ids(self._ids[:first] + ids[first : last + 1] + self._ids[first:])
            self.endInsertRows()
        return True

    def _announce(self, row: int, old: DeliveryLogRow, new: DeliveryLogRow) -> None:
        """Emit dataChanged over each run of changed cells in one row."""
        changed = [
            column
            for column, (before, after) in enumerate(
                zip(cell_values(old), cell_values(new), strict=True)
            )
            if before != after
        ]
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(row, first), self.index(row, last), ROW_ROLES)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive numbers grouped: [1, 2, 5] gives [(1, 2), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs
