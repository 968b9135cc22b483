"""The table model of the Distributions page: ids found in SQL, rows loaded lazily."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from leaddesk.core.clock import to_local, utc_now
from leaddesk.core.durations import format_moment
from leaddesk.core.filters import DistributionFilter
from leaddesk.core.status import Status
from leaddesk.services.distributions import (
    Column,
    DistributionRow,
    find_distribution_ids,
    load_rows,
)
from leaddesk.storage.database import Database

log = logging.getLogger(__name__)

# Rows loaded at once around the one the view asks for.
CHUNK_ROWS = 200

# Beyond this many rows coming and going at once, starting afresh is cheaper.
MAX_ROW_MOVES = 50

# Every role whose answer comes from a row; a changed cell is announced with all of them.
ROW_ROLES = [
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.UserRole,
]

STATUS_COLORS = {
    Status.ACTIVE: QColor("#2e7d32"),
    Status.PAUSED: QColor("#b26a00"),
    Status.DONE: QColor("#1565c0"),
    Status.DELETED: QColor("#757575"),
}

_RIGHT_ALIGNED = {Column.ID}

COLUMN_EXPLANATIONS = {
    Column.LIST_TITLE: "The distribution's title, seen only by managers",
    Column.SEND_INTERVAL: "When sending started, and when it ends (est.) or ended",
    Column.PERIOD: "Estimated time to send the whole list, and the chosen pace",
    Column.DATA_SETTING: "The lead fields sent, and fixed values added to each lead",
    Column.LAST_SEND_LEAD: "The lead sent most recently, and when",
    Column.LAST_SEND: "When the distribution finished",
    Column.PROGRESS: "Leads sent of the list, and what the advertiser answered",
}
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def send_interval_text(row: DistributionRow) -> str:
    """`2026-12-04 15:02 – 16:42 (est.)`: when sending started and when it ends or ended."""
    if row.started_at is None:
        return ""
    start = to_local(row.started_at)
    text = f"{format_moment(start)} – "
    if row.status is Status.PAUSED:
        return text + "paused"
    if row.status is Status.ACTIVE:
        end = row.estimated_end
        if end is None:
            return format_moment(start)
        return text + f"{_end_text(to_local(end), start)} (est.)"
    if row.finished_at is None:
        return text + row.status.value
    return text + _end_text(to_local(row.finished_at), start)


def _end_text(end: datetime, start: datetime) -> str:
    # The date is repeated only when sending runs past the day it began.
    return end.strftime("%H:%M") if end.date() == start.date() else format_moment(end)


def period_text(row: DistributionRow) -> str:
    return row.period_description


def last_lead_text(row: DistributionRow) -> str:
    if row.last_sent_at is None:
        return ""
    moment = to_local(row.last_sent_at).strftime("%H:%M:%S")
    return f"{row.last_lead_label} at {moment}" if row.last_lead_label else moment


def progress_text(row: DistributionRow) -> str:
    counts = [f"{row.accepted} accepted", f"{row.rejected} rejected"]
    # Failed and unknown outcomes need the manager's attention, so they show when there are any.
    counts += [
        f"{count} {name}"
        for count, name in ((row.failed, "failed"), (row.unknown, "outcome unknown"))
        if count
    ]
    return f"{row.sent} / {row.total} ({', '.join(counts)})"


def progress_tooltip(row: DistributionRow) -> str:
    waiting = max(row.total - row.sent, 0)
    return (
        f"Sent {row.sent} of {row.total}: {row.accepted} accepted, {row.rejected} rejected, "
        f"{row.failed} failed, {row.unknown} with no clear answer; {waiting} not sent yet."
    )


def status_note(
    status: Status,
    waiting_reason: str,
    waiting_until: datetime | None,
    status_reason: str,
    now: datetime | None = None,
) -> str:
    """Why a distribution is not sending now, as LeadDesk recorded it; "" when nothing is said.

    `waiting until 14:32: <reason>` for an Active one waiting for the advertiser, or the
    reason LeadDesk gave for pausing it. Times are stored in UTC and shown in local time.
    """
    if status is Status.ACTIVE and waiting_reason:
        now = now or utc_now()
        if waiting_until is not None and waiting_until > now:
            until = to_local(waiting_until)
            same_day = until.date() == to_local(now).date()
            moment = until.strftime("%H:%M") if same_day else format_moment(until)
            return f"waiting until {moment}: {waiting_reason}"
        return f"waiting: {waiting_reason}"
    return status_reason


def status_text(row: DistributionRow) -> str:
    """`Active · waiting until 14:32: <reason>`, or just the status when nothing is said."""
    note = status_note(row.status, row.waiting_reason, row.waiting_until, row.status_reason)
    return f"{row.status.label} · {note}" if note else row.status.label


def progress_fraction(row: DistributionRow) -> float:
    return row.sent / row.total if row.total else 0.0


def display_text(row: DistributionRow, column: int) -> str:
    if column == Column.ID:
        return str(row.id)
    if column == Column.LIST_TITLE:
        return row.title
    if column == Column.MANAGERS:
        return row.manager
    if column == Column.SEND_INTERVAL:
        return send_interval_text(row)
    if column == Column.PERIOD:
        return period_text(row)
    if column == Column.AFFILIATES:
        return row.affiliate
    if column == Column.OFFERS:
        return f"{row.offer} ({row.product})" if row.product else row.offer
    if column == Column.DATA_SETTING:
        return row.data_setting
    if column == Column.LAST_SEND_LEAD:
        return last_lead_text(row)
    if column == Column.LAST_SEND:
        return format_moment(to_local(row.finished_at)) if row.finished_at else ""
    if column == Column.STATUS:
        return status_text(row)
    if column == Column.PROGRESS:
        return progress_text(row)
    return ""


def tooltip_text(row: DistributionRow, column: int) -> str | None:
    if column == Column.LIST_TITLE:
        return f"Lead list: {row.list_title}"
    if column == Column.PROGRESS:
        return progress_tooltip(row)
    if column == Column.DATA_SETTING and row.data_setting:
        return row.data_setting
    if column == Column.SEND_INTERVAL:
        return send_interval_text(row) or None
    if column == Column.STATUS and status_text(row) != row.status.label:
        # The cell may be too narrow for the reason.
        return status_text(row)
    return None


def foreground(row: DistributionRow, column: int) -> QColor | None:
    if column == Column.STATUS or row.status is Status.DELETED:
        return STATUS_COLORS[row.status]
    return None


def user_value(row: DistributionRow, column: int) -> object:
    if column == Column.ID:
        return row.id
    if column == Column.PROGRESS:
        return progress_fraction(row)
    return None


def cell_values(row: DistributionRow) -> list[tuple[object, ...]]:
    """What each cell of a row shows, to tell which cells an update changed."""
    return [
        (
            display_text(row, column),
            tooltip_text(row, column),
            foreground(row, column),
            user_value(row, column),
        )
        for column in range(len(Column.TITLES))
    ]


class DistributionsModel(QAbstractTableModel):
    """Distributions matching a filter, in the order SQL sorted them."""

    def __init__(self, database: Database, parent=None) -> None:
        super().__init__(parent)
        self._database = database
        self._filter = DistributionFilter()
        self._sort_column = Column.ID
        self._descending = True
        self._ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._rows: dict[int, DistributionRow] = {}

    # Qt's model interface ------------------------------------------------------------------

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(Column.TITLES)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column.TITLES):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return Column.TITLES[section]
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
        if role not in ROW_ROLES:
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return foreground(row, column)
        return user_value(row, column)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column.TITLES):
            return
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        ids = self._query_ids()
        if sorted(ids) == sorted(self._ids):
            self._reorder(ids)
        else:
            self._reset(ids)

    # Searching -----------------------------------------------------------------------------

    @property
    def current_filter(self) -> DistributionFilter:
        return self._filter

    def set_filter(self, wanted: DistributionFilter) -> None:
        """Run a new search; unlike a live update, it resets the whole table."""
        self._filter = wanted
        self._reset(self._query_ids())

    def reload(self) -> None:
        """Search again with the same filter and order, keeping the rows that stay."""
        self._apply_ids(self._query_ids())

    def distribution_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, distribution_id: int) -> int | None:
        return self._row_of.get(distribution_id)

    def row_at(self, row: int) -> DistributionRow | None:
        """The distribution shown at a row, loading it and its neighbours if needed."""
        distribution_id = self._ids[row]
        if distribution_id not in self._rows:
            first = max(row - CHUNK_ROWS // 2, 0)
            wanted = [i for i in self._ids[first : first + CHUNK_ROWS] if i not in self._rows]
            self._rows.update(self._load(wanted))
        return self._rows.get(distribution_id)

    # Live updates --------------------------------------------------------------------------

    def refresh_distribution(self, distribution_id: int) -> None:
        """Show the current state of one distribution, touching only the cells that changed."""
        if distribution_id not in self._row_of:
            self.reload()
            return
        old = self._rows.get(distribution_id)
        new = self._load([distribution_id]).get(distribution_id)
        if old is None or new is None:
            # Not in sight: the view reads it afresh when it needs it.
            self._rows.pop(distribution_id, None)
            return
        self._rows[distribution_id] = new
        self._announce(self._row_of[distribution_id], old, new)
        if new.status is not old.status:
            # A new status may take the row out of the filter.
            self.reload()

    def refresh_visible(self, first: int = 0, last: int | None = None) -> None:
        """Reload the cached rows between `first` and `last` in one query; forget the others.

        Rows out of sight are dropped rather than reloaded, so the cache stays as small as
        the view and a row scrolled back into sight is read afresh.
        """
        last = len(self._ids) - 1 if last is None else last
        shown = set(self._ids[max(first, 0) : last + 1])
        for distribution_id in [i for i in self._rows if i not in shown]:
            del self._rows[distribution_id]
        if not self._rows:
            return
        fresh = self._load(list(self._rows))
        status_changed = False
        for distribution_id, old in list(self._rows.items()):
            new = fresh.get(distribution_id)
            if new is None:
                del self._rows[distribution_id]
                continue
            self._rows[distribution_id] = new
            self._announce(self._row_of[distribution_id], old, new)
            status_changed = status_changed or new.status is not old.status
        if status_changed:
            # Another program may have moved a row out of the filter.
            self.reload()

    # Inside --------------------------------------------------------------------------------

    def _query_ids(self) -> list[int]:
        with self._database.session() as session:
            return find_distribution_ids(
                session, self._filter, self._sort_column, self._descending
            )

    def _load(self, ids: list[int]) -> dict[int, DistributionRow]:
        if not ids:
            return {}
        with self._database.session() as session:
            return load_rows(session, ids)

    def _set_ids(self, ids: list[int]) -> None:
        self._ids = ids
        self._row_of = {distribution_id: row for row, distribution_id in enumerate(ids)}

    def _reset(self, ids: list[int]) -> None:
        self.beginResetModel()
        self._set_ids(ids)
        self._rows.clear()
        self.endResetModel()
        log.debug("Distributions search: %d found", len(ids))

    def _reorder(self, ids: list[int]) -> None:
        """Show the same rows in a new order; selected rows stay selected."""
        self.layoutAboutToBeChanged.emit()
        old_indexes = self.persistentIndexList()
        old_ids = [self._ids[index.row()] for index in old_indexes]
        self._set_ids(ids)
        new_indexes = [
            self.index(self._row_of[distribution_id], index.column())
            for distribution_id, index in zip(old_ids, old_indexes, strict=True)
        ]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    def _apply_ids(self, ids: list[int]) -> None:
        """Remove and insert rows to reach `ids`; reset only if the kept rows moved."""
        if ids == self._ids:
            return
        wanted = set(ids)
        kept = [i for i in self._ids if i in wanted]
        moves = len(self._ids) - len(kept) + len(ids) - len(kept)
        if moves > MAX_ROW_MOVES or kept != [i for i in ids if i in self._row_of]:
            self._reset(ids)
            return
        for row in reversed(range(len(self._ids))):
            if self._ids[row] not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                self._rows.pop(self._ids[row], None)
                self._set_ids(self._ids[:row] + self._ids[row + 1 :])
                self.endRemoveRows()
        for row, distribution_id in enumerate(ids):
            if row >= len(self._ids) or self._ids[row] != distribution_id:
                self.beginInsertRows(QModelIndex(), row, row)
                self._set_ids([*self._ids[:row], distribution_id, *self._ids[row:]])
                self.endInsertRows()

    def _announce(self, row: int, old: DistributionRow, new: DistributionRow) -> None:
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


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """Consecutive numbers grouped: [1, 2, 5] gives [(1, 2), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for column in columns:
        if runs and runs[-1][1] == column - 1:
            runs[-1] = (runs[-1][0], column)
        else:
            runs.append((column, column))
    return runs
