"""The Lead lists page: the lists, importing a file, lists built from stored leads, exports."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.clock import to_local
from leaddesk.core.lead_filter import LastOutcome, LeadFilter, SplitMode
from leaddesk.core.lead_import import ImportResult
from leaddesk.errors import LeadDeskError
from leaddesk.services import lead_lists, list_builder, list_export
from leaddesk.services.directory import all_of
from leaddesk.services.lead_lists import ListSummary, Overlap
from leaddesk.storage.database import Database
from leaddesk.storage.models import Offer
from leaddesk.ui.import_wizard import ImportWizard
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
    "Valid",
    "Refused",
    "Duplicates",
    "Created by",
    "Created at",
    "Used in",
    "Source",
)
LIST_NUMERIC_COLUMNS = (1, 2, 3, 4)
REFUSED_HEADERS = ("Row", "Reason", "Values in the row")
FILE_FILTER = "Lead files (*.csv *.tsv *.txt *.xlsx *.xls *.ods);;All files (*)"
IMPORT_RESULT_NAME = "import-result"
EXPORT_FILTER = "CSV file (*.csv);;Excel workbook (*.xlsx)"
TIME_FORMAT = "%Y-%m-%d %H:%M"
ARCHIVED_MARK = " (archived)"
OVERLAPS_SHOWN = 5
MAX_SPLIT_PARTS = list_builder.MAX_PARTS
ANY = "Any"


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
            summary.title + (ARCHIVED_MARK if summary.archived else ""),
            str(summary.rows_read),
            str(summary.lead_count),
            str(summary.refused_count),
            str(summary.duplicate_count),
            summary.created_by,
            to_local(created_at).strftime(TIME_FORMAT) if created_at else "",
            f"{uses} distribution{'' if uses == 1 else 's'}",
            summary.source_file,
        ),
    )


def overlap_text(overlaps: list[Overlap]) -> str:
    """`Already in other lists: 40 in “Spring”, 3 in “Autumn”.` or that none are."""
    if not overlaps:
        return "None of these leads is in another list."
    shown = [
        f"{overlap.shared} in “{overlap.title}”{ARCHIVED_MARK if overlap.archived else ''}"
        for overlap in overlaps[:OVERLAPS_SHOWN]
    ]
    more = len(overlaps) - OVERLAPS_SHOWN
    if more > 0:
        shown.append(f"{more} more list{'' if more == 1 else 's'}")
    return "Already in other lists (by e-mail or phone): " + ", ".join(shown) + "."


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
        overlaps: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Lead list “{title}”")
        self.summary_label = QLabel(summary)
        self.overlap_label = QLabel(overlaps)
        self.overlap_label.setWordWrap(True)
        self.overlap_label.setVisible(bool(overlaps))
        self.model = PlainTableModel(REFUSED_HEADERS, numeric_columns=(0,), parent=self)
        self.model.set_rows(rows)
        self.table = make_table_view(self.model)
        self.export_button = QPushButton("Export refused rows…")
        self.reimport_button = QPushButton("Import fixed file…")
        self.export_button.setToolTip(
            "Save these rows with their reasons, to fix them in a spreadsheet."
        )
        self.reimport_button.setToolTip(
            "Import the fixed rows into this list; they replace the rows refused before."
        )
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.reimport_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setEnabled(bool(rows))
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.overlap_label)
        layout.addWidget(self.table, 1)
        self.table.setVisible(bool(rows))
        layout.addWidget(self.buttons)
        self.resize(760, 420 if rows else 140)


def import_summary(lead_count: int, refused_count: int) -> str:
    leads = f"{lead_count} lead{'' if lead_count == 1 else 's'} imported"
    refused = f"{refused_count} row{'' if refused_count == 1 else 's'} refused"
    return f"{leads}, {refused}."


class BuildListDialog(QDialog):
    """Asks for a title and the conditions on stored leads a new list is built from."""

    def __init__(
        self,
        lists: list[ListSummary],
        offers: list[tuple[int, str]],
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New list from stored leads")
        self.title_edit = QLineEdit(title)
        self.title_edit.setMaxLength(200)
        self.lists_box = QListWidget()
        self.lists_box.setToolTip("Tick no list to look in every list that is not archived.")
        for summary in lists:
            mark = ARCHIVED_MARK if summary.archived else ""
            item = QListWidgetItem(f"{summary.title} ({summary.lead_count}){mark}")
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.lists_box.addItem(item)
        self.lists_box.setMaximumHeight(120)
        self.country_edit = QLineEdit()
        self.country_edit.setMaxLength(2)
        self.country_edit.setPlaceholderText("e.g. DE")
        self.language_edit = QLineEdit()
        self.language_edit.setMaxLength(8)
        self.language_edit.setPlaceholderText("e.g. de")
        self.from_check, self.from_edit = _optional_date()
        self.to_check, self.to_edit = _optional_date()
        self.field_edit = QLineEdit()
        self.field_edit.setPlaceholderText("e.g. source")
        self.field_edit.setToolTip("A column of the lead file kept beside the lead fields.")
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("value")
        self.never_sent_combo = QComboBox()
        self.never_sent_combo.addItem(ANY, None)
        self.outcome_combo = QComboBox()
        self.outcome_combo.addItem(ANY, None)
        for outcome in LastOutcome:
            self.outcome_combo.addItem(outcome.label, outcome.value)
        for offer_id, name in offers:
            self.never_sent_combo.addItem(name, offer_id)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Build list")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title_edit.textChanged.connect(self._update_ok)

        form = QFormLayout()
        form.addRow("List title:", self.title_edit)
        form.addRow("From lists:", self.lists_box)
        form.addRow("Country:", self.country_edit)
        form.addRow("Language:", self.language_edit)
        form.addRow("Imported from:", _row(self.from_check, self.from_edit))
        form.addRow("Imported until:", _row(self.to_check, self.to_edit))
        form.addRow("Custom field:", _row(self.field_edit, QLabel("="), self.value_edit))
        form.addRow("Never sent to offer:", self.never_sent_combo)
        form.addRow("Last outcome:", self.outcome_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        note = QLabel(
            "Each person (e-mail or phone) is taken once; the source lists stay as they are."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def title(self) -> str:
        return self.title_edit.text().strip()

    def lead_filter(self) -> LeadFilter:
        checked = [
            self.lists_box.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.lists_box.count())
            if self.lists_box.item(row).checkState() == Qt.CheckState.Checked
        ]
        outcome = self.outcome_combo.currentData()
        return LeadFilter(
            country=self.country_edit.text().strip(),
            language=self.language_edit.text().strip(),
            lead_list_ids=tuple(checked),
            imported_from=_date_of(self.from_check, self.from_edit),
            imported_to=_date_of(self.to_check, self.to_edit),
            custom_field=self.field_edit.text().strip(),
            custom_value=self.value_edit.text(),
            never_sent_to_offer_id=self.never_sent_combo.currentData(),
            last_outcome=LastOutcome(outcome) if outcome else None,
        )

    @Slot()
    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.title()))


class SplitDialog(QDialog):
    """Asks into how many parts to split a list, and how to deal its leads."""

    def __init__(self, title: str, lead_count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Split “{title}”")
        self.parts_spin = QSpinBox()
        self.parts_spin.setRange(2, max(2, min(MAX_SPLIT_PARTS, lead_count)))
        self.round_robin = QRadioButton("Round-robin: lead 1 to part 1, lead 2 to part 2, …")
        self.consecutive = QRadioButton(
            "Consecutive: the first leads to part 1, the next to part 2, …"
        )
        self.round_robin.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Split")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(f"Parts (of {lead_count} leads):", self.parts_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.round_robin)
        layout.addWidget(self.consecutive)
        layout.addWidget(QLabel("The list itself stays as it is; each part is a new list."))
        layout.addWidget(buttons)

    def mode(self) -> SplitMode:
        return SplitMode.ROUND_ROBIN if self.round_robin.isChecked() else SplitMode.CONSECUTIVE


class MergeDialog(QDialog):
    """Asks which lists to merge into a new one, and its title."""

    def __init__(
        self, lists: list[ListSummary], title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Merge lead lists")
        self.title_edit = QLineEdit(title)
        self.lists_box = QListWidget()
        for summary in lists:
            item = QListWidgetItem(f"{summary.title} ({summary.lead_count})")
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.lists_box.addItem(item)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Merge")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("New list title:", self.title_edit)
        form.addRow("Lists to merge:", self.lists_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Each person (e-mail or phone) is taken once."))
        layout.addWidget(buttons)

    def title(self) -> str:
        return self.title_edit.text().strip()

    def list_ids(self) -> list[int]:
        return [
            self.lists_box.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.lists_box.count())
            if self.lists_box.item(row).checkState() == Qt.CheckState.Checked
        ]


def _optional_date() -> tuple[QCheckBox, QDateEdit]:
    check = QCheckBox()
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setEnabled(False)
    check.toggled.connect(edit.setEnabled)
    return check, edit


def _date_of(check: QCheckBox, edit: QDateEdit):
    return edit.date().toPython() if check.isChecked() else None


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    line = QHBoxLayout(box)
    line.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        line.addWidget(widget, 0 if isinstance(widget, (QCheckBox, QLabel)) else 1)
    return box


class LeadListsPage(QWidget):
    """The lead lists, with buttons to import, build, split, merge, rename, archive, export."""

    lists_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._summaries: dict[int, ListSummary] = {}
        # What the page last told about a list it made, as shown in the message box.
        self.last_message = ""
        self.model = PlainTableModel(LIST_HEADERS, LIST_NUMERIC_COLUMNS, parent=self)
        self.table = make_table_view(self.model)
        self.import_button = QPushButton("Import file…")
        self.build_button = QPushButton("New list from leads…")
        self.merge_button = QPushButton("Merge…")
        self.split_button = QPushButton("Split…")
        self.rename_button = QPushButton("Rename…")
        self.archive_button = QPushButton("Archive")
        self.export_button = QPushButton("Export…")
        self.refused_button = QPushButton("Refused rows…")
        self.show_archived = QCheckBox("Show archived")
        self.empty_label = QLabel("No lead lists yet. Import a CSV file to make the first one.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._row_buttons = (
            self.split_button,
            self.rename_button,
            self.archive_button,
            self.export_button,
            self.refused_button,
        )

        self.import_button.clicked.connect(self.choose_and_import)
        self.build_button.clicked.connect(self.ask_and_build)
        self.merge_button.clicked.connect(self.ask_and_merge)
        self.split_button.clicked.connect(self.ask_and_split)
        self.rename_button.clicked.connect(self.ask_and_rename)
        self.archive_button.clicked.connect(self.toggle_archived)
        self.export_button.clicked.connect(self.ask_and_export)
        self.refused_button.clicked.connect(self.show_refused_of_selected)
        self.show_archived.toggled.connect(self.refresh)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.show_refused_of_selected)

        buttons = QHBoxLayout()
        for button in (self.import_button, self.build_button, self.merge_button):
            buttons.addWidget(button)
        buttons.addSpacing(16)
        for button in self._row_buttons:
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.show_archived)
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
            summaries = lead_lists.list_summaries(
                session, include_archived=self.show_archived.isChecked()
            )
        self._summaries = {summary.id: summary for summary in summaries}
        self.model.set_rows([list_row(summary) for summary in summaries])
        select_id(self.table, selected)
        self.empty_label.setVisible(not summaries)
        self._update_buttons()

    def selected_list_id(self) -> int | None:
        return selected_id(self.table)

    def _changed(self, select: int | None = None) -> None:
        self.refresh()
        select_id(self.table, select)
        self.lists_changed.emit()

    def _tell(self, title: str, text: str) -> None:
        """Say what was done, in a message that does not hold up the window."""
        self.last_message = text
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _warn(self, title: str, error: LeadDeskError) -> None:
        QMessageBox.warning(self, title, str(error))

    # Importing ---------------------------------------------------------------------------

    @Slot()
    def choose_and_import(self) -> None:
        """Ask for a file, then open the import dialog on it."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import lead list", str(Path.home()), FILE_FILTER
        )
        if path:
            self.open_import_wizard(Path(path))

    def open_import_wizard(self, path: Path) -> ImportWizard:
        """The import dialog on a file; once the list is in, it is shown with what was refused."""
        wizard = ImportWizard(self._database, path, self, title=self.default_title(path))
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.imported.connect(self._on_imported)
        wizard.open()
        return wizard

    @Slot(int)
    def _on_imported(self, list_id: int) -> None:
        self._changed(list_id)
        dialog = self.refused_dialog(list_id)
        dialog.setObjectName(IMPORT_RESULT_NAME)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def default_title(self, path: Path) -> str:
        return unique_title(path.stem, self._all_titles())

    def _all_titles(self) -> set[str]:
        with self._database.session() as session:
            return {s.title for s in lead_lists.list_summaries(session, include_archived=True)}

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
            self._warn("Cannot import the file", error)
            return None
        QGuiApplication.restoreOverrideCursor()
        self._changed(new_id)
        return result

    def result_dialog(self, title: str, result: ImportResult) -> RefusedRowsDialog:
        rows = [
            PlainRow(index, (str(row.row_number), row.reason, _values_text(row.raw)))
            for index, row in enumerate(result.refused)
        ]
        summary = import_summary(len(result.leads), len(result.refused))
        list_id = self.selected_list_id()
        dialog = RefusedRowsDialog(title, summary, rows, self, self._overlaps(list_id))
        self._connect_refused_dialog(dialog, list_id)
        return dialog

    def _overlaps(self, lead_list_id: int | None) -> str:
        if lead_list_id is None:
            return ""
        with self._database.session() as session:
            return overlap_text(lead_lists.duplicates_in_other_lists(session, lead_list_id))

    # Lists from stored leads -------------------------------------------------------------

    @Slot()
    def ask_and_build(self) -> None:
        with self._database.session() as session:
            lists = lead_lists.list_summaries(session, include_archived=True)
            offers = [(offer.id, offer.name) for offer in all_of(session, Offer)]
        title = unique_title("New list", {summary.title for summary in lists})
        dialog = BuildListDialog(lists, offers, title, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.build(dialog.title(), dialog.lead_filter())

    def build(self, title: str, wanted: LeadFilter) -> list_builder.NewList | None:
        """Build a list from stored leads and say what came of it; None if nothing was made."""
        try:
            with self._database.writer() as session:
                made = list_builder.build_list(session, title, wanted)
                session.commit()
        except LeadDeskError as error:
            self._warn("No list was made", error)
            return None
        self._changed(made.id)
        self._tell("List made", self._made_text(made))
        return made

    def _made_text(self, made: list_builder.NewList) -> str:
        duplicates = made.duplicates_left_out
        text = f"“{made.title}” holds {made.lead_count} lead{'' if made.lead_count == 1 else 's'}"
        if duplicates:
            text += f"; {duplicates} duplicate{'' if duplicates == 1 else 's'} left out"
        return f"{text}.\n{self._overlaps(made.id)}"

    @Slot()
    def ask_and_merge(self) -> None:
        with self._database.session() as session:
            lists = lead_lists.list_summaries(session)
        title = unique_title("Merged list", self._all_titles())
        dialog = MergeDialog(lists, title, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.merge(dialog.list_ids(), dialog.title())

    def merge(self, list_ids: list[int], title: str) -> list_builder.NewList | None:
        try:
            with self._database.writer() as session:
                made = list_builder.merge_lists(session, list_ids, title)
                session.commit()
        except LeadDeskError as error:
            self._warn("No list was made", error)
            return None
        self._changed(made.id)
        self._tell("Lists merged", self._made_text(made))
        return made

    @Slot()
    def ask_and_split(self) -> None:
        summary = self._summaries.get(self.selected_list_id() or -1)
        if summary is None:
            return
        dialog = SplitDialog(summary.title, summary.lead_count, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.split(summary.id, dialog.parts_spin.value(), dialog.mode())

    def split(self, list_id: int, parts: int, mode: SplitMode) -> list[list_builder.NewList]:
        try:
            with self._database.writer() as session:
                made = list_builder.split_list(session, list_id, parts, mode)
                session.commit()
        except LeadDeskError as error:
            self._warn("The list was not split", error)
            return []
        self._changed(made[0].id)
        return made

    # Rename, archive, export -------------------------------------------------------------

    @Slot()
    def ask_and_rename(self) -> None:
        summary = self._summaries.get(self.selected_list_id() or -1)
        if summary is None:
            return
        title, ok = QInputDialog.getText(
            self, "Rename lead list", "New title:", text=summary.title
        )
        if ok:
            self.rename(summary.id, title)

    def rename(self, list_id: int, title: str) -> bool:
        try:
            with self._database.writer() as session:
                lead_lists.rename_list(session, list_id, title)
                session.commit()
        except LeadDeskError as error:
            self._warn("The list was not renamed", error)
            return False
        self._changed(list_id)
        return True

    @Slot()
    def toggle_archived(self) -> None:
        summary = self._summaries.get(self.selected_list_id() or -1)
        if summary is None:
            return
        with self._database.writer() as session:
            lead_lists.set_archived(session, summary.id, not summary.archived)
            session.commit()
        self._changed(summary.id)

    @Slot()
    def ask_and_export(self) -> None:
        summary = self._summaries.get(self.selected_list_id() or -1)
        if summary is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export lead list", str(Path.home() / f"{summary.title}.csv"), EXPORT_FILTER
        )
        if path:
            self.export(summary.id, Path(path))

    def export(self, list_id: int, path: Path, refused: bool = False) -> int | None:
        """Write the list (or its refused rows) to a file; None if it could not be written."""
        try:
            with self._database.session() as session:
                if refused:
                    return list_export.export_refused(session, list_id, path)
                return list_export.export_list(session, list_id, path)
        except LeadDeskError as error:
            self._warn("Cannot export the list", error)
            return None

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
        dialog = RefusedRowsDialog(
            title,
            import_summary(lead_count, len(rows)),
            rows,
            self,
            self._overlaps(lead_list_id),
        )
        self._connect_refused_dialog(dialog, lead_list_id)
        return dialog

    def _connect_refused_dialog(self, dialog: RefusedRowsDialog, list_id: int | None) -> None:
        if list_id is None:
            dialog.export_button.hide()
            dialog.reimport_button.hide()
            return
        dialog.export_button.clicked.connect(lambda: self._ask_export_refused(list_id))
        dialog.reimport_button.clicked.connect(lambda: self._ask_reimport(dialog, list_id))

    def _ask_export_refused(self, list_id: int) -> None:
        summary = self._summaries.get(list_id)
        name = f"{summary.title} refused.csv" if summary else "refused.csv"
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export refused rows", str(Path.home() / name), EXPORT_FILTER
        )
        if path:
            self.export(list_id, Path(path), refused=True)

    def _ask_reimport(self, dialog: RefusedRowsDialog, list_id: int) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import fixed rows", str(Path.home()), FILE_FILTER
        )
        if path and self.import_into(list_id, Path(path)) is not None:
            dialog.accept()
            self.refused_dialog(list_id).open()

    def import_into(self, list_id: int, path: Path) -> lead_lists.ImportIntoResult | None:
        """Import a fixed file into a list; on an expected failure, warn and return None."""
        try:
            with self._database.writer() as session:
                outcome = lead_lists.import_into_list(session, list_id, path)
                session.commit()
        except LeadDeskError as error:
            self._warn("Cannot import the file", error)
            return None
        self._changed(list_id)
        return outcome

    @Slot()
    def _update_buttons(self) -> None:
        summary = self._summaries.get(self.selected_list_id() or -1)
        for button in self._row_buttons:
            button.setEnabled(summary is not None)
        self.split_button.setEnabled(summary is not None and summary.lead_count >= 2)
        self.archive_button.setText("Unarchive" if summary and summary.archived else "Archive")
