"""The import dialog: how a lead file is read and mapped, then the import with its progress."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.import_progress import (
    bytes_per_row,
    duration_text,
    estimate_total_rows,
)
from leaddesk.core.lead_fields import CUSTOM, LEAD_FIELDS, SKIP, header_signature
from leaddesk.core.lead_import import Preview, ReadOptions, preview_file
from leaddesk.errors import LeadDeskError
from leaddesk.services import lead_lists
from leaddesk.storage.database import Database
from leaddesk.ui.import_preview import PreviewModel
from leaddesk.ui.import_runner import ImportRequest, ImportRunner

log = logging.getLogger(__name__)

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "email": "E-mail",
    "phone": "Phone",
    "country": "Country",
    "language": "Language",
    "ip": "IP address",
    "registered_at": "Registration date",
    "source": "Source",
    "sub_id1": "Sub ID 1",
    "sub_id2": "Sub ID 2",
    "sub_id3": "Sub ID 3",
    "password": "Password",
    CUSTOM: "Keep as custom field",
    SKIP: "Skip",
}
REQUIRABLE_FIELDS = ("email", "phone", "first_name", "last_name", "country")
ENCODINGS = (
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16 (Excel Unicode text)"),
    ("cp1252", "Windows-1252 (Western Europe)"),
    ("cp1250", "Windows-1250 (Central Europe)"),
    ("cp1251", "Windows-1251 (Cyrillic)"),
    ("iso-8859-1", "ISO-8859-1 (Latin-1)"),
    ("iso-8859-15", "ISO-8859-15 (Latin-9)"),
    ("iso-8859-2", "ISO-8859-2 (Latin-2)"),
    ("koi8-r", "KOI8-R (Russian)"),
    ("mac_roman", "Mac Roman"),
    ("cp437", "DOS (code page 437)"),
    ("shift_jis", "Shift JIS (Japanese)"),
    ("gb18030", "GB18030 (Chinese)"),
    ("big5", "Big5 (Traditional Chinese)"),
)
DELIMITERS = ((",", "Comma  ,"), (";", "Semicolon  ;"), ("\t", "Tab"), ("|", "Pipe  |"))
TEXT_KIND = "csv"
MAX_HEADER_ROW = 1_000
SAMPLE_VALUE_CHARS = 40
PERCENT_SCALE = 1_000
DIALOG_WIDTH = 980
DIALOG_HEIGHT = 760
ERROR_STYLE = "color: #b00020;"


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def mapping_choices() -> list[tuple[str, str]]:
    """Each lead field in words, then keeping the column as a custom field, then skipping it."""
    return [(name, field_label(name)) for name in LEAD_FIELDS] + [
        (CUSTOM, FIELD_LABELS[CUSTOM]),
        (SKIP, FIELD_LABELS[SKIP]),
    ]


def progress_text(rows: int, rows_per_s: float, seconds_left: float) -> str:
    return (
        f"{rows:,} rows read · {rows_per_s:,.0f} rows per second · "
        f"time left: {duration_text(seconds_left)}"
    )


def free_title(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted (2)`, `wanted (3)`… — the first not among the taken titles."""
    title, copy = wanted, 1
    while title in taken:
        copy += 1
        title = f"{wanted} ({copy})"
    return title


def _first_value(rows: list[list[str]], column: int) -> str:
    value = next((row[column] for row in rows if column < len(row) and row[column].strip()), "")
    if len(value) > SAMPLE_VALUE_CHARS:
        value = value[: SAMPLE_VALUE_CHARS - 1] + "…"
    return value


class ImportWizard(QDialog):
    """Shows how a file will be read and mapped, imports it off the GUI thread, and reports.

    Emits `imported(list_id)` once the new list is stored, then closes as accepted.
    """

    imported = Signal(int)

    def __init__(
        self,
        database: Database,
        path: str | Path,
        parent: QWidget | None = None,
        *,
        title: str | None = None,
        manager_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._path = Path(path)
        self._manager_name = manager_name
        self._preview: Preview | None = None
        # What the manager chose in this dialog: read settings, and fields of headers.
        self._chosen: dict[str, object] = {}
        self._chosen_fields: dict[str, str] = {}
        self._mapping: dict[str, str] = {}
        self._mapping_combos: list[QComboBox] = []
        self._remembered = False
        self.list_id: int | None = None
        self.summary: object = None
        self.runner = ImportRunner(database, self)

        self.setWindowTitle(f"Import {self._path.name}")
        self._build(title if title is not None else self._default_title())
        self._connect()
        self.resize(DIALOG_WIDTH, DIALOG_HEIGHT)
        self.reread()

    # Building ----------------------------------------------------------------------------

    def _build(self, title: str) -> None:
        self.file_label = QLabel(str(self._path))
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(self._build_reading())
        columns = QHBoxLayout()
        columns.addWidget(self._build_mapping(), 2)
        columns.addWidget(self._build_list(title), 1)
        layout.addLayout(columns, 1)
        layout.addWidget(self._build_preview(), 1)
        layout.addWidget(self._build_progress())
        layout.addWidget(self.error_label)
        layout.addWidget(self._build_buttons())

    def _build_reading(self) -> QGroupBox:
        self.encoding_combo = QComboBox()
        for codec, label in ENCODINGS:
            self.encoding_combo.addItem(label, codec)
        self.delimiter_combo = QComboBox()
        for delimiter, label in DELIMITERS:
            self.delimiter_combo.addItem(label, delimiter)
        self.header_row_spin = QSpinBox()
        self.header_row_spin.setRange(1, MAX_HEADER_ROW)
        self.header_row_spin.setToolTip("The row of the file that holds the column names.")
        self.sheet_combo = QComboBox()
        self.sheet_label = QLabel("Sheet:")

        box = QGroupBox("How the file is read")
        row = QHBoxLayout(box)
        for label, widget in (
            (QLabel("Encoding:"), self.encoding_combo),
            (QLabel("Delimiter:"), self.delimiter_combo),
            (QLabel("Header row:"), self.header_row_spin),
            (self.sheet_label, self.sheet_combo),
        ):
            row.addWidget(label)
            row.addWidget(widget)
            row.addSpacing(12)
        row.addStretch(1)
        return box

    def _build_mapping(self) -> QGroupBox:
        self.mapping_note = QLabel()
        self.mapping_grid = QGridLayout()
        self.mapping_grid.setColumnStretch(1, 1)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addLayout(self.mapping_grid)
        inner_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)

        box = QGroupBox("Columns")
        layout = QVBoxLayout(box)
        layout.addWidget(self.mapping_note)
        layout.addWidget(scroll, 1)
        return box

    def _build_list(self, title: str) -> QGroupBox:
        self.title_edit = QLineEdit(title)
        self.country_edit = QLineEdit()
        self.country_edit.setMaxLength(2)
        self.country_edit.setPlaceholderText("e.g. US (optional)")
        self.required_boxes = {name: QCheckBox(field_label(name)) for name in REQUIRABLE_FIELDS}

        box = QGroupBox("New list")
        form = QFormLayout(box)
        form.addRow("List title:", self.title_edit)
        form.addRow("Country of phones\nwithout one:", self.country_edit)
        required = QVBoxLayout()
        for check in self.required_boxes.values():
            required.addWidget(check)
        note = QLabel("Every lead needs a valid e-mail or phone.")
        note.setWordWrap(True)
        required.addWidget(note)
        form.addRow("Required:", required)
        return box

    def _build_preview(self) -> QGroupBox:
        self.preview_model = PreviewModel(self)
        self.preview_table = QTableView()
        self.preview_table.setModel(self.preview_model)
        self.preview_table.setWordWrap(False)
        self.preview_table.setAlternatingRowColors(True)
        self.preview_table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.preview_table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        box = QGroupBox("First rows")
        layout = QVBoxLayout(box)
        layout.addWidget(self.preview_table)
        return box

    def _build_progress(self) -> QWidget:
        self.progress_bar = QProgressBar()
        self.progress_label = QLabel()
        self.cancel_import_button = QPushButton("Cancel import")
        self.progress_panel = QWidget()
        layout = QVBoxLayout(self.progress_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_import_button)
        layout.addLayout(row)
        layout.addWidget(self.progress_label)
        self.progress_panel.hide()
        return self.progress_panel

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setDefault(True)
        return self.buttons

    def _connect(self) -> None:
        self.encoding_combo.activated.connect(self._on_encoding_chosen)
        self.delimiter_combo.activated.connect(self._on_delimiter_chosen)
        self.header_row_spin.valueChanged.connect(self._on_header_row_chosen)
        self.sheet_combo.activated.connect(self._on_sheet_chosen)
        self.title_edit.textChanged.connect(self._update_import_button)
        self.import_button.clicked.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)
        self.cancel_import_button.clicked.connect(self.cancel_import)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)

    def _default_title(self) -> str:
        with self._database.session() as session:
            taken = {summary.title for summary in lead_lists.list_summaries(session)}
        return free_title(self._path.stem, taken)

    # Reading the file --------------------------------------------------------------------

    def read_options(self, with_list_settings: bool = False) -> ReadOptions:
        """How the file is to be read: what was detected, overridden by what was chosen."""
        chosen = self._chosen
        options = ReadOptions(
            encoding=chosen.get("encoding"),  # type: ignore[arg-type]
            delimiter=chosen.get("delimiter"),  # type: ignore[arg-type]
            header_row=chosen.get("header_row"),  # type: ignore[arg-type]
            sheet=chosen.get("sheet"),  # type: ignore[arg-type]
        )
        if not with_list_settings:
            return options
        required = frozenset(
            name for name, check in self.required_boxes.items() if check.isChecked()
        )
        return ReadOptions(
            encoding=options.encoding,
            delimiter=options.delimiter,
            header_row=options.header_row,
            sheet=options.sheet,
            mapping=dict(self._mapping),
            default_country=self.country_edit.text().strip().upper() or None,
            required=required,
        )

    @Slot()
    def reread(self) -> None:
        """Read the file's first rows again with the settings chosen so far."""
        try:
            preview = preview_file(self._path, self.read_options())
        except LeadDeskError as error:
            self._show_error(str(error))
            self._preview = None
            self.preview_model.set_preview([], [], [])
            self._set_mapping_rows([], [])
            self._update_import_button()
            return
        self._show_error("")
        self._preview = preview
        self._show_read_settings(preview)
        self._mapping = self._mapping_for(preview)
        self._set_mapping_rows(preview.headers, preview.rows)
        self.preview_model.set_preview(preview.headers, preview.rows, self._field_labels())
        self.preview_table.resizeColumnsToContents()
        self.notes_label.setText(" ".join(preview.notes))
        self.notes_label.setVisible(bool(preview.notes))
        self._update_import_button()

    def _mapping_for(self, preview: Preview) -> dict[str, str]:
        """Detected fields, then the last mapping used for this header, then choices made here."""
        mapping = {header: preview.mapping.get(header, CUSTOM) for header in preview.headers}
        remembered = self._remembered_mapping(preview.headers)
        self._remembered = bool(remembered)
        if remembered:
            mapping.update({h: f for h, f in remembered.items() if h in mapping})
        mapping.update({h: f for h, f in self._chosen_fields.items() if h in mapping})
        return mapping

    def _remembered_mapping(self, headers: list[str]) -> dict[str, str] | None:
        if not headers:
            return None
        with self._database.session() as session:
            return lead_lists.remembered_mapping(session, header_signature(headers))

    def _show_read_settings(self, preview: Preview) -> None:
        for widget in (
            self.encoding_combo,
            self.delimiter_combo,
            self.header_row_spin,
            self.sheet_combo,
        ):
            widget.blockSignals(True)
        try:
            _select_data(self.encoding_combo, preview.encoding or "utf-8")
            _select_data(self.delimiter_combo, preview.delimiter or ",")
            self.header_row_spin.setValue(preview.header_row)
            self.sheet_combo.clear()
            for sheet in preview.sheets or []:
                self.sheet_combo.addItem(sheet, sheet)
            if preview.sheets:
                _select_data(self.sheet_combo, self._chosen.get("sheet") or preview.sheets[0])
        finally:
            for widget in (
                self.encoding_combo,
                self.delimiter_combo,
                self.header_row_spin,
                self.sheet_combo,
            ):
                widget.blockSignals(False)
        is_text = preview.kind == TEXT_KIND
        self.encoding_combo.setEnabled(is_text)
        self.delimiter_combo.setEnabled(is_text)
        self.sheet_label.setVisible(not is_text)
        self.sheet_combo.setVisible(not is_text)

    def _set_mapping_rows(self, headers: list[str], rows: list[list[str]]) -> None:
        while self.mapping_grid.count():
            item = self.mapping_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._mapping_combos = []
        if not headers:
            self.mapping_note.setText("")
            return
        for column, text in enumerate(("Column in the file", "First value", "Import as")):
            label = QLabel(f"<b>{text}</b>")
            self.mapping_grid.addWidget(label, 0, column)
        choices = mapping_choices()
        for index, header in enumerate(headers):
            combo = QComboBox()
            for value, label in choices:
                combo.addItem(label, value)
            _select_data(combo, self._mapping.get(header, CUSTOM))
            combo.setProperty("column", index)
            combo.activated.connect(self._on_field_chosen)
            self._mapping_combos.append(combo)
            sample = QLabel(_first_value(rows, index))
            sample.setEnabled(False)
            self.mapping_grid.addWidget(QLabel(header or f"(column {index + 1})"), index + 1, 0)
            self.mapping_grid.addWidget(sample, index + 1, 1)
            self.mapping_grid.addWidget(combo, index + 1, 2)
        self.mapping_note.setText(
            "The columns are mapped as for the last file with the same header."
            if self._remembered
            else "Choose what each column of the file holds."
        )

    def _field_labels(self) -> list[str]:
        headers = self._preview.headers if self._preview else []
        return [field_label(self._mapping.get(header, CUSTOM)) for header in headers]

    # The manager's choices ---------------------------------------------------------------

    def set_encoding(self, encoding: str) -> None:
        self._chosen["encoding"] = encoding
        self.reread()

    def set_delimiter(self, delimiter: str) -> None:
        self._chosen["delimiter"] = delimiter
        self.reread()

    def set_header_row(self, row: int) -> None:
        self._chosen["header_row"] = row
        self.reread()

    def set_sheet(self, sheet: str) -> None:
        self._chosen["sheet"] = sheet
        self.reread()

    def set_field(self, header: str, field: str) -> None:
        """Import the column `header` as `field` (a lead field, CUSTOM or SKIP)."""
        self._chosen_fields[header] = field
        self._mapping[header] = field
        headers = self._preview.headers if self._preview else []
        if header in headers:
            combo = self._mapping_combos[headers.index(header)]
            if combo.currentData() != field:
                _select_data(combo, field)
        self.preview_model.set_field_labels(self._field_labels())
        self.preview_table.resizeColumnsToContents()

    def mapping(self) -> dict[str, str]:
        return dict(self._mapping)

    def preview(self) -> Preview | None:
        return self._preview

    @Slot(int)
    def _on_encoding_chosen(self, index: int) -> None:
        self.set_encoding(self.encoding_combo.itemData(index))

    @Slot(int)
    def _on_delimiter_chosen(self, index: int) -> None:
        self.set_delimiter(self.delimiter_combo.itemData(index))

    @Slot(int)
    def _on_header_row_chosen(self, row: int) -> None:
        self.set_header_row(row)

    @Slot(int)
    def _on_sheet_chosen(self, index: int) -> None:
        self.set_sheet(self.sheet_combo.itemData(index))

    @Slot(int)
    def _on_field_chosen(self, index: int) -> None:
        combo = self.sender()
        if not isinstance(combo, QComboBox) or self._preview is None:
            return
        column = int(combo.property("column"))
        self.set_field(self._preview.headers[column], combo.itemData(index))

    # Importing ---------------------------------------------------------------------------

    def title(self) -> str:
        return self.title_edit.text().strip()

    @Slot()
    def start_import(self) -> None:
        """Start importing off the GUI thread; the settings stay locked until it ends."""
        preview = self._preview
        if preview is None or not self.title() or self.runner.is_running():
            return
        request = ImportRequest(
            path=self._path,
            title=self.title(),
            options=self.read_options(with_list_settings=True),
            manager_name=self._manager_name,
            estimated_rows=self._estimated_rows(preview),
        )
        self._show_error("")
        self._set_running(True, request.estimated_rows)
        self.runner.start(request)

    def _estimated_rows(self, preview: Preview) -> int | None:
        if preview.kind != TEXT_KIND:
            return None
        try:
            size = self._path.stat().st_size
        except OSError:
            return None
        return estimate_total_rows(
            size, bytes_per_row(preview.rows, preview.delimiter, preview.encoding)
        )

    @Slot()
    def cancel_import(self) -> None:
        if self.runner.is_running():
            self.cancel_import_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")
            self.runner.cancel()

    def is_importing(self) -> bool:
        return self.runner.is_running()

    def _set_running(self, running: bool, estimated_rows: int | None = None) -> None:
        for widget in self._settings_widgets():
            widget.setEnabled(not running)
        self.import_button.setEnabled(not running)
        self.cancel_import_button.setEnabled(running)
        self.progress_panel.setVisible(running)
        if running:
            # The bar counts thousandths of the estimate; without one it only shows activity.
            self.progress_bar.setRange(0, PERCENT_SCALE if estimated_rows else 0)
            self.progress_bar.setValue(0)
            self.progress_label.setText("Starting…")
            self._estimated_total = estimated_rows
        else:
            self._update_import_button()
            if self._preview is not None:
                self._show_read_settings(self._preview)

    def _settings_widgets(self) -> list[QWidget]:
        return [
            self.encoding_combo,
            self.delimiter_combo,
            self.header_row_spin,
            self.sheet_combo,
            self.title_edit,
            self.country_edit,
            *self.required_boxes.values(),
            *self._mapping_combos,
        ]

    @Slot(int, float, float)
    def _on_progress(self, rows: int, rows_per_s: float, seconds_left: float) -> None:
        self.progress_label.setText(progress_text(rows, rows_per_s, seconds_left))
        total = self._estimated_total
        if total:
            done = rows / (rows + seconds_left * rows_per_s) if seconds_left >= 0 else 0
            self.progress_bar.setValue(min(PERCENT_SCALE, int(done * PERCENT_SCALE)))

    @Slot(int, object)
    def _on_finished(self, list_id: int, summary: object) -> None:
        self.list_id = list_id
        self.summary = summary
        self.progress_bar.setRange(0, PERCENT_SCALE)
        self.progress_bar.setValue(PERCENT_SCALE)
        log.info("Lead list %s imported from the import dialog", list_id)
        # Closed first, so that what the list shows next is not under this dialog.
        self.accept()
        self.imported.emit(list_id)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self._show_error(f"Nothing was imported: {message}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._set_running(False)
        self._show_error("The import was cancelled; no list was made.")

    @Slot()
    def _update_import_button(self) -> None:
        ready = self._preview is not None and bool(self.title())
        self.import_button.setEnabled(ready and not self.runner.is_running())

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # Closing -----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Closing while importing cancels the import and waits for its thread first."""
        if self.runner.is_running():
            self.runner.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.shutdown()
        super().closeEvent(event)


def _select_data(combo: QComboBox, value: object) -> None:
    """Select the item holding `value`, adding it (as itself) when the list lacks it."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(str(value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
