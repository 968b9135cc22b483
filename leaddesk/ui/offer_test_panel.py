"""The offer editor's Test tab: the exact request for a test lead, sent on request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.offer_config import OfferConfig
from leaddesk.core.offer_request import OutgoingRequest
from leaddesk.errors import LeadDeskError
from leaddesk.services import offer_test
from leaddesk.services.offer_test import SentTestLead

log = logging.getLogger(__name__)

SAMPLE_SHOWN = ("first_name", "last_name", "email", "phone", "country", "ip", "sub_id1")
SAMPLE_LABELS = {
    "first_name": "First name:",
    "last_name": "Last name:",
    "email": "E-mail:",
    "phone": "Phone:",
    "country": "Country:",
    "ip": "IP address:",
    "sub_id1": "Sub-id 1:",
}
ANSWER_MAX_HEIGHT_PX = 140
SAMPLE_MAX_WIDTH_PX = 340
NOTE = (
    "A made-up test lead, sent only when you press Send. Change its fields to what the "
    "advertiser accepts for tests. Secrets are masked in the request shown here."
)
RESULT_COLORS = {
    "Accepted": "#2e7d32",
    "Duplicate": "#c2410c",
    "Not sent": "#c62828",
    "Failed": "#c62828",
}
OTHER_RESULT_COLOR = "#c62828"


def _send_in_background(
    request: OutgoingRequest, config: OfferConfig, deliver: Callable[[object], None]
) -> None:
    """Send the test on a thread of its own; an editor closed meanwhile does not wait for it."""

    def run() -> None:
        try:
            result = offer_test.send(request, config)
        except Exception:
            log.exception("Sending a test lead failed unexpectedly")
            result = None
        try:
            deliver(result)
        except RuntimeError:
            # The editor was closed while the advertiser answered: nobody is left to tell.
            log.info("A test lead's answer arrived after its editor closed")

    threading.Thread(target=run, name="test-lead", daemon=True).start()


class OfferTestPanel(QWidget):
    """Shows the request the offer's form would send for a test lead, and sends it."""

    sent = Signal(object)
    # Carries the answer from the sending thread to this widget's thread.
    _answered = Signal(object)

    def __init__(
        self,
        config_source: Callable[[], OfferConfig],
        secrets_source: Callable[[OfferConfig], dict[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config_source = config_source
        self._secrets_source = secrets_source
        self._sending = False
        self._answered.connect(self._show_result)
        self.sample_edits: dict[str, QLineEdit] = {}
        self._build()

    def _build(self) -> None:
        note = QLabel(NOTE)
        note.setWordWrap(True)
        form = QFormLayout()
        for name in SAMPLE_SHOWN:
            edit = QLineEdit(offer_test.SAMPLE_FIELDS[name])
            edit.textChanged.connect(self.refresh)
            self.sample_edits[name] = edit
            form.addRow(SAMPLE_LABELS[name], edit)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.request_view = QPlainTextEdit()
        self.request_view.setReadOnly(True)
        self.request_view.setFont(fixed)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {OTHER_RESULT_COLOR};")
        self.send_button = QPushButton("Send test lead…")
        self.send_button.clicked.connect(self.ask_and_send)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.answer_view = QPlainTextEdit()
        self.answer_view.setReadOnly(True)
        self.answer_view.setFont(fixed)
        self.answer_view.setPlaceholderText("The advertiser's answer shows here.")
        # The request is what the manager checks most; the answer is short.
        self.answer_view.setMaximumHeight(ANSWER_MAX_HEIGHT_PX)

        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addStretch(1)
        sample = QWidget()
        sample.setFixedWidth(SAMPLE_MAX_WIDTH_PX)
        sample.setLayout(form)
        request_column = QVBoxLayout()
        request_column.addWidget(QLabel("The request:"))
        request_column.addWidget(self.request_view, 1)
        side_by_side = QHBoxLayout()
        side_by_side.addWidget(sample)
        side_by_side.addLayout(request_column, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(side_by_side, 1)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)
        layout.addWidget(self.result_label)
        layout.addWidget(self.answer_view)

    def sample_fields(self) -> dict[str, str]:
        return {name: edit.text().strip() for name, edit in self.sample_edits.items()}

    def request(self) -> tuple[OutgoingRequest | None, OfferConfig]:
        """The request for the test lead, or None with the reason shown."""
        config = self._config_source()
        sample = self.sample_fields()
        try:
            request = offer_test.prepare(config, self._secrets_source(config), sample)
        except LeadDeskError as error:
            self.problem_label.setText(f"The request cannot be made yet: {error}")
            return None, config
        self.problem_label.setText("")
        return request, config

    @Slot()
    def refresh(self) -> None:
        request, _config = self.request()
        self.request_view.setPlainText(request.preview() if request is not None else "")
        self.send_button.setEnabled(request is not None and not self._sending)

    @Slot()
    def ask_and_send(self) -> None:
        request, config = self.request()
        if request is None:
            return
        answer = QMessageBox.question(
            self,
            "Send test lead",
            f"Send this test lead to {request.host} now? The advertiser receives it as a real "
            "request; it is not recorded in any distribution.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.send_now(request, config)

    def send_now(self, request: OutgoingRequest, config: OfferConfig) -> None:
        self._sending = True
        self.send_button.setEnabled(False)
        self.result_label.setText(f"Sending to {request.host}…")
        self.result_label.setStyleSheet("")
        self.answer_view.setPlainText("")
        _send_in_background(request, config, self._answered.emit)

    @Slot(object)
    def _show_result(self, result: SentTestLead | None) -> None:
        self._sending = False
        self.send_button.setEnabled(True)
        if result is None:
            self.result_label.setText("Sending failed unexpectedly; the details are in the log.")
            self.result_label.setStyleSheet(f"color: {OTHER_RESULT_COLOR};")
            self.sent.emit(None)
            return
        color = RESULT_COLORS.get(result.label, OTHER_RESULT_COLOR)
        self.result_label.setText("\n".join(result.lines()))
        self.result_label.setStyleSheet(f"color: {color};")
        self.answer_view.setPlainText(result.answer)
        self.sent.emit(result)
