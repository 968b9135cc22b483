"""The Lead lists page: importing a file, the table of lists and the refused rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from leaddesk.ui.lead_lists_page import LIST_HEADERS, LeadListsPage, unique_title

CSV_TEXT = (
    "First Name,Last Name,Email,Phone\n"
    "Ada,Lovelace,ada@example.com,+44 20 7946 0000\n"
    "Grace,Hopper,not-an-email,\n"
    "Alan,Turing,alan@example.com,\n"
)


class Warnings:
    """Stands in for QMessageBox.warning and keeps what it was asked to show."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, _parent, title, text, *args, **kwargs):
        self.shown.append((title, text))
        return QMessageBox.StandardButton.Ok


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Warnings:
    shown = Warnings()
    monkeypatch.setattr(QMessageBox, "warning", shown)
    return shown


@pytest.fixture
def page(qtbot, database) -> LeadListsPage:
    widget = LeadListsPage(database)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def lead_file(tmp_path: Path) -> Path:
    path = tmp_path / "spring leads.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    return path


def column(page: LeadListsPage, title: str) -> int:
    return LIST_HEADERS.index(title)


def test_import_shows_the_new_list(qtbot, page, lead_file, warnings, qtmodeltester):
    with qtbot.waitSignal(page.lists_changed):
        result = page.import_path(lead_file, "Spring leads", "GB")

    assert result is not None
    assert len(result.leads) == 2
    assert warnings.shown == []
    model = page.model
    assert model.rowCount() == 1
    assert model.cell_text(0, column(page, "Title")) == "Spring leads"
    assert model.cell_text(0, column(page, "Leads")) == "3"
    assert model.cell_text(0, column(page, "Valid")) == "2"
    assert model.cell_text(0, column(page, "Refused")) == "1"
    assert model.cell_text(0, column(page, "Duplicates")) == "0"
    assert model.cell_text(0, column(page, "Used in")) == "0 distributions"
    assert model.cell_text(0, column(page, "Source")).endswith("spring leads.csv")
    assert page.selected_list_id() == model.row_id(0)
    assert page.refused_button.isEnabled()
    assert not page.empty_label.isVisibleTo(page)
    qtmodeltester.check(model)


def test_refused_rows_show_their_reason(qtbot, page, lead_file, qtmodeltester):
    result = page.import_path(lead_file, "Spring leads", None)
    assert result is not None

    after_import = page.result_dialog("Spring leads", result)
    qtbot.addWidget(after_import)
    assert after_import.summary_label.text() == "2 leads imported, 1 row refused."

    later = page.refused_dialog(page.selected_list_id())
    qtbot.addWidget(later)
    assert later.model.rowCount() == 1
    assert later.model.cell_text(0, 0) == "3"
    assert "not-an-email" in later.model.cell_text(0, 1)
    assert "Grace" in later.model.cell_text(0, 2)
    qtmodeltester.check(later.model)


def test_a_file_that_is_not_text_shows_a_warning(page, tmp_path, warnings):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(200))

    assert page.import_path(path, "Broken", None) is None

    assert len(warnings.shown) == 1
    assert "is not a text file" in warnings.shown[0][1]
    assert page.model.rowCount() == 0
    assert page.empty_label.isVisibleTo(page)


def test_a_title_in_use_shows_a_warning(page, lead_file, warnings):
    assert page.import_path(lead_file, "Spring leads", None) is not None
    assert page.import_path(lead_file, "Spring leads", None) is None

    assert "already a lead list named 'Spring leads'" in warnings.shown[0][1]
    assert page.model.rowCount() == 1


def test_default_title_is_the_file_name_made_unique(page, lead_file):
    assert page.default_title(lead_file) == "spring leads"
    page.import_path(lead_file, "spring leads", None)
    assert page.default_title(lead_file) == "spring leads (2)"


def test_unique_title():
    assert unique_title("a", set()) == "a"
    assert unique_title("a", {"a", "a (2)"}) == "a (3)"
