"""A read-only table model of plain text rows, each row known by the id of what it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

ModelIndex = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()


@dataclass(frozen=True)
class PlainRow:
    """One row: the id of the thing it shows and the text of each cell."""

    id: int
    cells: tuple[str, ...]


class PlainTableModel(QAbstractTableModel):
    """Rows of text under fixed headers; numeric columns are aligned right."""

    def __init__(
        self,
        headers: Sequence[str],
        numeric_columns: Sequence[int] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._numeric = frozenset(numeric_columns)
        self._rows: list[PlainRow] = []

    def set_rows(self, rows: Sequence[PlainRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_id(self, row: int) -> int | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of_id(self, row_id: int) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.id == row_id), None)

    def cell_text(self, row: int, column: int) -> str:
        return self._rows[row].cells[column]

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()].cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None


def make_table_view(model: PlainTableModel, stretch_column: int | None = None) -> QTableView:
    """A table view selecting whole rows, one at a time, with no row numbers."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch_column is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    return view


def selected_id(view: QTableView) -> int | None:
    """The id of the row selected in a view over a PlainTableModel, if any."""
    model = view.model()
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    if not rows or not isinstance(model, PlainTableModel):
        return None
    return model.row_id(rows[0].row())


def select_id(view: QTableView, row_id: int | None) -> None:
    model = view.model()
    if row_id is None or not isinstance(model, PlainTableModel):
        return
    row = model.row_of_id(row_id)
    if row is not None:
        view.selectRow(row)
