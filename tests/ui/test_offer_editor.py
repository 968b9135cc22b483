"""The offer editor: every tab saved and read back, presets, validation and secrets."""

from __future__ import annotations

import json
import logging

import keyring.errors
import pytest
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from sqlalchemy import select

from leaddesk.core.caps import Caps
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    AuthKind,
    BodyFormat,
    Endpoint,
    FieldRule,
    Header,
    Method,
    OfferConfig,
    PasswordRules,
    ResponseRules,
    SourceKind,
    Transform,
    header_secret,
)
from leaddesk.core.send_windows import SendWindows
from leaddesk.services import directory, offer_secrets, offer_sharing
from leaddesk.services.preset_choice import preset_by_name
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Offer, OfferSecret
from leaddesk.ui.offer_editor import (
    ANSWERS_TAB,
    ENDPOINT_TAB,
    FIELDS_TAB,
    IN_DATA_FILE_TEXT,
    IN_KEYRING_TEXT,
    KEYRING_FAILED_TEXT,
    TEST_TAB,
    WHEN_TAB,
    OfferEditor,
    problem_place,
)
from leaddesk.ui.offer_tables import KEPT_PLACEHOLDER

PASSWORD = "pa55-w0rd-7c1d"
HEADER_TOKEN = "hdr-token-93b1"
URL = "http://api.example.com/v2/leads"
EXPECTED = OfferConfig(
    endpoint=Endpoint(
        url=URL,
        method=Method.PUT,
        body_format=BodyFormat.FORM,
        headers=(Header("X-Source", "web"), Header("X-Token", secret=True)),
        auth=AuthKind.BASIC,
        auth_name="partner42",
        connect_timeout_s=4.5,
        read_timeout_s=45.0,
        proxy_url="socks5://127.0.0.1:1080",
        ca_bundle="/etc/ssl/partner.pem",
        allow_plain_http=True,
    ),
    fields=(
        FieldRule("fullname", SourceKind.TEMPLATE, "{first_name} {last_name}"),
        FieldRule("tel", SourceKind.FIELD, "phone", Transform.E164),
        FieldRule("funnel", SourceKind.FIXED, "solar-2"),
        FieldRule("pass", SourceKind.PASSWORD),
    ),
    response=ResponseRules(
        accepted_statuses="200-201",
        accepted_json_path="status",
        accepted_json_value="ok",
        accepted_text="success",
        duplicate_statuses="409,412",
        duplicate_text="duplicate",
        invalid_statuses="400",
        denied_statuses="401",
        lead_id_path="data.lead.id",
        autologin_path="data.autologin_url",
        reason_path="errors.0.message",
    ),
    password=PasswordRules(length=16, lower=True, upper=False, digits=True, symbols=True),
    outage_pause_after_min=45,
)


@pytest.fixture
def product_id(database) -> int:
    with database.writer() as session:
        product = directory.add_product(session, "Energy")
        session.commit()
        return product.id


@pytest.fixture
def open_editor(qtbot, database):
    def make(offer_id: int | None = None) -> OfferEditor:
        editor = OfferEditor(database, offer_id)
        qtbot.addWidget(editor)
        return editor

    return make


def choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def fill_endpoint_tab(qtbot, editor: OfferEditor, monkeypatch) -> None:
    editor.url_edit.setText(URL)
    editor.plain_http_box.setChecked(True)
    choose(editor.method_combo, "PUT")
    choose(editor.body_combo, "form")
    editor.headers_table.add_button.click()
    editor.headers_table.row_widgets(0).name.setText("X-Source")
    editor.headers_table.row_widgets(0).value.setText("web")
    editor.headers_table.add_button.click()
    token = editor.headers_table.row_widgets(1)
    token.name.setText("X-Token")
    token.secret.setChecked(True)
    token.value.setText(HEADER_TOKEN)
    choose(editor.auth_combo, "basic")
    editor.auth_name_edit.setText("partner42")
    editor.auth_secret_edit.setText(PASSWORD)
    editor.connect_timeout_spin.setValue(4.5)
    editor.read_timeout_spin.setValue(45)
    editor.proxy_edit.setText("socks5://127.0.0.1:1080")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: ("/etc/ssl/partner.pem", ""))
    editor.ca_bundle_button.click()
    editor.outage_spin.setValue(45)


def fill_fields_tab(editor: OfferEditor) -> None:
    table = editor.fields_table
    for name, source, value, transform in (
        ("tel", SourceKind.FIELD, "phone", Transform.E164),
        ("fullname", SourceKind.TEMPLATE, "{first_name} {last_name}", Transform.NONE),
        ("funnel", SourceKind.FIXED, "solar-2", Transform.NONE),
        ("pass", SourceKind.PASSWORD, "", Transform.NONE),
        ("spare", SourceKind.FIELD, "email", Transform.NONE),
    ):
        table.add_button.click()
        row = table.row_widgets(table.row_count() - 1)
        row.name.setText(name)
        choose(row.source, source.value)
        row.value.setEditText(value)
        choose(row.transform, transform.value)
    table.remove_selected()
    table.table.selectRow(1)
    table.move_up()
    editor.password_length_spin.setValue(16)
    editor.password_boxes["upper"].setChecked(False)
    editor.password_boxes["symbols"].setChecked(True)


def fill_answers_tab(editor: OfferEditor) -> None:
    for key, value in vars(EXPECTED.response).items():
        editor.answer_edits[key].setText(value)


def test_every_tab_is_saved_and_read_back(
    qtbot, open_editor, database, product_id, memory_keyring, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    choose(editor.product_combo, product_id)
    fill_endpoint_tab(qtbot, editor, monkeypatch)
    fill_fields_tab(editor)
    fill_answers_tab(editor)
    assert editor.config() == EXPECTED

    with qtbot.waitSignal(editor.saved) as saved:
        editor.accept()
    assert editor.result() == QDialog.DialogCode.Accepted

    offer_id = saved.args[0]
    again = open_editor(offer_id)
    assert again.config() == EXPECTED
    assert again.name_edit.text() == "Solar DE"
    assert again.product_combo.currentData() == product_id
    assert again.windowTitle() == "Edit offer 'Solar DE'"
    assert again.auth_secret_edit.text() == ""
    assert again.auth_secret_edit.placeholderText() == KEPT_PLACEHOLDER
    assert again.headers_table.row_widgets(1).value.placeholderText() == KEPT_PLACEHOLDER
    with database.session() as session:
        offer = session.get_one(Offer, offer_id)
        stored = json.dumps(offer.config)
        secrets = offer_secrets.load(session, offer_id, EXPECTED.secret_names())
        assert session.scalars(select(OfferSecret)).all() == []
    assert PASSWORD not in stored and HEADER_TOKEN not in stored
    assert secrets == {AUTH_SECRET: PASSWORD, header_secret("X-Token"): HEADER_TOKEN}
    assert PASSWORD not in caplog.text and HEADER_TOKEN not in caplog.text


def test_a_secret_left_empty_keeps_what_is_kept(qtbot, open_editor, database, memory_keyring):
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    choose(editor.auth_combo, "bearer")
    editor.auth_secret_edit.setText("first-token")
    editor.accept()
    offer_id = editor.saved_id

    def kept() -> dict[str, str]:
        with database.session() as session:
            return offer_secrets.load(session, offer_id, [AUTH_SECRET])

    untouched = open_editor(offer_id)
    untouched.read_timeout_spin.setValue(60)
    untouched.accept()
    assert kept() == {AUTH_SECRET: "first-token"}

    replaced = open_editor(offer_id)
    replaced.auth_secret_edit.setText("second-token")
    replaced.accept()
    assert kept() == {AUTH_SECRET: "second-token"}

    dropped = open_editor(offer_id)
    choose(dropped.auth_combo, "none")
    assert not dropped.auth_secret_edit.isVisibleTo(dropped)
    dropped.accept()
    assert kept() == {}
    assert memory_keyring.items == {}


def test_without_a_keyring_the_editor_warns_and_the_data_file_keeps_the_secret(
    qtbot, open_editor, database, caplog
):
    caplog.set_level(logging.DEBUG)
    editor = open_editor()
    assert not editor.secret_place_label.isVisibleTo(editor)
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    choose(editor.auth_combo, "header")
    editor.auth_name_edit.setText("X-Api-Key")
    editor.auth_secret_edit.setText(PASSWORD)

    assert editor.secret_place_label.isVisibleTo(editor)
    assert editor.secret_place_label.text() == IN_DATA_FILE_TEXT
    assert "#c2410c" in editor.secret_place_label.styleSheet()
    editor.accept()

    with database.session() as session:
        rows = session.scalars(select(OfferSecret)).all()
        assert [(row.name, row.value) for row in rows] == [(AUTH_SECRET, PASSWORD)]
        exported = offer_sharing.export_text(offer_sharing.export_offer(session, editor.saved_id))
    assert PASSWORD not in exported
    assert PASSWORD not in caplog.text


def test_with_a_keyring_the_editor_says_so(open_editor, memory_keyring):
    editor = open_editor()
    choose(editor.auth_combo, "bearer")
    assert editor.secret_place_label.text() == IN_KEYRING_TEXT
    assert editor.secret_place_label.isVisibleTo(editor)


def test_plain_http_to_another_computer_needs_a_yes(qtbot, open_editor, database):
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("http://127.0.0.1:8765/leads")
    assert not editor.plain_http_box.isEnabled()
    assert not editor.plain_http_note.isVisibleTo(editor)

    editor.url_edit.setText("http://api.example.com/leads")
    assert editor.plain_http_box.isEnabled()
    assert editor.plain_http_note.isVisibleTo(editor)
    editor.tabs.setCurrentIndex(ANSWERS_TAB)
    editor.accept()

    assert editor.result() != QDialog.DialogCode.Accepted
    assert editor.tabs.currentIndex() == ENDPOINT_TAB
    assert editor.errors["url"].isVisibleTo(editor)
    assert "unencrypted over http://" in editor.errors["url"].text()
    with database.session() as session:
        assert directory.all_of(session, Offer) == []

    editor.plain_http_box.setChecked(True)
    assert not editor.errors["url"].isVisibleTo(editor)
    editor.accept()
    assert editor.result() == QDialog.DialogCode.Accepted


def test_a_get_with_a_json_body_is_explained_beside_the_method(open_editor):
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    choose(editor.method_combo, "GET")
    editor.accept()

    assert editor.result() != QDialog.DialogCode.Accepted
    assert "query string" in editor.errors["method"].text()
    assert editor.errors["method"].isVisibleTo(editor)

    choose(editor.body_combo, "query")
    assert not editor.errors["method"].isVisibleTo(editor)


def test_a_missing_name_and_a_bad_field_are_shown_beside_them(open_editor):
    editor = open_editor()
    editor.url_edit.setText("https://api.example.com/leads")
    editor.fields_table.add_rule(FieldRule("first name", SourceKind.FIELD, "first_name"))
    editor.answer_edits["accepted_statuses"].setText("two hundred")
    editor.accept()

    assert editor.errors["name"].text() == "Give the offer a name."
    assert "'first name' is not a field name" in editor.errors["fields"].text()
    assert "'two hundred'" in editor.errors["answers"].text()
    assert editor.tabs.currentIndex() == FIELDS_TAB
    assert not editor.errors["general"].isVisibleTo(editor)


def test_a_preset_fills_the_form_and_asks_before_replacing_changes(
    qtbot, open_editor, monkeypatch
):
    plain = preset_by_name("plain_json")
    form_post = preset_by_name("form_area_code")
    editor = open_editor()
    editor.url_edit.setText("https://api.example.com/leads")
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args: asked.append(args) or QMessageBox.StandardButton.No
    )

    index = editor.preset_combo.findData(form_post.key)
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    assert asked == []
    assert editor.config() == form_post.config_for("https://api.example.com/leads")
    assert form_post.description in editor.preset_note.text()

    editor.auth_name_edit.setText("X-Partner-Key")
    index = editor.preset_combo.findData(plain.key)
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    assert len(asked) == 1
    assert editor.preset_combo.currentData() == form_post.key
    assert editor.auth_name_edit.text() == "X-Partner-Key"

    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    assert editor.config() == plain.config_for("https://api.example.com/leads")


def test_the_fields_tab_says_what_no_rows_mean_and_moves_rows(open_editor):
    editor = open_editor()
    table = editor.fields_table
    assert table.rules() == ()
    for name in ("a", "b", "c"):
        table.add_rule(FieldRule(name, SourceKind.FIXED, name.upper()))
    table.table.selectRow(0)
    table.move_down()
    table.move_down()
    assert [rule.name for rule in table.rules()] == ["b", "c", "a"]
    table.table.selectRow(0)
    table.move_up()
    assert [rule.name for rule in table.rules()] == ["b", "c", "a"]

    password = table.row_widgets(1)
    choose(password.source, SourceKind.PASSWORD.value)
    assert not password.value.isEnabled()
    assert table.rules()[1] == FieldRule("c", SourceKind.PASSWORD)


def bearer_offer_editor(open_editor, url: str) -> OfferEditor:
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText(url)
    editor.apply_preset("json_bearer")
    editor.auth_secret_edit.setText(PASSWORD)
    return editor


def test_the_test_tab_shows_the_exact_request_with_the_secret_masked(open_editor):
    editor = bearer_offer_editor(open_editor, "https://api.example.com/v1/leads")

    editor.tabs.setCurrentIndex(TEST_TAB)

    shown = editor.test_panel.request_view.toPlainText()
    assert shown.startswith("POST https://api.example.com/v1/leads\n")
    assert "Authorization: Bearer ••••••" in shown
    assert PASSWORD not in shown
    assert '"email": "test.lead@example.com"' in shown
    assert editor.test_panel.send_button.isEnabled()


def test_a_test_lead_without_its_secret_says_what_is_missing(open_editor):
    editor = bearer_offer_editor(open_editor, "https://api.example.com/v1/leads")
    editor.auth_secret_edit.setText("")

    editor.tabs.setCurrentIndex(TEST_TAB)

    assert "bearer token" in editor.test_panel.problem_label.text()
    assert not editor.test_panel.send_button.isEnabled()


def test_a_test_lead_is_sent_once_and_its_answer_read_by_the_rules(
    qtbot, open_editor, httpserver, monkeypatch
):
    httpserver.expect_oneshot_request("/v1/leads", method="POST").respond_with_json(
        {"uuid": "7d1c", "auto_login_url": "https://brand.example/login/7d1c"}
    )
    editor = bearer_offer_editor(open_editor, httpserver.url_for("/v1/leads"))
    editor.tabs.setCurrentIndex(TEST_TAB)
    panel = editor.test_panel
    panel.sample_edits["email"].setText("qa@brand.example")
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)

    with qtbot.waitSignal(panel.sent, timeout=10_000):
        panel.send_button.click()

    [(request, _response)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {PASSWORD}"
    assert request.get_json()["email"] == "qa@brand.example"
    shown = panel.result_label.text()
    assert "Result: Accepted" in shown
    assert "Advertiser's lead id: 7d1c" in shown
    assert "Auto-login link: https://brand.example/login/7d1c" in shown
    assert "#2e7d32" in panel.result_label.styleSheet()


@pytest.mark.parametrize(
    ("config", "place"),
    [
        (OfferConfig.for_url("ftp://x"), "url"),
        (OfferConfig.for_url("http://api.example.com"), "url"),
        (OfferConfig(endpoint=Endpoint(url="https://a.io", method=Method.GET)), "method"),
        (OfferConfig(endpoint=Endpoint(url="https://a.io", headers=(Header("a b"),))), "headers"),
        (
            OfferConfig(endpoint=Endpoint(url="https://a.io", headers=(Header("X-Key", "k1"),))),
            "headers",
        ),
        (OfferConfig.for_url("https://a.io/leads?api_token=t1"), "url"),
        (OfferConfig(endpoint=Endpoint(url="https://a.io", auth=AuthKind.BODY)), "auth"),
        (OfferConfig(endpoint=Endpoint(url="https://a.io", read_timeout_s=0)), "connection"),
        (OfferConfig(endpoint=Endpoint(url="https://a.io", proxy_url="ftp://p")), "connection"),
        (OfferConfig(fields=(FieldRule("-"),)), "fields"),
        (OfferConfig(fields=(FieldRule("a", value="x"), FieldRule("a", value="x"))), "fields"),
        (OfferConfig(fields=(FieldRule("a"),)), "fields"),
        (OfferConfig(password=PasswordRules(length=2)), "password"),
        (OfferConfig(response=ResponseRules(denied_statuses="x")), "answers"),
        (OfferConfig(response=ResponseRules(accepted_json_value="ok")), "answers"),
        (OfferConfig(outage_pause_after_min=-1), "outage"),
    ],
)
def test_every_problem_of_a_configuration_has_a_place_beside_a_field(config, place):
    found = [message for message in config.problems() if "URL must" not in message]
    if place == "url":
        found = config.problems()
    assert found
    assert {problem_place(message) for message in found} == {place}


def test_a_keyring_failing_on_save_keeps_the_secret_in_the_data_file_and_says_so(
    qtbot, open_editor, database, memory_keyring, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    memory_keyring.fail_with = keyring.errors.KeyringLocked("locked")
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warned.append(args[1:]))
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    choose(editor.auth_combo, "bearer")
    assert editor.secret_place_label.text() == IN_KEYRING_TEXT
    editor.auth_secret_edit.setText(PASSWORD)
    editor.accept()

    assert editor.result() == QDialog.DialogCode.Accepted
    assert warned == [("Secrets kept in the data file", KEYRING_FAILED_TEXT)]
    with database.session() as session:
        assert [r.value for r in session.scalars(select(OfferSecret))] == [PASSWORD]
    assert "KeyringLocked" in caplog.text and PASSWORD not in caplog.text


# When the advertiser takes leads ---------------------------------------------------------


def test_the_when_tab_is_saved_and_read_back(open_editor, database):
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    editor.window_edit.setText("mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00")
    editor.zone_combo.setCurrentText("Europe/Berlin")
    editor.cap_hour_spin.setValue(30)
    editor.cap_day_spin.setValue(200)
    editor.cap_total_spin.setValue(5000)
    editor.cap_country_edit.setText("de:50, Austria:20")
    editor.accept()
    assert editor.result() == QDialog.DialogCode.Accepted

    with database.session() as session:
        stored = SendRules.from_json(session.get_one(Offer, editor.saved_id).send_rules)
    assert stored == SendRules(
        SendWindows.parse("mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00", "Europe/Berlin"),
        Caps(per_hour=30, per_day=200, total=5000, per_country_day={"DE": 50, "AT": 20}),
    )

    again = open_editor(editor.saved_id)
    assert again.window_edit.text() == "mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00"
    assert again.zone_combo.currentText() == "Europe/Berlin"
    assert (again.cap_hour_spin.value(), again.cap_day_spin.value()) == (30, 200)
    assert again.cap_total_spin.value() == 5000
    assert again.cap_country_edit.text() == "AT:20, DE:50"


def test_a_wrong_window_or_country_cap_is_shown_on_the_when_tab(open_editor, database):
    editor = open_editor()
    editor.name_edit.setText("Solar DE")
    editor.url_edit.setText("https://api.example.com/leads")
    editor.window_edit.setText("mon-fri 9 to 5")
    editor.cap_country_edit.setText("DE=50")
    editor.accept()

    assert editor.result() != QDialog.DialogCode.Accepted
    assert editor.tabs.currentIndex() == WHEN_TAB
    assert editor.errors["window"].isVisibleTo(editor)
    assert editor.errors["caps"].isVisibleTo(editor)
    with database.session() as session:
        assert directory.all_of(session, Offer) == []
