"""The two small tables of the offer editor: extra headers, and the advertiser's fields.

Each row is a few input widgets, since a manager edits every cell of these short tables and a
secret header's value must be typed unseen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.lead_fields import LEAD_FIELDS
from leaddesk.core.offer_config import FieldRule, Header, SourceKind, Transform

KEPT_PLACEHOLDER = "kept; type to replace"
SECRET_PLACEHOLDER = "typed unseen, kept apart"
SOURCE_LABELS = {
    SourceKind.FIELD: "lead field",
    SourceKind.FIXED: "fixed value",
    SourceKind.TEMPLATE: "template",
    SourceKind.PASSWORD: "generated password",
}
VALUE_PLACEHOLDERS = {
    SourceKind.FIELD: "first_name",
    SourceKind.FIXED: "web",
    SourceKind.TEMPLATE: "{first_name} {last_name}",
    SourceKind.PASSWORD: "made by the password rules",
}
TABLE_MIN_HEIGHT = 140


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setMinimumHeight(TABLE_MIN_HEIGHT)
    return table


def _centered(widget: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignCenter)
    return holder


class _RowTable(QWidget):
    """A table of widget rows with Add and Remove buttons; a focused widget selects its row."""

    changed = Signal()

    def __init__(self, headers: tuple[str, ...], add_text: str) -> None:
        super().__init__()
        self.table = _table(headers)
        self.add_button = QPushButton(add_text)
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(self._add_clicked)
        self.remove_button.clicked.connect(self.remove_selected)
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.add_button)
        self.buttons.addWidget(self.remove_button)
        self.buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)
        self._rows: list = []

    def row_count(self) -> int:
        return len(self._rows)

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    @Slot()
    def remove_selected(self) -> None:
        row = self.selected_row()
        if row < 0:
            return
        self.table.removeRow(row)
        del self._rows[row]
        if self._rows:
            self.table.selectRow(min(row, len(self._rows) - 1))
        self.changed.emit()

    def _place(self, row_widgets: list[QWidget]) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, widget in enumerate(row_widgets):
            self.table.setCellWidget(row, column, widget)
            for each in [widget, *widget.findChildren(QWidget)]:
                each.installEventFilter(self)
        return row

    def _clear(self) -> None:
        self.table.setRowCount(0)
        self._rows = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn:
            for row in range(self.table.rowCount()):
                for column in range(self.table.columnCount()):
                    cell = self.table.cellWidget(row, column)
                    if cell is watched or (cell is not None and cell.isAncestorOf(watched)):
                        self.table.selectRow(row)
                        return False
        return False

    @Slot()
    def _add_clicked(self) -> None:
        raise NotImplementedError


@dataclass
class _HeaderRow:
    name: QLineEdit
    value: QLineEdit
    secret: QCheckBox


class HeadersTable(_RowTable):
    """Extra request headers; a secret one is typed unseen and kept apart from the config."""

    def __init__(self) -> None:
        super().__init__(("Header", "Value", "Secret"), "Add header")
        self.stored_secrets: set[str] = set()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self._rows: list[_HeaderRow] = []

    def add_header(self, header: Header | None = None) -> int:
        header = header or Header("")
        row = _HeaderRow(QLineEdit(header.name), QLineEdit(header.value), QCheckBox())
        row.name.setPlaceholderText("X-Source")
        row.secret.setChecked(header.secret)
        row.secret.setToolTip("Keep the value apart, like a password: never exported or logged")
        self._rows.append(row)
        index = self._place([row.name, row.value, _centered(row.secret)])
        self._show_row(row)
        row.name.textChanged.connect(self._row_changed)
        row.value.textChanged.connect(self.changed)
        row.secret.toggled.connect(self._row_changed)
        return index

    def row_widgets(self, row: int) -> _HeaderRow:
        return self._rows[row]

    def set_headers(self, headers: tuple[Header, ...], stored_secrets: set[str]) -> None:
        """Show these headers; `stored_secrets` names the secret ones whose value is kept."""
        self.stored_secrets = set(stored_secrets)
        self._clear()
        for header in headers:
            self.add_header(header)

    def headers(self) -> tuple[Header, ...]:
        """The headers as the configuration holds them: secret ones without their value."""
        headers = []
        for row in self._rows:
            name, value, secret = row.name.text().strip(), row.value.text(), row.secret.isChecked()
            if name or value:
                headers.append(Header(name, "" if secret else value, secret))
        return tuple(headers)

    def typed_secrets(self) -> dict[str, str]:
        """The values typed for secret headers, by header name; empty ones keep what is kept."""
        return {
            row.name.text().strip(): row.value.text()
            for row in self._rows
            if row.secret.isChecked() and row.value.text()
        }

    @Slot()
    def _row_changed(self) -> None:
        for row in self._rows:
            self._show_row(row)
        self.changed.emit()

    def _show_row(self, row: _HeaderRow) -> None:
        secret = row.secret.isChecked()
        row.value.setEchoMode(QLineEdit.EchoMode.Password if secret else QLineEdit.EchoMode.Normal)
        if not secret:
            row.value.setPlaceholderText("web")
        elif row.name.text().strip() in self.stored_secrets:
            row.value.setPlaceholderText(KEPT_PLACEHOLDER)
        else:
            row.value.setPlaceholderText(SECRET_PLACEHOLDER)

    @Slot()
    def _add_clicked(self) -> None:
        self.table.selectRow(self.add_header())
        self._rows[-1].name.setFocus()
        self.changed.emit()


@dataclass
class _FieldRow:
    name: QLineEdit
    source: QComboBox
    value: QComboBox
    transform: QComboBox


class FieldsTable(_RowTable):
    """The advertiser's fields in request order, each with where its value comes from."""

    def __init__(self) -> None:
        super().__init__(("Advertiser field", "Takes", "Value", "Transform"), "Add field")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.up_button.clicked.connect(self.move_up)
        self.down_button.clicked.connect(self.move_down)
        self.buttons.insertWidget(2, self.up_button)
        self.buttons.insertWidget(3, self.down_button)
        header = self.table.horizontalHeader()
        for column, mode in enumerate(
            (
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.ResizeToContents,
            )
        ):
            header.setSectionResizeMode(column, mode)
        self._rows: list[_FieldRow] = []

    def add_rule(self, rule: FieldRule | None = None) -> int:
        rule = rule or FieldRule("")
        row = _FieldRow(QLineEdit(rule.name), QComboBox(), QComboBox(), QComboBox())
        row.name.setPlaceholderText("firstname")
        for kind, label in SOURCE_LABELS.items():
            row.source.addItem(label, kind.value)
        row.source.setCurrentIndex(row.source.findData(rule.source.value))
        row.value.setEditable(True)
        row.value.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for transform in Transform:
            row.transform.addItem(transform.label, transform.value)
        row.transform.setCurrentIndex(row.transform.findData(rule.transform.value))
        self._rows.append(row)
        index = self._place([row.name, row.source, row.value, row.transform])
        self._show_value(row, rule.value)
        row.name.textChanged.connect(self.changed)
        row.source.currentIndexChanged.connect(self._source_changed)
        row.value.currentTextChanged.connect(self.changed)
        row.transform.currentIndexChanged.connect(self.changed)
        return index

    def row_widgets(self, row: int) -> _FieldRow:
        return self._rows[row]

    def set_rules(self, rules: tuple[FieldRule, ...]) -> None:
        self._clear()
        for rule in rules:
            self.add_rule(rule)

    def rules(self) -> tuple[FieldRule, ...]:
        """The rows as field rules; a row left wholly empty is not one."""
        rules = []
        for row in self._rows:
            source = SourceKind(row.source.currentData())
            value = "" if source is SourceKind.PASSWORD else row.value.currentText().strip()
            name = row.name.text().strip()
            if name or value:
                transform = Transform(row.transform.currentData())
                rules.append(FieldRule(name, source, value, transform))
        return tuple(rules)

    @Slot()
    def move_up(self) -> None:
        self._move(-1)

    @Slot()
    def move_down(self) -> None:
        self._move(1)

    def _move(self, step: int) -> None:
        row = self.selected_row()
        target = row + step
        if row < 0 or not 0 <= target < len(self._rows):
            return
        every = [self._rule_of(each) for each in self._rows]
        every[row], every[target] = every[target], every[row]
        self._clear()
        for rule in every:
            self.add_rule(rule)
        self.table.selectRow(target)
        self.changed.emit()

    @staticmethod
    def _rule_of(row: _FieldRow) -> FieldRule:
        """A row as it stands, even half filled, so moving it loses nothing."""
        return FieldRule(
            row.name.text(),
            SourceKind(row.source.currentData()),
            row.value.currentText(),
            Transform(row.transform.currentData()),
        )

    @Slot()
    def _source_changed(self) -> None:
        for row in self._rows:
            wanted = SourceKind(row.source.currentData())
            if row.value.property("source") != wanted.value:
                self._show_value(row, row.value.currentText())
        self.changed.emit()

    @staticmethod
    def _show_value(row: _FieldRow, text: str) -> None:
        """A choice of lead fields for a lead field, free text else, nothing for a password."""
        source = SourceKind(row.source.currentData())
        row.value.setProperty("source", source.value)
        row.value.blockSignals(True)
        row.value.clear()
        if source is SourceKind.FIELD:
            row.value.addItems(LEAD_FIELDS)
        row.value.setEditText("" if source is SourceKind.PASSWORD else text)
        row.value.blockSignals(False)
        row.value.setEnabled(source is not SourceKind.PASSWORD)
        row.value.lineEdit().setPlaceholderText(VALUE_PLACEHOLDERS[source])

    @Slot()
    def _add_clicked(self) -> None:
        self.table.selectRow(self.add_rule())
        self._rows[-1].name.setFocus()
        self.changed.emit()
