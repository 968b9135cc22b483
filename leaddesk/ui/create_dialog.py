"""The dialog that creates a distribution: a list, an offer, an affiliate and a pace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from leaddesk.core import schedule
from leaddesk.core.caps import Caps
from leaddesk.core.clock import utc_now
from leaddesk.core.data_setting import parse_fixed_fields
from leaddesk.core.durations import format_duration
from leaddesk.core.pacing import MAX_INTERVAL_S, PeriodUnit, SendInterval, estimated_total_seconds
from leaddesk.core.schedule import spread_interval
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.time_zones import parse_time_zone
from leaddesk.errors import InputError, LeadDeskError
from leaddesk.services.directory import all_of
from leaddesk.services.distributions import (
    FormErrors,
    NewDistribution,
    check_new_distribution,
    count_already_sent,
    create_distribution,
)
from leaddesk.services.lead_lists import list_summaries
from leaddesk.services.send_rules import EffectiveRules, SendRules, effective_rules
from leaddesk.storage.database import Database
from leaddesk.storage.models import Affiliate, Offer
from leaddesk.ui.send_rule_widgets import CAP_MAX, cap_spin, time_zone_combo

log = logging.getLogger(__name__)

ERROR_COLOR = "#c62828"
VALUE_MAX = 100_000
DEFAULT_UNIT = PeriodUnit.MINUTES
NO_LISTS = "Import a lead list first on the Lead lists page."
NO_AFFILIATES = "Add an affiliate first on the Directory page."
NO_OFFERS = "Add an offer first on the Directory page."
DEFAULT_PER_DAY = 100
BUSY = "The data file is busy, so the distribution was not created. Try again in a moment."


def leads_text(count: int) -> str:
    return f"{count} lead" if count == 1 else f"{count} leads"


def repeats_text(count: int) -> str:
    """What happens to the leads of a list already sent to the chosen offer."""
    were = "lead was" if count == 1 else "leads were"
    it = "it" if count == 1 else "they"
    return f"{count} of these {were} already sent to this offer; {it} will be left out."


def estimate_text(
    lead_count: int | None,
    interval: SendInterval,
    rules: EffectiveRules | None = None,
    start_at: datetime | None = None,
) -> str:
    """`Estimated time to send 100 leads: 1 h 39 min`, naming any windows and caps."""
    if lead_count is None:
        return "Estimated time to send: choose a lead list."
    if rules is not None and not rules.unlimited and lead_count:
        start_at = start_at or utc_now()
        found = schedule.estimate(lead_count, start_at, rules.plan(interval.seconds))
        return f"Estimated time to send {leads_text(lead_count)}: {found.description}"
    seconds = estimated_total_seconds(lead_count, interval.seconds)
    duration = format_duration(seconds) if seconds else "at once"
    return f"Estimated time to send {leads_text(lead_count)}: {duration}"


class CreateDistributionDialog(QDialog):
    """Asks for what a new distribution sends, where and how fast, then creates it."""

    def __init__(
        self,
        database: Database,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New distribution")
        self._database = database
        # Estimates with windows and caps depend on when sending starts: now, by this clock.
        self._clock = clock
        self.created_id: int | None = None
        self._lead_counts: dict[int, int] = {}
        self.errors: dict[str, QLabel] = {}

        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("Only managers see it")
        self.title_edit.setMaxLength(200)
        self.unit_combo = QComboBox()
        for unit in PeriodUnit:
            self.unit_combo.addItem(unit.label, unit)
        self.unit_combo.setCurrentIndex(self.unit_combo.findData(DEFAULT_UNIT))
        self.value_spin = QSpinBox()
        self.value_spin.setRange(1, VALUE_MAX)
        self.list_combo = QComboBox()
        self.affiliate_combo = QComboBox()
        self.offer_combo = QComboBox()
        self.data_setting_edit = QLineEdit()
        self.data_setting_edit.setPlaceholderText("language=de, source=spring (optional)")
        self.offer_rules_label = QLabel()
        self.offer_rules_label.setWordWrap(True)
        self.window_edit = QLineEdit()
        self.window_edit.setPlaceholderText("the offer's, or any time; e.g. mon-fri 09:00-18:00")
        self.zone_combo = time_zone_combo()
        self.cap_day_spin = cap_spin("no daily cap", " a day")
        self.cap_hour_spin = cap_spin("no hourly cap", " an hour")
        self.spread_check = QCheckBox("Spread over the send window instead:")
        self.per_day_spin = QSpinBox()
        self.per_day_spin.setRange(1, CAP_MAX)
        self.per_day_spin.setValue(DEFAULT_PER_DAY)
        self.per_day_spin.setSuffix(" leads a day")
        self.per_day_spin.setEnabled(False)
        self._offer_rules: dict[int, dict] = {}
        self.repeats_label = QLabel()
        self.repeats_label.setWordWrap(True)
        self.repeats_check = QCheckBox("Send them anyway")
        self._repeats: dict[tuple[int, int], int] = {}
        self.estimate_label = QLabel()
        # With windows and caps named, the estimate can be longer than the dialog is wide.
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
        )

        self._lay_out()
        self._fill_choices()
        self._connect()
        self._show_offer_rules()
        self._update_repeats()

    # Building ------------------------------------------------------------------------------

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        rows = (
            ("title", "Title", self.title_edit),
            ("unit", "Period unit", self.unit_combo),
            ("value", "Value", self.value_spin),
            ("lead_list", "Lead list", self.list_combo),
            ("affiliate", "Affiliate", self.affiliate_combo),
            ("offer", "Offer", self.offer_combo),
            ("data_setting", "Data setting", self.data_setting_edit),
        )
        narrow = (self.unit_combo, self.value_spin)
        for name, label, field in rows:
            form.addRow(label, self._with_error(name, field, wide=field not in narrow))
        spread = QHBoxLayout()
        spread.addWidget(self.spread_check)
        spread.addWidget(self.per_day_spin)
        spread.addStretch()
        rules = QGroupBox("When and how much (optional)")
        rules_form = QFormLayout(rules)
        rules_form.addRow(self.offer_rules_label)
        rules_form.addRow("Send window", self._with_error("window", self.window_edit, wide=True))
        rules_form.addRow("Time zone", self._with_error("zone", self.zone_combo, wide=True))
        caps = QHBoxLayout()
        caps.addWidget(self.cap_day_spin)
        caps.addWidget(self.cap_hour_spin)
        caps.addStretch()
        rules_form.addRow("Caps", caps)
        rules_form.addRow("Pace", spread)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(rules)
        layout.addWidget(self.repeats_label)
        layout.addWidget(self.repeats_check)
        layout.addWidget(self.estimate_label)
        layout.addWidget(self._error_label("form"))
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def _error_label(self, name: str) -> QLabel:
        """A red message, hidden while there is nothing to say."""
        error = QLabel()
        error.setObjectName(f"{name}_error")
        error.setStyleSheet(f"color: {ERROR_COLOR};")
        error.setWordWrap(True)
        error.hide()
        self.errors[name] = error
        return error

    def _with_error(self, name: str, field: QWidget, wide: bool) -> QWidget:
        """The field with its message under it, both as wide as the form allows."""
        error = self._error_label(name)
        box = QWidget()
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if wide:
            column.addWidget(field)
        else:
            column.addWidget(field, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(error)
        return box

    def _fill_choices(self) -> None:
        with self._database.session() as session:
            lists = list_summaries(session)
            affiliates = [(a.id, a.name) for a in all_of(session, Affiliate)]
            offers = [
                (o.id, f"{o.name} ({o.product.name})" if o.product else o.name)
                for o in all_of(session, Offer)
            ]
            offer_rules = {o.id: dict(o.send_rules or {}) for o in all_of(session, Offer)}
        self._lead_counts = {summary.id: summary.lead_count for summary in lists}
        _fill(
            self.list_combo,
            [(s.id, f"{s.title} ({leads_text(s.lead_count)})") for s in lists],
            "No lead lists yet",
        )
        _fill(self.affiliate_combo, affiliates, "No affiliates yet")
        _fill(self.offer_combo, offers, "No offers yet")
        self._offer_rules = offer_rules
        self._show_missing_choices()

    def _show_missing_choices(self) -> None:
        for name, combo, message in (
            ("lead_list", self.list_combo, NO_LISTS),
            ("affiliate", self.affiliate_combo, NO_AFFILIATES),
            ("offer", self.offer_combo, NO_OFFERS),
        ):
            if combo.currentData() is None:
                self.show_error(name, message)

    def _connect(self) -> None:
        self.unit_combo.currentIndexChanged.connect(self._limit_value)
        self.unit_combo.currentIndexChanged.connect(self._update_estimate)
        self.value_spin.valueChanged.connect(self._update_estimate)
        self.list_combo.currentIndexChanged.connect(self._update_repeats)
        self.offer_combo.currentIndexChanged.connect(self._update_repeats)
        self.repeats_check.toggled.connect(self._update_estimate)
        self.title_edit.textChanged.connect(lambda: self.show_error("title", ""))
        self.list_combo.currentIndexChanged.connect(lambda: self.show_error("lead_list", ""))
        self.affiliate_combo.currentIndexChanged.connect(lambda: self.show_error("affiliate", ""))
        self.offer_combo.currentIndexChanged.connect(lambda: self.show_error("offer", ""))
        self.data_setting_edit.textChanged.connect(self._check_data_setting)
        self.offer_combo.currentIndexChanged.connect(self._show_offer_rules)
        for signal in (
            self.window_edit.textChanged,
            self.zone_combo.currentTextChanged,
            self.cap_day_spin.valueChanged,
            self.cap_hour_spin.valueChanged,
            self.per_day_spin.valueChanged,
            self.spread_check.toggled,
        ):
            signal.connect(self._update_estimate)
        self.spread_check.toggled.connect(self._spread_toggled)
        apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        apply_button.setDefault(True)
        apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

    # Reading the form ----------------------------------------------------------------------

    def interval(self) -> SendInterval:
        """The chosen pace, or the one spreading the leads a day over the window."""
        if self.spread_check.isChecked():
            rules = self.effective_rules()
            windows = rules.windows if rules is not None else SendWindows()
            return spread_interval(windows, self.per_day_spin.value())
        # A combo box hands back an enum member it was given as its plain string.
        unit = PeriodUnit(self.unit_combo.currentData())
        return SendInterval(self.value_spin.value(), unit)

    def send_rules(self) -> SendRules:
        """This distribution's own windows and caps, as the form gives them."""
        zone = parse_time_zone(self.zone_combo.currentText())
        text = self.window_edit.text().strip()
        # Without a window of its own, the offer's holds on the advertiser's clock.
        windows = SendWindows.parse(text, zone) if text else SendWindows()
        caps = Caps(
            per_day=self.cap_day_spin.value() or None,
            per_hour=self.cap_hour_spin.value() or None,
        )
        return SendRules(windows, caps)

    def effective_rules(self) -> EffectiveRules | None:
        """What will hold for the distribution; None while the form's rules are not valid."""
        offer_id = self.offer_combo.currentData()
        try:
            own = self.send_rules()
        except InputError:
            return None
        return effective_rules(offer_id or 0, self._offer_rules.get(offer_id), own.to_json())

    def _offer_send_rules(self) -> SendRules:
        return SendRules.from_json(self._offer_rules.get(self.offer_combo.currentData()))

    def lead_count(self) -> int | None:
        """How many leads the distribution will send: repeats only when asked for."""
        lead_list_id = self.list_combo.currentData()
        if lead_list_id is None:
            return None
        count = self._lead_counts.get(lead_list_id, 0)
        return count if self.repeats_check.isChecked() else count - self.repeat_count()

    def repeat_count(self) -> int:
        """How many leads of the chosen list were already sent to the chosen offer."""
        lead_list_id, offer_id = self.list_combo.currentData(), self.offer_combo.currentData()
        if lead_list_id is None or offer_id is None:
            return 0
        if (lead_list_id, offer_id) not in self._repeats:
            with self._database.session() as session:
                count = count_already_sent(session, lead_list_id, offer_id)
            self._repeats[(lead_list_id, offer_id)] = count
        return self._repeats[(lead_list_id, offer_id)]

    def fixed_fields(self) -> dict[str, str]:
        return parse_fixed_fields([self.data_setting_edit.text()])

    def show_error(self, name: str, message: str) -> None:
        label = self.errors[name]
        label.setText(message)
        label.setVisible(bool(message))
        # A wrapped label does not ask its layout for the height of its lines by itself.
        width = label.width() if label.width() > 1 else self.minimumWidth()
        label.setMinimumHeight(label.heightForWidth(width) if message else 0)
        if self.height() < self.minimumSizeHint().height():
            self.resize(self.width(), self.minimumSizeHint().height())

    @Slot()
    def _limit_value(self) -> None:
        """Keep the value within the slowest pace LeadDesk allows, in the chosen unit."""
        unit = PeriodUnit(self.unit_combo.currentData())
        self.value_spin.setMaximum(min(VALUE_MAX, MAX_INTERVAL_S // unit.seconds))

    @Slot()
    def _update_repeats(self) -> None:
        count = self.repeat_count()
        self.repeats_label.setText(repeats_text(count))
        self.repeats_label.setVisible(count > 0)
        self.repeats_check.setVisible(count > 0)
        self._update_estimate()

    @Slot()
    def _update_estimate(self) -> None:
        if not self._check_rules():
            self.estimate_label.setText("Estimated time to send: correct the send rules.")
            return
        self.estimate_label.setText(
            estimate_text(
                self.lead_count(), self.interval(), self.effective_rules(), self._clock()
            )
        )

    def _check_rules(self) -> bool:
        """Show what is wrong with the window or the time zone beside it."""
        self.show_error("window", "")
        self.show_error("zone", "")
        try:
            parse_time_zone(self.zone_combo.currentText())
        except InputError as error:
            self.show_error("zone", str(error))
            return False
        try:
            self.send_rules()
        except InputError as error:
            self.show_error("window", str(error))
            return False
        return True

    @Slot()
    def _show_offer_rules(self) -> None:
        rules = self._offer_send_rules()
        described = rules.describe()
        self.offer_rules_label.setText(
            f"The offer sends {described}." if described else "The offer sends at any time."
        )
        # The advertiser's zone is the offer's; a distribution rarely needs another.
        self.zone_combo.setCurrentText(rules.windows.time_zone)
        self._update_estimate()

    @Slot(bool)
    def _spread_toggled(self, spread: bool) -> None:
        self.per_day_spin.setEnabled(spread)
        self.unit_combo.setEnabled(not spread)
        self.value_spin.setEnabled(not spread)

    def _check_data_setting(self) -> dict[str, str] | None:
        try:
            fields = self.fixed_fields()
        except InputError as error:
            self.show_error("data_setting", str(error))
            return None
        self.show_error("data_setting", "")
        return fields

    # Creating ------------------------------------------------------------------------------

    def apply(self) -> None:
        """Check every field, and create the distribution if all are right."""
        fixed_fields = self._check_data_setting()
        if not self._check_rules():
            return
        new = NewDistribution(
            title=self.title_edit.text(),
            lead_list_id=self.list_combo.currentData(),
            affiliate_id=self.affiliate_combo.currentData(),
            offer_id=self.offer_combo.currentData(),
            interval=self.interval(),
            fixed_fields=fixed_fields or {},
            include_repeats=self.repeats_check.isChecked(),
            send_rules=self.send_rules(),
        )
        with self._database.session() as session:
            problems = check_new_distribution(session, new)
        self.show_error("form", "")
        self._show_problems(problems)
        if problems or fixed_fields is None:
            return
        try:
            self.created_id = self._create(new)
        except FormErrors as error:
            self._show_problems(error.problems)
            return
        except LeadDeskError as error:
            self.show_error("form", str(error))
            return
        except OperationalError as error:
            log.warning("Creating a distribution failed: %s", error)
            self.show_error("form", BUSY)
            return
        self.accept()

    def _create(self, new: NewDistribution) -> int:
        with self._database.writer() as session:
            distribution = create_distribution(session, new)
            session.commit()
            return distribution.id

    def _show_problems(self, problems: dict[str, str]) -> None:
        for name in ("title", "lead_list", "affiliate", "offer"):
            self.show_error(name, problems.get(name, ""))
        self._show_missing_choices()


def _fill(combo: QComboBox, choices: list[tuple[int, str]], placeholder: str) -> None:
    """Choices as (id, text); with none, a placeholder whose data is None."""
    combo.clear()
    if not choices:
        combo.addItem(placeholder, None)
        combo.setEnabled(False)
        return
    for choice_id, text in choices:
        combo.addItem(text, choice_id)
