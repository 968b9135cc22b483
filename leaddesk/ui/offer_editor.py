"""The offer editor: endpoint, authentication, field mapping and answer rules of one offer."""

from __future__ import annotations

import logging
from dataclasses import fields
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from leaddesk.core.caps import Caps, parse_country_caps
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    MAX_TIMEOUT_S,
    AuthKind,
    BodyFormat,
    Endpoint,
    Method,
    OfferConfig,
    PasswordRules,
    ResponseRules,
    header_secret,
    is_local_host,
)
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.time_zones import parse_time_zone
from leaddesk.errors import InputError, LeadDeskError
from leaddesk.services import directory, offer_secrets, offer_test
from leaddesk.services.preset_choice import available_presets, preset_by_name
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.database import Database
from leaddesk.storage.models import Offer, Product
from leaddesk.ui.offer_tables import (
    KEPT_PLACEHOLDER,
    SECRET_PLACEHOLDER,
    FieldsTable,
    HeadersTable,
)
from leaddesk.ui.offer_test_panel import OfferTestPanel
from leaddesk.ui.send_rule_widgets import cap_spin, time_zone_combo

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b3261e;"
WARNING_STYLE = "color: #c2410c; font-weight: bold;"
CAUTION_STYLE = "color: #c2410c;"
KEPT_STYLE = "color: #2e7d32;"
NOTE_STYLE = "color: palette(placeholder-text);"
NO_PRODUCT = "(no product)"
NO_PRESET = "(none)"
URL_PLACEHOLDER = "https://api.example.com/leads"
MIN_TIMEOUT_S = 1.0
MAX_OUTAGE_MIN = 7 * 24 * 60
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_LENGTH = 64
EDITOR_MIN_WIDTH = 760
EDITOR_MIN_HEIGHT = 520
EDITOR_WIDTH = 1040
EDITOR_HEIGHT = 760
BUSY = "The data file is busy, so the offer was not saved. Try again in a moment."

ENDPOINT_TAB, FIELDS_TAB, ANSWERS_TAB, WHEN_TAB, TEST_TAB = range(5)

PLAIN_HTTP_WHY = (
    "Leads are personal data: over plain http:// anyone on the way can read and change them. "
    "Tick this only if the advertiser offers no https://."
)
IN_KEYRING_TEXT = "Secrets are kept in the system keyring; never exported or written to logs."
IN_DATA_FILE_TEXT = (
    "No system keyring was found on this computer, so secrets are kept in the data file: "
    "anyone who can read that file can read them. They are never exported or written to logs."
)
KEYRING_FAILED_TEXT = (
    "The system keyring did not answer, so this offer's secrets were kept in the data file: "
    "anyone who can read that file can read them. LeadDesk uses the keyring again after a "
    "restart; save the secrets again then to move them there."
)
NO_FIELDS_NOTE = (
    "With no rows, every lead field is sent under its own name (first_name, email, …). "
    "A template joins lead fields, such as {first_name} {last_name}."
)
TLS_NOTE = (
    "Certificates are always verified. A CA bundle adds the authority of an advertiser whose "
    "certificate is not publicly trusted."
)
ANSWERS_NOTE = (
    "Status codes are written as 200-299 or 400,422. A JSON path is dotted, with list positions "
    "as numbers: data.lead.id, errors.0.message. Texts match regardless of case; separate "
    "alternatives with |. Empty means not used."
)
WHEN_NOTE = (
    "When the advertiser takes leads, on its own clock. Every distribution to this offer "
    "keeps these rules; one may set its own window, and caps of its own beside these."
)
CAPS_NOTE = (
    "Caps count every lead sent to this offer, by all its distributions together; a day and "
    "an hour are the advertiser's. Leave a cap at its lowest to have none."
)

AUTH_NAME_LABELS = {
    AuthKind.HEADER: ("Header name:", "X-Api-Key"),
    AuthKind.QUERY: ("Query field:", "api_key"),
    AuthKind.BODY: ("Body field:", "api_key"),
    AuthKind.BASIC: ("User name:", "partner42"),
}
AUTH_SECRET_LABELS = {
    AuthKind.HEADER: "API key:",
    AuthKind.QUERY: "API key:",
    AuthKind.BODY: "API key:",
    AuthKind.BEARER: "Token:",
    AuthKind.BASIC: "Password:",
}

# The answer rules as (field, label, placeholder, explanation), in the order shown.
ANSWER_ROWS = (
    ("Accepted", None, None, None),
    ("accepted_statuses", "Status codes:", "200-299", "an answer with one of these is accepted"),
    ("accepted_json_path", "JSON path:", "status", "…and, if set, this value of the answer"),
    ("accepted_json_value", "equals:", "ok", "must be this (without it, any value)"),
    ("accepted_text", "Text:", "success|accepted", "…or, if set, the answer contains this"),
    ("Duplicate", None, None, None),
    ("duplicate_statuses", "Status codes:", "409", "the advertiser already has this lead"),
    ("duplicate_text", "Text:", "duplicate|already exists", "…or the answer says so"),
    ("Rejected", None, None, None),
    ("invalid_statuses", "Invalid:", "400,422", "the lead's data was refused"),
    ("invalid_text", "Invalid text:", "not valid|invalid", "…or a refusal that says so"),
    ("denied_statuses", "Denied:", "401,403", "our credentials were refused: check the key"),
    ("denied_text", "Denied text:", "denied|not allowed", "…or a refusal that says so"),
    ("Read from the answer", None, None, None),
    ("lead_id_path", "Lead id:", "data.lead.id", "the advertiser's id of the lead"),
    ("autologin_path", "Auto-login link:", "data.autologin_url", "a link the lead logs in with"),
    ("reason_path", "Reason:", "errors.0.message", "why a lead was refused"),
)

# Which field a message of OfferConfig.problems() is shown beside, by a phrase it holds.
PROBLEM_PLACES = (
    ("The URL must", "url"),
    ("unencrypted over http://", "url"),
    ("A GET request", "method"),
    ("is not a header name", "headers"),
    ("carries a credential", "headers"),
    ("The URL carries", "url"),
    ("carries the credentials", "auth"),
    ("timeout must be", "connection"),
    ("The proxy must", "connection"),
    ("not a field name", "fields"),
    ("is mapped twice", "fields"),
    ("takes from the lead", "fields"),
    ("generated password", "password"),
    ("status codes", "answers"),
    ("JSON path whose value", "answers"),
    ("pause after an outage", "outage"),
)
PLACE_TABS = {
    "url": ENDPOINT_TAB,
    "method": ENDPOINT_TAB,
    "headers": ENDPOINT_TAB,
    "auth": ENDPOINT_TAB,
    "connection": ENDPOINT_TAB,
    "outage": ENDPOINT_TAB,
    "fields": FIELDS_TAB,
    "password": FIELDS_TAB,
    "answers": ANSWERS_TAB,
    "window": WHEN_TAB,
    "caps": WHEN_TAB,
    "name": -1,
    "general": -1,
}


def problem_place(message: str) -> str:
    """The field beside which a problem is shown; 'general' under the tabs if none fits."""
    for phrase, place in PROBLEM_PLACES:
        if phrase in message:
            return place
    return "general"


def needs_plain_http_consent(url: str) -> bool:
    parts = urlsplit(url.strip())
    try:
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme == "http" and bool(host) and not is_local_host(host)


def _label(text: str = "", style: str = NOTE_STYLE) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


def _error_label() -> QLabel:
    label = _label(style=ERROR_STYLE)
    label.hide()
    return label


def _show(label: QLabel, messages: list[str]) -> None:
    label.setText("\n".join(messages))
    label.setVisible(bool(messages))


def _scrolling(page: QWidget) -> QScrollArea:
    """A tab's page that scrolls rather than squeezes on a small screen."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def _left(widget: QWidget) -> QHBoxLayout:
    """The widget at its natural width, at the left of its row."""
    row = QHBoxLayout()
    row.addWidget(widget)
    row.addStretch(1)
    return row


def _combo(items: list[tuple[str, str]]) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _select(combo: QComboBox, data: object) -> None:
    combo.setCurrentIndex(max(combo.findData(data), 0))


def _preset_description(key: str) -> str:
    for preset in available_presets():
        if preset.key == key:
            return preset.description
    return ""


class OfferEditor(QDialog):
    """Adds an offer (no id) or edits one: its configuration, and its secrets kept apart.

    `saved` carries the offer's id once it is stored. The Test tab is `test_panel`, an empty
    place for sending a test lead.
    """

    saved = Signal(int)

    def __init__(
        self, database: Database, offer_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._offer_id = offer_id
        self.saved_id: int | None = None
        self._tried_saving = False
        self._secrets_fell_back = False
        self.errors: dict[str, QLabel] = {}
        config, name, product_id, products, stored = self._read(offer_id)
        self._old_secret_names = set(config.secret_names())
        self._stored_secrets = stored
        self.setWindowTitle("Add offer" if offer_id is None else f"Edit offer '{name}'")

        self._build(products)
        self.name_edit.setText(name)
        _select(self.product_combo, product_id)
        self.set_config(config)
        self.set_send_rules(self._loaded_rules)
        self._baseline = self.config()
        self._connect_changes()
        self.setMinimumSize(EDITOR_MIN_WIDTH, EDITOR_MIN_HEIGHT)
        self.resize(EDITOR_WIDTH, EDITOR_HEIGHT)

    def _read(self, offer_id: int | None):
        with self._database.session() as session:
            products = [(p.id, p.name) for p in directory.all_of(session, Product)]
            if offer_id is None:
                self._loaded_rules = SendRules()
                return OfferConfig(), "", None, products, set()
            offer = session.get_one(Offer, offer_id)
            self._loaded_rules = SendRules.from_json(offer.send_rules)
            config = directory.offer_config(offer)
            stored = offer_secrets.stored_names(session, offer_id, config.secret_names())
            return config, offer.name, offer.product_id, products, stored

    # Building ------------------------------------------------------------------------------

    def _build(self, products: list[tuple[int, str]]) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Solar DE")
        self.product_combo = _combo([(NO_PRODUCT, None), *[(n, i) for i, n in products]])
        self.preset_combo = _combo(
            [(NO_PRESET, ""), *[(p.name, p.key) for p in available_presets()]]
        )
        self.preset_combo.setToolTip("Fill the form from a preset; the URL is kept")
        self.preset_combo.activated.connect(self._preset_chosen)
        self.preset_note = _label()
        self.tabs = QTabWidget()
        self.tabs.addTab(_scrolling(self._build_endpoint_tab()), "Endpoint")
        self.tabs.addTab(_scrolling(self._build_fields_tab()), "Fields")
        self.tabs.addTab(_scrolling(self._build_answers_tab()), "Answers")
        self.tabs.addTab(_scrolling(self._build_when_tab()), "When")
        self.tabs.addTab(self._build_test_tab(), "Test")
        self.errors["general"] = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        top = QFormLayout()
        top.addRow("Offer name:", self.name_edit)
        top.addRow("", self._error("name"))
        top.addRow("Product:", self.product_combo)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_combo)
        preset_row.addWidget(self.preset_note, 1)
        top.addRow("Preset:", preset_row)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.errors["general"])
        layout.addWidget(buttons)

    def _error(self, place: str) -> QLabel:
        self.errors[place] = _error_label()
        return self.errors[place]

    def _build_endpoint_tab(self) -> QWidget:
        page = QWidget()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(self._build_where_group())
        left.addWidget(self._build_auth_group())
        left.addWidget(self._build_outage_group())
        left.addStretch(1)
        right.addWidget(self._build_headers_group(), 1)
        right.addWidget(self._build_connection_group())
        layout = QHBoxLayout(page)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        return page

    def _build_where_group(self) -> QGroupBox:
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText(URL_PLACEHOLDER)
        self.method_combo = _combo([(m.value, m.value) for m in Method])
        self.body_combo = _combo([(b.label, b.value) for b in BodyFormat])
        self.plain_http_box = QCheckBox("Send over plain http:// (unencrypted)")
        self.plain_http_note = _label(PLAIN_HTTP_WHY, CAUTION_STYLE)
        method_row = QHBoxLayout()
        method_row.addWidget(self.method_combo)
        method_row.addWidget(QLabel("Body:"))
        method_row.addWidget(self.body_combo, 1)

        group = QGroupBox("Advertiser endpoint")
        form = QFormLayout(group)
        form.addRow("URL:", self.url_edit)
        form.addRow("", self._error("url"))
        form.addRow("Method:", method_row)
        form.addRow("", self._error("method"))
        form.addRow("", self.plain_http_box)
        form.addRow("", self.plain_http_note)
        return group

    def _build_auth_group(self) -> QGroupBox:
        self.auth_combo = _combo([(kind.label, kind.value) for kind in AuthKind])
        self.auth_name_edit = QLineEdit()
        self.auth_secret_edit = QLineEdit()
        self.auth_secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_place_label = _label()
        group = QGroupBox("Authentication")
        self._auth_form = QFormLayout(group)
        self._auth_form.addRow("Kind:", self.auth_combo)
        self._auth_form.addRow("Header name:", self.auth_name_edit)
        self._auth_form.addRow("API key:", self.auth_secret_edit)
        self._auth_form.addRow("", self._error("auth"))
        self._auth_form.addRow(self.secret_place_label)
        return group

    def _build_headers_group(self) -> QGroupBox:
        self.headers_table = HeadersTable()
        group = QGroupBox("Extra headers")
        layout = QVBoxLayout(group)
        layout.addWidget(self.headers_table, 1)
        layout.addWidget(_label("Tick Secret for a header that holds a key or password."))
        layout.addWidget(self._error("headers"))
        return group

    def _build_connection_group(self) -> QGroupBox:
        self.connect_timeout_spin = self._seconds_spin()
        self.read_timeout_spin = self._seconds_spin()
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setPlaceholderText("http://proxy.example.com:3128 or socks5://host:1080")
        self.ca_bundle_edit = QLineEdit()
        self.ca_bundle_edit.setPlaceholderText("(the system's trusted authorities)")
        self.ca_bundle_button = QPushButton("Choose…")
        self.ca_bundle_button.clicked.connect(self._choose_ca_bundle)
        timeouts = QHBoxLayout()
        timeouts.addWidget(QLabel("connect"))
        timeouts.addWidget(self.connect_timeout_spin)
        timeouts.addWidget(QLabel("read"))
        timeouts.addWidget(self.read_timeout_spin)
        timeouts.addStretch(1)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle_edit, 1)
        ca_row.addWidget(self.ca_bundle_button)

        group = QGroupBox("Connection")
        form = QFormLayout(group)
        form.addRow("Timeouts:", timeouts)
        form.addRow("Proxy:", self.proxy_edit)
        form.addRow("CA bundle:", ca_row)
        form.addRow("", _label(TLS_NOTE))
        form.addRow("", self._error("connection"))
        return group

    @staticmethod
    def _seconds_spin() -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(MIN_TIMEOUT_S, MAX_TIMEOUT_S)
        spin.setDecimals(1)
        spin.setSuffix(" s")
        return spin

    def _build_outage_group(self) -> QGroupBox:
        self.outage_spin = QSpinBox()
        self.outage_spin.setRange(0, MAX_OUTAGE_MIN)
        self.outage_spin.setSuffix(" min")
        self.outage_spin.setSpecialValueText("never")
        group = QGroupBox("When the advertiser cannot be reached")
        form = QFormLayout(group)
        form.addRow("Pause sending after:", _left(self.outage_spin))
        form.addRow("", _label("0 never pauses: sending keeps retrying."))
        form.addRow("", self._error("outage"))
        return group

    def _build_fields_tab(self) -> QWidget:
        self.fields_table = FieldsTable()
        self.password_length_spin = QSpinBox()
        self.password_length_spin.setRange(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
        self.password_length_spin.setSuffix(" characters")
        self.password_boxes = {
            "lower": QCheckBox("lower case"),
            "upper": QCheckBox("upper case"),
            "digits": QCheckBox("digits"),
            "symbols": QCheckBox("symbols"),
        }
        kinds = QHBoxLayout()
        for box in self.password_boxes.values():
            kinds.addWidget(box)
        kinds.addStretch(1)
        passwords = QGroupBox("Generated passwords")
        form = QFormLayout(passwords)
        form.addRow("Length:", _left(self.password_length_spin))
        form.addRow("Made of:", kinds)
        form.addRow("", _label("Used by fields that take a generated password."))
        form.addRow("", self._error("password"))

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_label(NO_FIELDS_NOTE))
        layout.addWidget(self.fields_table, 1)
        layout.addWidget(self._error("fields"))
        layout.addWidget(passwords)
        return page

    def _build_answers_tab(self) -> QWidget:
        self.answer_edits: dict[str, QLineEdit] = {}
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        for row, (key, label, placeholder, explanation) in enumerate(ANSWER_ROWS):
            if label is None:
                title = QLabel(f"<b>{key}</b>")
                grid.addWidget(title, row, 0, 1, 3)
                continue
            edit = QLineEdit()
            edit.setPlaceholderText(placeholder)
            self.answer_edits[key] = edit
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(_label(explanation), row, 2)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_label(ANSWERS_NOTE))
        layout.addLayout(grid)
        layout.addWidget(self._error("answers"))
        layout.addStretch(1)
        return page

    def _build_when_tab(self) -> QWidget:
        """When the advertiser takes leads, on its own clock, and how many."""
        self.window_edit = QLineEdit()
        self.window_edit.setPlaceholderText("any time; e.g. mon-fri 09:00-18:00; sat 10:00-14:00")
        self.zone_combo = time_zone_combo()
        self.cap_hour_spin = cap_spin("no hourly cap", " an hour")
        self.cap_day_spin = cap_spin("no daily cap", " a day")
        self.cap_total_spin = cap_spin("no total cap", " in total")
        self.cap_country_edit = QLineEdit()
        self.cap_country_edit.setPlaceholderText("DE:50, AT:20 (a day per country)")
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(_label(WHEN_NOTE))
        form.addRow("Send window:", self.window_edit)
        form.addRow("", self._error("window"))
        form.addRow("Time zone:", self.zone_combo)
        form.addRow("Per hour:", _left(self.cap_hour_spin))
        form.addRow("Per day:", _left(self.cap_day_spin))
        form.addRow("In total:", _left(self.cap_total_spin))
        form.addRow("Per country:", self.cap_country_edit)
        form.addRow("", self._error("caps"))
        form.addRow(_label(CAPS_NOTE))
        return page

    def send_rules(self) -> SendRules:
        """The windows and caps the form gives; InputError names what is wrong."""
        zone = parse_time_zone(self.zone_combo.currentText())
        return SendRules(
            SendWindows.parse(self.window_edit.text(), zone),
            Caps(
                per_hour=self.cap_hour_spin.value() or None,
                per_day=self.cap_day_spin.value() or None,
                total=self.cap_total_spin.value() or None,
                per_country_day=parse_country_caps(self.cap_country_edit.text()),
            ),
        )

    def set_send_rules(self, rules: SendRules) -> None:
        self.window_edit.setText(rules.windows.describe())
        self.zone_combo.setCurrentText(rules.windows.time_zone)
        self.cap_hour_spin.setValue(rules.caps.per_hour or 0)
        self.cap_day_spin.setValue(rules.caps.per_day or 0)
        self.cap_total_spin.setValue(rules.caps.total or 0)
        self.cap_country_edit.setText(
            ", ".join(f"{code}:{cap}" for code, cap in rules.caps.per_country_day.items())
        )

    def _send_rule_problems(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {"window": [], "caps": []}
        try:
            zone = parse_time_zone(self.zone_combo.currentText())
            SendWindows.parse(self.window_edit.text(), zone)
        except InputError as error:
            found["window"].append(str(error))
        try:
            parse_country_caps(self.cap_country_edit.text())
        except InputError as error:
            found["caps"].append(str(error))
        return found

    def _build_test_tab(self) -> QWidget:
        """A test lead: the exact request the form would send, sent on request."""
        self.test_panel = OfferTestPanel(self.config, self._test_secrets)
        self.tabs.currentChanged.connect(self._tab_shown)
        return self.test_panel

    def _test_secrets(self, config: OfferConfig) -> dict[str, str]:
        with self._database.session() as session:
            return offer_test.secrets_for(session, self._offer_id, config, self.typed_secrets())

    @Slot(int)
    def _tab_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.test_panel:
            self.test_panel.refresh()

    def _connect_changes(self) -> None:
        for edit in (
            self.name_edit,
            self.url_edit,
            self.auth_name_edit,
            self.auth_secret_edit,
            self.proxy_edit,
            self.ca_bundle_edit,
            *self.answer_edits.values(),
        ):
            edit.textChanged.connect(self._changed)
        for combo in (self.method_combo, self.body_combo, self.auth_combo):
            combo.currentIndexChanged.connect(self._changed)
        for spin in (
            self.connect_timeout_spin,
            self.read_timeout_spin,
            self.outage_spin,
            self.password_length_spin,
        ):
            spin.valueChanged.connect(self._changed)
        for box in (self.plain_http_box, *self.password_boxes.values()):
            box.toggled.connect(self._changed)
        self.headers_table.changed.connect(self._changed)
        self.fields_table.changed.connect(self._changed)
        self._changed()

    # The form and the configuration --------------------------------------------------------

    def set_config(self, config: OfferConfig) -> None:
        """Show a configuration in every tab; secrets typed so far are cleared."""
        endpoint = config.endpoint
        self.url_edit.setText(endpoint.url)
        _select(self.method_combo, endpoint.method.value)
        _select(self.body_combo, endpoint.body_format.value)
        self.plain_http_box.setChecked(endpoint.allow_plain_http)
        _select(self.auth_combo, endpoint.auth.value)
        self.auth_name_edit.setText(endpoint.auth_name)
        self.auth_secret_edit.clear()
        stored_headers = {
            header.name
            for header in endpoint.headers
            if header_secret(header.name) in self._stored_secrets
        }
        self.headers_table.set_headers(endpoint.headers, stored_headers)
        self.connect_timeout_spin.setValue(endpoint.connect_timeout_s)
        self.read_timeout_spin.setValue(endpoint.read_timeout_s)
        self.proxy_edit.setText(endpoint.proxy_url)
        self.ca_bundle_edit.setText(endpoint.ca_bundle)
        self.outage_spin.setValue(round(config.outage_pause_after_min))
        self.fields_table.set_rules(config.fields)
        self.password_length_spin.setValue(config.password.length)
        for key, box in self.password_boxes.items():
            box.setChecked(getattr(config.password, key))
        for key, edit in self.answer_edits.items():
            edit.setText(getattr(config.response, key))
        _select(self.preset_combo, config.preset)
        self._preset = config.preset
        self.preset_note.setText(_preset_description(config.preset))

    def config(self) -> OfferConfig:
        """The configuration the form shows; never a secret."""
        url = self.url_edit.text().strip()
        endpoint = Endpoint(
            url=url,
            method=Method(self.method_combo.currentData()),
            body_format=BodyFormat(self.body_combo.currentData()),
            headers=self.headers_table.headers(),
            auth=AuthKind(self.auth_combo.currentData()),
            auth_name=self.auth_name_edit.text().strip(),
            connect_timeout_s=self.connect_timeout_spin.value(),
            read_timeout_s=self.read_timeout_spin.value(),
            proxy_url=self.proxy_edit.text().strip(),
            ca_bundle=self.ca_bundle_edit.text().strip(),
            allow_plain_http=self.plain_http_box.isChecked() and needs_plain_http_consent(url),
        )
        response = ResponseRules(
            **{f.name: self.answer_edits[f.name].text().strip() for f in fields(ResponseRules)}
        )
        password = PasswordRules(
            length=self.password_length_spin.value(),
            **{key: box.isChecked() for key, box in self.password_boxes.items()},
        )
        return OfferConfig(
            endpoint=endpoint,
            fields=self.fields_table.rules(),
            response=response,
            password=password,
            preset=self._preset,
            outage_pause_after_min=self.outage_spin.value(),
        )

    def typed_secrets(self) -> dict[str, str]:
        """The secrets typed in this editor, by the name they are kept under."""
        typed = {
            header_secret(name): value
            for name, value in self.headers_table.typed_secrets().items()
        }
        auth = AuthKind(self.auth_combo.currentData())
        if auth is not AuthKind.NONE and self.auth_secret_edit.text():
            typed[AUTH_SECRET] = self.auth_secret_edit.text()
        return typed

    # Reacting ------------------------------------------------------------------------------

    @Slot()
    def _changed(self) -> None:
        self._show_auth()
        self._show_plain_http()
        if self._tried_saving:
            self.validate()

    def _show_auth(self) -> None:
        kind = AuthKind(self.auth_combo.currentData())
        named = kind in AUTH_NAME_LABELS
        self._auth_form.setRowVisible(self.auth_name_edit, named)
        if named:
            label, placeholder = AUTH_NAME_LABELS[kind]
            self._auth_form.labelForField(self.auth_name_edit).setText(label)
            self.auth_name_edit.setPlaceholderText(placeholder)
        self._auth_form.setRowVisible(self.auth_secret_edit, kind is not AuthKind.NONE)
        if kind is not AuthKind.NONE:
            self._auth_form.labelForField(self.auth_secret_edit).setText(AUTH_SECRET_LABELS[kind])
            kept = AUTH_SECRET in self._stored_secrets
            self.auth_secret_edit.setPlaceholderText(
                KEPT_PLACEHOLDER if kept else SECRET_PLACEHOLDER
            )
        has_secret = kind is not AuthKind.NONE or any(
            header.secret for header in self.headers_table.headers()
        )
        in_keyring = offer_secrets.keyring_available()
        self.secret_place_label.setText(IN_KEYRING_TEXT if in_keyring else IN_DATA_FILE_TEXT)
        self.secret_place_label.setStyleSheet(KEPT_STYLE if in_keyring else WARNING_STYLE)
        self.secret_place_label.setVisible(has_secret)

    def _show_plain_http(self) -> None:
        needed = needs_plain_http_consent(self.url_edit.text())
        self.plain_http_box.setEnabled(needed)
        self.plain_http_note.setVisible(needed)

    @Slot()
    def _choose_ca_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a CA bundle",
            self.ca_bundle_edit.text(),
            "Certificates (*.pem *.crt *.cer);;All files (*)",
        )
        if path:
            self.ca_bundle_edit.setText(path)

    @Slot(int)
    def _preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if not name or (name == self._preset and not self._changed_since_baseline()):
            return
        if self._changed_since_baseline() and not self._overwrite_confirmed(name):
            _select(self.preset_combo, self._preset)
            return
        self.apply_preset(name)

    def apply_preset(self, name: str) -> None:
        """Fill the form from the named preset, keeping the URL typed so far."""
        preset = preset_by_name(name)
        self.set_config(preset.config_for(self.url_edit.text().strip()))
        self._baseline = self.config()

    def _changed_since_baseline(self) -> bool:
        now = self.config().with_url("")
        return now != self._baseline.with_url("") or bool(self.typed_secrets())

    def _overwrite_confirmed(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Apply preset",
            f"Replace what you changed with the preset '{preset_by_name(name).name}'? The URL "
            "is kept.",
        )
        return answer == QMessageBox.StandardButton.Yes

    # Checking and saving -------------------------------------------------------------------

    def validate(self) -> bool:
        """Show each problem beside its field; True when there is none."""
        found: dict[str, list[str]] = {place: [] for place in self.errors}
        try:
            directory.clean_name(self.name_edit.text(), "offer")
        except LeadDeskError as error:
            found["name"].append(str(error))
        config = self.config()
        try:
            directory.check_url(config.endpoint.url)
        except LeadDeskError as error:
            found["url"].append(str(error))
        for message in config.problems():
            place = problem_place(message)
            if not (place == "url" and found["url"]):
                found[place].append(message)
        for place, messages in self._send_rule_problems().items():
            found[place].extend(messages)
        for place, label in self.errors.items():
            _show(label, found[place])
        self._mark_tabs({PLACE_TABS[place] for place, messages in found.items() if messages})
        return not any(found.values())

    def _mark_tabs(self, tabs_with_problems: set[int]) -> None:
        bar = self.tabs.tabBar()
        for index in range(self.tabs.count()):
            color = Qt.GlobalColor.red if index in tabs_with_problems else Qt.GlobalColor.black
            bar.setTabTextColor(index, color)
        tabs_with_problems.discard(-1)
        if tabs_with_problems and self.tabs.currentIndex() not in tabs_with_problems:
            self.tabs.setCurrentIndex(min(tabs_with_problems))

    def accept(self) -> None:
        self._tried_saving = True
        if not self.validate():
            return
        try:
            self.saved_id = self._save()
        except OperationalError:
            log.warning("The offer editor could not save: the data file is busy", exc_info=True)
            _show(self.errors["general"], [BUSY])
            return
        except LeadDeskError as error:
            place = "name" if "offer named" in str(error) else "general"
            _show(self.errors[place], [str(error)])
            return
        self.saved.emit(self.saved_id)
        if self._secrets_fell_back:
            QMessageBox.warning(self, "Secrets kept in the data file", KEYRING_FAILED_TEXT)
        super().accept()

    def _save(self) -> int:
        config = self.config()
        name, url = self.name_edit.text(), config.endpoint.url
        product_id = self.product_combo.currentData()
        with self._database.writer() as session:
            if self._offer_id is None:
                offer = directory.add_offer(session, name, url, product_id, config)
            else:
                offer = directory.update_offer(
                    session, self._offer_id, name, url, product_id, config
                )
            directory.set_offer_send_rules(session, offer.id, self.send_rules())
            expected = offer_secrets.where_kept()
            for secret_name, value in self.typed_secrets().items():
                kept = offer_secrets.store(session, offer.id, secret_name, value)
                self._secrets_fell_back |= kept != expected
            unused = self._old_secret_names - set(config.secret_names())
            if unused:
                offer_secrets.forget(session, offer.id, sorted(unused))
            session.commit()
            return offer.id
