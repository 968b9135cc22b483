"""The table model of a lead file's first rows, each header shown with the field it fills."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

ModelIndex = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()


class PreviewModel(QAbstractTableModel):
    """The first rows of a file under its headers, each header with the lead field it fills."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._field_labels: list[str] = []
        self._rows: list[list[str]] = []

    def set_preview(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], field_labels: Sequence[str]
    ) -> None:
        """Show another file reading: new headers and rows."""
        self.beginResetModel()
        self._headers = list(headers)
        self._field_labels = list(field_labels)
        self._rows = [list(row) for row in rows]
        self.endResetModel()

    def set_field_labels(self, field_labels: Sequence[str]) -> None:
        """Show which field each column goes to, keeping the rows as they are."""
        self._field_labels = list(field_labels)
        if self._headers:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._headers) - 1)

    def cell_text(self, row: int, column: int) -> str:
        cells = self._rows[row]
        return cells[column] if column < len(cells) else ""

    def header_text(self, column: int) -> str:
        header = self._headers[column]
        label = self._field_labels[column] if column < len(self._field_labels) else ""
        return f"{header}\n→ {label}" if label else header

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        if index.column() >= len(self._headers):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cell_text(index.row(), index.column())
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows):
                return str(section + 1)
            return None
        if not 0 <= section < len(self._headers):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.header_text(section)
        return None
