"""The dialog that creates a distribution, over a real data file."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from sqlalchemy import func, select, update

from leaddesk.core.caps import Caps
from leaddesk.core.lead_import import ImportResult
from leaddesk.core.pacing import PeriodUnit
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.status import DeliveryState, Status
from leaddesk.services import directory, lead_lists
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Delivery, Distribution
from leaddesk.ui.create_dialog import CreateDistributionDialog

OFFER_URL = "https://advertiser.example/leads"


@pytest.fixture
def ready(make_list, make_offer) -> dict[str, int]:
    """A list of 100 leads, one of 10, and an affiliate with an offer."""
    affiliate_id, offer_id = make_offer(OFFER_URL)
    return {
        "big": make_list("Victor list", 100),
        "small": make_list("Small list", 10),
        "affiliate": affiliate_id,
        "offer": offer_id,
    }


def open_dialog(qtbot, database) -> CreateDistributionDialog:
    dialog = CreateDistributionDialog(database)
    qtbot.addWidget(dialog)
    return dialog


def choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def message(dialog: CreateDistributionDialog, field: str) -> str:
    label = dialog.errors[field]
    return "" if label.isHidden() else label.text()


def click_apply(qtbot, dialog: CreateDistributionDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Apply)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def distribution_count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Distribution))


# The estimate ------------------------------------------------------------------------------


def test_estimate_follows_unit_value_and_list(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)
    choose(dialog.list_combo, ready["big"])
    choose(dialog.unit_combo, PeriodUnit.MINUTES)
    dialog.value_spin.setValue(1)
    assert dialog.estimate_label.text() == "Estimated time to send 100 leads: 1 h 39 min"

    dialog.value_spin.setValue(2)
    assert dialog.estimate_label.text() == "Estimated time to send 100 leads: 3 h 18 min"

    choose(dialog.unit_combo, PeriodUnit.SECONDS)
    assert dialog.estimate_label.text() == "Estimated time to send 100 leads: 3 min 18 s"

    choose(dialog.unit_combo, PeriodUnit.DAYS)
    assert dialog.estimate_label.text() == "Estimated time to send 100 leads: 198 d"

    choose(dialog.list_combo, ready["small"])
    choose(dialog.unit_combo, PeriodUnit.HOURS)
    assert dialog.estimate_label.text() == "Estimated time to send 10 leads: 18 h"


def test_estimate_is_red(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)
    dialog.show()
    qtbot.waitExposed(dialog)

    color = dialog.estimate_label.palette().color(QPalette.ColorRole.WindowText)

    assert "color" in dialog.estimate_label.styleSheet()
    assert color.red() > 150 and color.green() < 100 and color.blue() < 100


def test_one_lead_leaves_at_once(qtbot, database, make_list, make_offer):
    make_offer(OFFER_URL)
    make_list("Single", 1)

    dialog = open_dialog(qtbot, database)

    assert dialog.estimate_label.text() == "Estimated time to send 1 lead: at once"


# The choices -------------------------------------------------------------------------------


def test_choices_show_lead_counts_and_products(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)

    lists = {dialog.list_combo.itemText(i) for i in range(dialog.list_combo.count())}
    assert lists == {"Victor list (100 leads)", "Small list (10 leads)"}
    assert dialog.offer_combo.currentText() == "Solar (Energy)"
    assert dialog.affiliate_combo.currentText() == "North"
    assert dialog.value_spin.minimum() == 1 and dialog.value_spin.maximum() == 100_000
    units = [dialog.unit_combo.itemText(i) for i in range(dialog.unit_combo.count())]
    assert units == ["Seconds", "Minutes", "Hours", "Days"]
    assert dialog.title_edit.placeholderText() == "Only managers see it"


def test_an_empty_data_file_says_what_to_do_first(qtbot, database):
    dialog = open_dialog(qtbot, database)

    assert dialog.list_combo.currentText() == "No lead lists yet"
    assert not dialog.list_combo.isEnabled()
    assert message(dialog, "lead_list") == "Import a lead list first on the Lead lists page."
    assert "Add an affiliate first" in message(dialog, "affiliate")
    assert "Add an offer first" in message(dialog, "offer")
    assert dialog.estimate_label.text() == "Estimated time to send: choose a lead list."

    dialog.title_edit.setText("Anything")
    click_apply(qtbot, dialog)

    assert message(dialog, "lead_list") == "Import a lead list first on the Lead lists page."
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert distribution_count(database) == 0


# Validation --------------------------------------------------------------------------------


def test_a_title_is_required(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)
    dialog.title_edit.setText("   ")

    click_apply(qtbot, dialog)

    assert message(dialog, "title") == "Give the distribution a title."
    assert message(dialog, "lead_list") == ""
    assert distribution_count(database) == 0

    qtbot.keyClicks(dialog.title_edit, "Now named")
    assert message(dialog, "title") == ""


def test_an_empty_list_is_refused(qtbot, database, make_offer):
    make_offer(OFFER_URL)
    with database.writer() as session:
        empty = ImportResult(0, [], [], "utf-8", ",", {})
        lead_lists.store_list(session, "Nobody", empty, "Dana", "empty.csv")
        session.commit()
    dialog = open_dialog(qtbot, database)
    dialog.title_edit.setText("Try")

    click_apply(qtbot, dialog)

    assert dialog.list_combo.currentText() == "Nobody (0 leads)"
    assert message(dialog, "lead_list") == "This lead list is empty."
    assert distribution_count(database) == 0


def test_a_missing_affiliate_and_offer_are_named(qtbot, database, make_list):
    make_list("Victor list", 3)
    dialog = open_dialog(qtbot, database)
    dialog.title_edit.setText("Try")

    click_apply(qtbot, dialog)

    assert message(dialog, "lead_list") == ""
    assert message(dialog, "affiliate") == "Add an affiliate first on the Directory page."
    assert message(dialog, "offer") == "Add an offer first on the Directory page."
    assert distribution_count(database) == 0


@pytest.mark.parametrize("text", ["language", "affiliate_id=7", "bad name=1"])
def test_a_bad_data_setting_is_explained_beside_it(qtbot, database, ready, text):
    dialog = open_dialog(qtbot, database)
    dialog.title_edit.setText("Try")

    qtbot.keyClicks(dialog.data_setting_edit, text)
    assert message(dialog, "data_setting") != ""

    click_apply(qtbot, dialog)
    assert message(dialog, "data_setting") != ""
    assert distribution_count(database) == 0

    dialog.data_setting_edit.setText("language=de")
    assert message(dialog, "data_setting") == ""


# Creating ----------------------------------------------------------------------------------


def test_apply_creates_an_active_distribution_with_every_lead_queued(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)
    qtbot.keyClicks(dialog.title_edit, "Spring push")
    choose(dialog.unit_combo, PeriodUnit.SECONDS)
    dialog.value_spin.setValue(30)
    choose(dialog.list_combo, ready["big"])
    dialog.data_setting_edit.setText("language=de, source=spring")

    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        click_apply(qtbot, dialog)

    assert dialog.created_id is not None
    with database.session() as session:
        created = session.get_one(Distribution, dialog.created_id)
        states = session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.distribution_id == created.id)
            .group_by(Delivery.state)
        ).all()
        assert created.title == "Spring push"
        assert Status(created.status) is Status.ACTIVE
        assert (created.period_unit, created.period_value) == ("seconds", 30)
        assert created.lead_list_id == ready["big"]
        assert created.affiliate_id == ready["affiliate"]
        assert created.offer_id == ready["offer"]
        assert created.fixed_fields == {"language": "de", "source": "spring"}
    assert states == [(DeliveryState.QUEUED.value, 100)]


def test_cancel_creates_nothing(qtbot, database, ready):
    dialog = open_dialog(qtbot, database)
    dialog.title_edit.setText("Never")

    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()

    assert dialog.created_id is None
    assert distribution_count(database) == 0


# Leads already sent to the offer ----------------------------------------------------------


def test_leads_already_sent_are_left_out_unless_sent_anyway(qtbot, database, ready):
    with database.writer() as session:
        from leaddesk.services import distributions

        first = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title="Before",
                lead_list_id=ready["small"],
                affiliate_id=ready["affiliate"],
                offer_id=ready["offer"],
                interval=distributions.SendInterval(1, PeriodUnit.MINUTES),
                fixed_fields={},
            ),
        )
        session.flush()
        ids = session.scalars(
            select(Delivery.id).where(Delivery.distribution_id == first.id).limit(4)
        ).all()
        session.execute(
            update(Delivery).where(Delivery.id.in_(ids)).values(state=DeliveryState.ACCEPTED.value)
        )
        session.commit()

    dialog = open_dialog(qtbot, database)
    dialog.show()
    qtbot.waitExposed(dialog)
    choose(dialog.list_combo, ready["small"])
    choose(dialog.unit_combo, PeriodUnit.HOURS)

    assert dialog.repeats_label.isVisible() and dialog.repeats_check.isVisible()
    assert dialog.repeats_label.text() == (
        "4 of these leads were already sent to this offer; they will be left out."
    )
    assert dialog.estimate_label.text() == "Estimated time to send 6 leads: 5 h"
    dialog.repeats_check.setChecked(True)
    assert dialog.estimate_label.text() == "Estimated time to send 10 leads: 9 h"
    dialog.repeats_check.setChecked(False)

    dialog.title_edit.setText("Again")
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        click_apply(qtbot, dialog)
    with database.session() as session:
        created = session.get_one(Distribution, dialog.created_id)
        queued = session.scalar(select(func.count()).where(Delivery.distribution_id == created.id))
    assert (created.total, queued) == (6, 6)


# Send windows and caps ---------------------------------------------------------------------

MONDAY_8_IN_BERLIN = datetime(2026, 12, 7, 7, 0)


def rules_dialog(qtbot, database) -> CreateDistributionDialog:
    dialog = CreateDistributionDialog(database, clock=lambda: MONDAY_8_IN_BERLIN)
    qtbot.addWidget(dialog)
    return dialog


def test_the_estimate_names_the_window_and_the_cap_it_accounts_for(qtbot, database, ready):
    dialog = rules_dialog(qtbot, database)
    choose(dialog.list_combo, ready["big"])
    choose(dialog.unit_combo, PeriodUnit.MINUTES)
    dialog.value_spin.setValue(1)

    qtbot.keyClicks(dialog.window_edit, "mon-fri 09:00-18:00")
    dialog.zone_combo.setCurrentText("Europe/Berlin")
    dialog.cap_day_spin.setValue(40)

    # 40 leads from 09:00 on Monday and on Tuesday, the last 20 on Wednesday up to 09:19.
    assert dialog.estimate_label.text() == (
        "Estimated time to send 100 leads: 2 d 1 h, sending mon-fri 09:00-18:00 "
        "Europe/Berlin, 40 a day"
    )


def test_an_offers_rules_are_shown_and_counted(qtbot, database, ready):
    with database.writer() as session:
        directory.set_offer_send_rules(
            session,
            ready["offer"],
            SendRules(SendWindows.parse("daily 10:00-12:00", "Asia/Tokyo"), Caps(per_hour=30)),
        )
        session.commit()

    dialog = rules_dialog(qtbot, database)
    choose(dialog.list_combo, ready["small"])

    assert dialog.offer_rules_label.text() == (
        "The offer sends daily 10:00-12:00 Asia/Tokyo, 30 an hour."
    )
    assert dialog.zone_combo.currentText() == "Asia/Tokyo"
    assert dialog.estimate_label.text() == (
        "Estimated time to send 10 leads: 18 h 9 min, sending 10:00-12:00 Asia/Tokyo, 30 an hour"
    )


def test_a_wrong_window_is_explained_beside_it_and_creates_nothing(qtbot, database, ready):
    dialog = rules_dialog(qtbot, database)
    dialog.title_edit.setText("Night shift")
    qtbot.keyClicks(dialog.window_edit, "weekdays 9 to 5")

    click_apply(qtbot, dialog)

    assert "is not a day" in message(dialog, "window")
    assert dialog.estimate_label.text() == "Estimated time to send: correct the send rules."
    assert distribution_count(database) == 0


def test_spreading_over_the_window_picks_the_pace_and_keeps_the_rules(qtbot, database, ready):
    dialog = rules_dialog(qtbot, database)
    dialog.title_edit.setText("Office hours")
    choose(dialog.list_combo, ready["big"])
    dialog.window_edit.setText("mon-fri 09:00-18:00")
    dialog.zone_combo.setCurrentText("Europe/Berlin")
    dialog.cap_hour_spin.setValue(20)
    dialog.spread_check.setChecked(True)
    dialog.per_day_spin.setValue(100)

    assert not dialog.value_spin.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        click_apply(qtbot, dialog)

    with database.session() as session:
        created = session.get_one(Distribution, dialog.created_id)
        # Nine open hours a day for 100 leads: one every 324 seconds.
        assert (created.period_unit, created.period_value) == ("seconds", 324)
        assert SendRules.from_json(created.send_rules) == SendRules(
            SendWindows.parse("mon-fri 09:00-18:00", "Europe/Berlin"), Caps(per_hour=20)
        )
