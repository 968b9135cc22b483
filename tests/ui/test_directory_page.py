"""The Directory page: adding and renaming affiliates and products; offers, shared as files."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

from leaddesk.core.offer_config import AUTH_SECRET, AuthKind, Endpoint, OfferConfig
from leaddesk.services import directory, offer_secrets
from leaddesk.storage.models import Offer
from leaddesk.ui.directory_page import DirectoryPage, offer_file_name
from leaddesk.ui.offer_editor import NO_PRODUCT, OfferEditor
from leaddesk.ui.simple_table import select_id

API_KEY = "sk-live-4f1c9e7a2b"


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
    with qtbot.waitSignal(page.directory_changed):
        dialog.accept()

    assert dialog.result() == QDialog.DialogCode.Accepted
    model = page.offers_model
    assert [model.cell_text(0, column) for column in range(3)] == [
        "Solar DE",
        "Solar panels",
        "https://api.example.com/leads",
    ]
    assert page.offers.selected_id() == dialog.saved_id
    assert page.export_button.isEnabled()

    edit = page.offer_dialog(dialog.saved_id)
    qtbot.addWidget(edit)
    assert edit.product_combo.currentData() == product_id
    edit.product_combo.setCurrentIndex(0)
    edit.url_edit.setText("https://other.example.com/in")
    edit.accept()

    with database.session() as session:
        offer = session.get_one(Offer, dialog.saved_id)
        assert (offer.url, offer.product_id) == ("https://other.example.com/in", None)
        assert directory.offer_config(offer).endpoint.url == "https://other.example.com/in"
    assert model.cell_text(0, 1) == ""
    qtmodeltester.check(model)


def test_double_click_opens_the_offer_editor(qtbot, page, monkeypatch):
    offer_id = save_offer(page, "Solar DE")
    opened = []
    monkeypatch.setattr(OfferEditor, "exec", lambda editor: opened.append(editor) or 0)
    page.offers.table.doubleClicked.emit(page.offers_model.index(0, 0))
    [editor] = opened
    assert editor.name_edit.text() == "Solar DE"
    assert editor.config() == OfferConfig.for_url("https://api.example.com/leads")
    assert offer_id == page.offers.selected_id()


def test_an_offer_whose_configuration_no_longer_reads_is_explained(page, database, monkeypatch):
    offer_id = save_offer(page, "Solar DE")
    with database.writer() as session:
        session.get_one(Offer, offer_id).config = {"endpoint": {"method": "PATCH"}}
        session.commit()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))

    page.offers.edit_button.click()

    assert "The offer configuration is not readable" in warnings[0]


def test_an_invalid_url_is_explained_beside_the_field(qtbot, page, database):
    dialog = page.offer_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("Solar DE")
    dialog.url_edit.setText("api.example.com/leads")
    dialog.accept()

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.errors["url"].isVisibleTo(dialog)
    assert "is not an advertiser address" in dialog.errors["url"].text()
    assert not dialog.errors["name"].isVisibleTo(dialog)
    with database.session() as session:
        assert directory.all_of(session, Offer) == []


def test_a_taken_offer_name_is_explained_beside_the_name(qtbot, page):
    save_offer(page, "Solar DE")
    dialog = page.offer_dialog()
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("Solar DE")
    dialog.url_edit.setText("https://api.example.com/other")
    dialog.accept()

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "already an offer named 'Solar DE'" in dialog.errors["name"].text()


def save_offer(page, name: str, config: OfferConfig | None = None) -> int:
    config = config or OfferConfig.for_url("https://api.example.com/leads")
    with page._database.writer() as session:
        offer = directory.add_offer(session, name, config.endpoint.url, config=config)
        session.commit()
        offer_id = offer.id
    page.refresh()
    select_id(page.offers.table, offer_id)
    return offer_id


def test_export_and_import_buttons_share_an_offer_without_its_secret(
    qtbot, page, database, tmp_path, monkeypatch
):
    config = OfferConfig(
        endpoint=Endpoint(
            url="https://api.example.com/leads", auth=AuthKind.HEADER, auth_name="X-Api-Key"
        )
    )
    offer_id = save_offer(page, "Solar DE", config)
    with database.writer() as session:
        offer_secrets.store(session, offer_id, AUTH_SECRET, API_KEY)
        session.commit()
    messages = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: messages.append(args[2]))
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: messages.append(args[2]))
    path = tmp_path / "shared.json"
    assert offer_file_name("Solar DE / 2") == "Solar-DE-2.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(path), ""))

    page.export_button.click()

    assert API_KEY not in path.read_text(encoding="utf-8")
    assert messages.pop() == (
        f"The offer 'Solar DE' was exported to {path}. Its secrets were left out; whoever "
        "imports it enters them: API key (header X-Api-Key)."
    )

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), ""))
    monkeypatch.setattr(QInputDialog, "getText", lambda *args: ("Solar DE copy", True))
    with qtbot.waitSignal(page.directory_changed):
        page.import_button.click()

    assert names(page.offers_model) == ["Solar DE", "Solar DE copy"]
    assert page.offers.selected_id() == page.offers_model.row_id(1)
    assert messages.pop() == (
        "The offer 'Solar DE copy' was added. Enter its secrets with Edit… before sending: "
        "API key (header X-Api-Key)."
    )


def test_importing_a_broken_file_says_why_and_adds_nothing(page, tmp_path, monkeypatch):
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), ""))

    page.import_button.click()

    assert "is not valid JSON" in warnings[0]
    assert names(page.offers_model) == []
