"""The Lead lists page: lists built from stored leads, archive, rename, export, fixed rows."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from leaddesk.core.lead_filter import LeadFilter, SplitMode
from leaddesk.ui.lead_lists_page import LIST_HEADERS, BuildListDialog, LeadListsPage

CSV_TEXT = (
    "Name,Email,Source\n"
    "Ada Lovelace,ada@example.com,fair\n"
    "Grace Hopper,not-an-email,web\n"
    "Alan Turing,alan@example.com,web\n"
    "Alan Again,ALAN@example.com,web\n"
)


class Warnings:
    def __init__(self) -> None:
        self.shown: list[str] = []

    def __call__(self, _parent, _title, text, *args, **kwargs):
        self.shown.append(text)
        return QMessageBox.StandardButton.Ok


@pytest.fixture
def warnings(monkeypatch):
    shown = Warnings()
    monkeypatch.setattr(QMessageBox, "warning", shown)
    return shown


@pytest.fixture
def page(qtbot, database, tmp_path, warnings) -> LeadListsPage:
    widget = LeadListsPage(database)
    qtbot.addWidget(widget)
    path = tmp_path / "spring.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    assert widget.import_path(path, "Spring", None) is not None
    return widget


def cell(page: LeadListsPage, row: int, header: str) -> str:
    return page.model.cell_text(row, LIST_HEADERS.index(header))


def titles(page: LeadListsPage) -> list[str]:
    return [cell(page, row, "Title") for row in range(page.model.rowCount())]


def test_columns_count_leads_valid_refused_and_duplicates(page, qtmodeltester):
    assert cell(page, 0, "Leads") == "4"
    assert cell(page, 0, "Valid") == "2"
    assert cell(page, 0, "Refused") == "2"
    assert cell(page, 0, "Duplicates") == "1"
    qtmodeltester.check(page.model)


def test_build_a_list_and_say_where_its_leads_also_are(page, qtmodeltester):
    made = page.build("Web", LeadFilter(custom_field="Source", custom_value="web"))

    assert made is not None and made.lead_count == 1
    assert titles(page) == ["Web", "Spring"]
    assert page.selected_list_id() == made.id
    assert cell(page, 0, "Source") == "built from Source = 'web'"
    assert "1 in “Spring”" in page.last_message
    qtmodeltester.check(page.model)


def test_nothing_to_build_is_a_warning(page, warnings):
    assert page.build("None", LeadFilter(country="JP")) is None
    assert "No stored lead matches" in warnings.shown[0]


def test_archived_lists_are_shown_only_when_asked(qtbot, page):
    page.table.selectRow(0)
    qtbot.mouseClick(page.archive_button, Qt.MouseButton.LeftButton)
    assert page.model.rowCount() == 0

    page.show_archived.setChecked(True)
    assert titles(page) == ["Spring (archived)"]
    page.table.selectRow(0)
    assert page.archive_button.text() == "Unarchive"
    qtbot.mouseClick(page.archive_button, Qt.MouseButton.LeftButton)
    assert titles(page) == ["Spring"]


def test_rename_split_and_merge(page, warnings):
    list_id = page.selected_list_id()
    assert page.rename(list_id, "Spring fair")
    assert not page.rename(list_id, " ")
    assert "Give the lead list a name" in warnings.shown[-1]

    parts = page.split(list_id, 2, SplitMode.CONSECUTIVE)
    assert [part.title for part in parts] == [
        "Spring fair (part 1 of 2)",
        "Spring fair (part 2 of 2)",
    ]

    merged = page.merge([parts[0].id, parts[1].id, list_id], "Everyone")
    assert merged is not None and merged.duplicates_left_out == 2
    assert "2 duplicates left out" in page.last_message


def test_export_and_import_fixed_rows_into_the_list(page, tmp_path, qtbot):
    list_id = page.selected_list_id()
    assert page.export(list_id, tmp_path / "leads.xlsx") == 2
    refused_file = tmp_path / "refused.csv"
    assert page.export(list_id, refused_file, refused=True) == 2

    with refused_file.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    rows[1][1] = "grace@example.com"
    with refused_file.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)

    outcome = page.import_into(list_id, refused_file)

    assert outcome is not None and (outcome.added, outcome.fixed) == (1, 1)
    assert (cell(page, 0, "Valid"), cell(page, 0, "Refused")) == ("3", "1")
    dialog = page.refused_dialog(list_id)
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 1
    assert "duplicate of row 4" in dialog.model.cell_text(0, 1)
    assert dialog.export_button.isEnabled()


def test_export_to_an_unknown_kind_of_file_warns(page, tmp_path, warnings):
    assert page.export(page.selected_list_id(), tmp_path / "leads.pdf") is None
    assert "ending in .csv or .xlsx" in warnings.shown[0]


def test_build_dialog_reads_its_conditions(qtbot, page):
    summaries = list(page._summaries.values())
    dialog = BuildListDialog(summaries, [(7, "Solar")], "New list")
    qtbot.addWidget(dialog)
    dialog.lists_box.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.country_edit.setText("de")
    dialog.field_edit.setText("Source")
    dialog.value_edit.setText("web")
    dialog.never_sent_combo.setCurrentIndex(1)

    wanted = dialog.lead_filter()

    assert wanted.lead_list_ids == (summaries[0].id,)
    assert (wanted.country, wanted.custom_field, wanted.custom_value) == ("de", "Source", "web")
    assert wanted.never_sent_to_offer_id == 7
    assert wanted.imported_from is None and wanted.last_outcome is None
