"""The Directory page: adding and renaming affiliates, products and offers."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from leaddesk.services import directory
from leaddesk.storage.models import Offer
from leaddesk.ui.directory_page import NO_PRODUCT, DirectoryPage


@pytest.fixture
def page(qtbot, database) -> DirectoryPage:
    widget = DirectoryPage(database)
    qtbot.addWidget(widget)
    return widget


def names(model) -> list[str]:
    return [model.cell_text(row, 0) for row in range(model.rowCount())]


def test_add_and_rename_an_affiliate(qtbot, page, qtmodeltester):
    dialog = page.affiliate_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("  North   Media ")
    with qtbot.waitSignal(page.directory_changed):
        dialog.accept()

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert names(page.affiliates_model) == ["North Media"]
    assert page.affiliates.selected_id() == dialog.saved_id
    assert page.affiliates.edit_button.isEnabled()

    rename = page.affiliate_dialog(dialog.saved_id)
    qtbot.addWidget(rename)
    assert rename.name_edit.text() == "North Media"
    rename.name_edit.setText("South Media")
    rename.accept()

    assert names(page.affiliates_model) == ["South Media"]
    qtmodeltester.check(page.affiliates_model)


def test_a_taken_name_is_explained_in_the_dialog(qtbot, page):
    page.save_affiliate(None, "North Media")
    dialog = page.affiliate_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("North Media")
    dialog.accept()

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.name_error.isVisibleTo(dialog)
    assert "already an affiliate named 'North Media'" in dialog.name_error.text()

    dialog.name_edit.setText("")
    dialog.accept()
    assert dialog.name_error.text() == "Give the affiliate a name."
    assert names(page.affiliates_model) == ["North Media"]


def test_add_and_rename_a_product(qtbot, page, qtmodeltester):
    dialog = page.product_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("Solar panels")
    dialog.accept()
    assert names(page.products_model) == ["Solar panels"]

    rename = page.product_dialog(dialog.saved_id)
    qtbot.addWidget(rename)
    rename.name_edit.setText("Heat pumps")
    rename.accept()
    assert names(page.products_model) == ["Heat pumps"]
    qtmodeltester.check(page.products_model)


def test_add_and_edit_an_offer(qtbot, page, database, qtmodeltester):
    product_id = page.save_product(None, "Solar panels")
    dialog = page.offer_dialog()
    qtbot.addWidget(dialog)
    assert dialog.product_combo.currentText() == NO_PRODUCT
    dialog.name_edit.setText("Solar DE")
    dialog.product_combo.setCurrentIndex(dialog.product_combo.findData(product_id))
    dialog.url_edit.setText("https://api.example.com/leads")
    dialog.accept()

    assert dialog.result() == QDialog.DialogCode.Accepted
    model = page.offers_model
    assert [model.cell_text(0, column) for column in range(3)] == [
        "Solar DE",
        "Solar panels",
        "https://api.example.com/leads",
    ]

    edit = page.offer_dialog(dialog.saved_id)
    qtbot.addWidget(edit)
    assert edit.product_combo.currentData() == product_id
    edit.product_combo.setCurrentIndex(0)
    edit.url_edit.setText("https://other.example.com/in")
    edit.accept()

    with database.session() as session:
        offer = session.get_one(Offer, dialog.saved_id)
        assert (offer.url, offer.product_id) == ("https://other.example.com/in", None)
    assert model.cell_text(0, 1) == ""
    qtmodeltester.check(model)


def test_an_invalid_url_is_explained_beside_the_field(qtbot, page, database):
    dialog = page.offer_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("Solar DE")
    dialog.url_edit.setText("api.example.com/leads")
    dialog.accept()

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.url_error.isVisibleTo(dialog)
    assert "is not an advertiser address" in dialog.url_error.text()
    assert not dialog.name_error.isVisibleTo(dialog)
    with database.session() as session:
        assert directory.all_of(session, Offer) == []
