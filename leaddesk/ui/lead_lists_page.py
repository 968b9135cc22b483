"""The Lead lists page: the imported lists, importing a file, and each list's refused rows."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.clock import to_local
from leaddesk.core.lead_import import ImportResult
from leaddesk.errors import LeadDeskError
from leaddesk.services import lead_lists
from leaddesk.services.lead_lists import ListSummary
from leaddesk.storage.database import Database
from leaddesk.ui.simple_table import (
    PlainRow,
    PlainTableModel,
    make_table_view,
    select_id,
    selected_id,
)

log = logging.getLogger(__name__)

LIST_HEADERS = (
    "Title",
    "Leads",
    "Refused",
    "Rows read",
    "Created by",
    "Created at",
    "Used in",
    "Source file",
)
LIST_NUMERIC_COLUMNS = (1, 2, 3, 6)
REFUSED_HEADERS = ("Row", "Reason", "Values in the row")
FILE_FILTER = "Lead files (*.csv *.tsv *.txt);;All files (*)"
TIME_FORMAT = "%Y-%m-%d %H:%M"


def unique_title(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted (2)`, `wanted (3)`… — the first not among the taken titles."""
    title, copy = wanted, 1
    while title in taken:
        copy += 1
        title = f"{wanted} ({copy})"
    return title


def list_row(summary: ListSummary) -> PlainRow:
    uses = summary.distribution_count
    created_at = summary.created_at
    return PlainRow(
        summary.id,
        (
            summary.title,
            str(summary.lead_count),
            str(summary.refused_count),
            str(summary.rows_read),
            summary.created_by,
            to_local(created_at).strftime(TIME_FORMAT) if created_at else "",
            f"{uses} distribution{'' if uses == 1 else 's'}",
            summary.source_file,
        ),
    )


def _values_text(raw: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in raw.items() if value)


class ImportDialog(QDialog):
    """Asks the title of a new list and the country of phones written without one."""

    def __init__(self, file_name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import lead list")
        self.title_edit = QLineEdit(title)
        self.country_edit = QLineEdit()
        self.country_edit.setMaxLength(2)
        self.country_edit.setPlaceholderText("e.g. US (optional)")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title_edit.textChanged.connect(self._update_ok)

        form = QFormLayout()
        form.addRow("File:", QLabel(file_name))
        form.addRow("List title:", self.title_edit)
        form.addRow("Country of phones without one:", self.country_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def title(self) -> str:
        return self.title_edit.text().strip()

    def country(self) -> str | None:
        return self.country_edit.text().strip().upper() or None

    @Slot()
    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.title()))


class RefusedRowsDialog(QDialog):
    """What an import left out: a summary line and the refused rows with their reasons."""

    def __init__(
        self,
        title: str,
        summary: str,
        rows: list[PlainRow],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Lead list “{title}”")
        self.summary_label = QLabel(summary)
        self.model = PlainTableModel(REFUSED_HEADERS, numeric_columns=(0,), parent=self)
        self.model.set_rows(rows)
        self.table = make_table_view(self.model)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        self.table.setVisible(bool(rows))
        layout.addWidget(buttons)
        self.resize(760, 420 if rows else 120)


def import_summary(lead_count: int, refused_count: int) -> str:
    leads = f"{lead_count} lead{'' if lead_count == 1 else 's'} imported"
    refused = f"{refused_count} row{'' if refused_count == 1 else 's'} refused"
    return f"{leads}, {refused}."


class LeadListsPage(QWidget):
    """The imported lead lists, with buttons to import a file and to see refused rows."""

    lists_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._summaries: dict[int, ListSummary] = {}
        self.model = PlainTableModel(LIST_HEADERS, LIST_NUMERIC_COLUMNS, parent=self)
        self.table = make_table_view(self.model)
        self.import_button = QPushButton("Import CSV…")
        self.refused_button = QPushButton("Refused rows…")
        self.refused_button.setEnabled(False)
        self.empty_label = QLabel("No lead lists yet. Import a CSV file to make the first one.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.import_button.clicked.connect(self.choose_and_import)
        self.refused_button.clicked.connect(self.show_refused_of_selected)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.show_refused_of_selected)

        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.refused_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Read the lists again, keeping the selected one selected."""
        selected = selected_id(self.table)
        with self._database.session() as session:
            summaries = lead_lists.list_summaries(session)
        self._summaries = {summary.id: summary for summary in summaries}
        self.model.set_rows([list_row(summary) for summary in summaries])
        select_id(self.table, selected)
        self.empty_label.setVisible(not summaries)
        self._update_buttons()

    def selected_list_id(self) -> int | None:
        return selected_id(self.table)

    # Importing ---------------------------------------------------------------------------

    @Slot()
    def choose_and_import(self) -> None:
        """Ask for a file, a title and a country; import; show what was refused."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import lead list", str(Path.home()), FILE_FILTER
        )
        if not path:
            return
        dialog = ImportDialog(Path(path).name, self.default_title(Path(path)), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        result = self.import_path(Path(path), dialog.title(), dialog.country())
        if result is not None:
            self.result_dialog(dialog.title(), result).open()

    def default_title(self, path: Path) -> str:
        self.refresh()
        taken = {summary.title for summary in self._summaries.values()}
        return unique_title(path.stem, taken)

    def import_path(self, path: Path, title: str, country: str | None) -> ImportResult | None:
        """Import a file as a new list; on an expected failure, warn and return None."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            with self._database.writer() as session:
                lead_list, result = lead_lists.import_file(
                    session, path, title, default_country=country
                )
                session.commit()
                new_id = lead_list.id
        except LeadDeskError as error:
            QGuiApplication.restoreOverrideCursor()
            QMessageBox.warning(self, "Cannot import the file", str(error))
            return None
        QGuiApplication.restoreOverrideCursor()
        self.refresh()
        select_id(self.table, new_id)
        self.lists_changed.emit()
        return result

    def result_dialog(self, title: str, result: ImportResult) -> RefusedRowsDialog:
        rows = [
            PlainRow(index, (str(row.row_number), row.reason, _values_text(row.raw)))
            for index, row in enumerate(result.refused)
        ]
        summary = import_summary(len(result.leads), len(result.refused))
        return RefusedRowsDialog(title, summary, rows, self)

    # Refused rows of a stored list -------------------------------------------------------

    @Slot()
    def show_refused_of_selected(self) -> None:
        list_id = self.selected_list_id()
        if list_id is not None:
            self.refused_dialog(list_id).open()

    def refused_dialog(self, lead_list_id: int) -> RefusedRowsDialog:
        with self._database.session() as session:
            refused = lead_lists.refused_rows(session, lead_list_id)
            rows = [
                PlainRow(row.id, (str(row.row_number), row.reason, _values_text(row.raw or {})))
                for row in refused
            ]
        summary = self._summaries.get(lead_list_id)
        title = summary.title if summary else str(lead_list_id)
        lead_count = summary.lead_count if summary else 0
        return RefusedRowsDialog(title, import_summary(lead_count, len(rows)), rows, self)

    @Slot()
    def _update_buttons(self) -> None:
        self.refused_button.setEnabled(self.selected_list_id() is not None)
