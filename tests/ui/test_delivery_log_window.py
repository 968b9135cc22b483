"""The delivery log window over a real data file, opened from the Distributions page."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import select

from leaddesk.core.clock import to_local, utc_now
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.services import deliveries, directory, distributions, lead_lists
from leaddesk.services.deliveries import Outcome
from leaddesk.services.delivery_log import LogColumn
from leaddesk.storage.models import Delivery, Distribution
from leaddesk.ui.app import create_main_window
from leaddesk.ui.delivery_log import DeliveryLogDialog
from leaddesk.ui.distributions_page import DistributionsPage
from leaddesk.ui.main_window import CloseChoice

OFFER_URL = "http://127.0.0.1:9/leads"
SEND_TIMEOUT_MS = 15_000

OUTCOMES = [
    Outcome(
        DeliveryState.ACCEPTED,
        http_status=200,
        advertiser_lead_id="adv-1",
        duration_ms=120,
        autologin_url="https://advertiser.example/login?t=abc",
    ),
    Outcome(DeliveryState.REJECTED, http_status=409, reason="Duplicate lead", duration_ms=95),
    Outcome(DeliveryState.FAILED, reason="Not sent: could not connect.", attempts=3),
    Outcome(DeliveryState.UNKNOWN, http_status=502, reason="The advertiser failed"),
    Outcome(DeliveryState.REJECTED, http_status=400, reason="Invalid phone"),
]


class Answers:
    """Stands in for a QMessageBox static function: records the text, gives one answer."""

    def __init__(self, answer=QMessageBox.StandardButton.Yes) -> None:
        self.answer = answer
        self.texts: list[str] = []

    def __call__(self, _parent, _title, text, *args, **kwargs):
        self.texts.append(text)
        return self.answer


def store_list(database, title: str, emails: list[str]) -> int:
    leads = [
        LeadRecord(row_number=i + 2, first_name=f"Name{i}", email=email)
        for i, email in enumerate(emails)
    ]
    with database.writer() as session:
        result = ImportResult(len(leads), leads, [], "utf-8", ",", {})
        lead_list = lead_lists.store_list(session, title, result, "Dana", "x.csv")
        session.commit()
        return lead_list.id


EVERY_MINUTE = SendInterval(1, PeriodUnit.MINUTES)


def create(database, list_id, affiliate_id, offer_id, every=EVERY_MINUTE):
    with database.writer() as session:
        created = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title="Spring", lead_list_id=list_id, affiliate_id=affiliate_id,
                offer_id=offer_id, interval=every, fixed_fields={}, manager_name="Dana",
            ),
        )  # fmt: skip
        session.commit()
        return created.id


def send(database, distribution_id, outcomes) -> None:
    """Claim and answer the next leads as the sender does."""
    for outcome in outcomes:
        with database.writer() as session:
            claim = deliveries.claim_next(session, distribution_id)
        with database.writer() as session:
            deliveries.record_outcome(session, claim, outcome)


@pytest.fixture
def spring(database, make_offer) -> int:
    """Seven leads: accepted, rejected, failed, unknown, rejected, then two queued."""
    affiliate_id, offer_id = make_offer(OFFER_URL)
    list_id = store_list(database, "Spring", [f"lead{i}@example.com" for i in range(7)])
    distribution_id = create(database, list_id, affiliate_id, offer_id)
    send(database, distribution_id, OUTCOMES)
    return distribution_id


@pytest.fixture
def page(qtbot, database, spring) -> DistributionsPage:
    shown = DistributionsPage(database)
    qtbot.addWidget(shown)
    return shown


@pytest.fixture
def dialog(qtbot, page, spring) -> DeliveryLogDialog:
    opened = page.open_delivery_log(spring)
    qtbot.waitExposed(opened)
    return opened


@pytest.fixture
def questions(monkeypatch) -> Answers:
    asked = Answers()
    monkeypatch.setattr(QMessageBox, "question", asked)
    return asked


@pytest.fixture
def warnings(monkeypatch) -> Answers:
    shown = Answers(QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QMessageBox, "warning", shown)
    return shown


def positions(dialog: DeliveryLogDialog) -> list[int]:
    model = dialog.model
    return [
        int(model.data(model.index(row, LogColumn.POSITION))) for row in range(model.rowCount())
    ]


def row_of(dialog: DeliveryLogDialog, position: int) -> int:
    return positions(dialog).index(position)


def cell(dialog: DeliveryLogDialog, position: int, column: int, role=Qt.ItemDataRole.DisplayRole):
    model = dialog.model
    return model.data(model.index(row_of(dialog, position), column), role)


def select_positions(dialog: DeliveryLogDialog, *wanted: int) -> None:
    dialog.table.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for position in wanted:
        index = dialog.model.index(row_of(dialog, position), 0)
        dialog.table.selectionModel().select(index, flags)


def selected_positions(dialog: DeliveryLogDialog) -> list[int]:
    shown = positions(dialog)
    return [shown[row] for row in dialog.selected_rows()]


def states(database, distribution_id) -> dict[int, str]:
    with database.session() as session:
        found = session.execute(
            select(Delivery.position, Delivery.state).where(
                Delivery.distribution_id == distribution_id
            )
        )
        return {position + 1: state for position, state in found}


# Opening -----------------------------------------------------------------------------------


def test_double_clicking_a_row_opens_its_log_once(qtbot, page, spring):
    page.resize(1200, 400)
    page.show()
    qtbot.waitExposed(page)
    rect = page.table.visualRect(page.model.index(page.model.row_of(spring), 1))

    double_click(qtbot, page.table.viewport(), rect.center())

    dialog = page.log_dialogs[spring]
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.windowTitle() == "Delivery log — Spring"
    double_click(qtbot, page.table.viewport(), rect.center())
    assert list(page.log_dialogs.values()) == [dialog]


def double_click(qtbot, widget, position: QPoint) -> None:
    # Qt's test double click is only a second press: a view needs the first press too.
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=position)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=position)


def test_the_context_menu_opens_the_log_and_closing_forgets_it(qtbot, page, spring):
    menu = page.context_menu(page.model.row_of(spring))
    entry = next(action for action in menu.actions() if action.text() == "Delivery log…")

    entry.trigger()

    dialog = page.log_dialogs[spring]
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.destroyed, timeout=2000):
        dialog.close()
    assert spring not in page.log_dialogs


# What it shows -----------------------------------------------------------------------------


def test_the_header_counts_every_state(dialog):
    assert dialog.summary_label.text() == (
        "Active · 7 leads: 1 accepted, 2 rejected, 1 failed, 1 outcome unknown, 2 queued, "
        "0 skipped"
    )
    assert not dialog.reason_label.isVisibleTo(dialog)
    combo = dialog.state_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "All (7)",
        "Accepted (1)",
        "Rejected (2)",
        "Failed (1)",
        "Outcome unknown (1)",
        "Queued (2)",
        "Skipped (0)",
    ]


def test_the_header_says_why_a_distribution_waits(database, dialog, spring):
    until = utc_now() + timedelta(minutes=30)
    with database.writer() as session:
        distribution = session.get_one(Distribution, spring)
        distribution.waiting_reason = "The advertiser asked to wait."
        distribution.waiting_until = until
        session.commit()

    dialog.refresh()

    moment = to_local(until).strftime("%H:%M")
    assert dialog.reason_label.isVisibleTo(dialog)
    assert dialog.reason_label.text() in (
        f"Waiting until {moment}: The advertiser asked to wait.",
        f"Waiting until {to_local(until).strftime('%Y-%m-%d %H:%M')}: "
        "The advertiser asked to wait.",
    )


def test_every_column_of_a_row(dialog):
    assert [dialog.model.headerData(c, Qt.Orientation.Horizontal) for c in range(11)] == [
        "Position",
        "Lead",
        "E-mail",
        "Phone",
        "State",
        "Sent at",
        "HTTP",
        "Duration",
        "Advertiser lead id",
        "Auto-login link",
        "Reason",
    ]
    assert positions(dialog) == [1, 2, 3, 4, 5, 6, 7]
    assert cell(dialog, 1, LogColumn.LEAD) == "Name0"
    assert cell(dialog, 1, LogColumn.EMAIL) == "lead0@example.com"
    assert cell(dialog, 1, LogColumn.STATE) == "Accepted"
    assert cell(dialog, 1, LogColumn.HTTP) == "200"
    assert cell(dialog, 1, LogColumn.DURATION) == "120 ms"
    assert cell(dialog, 1, LogColumn.ADVERTISER_LEAD_ID) == "adv-1"
    assert cell(dialog, 1, LogColumn.AUTOLOGIN) == "https://advertiser.example/login?t=abc"
    assert cell(dialog, 1, LogColumn.TIME).startswith(to_local(utc_now()).strftime("%Y-%m-%d"))
    assert cell(dialog, 2, LogColumn.REASON) == "Duplicate lead"
    assert cell(dialog, 4, LogColumn.STATE) == "Outcome unknown"
    assert cell(dialog, 4, LogColumn.STATE, Qt.ItemDataRole.ForegroundRole) is not None
    assert cell(dialog, 3, LogColumn.STATE, Qt.ItemDataRole.ToolTipRole) == "Failed\n3 attempts"
    assert cell(dialog, 7, LogColumn.TIME) == ""
    assert dialog.shown_label.text() == "7 deliveries shown"


def test_the_line_under_the_table_tells_the_current_row_in_full(database, dialog, spring):
    assert dialog.detail_label.text() == ""
    index = dialog.model.index(row_of(dialog, 2), LogColumn.LEAD)

    dialog.table.setCurrentIndex(index)

    assert dialog.detail_label.text().startswith("2. Name1: Rejected (HTTP 409) at ")
    assert dialog.detail_label.text().endswith(". Duplicate lead")
    dialog.send_again(dialog.model.ids_of_rows([index.row()]))
    send(database, spring, [OUTCOMES[1]])
    dialog.refresh()
    assert "\nSent before: Rejected at " in dialog.detail_label.text()


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (DeliveryState.REJECTED, [2, 5]),
        (DeliveryState.ACCEPTED, [1]),
        (DeliveryState.UNKNOWN, [4]),
        (DeliveryState.QUEUED, [6, 7]),
        (DeliveryState.SKIPPED, []),
        (None, [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_the_state_filter_changes_the_rows(dialog, state, expected):
    dialog.choose_state(DeliveryState.FAILED)
    assert positions(dialog) == [3]

    dialog.choose_state(state)

    assert positions(dialog) == expected
    assert dialog.shown_label.text().startswith(f"{len(expected)} deliver")


def test_clicking_a_header_sorts_in_sql_and_keeps_the_selection(qtbot, dialog):
    select_positions(dialog, 4)
    header = dialog.table.horizontalHeader()
    dialog.table.sortByColumn(LogColumn.POSITION, Qt.SortOrder.AscendingOrder)

    http_header = QPoint(header.sectionViewportPosition(LogColumn.HTTP) + 5, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=http_header)

    assert header.sortIndicatorSection() == LogColumn.HTTP
    http = [cell(dialog, p, LogColumn.HTTP) for p in positions(dialog)]
    assert http in (
        ["", "", "", "200", "400", "409", "502"],
        ["502", "409", "400", "200", "", "", ""],
    )
    assert selected_positions(dialog) == [4]


# Sending again -----------------------------------------------------------------------------


def test_send_again_is_offered_only_for_rejected_failed_and_unknown(dialog):
    assert not dialog.send_again_button.isEnabled()

    select_positions(dialog, 1, 6)
    assert not dialog.send_again_button.isEnabled()

    select_positions(dialog, 1, 2)
    assert dialog.send_again_button.isEnabled()
    select_positions(dialog, 3)
    assert dialog.send_again_button.isEnabled()
    select_positions(dialog, 4)
    assert dialog.send_again_button.isEnabled()


def test_send_again_asks_then_queues_and_wakes_the_sender(
    qtbot, database, page, dialog, spring, questions
):
    select_positions(dialog, 1, 2, 4)

    with qtbot.waitSignal(page.distributions_changed, timeout=2000):
        qtbot.mouseClick(dialog.send_again_button, Qt.MouseButton.LeftButton)

    [question] = questions.texts
    assert question.startswith("Send 2 leads of “Spring” again?")
    assert "1 of them has an outcome that is unknown" in question
    assert "the advertiser receives it twice" in question
    assert "1 of the chosen leads was accepted or not sent yet" in question
    assert states(database, spring) == {
        1: "accepted",
        2: "queued",
        3: "failed",
        4: "queued",
        5: "rejected",
        6: "queued",
        7: "queued",
    }
    assert cell(dialog, 2, LogColumn.STATE) == "Queued"
    assert cell(dialog, 2, LogColumn.HTTP) == ""
    assert "Sent before: Rejected at" in cell(
        dialog, 2, LogColumn.STATE, Qt.ItemDataRole.ToolTipRole
    )
    assert dialog.summary_label.text().endswith("4 queued, 0 skipped")
    assert dialog.message_label.text() == "2 leads go again."
    assert selected_positions(dialog) == [1, 2, 4]
    assert not dialog.send_again_button.isEnabled()


def test_declining_sends_nothing_again(database, dialog, spring, questions):
    questions.answer = QMessageBox.StandardButton.No
    select_positions(dialog, 2)

    assert dialog.ask_and_send_again() is None

    assert len(questions.texts) == 1
    assert states(database, spring)[2] == "rejected"


def test_sent_again_rows_leave_a_filtered_view_without_a_reset(qtbot, dialog, questions):
    dialog.choose_state(DeliveryState.REJECTED)
    select_positions(dialog, 5)

    with qtbot.assertNotEmitted(dialog.model.modelReset):
        assert dialog.ask_and_send_again() == 1

    assert positions(dialog) == [2]
    assert dialog.state_combo.currentText() == "Rejected (1)"


def test_a_deleted_distribution_offers_no_sending_again(database, page, spring, qtbot):
    with database.writer() as session:
        distributions.apply_action(session, spring, Action.DELETE)
        session.commit()
    dialog = page.open_delivery_log(spring)

    select_positions(dialog, 2)

    assert dialog.summary_label.text().startswith("Deleted · 7 leads")
    assert not dialog.send_again_button.isEnabled()


def test_a_refusal_is_explained(database, dialog, spring, warnings):
    select_positions(dialog, 2)
    with database.writer() as session:
        distributions.apply_action(session, spring, Action.DELETE)
        session.commit()

    assert dialog.send_again(dialog.selected_ids()) is None

    assert warnings.texts == [f"Distribution {spring} is Deleted; its leads cannot be sent again."]


# The row's menu and exporting --------------------------------------------------------------


def test_the_row_menu_copies_the_auto_login_link(dialog):
    QGuiApplication.clipboard().clear()
    select_positions(dialog, 1)
    menu = dialog.context_menu(row_of(dialog, 1))
    entries = {action.text(): action for action in menu.actions()}
    assert list(entries) == ["Copy auto-login link", "Send again…"]
    assert not entries["Send again…"].isEnabled()

    entries["Copy auto-login link"].trigger()

    assert QGuiApplication.clipboard().text() == "https://advertiser.example/login?t=abc"
    menu = dialog.context_menu(row_of(dialog, 2))
    assert not menu.actions()[0].isEnabled()


def test_export_csv_writes_the_rows_shown(qtbot, dialog, tmp_path, monkeypatch):
    chosen = tmp_path / "spring log"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(chosen), "CSV files (*.csv)")
    )
    dialog.choose_state(DeliveryState.REJECTED)
    dialog.table.sortByColumn(LogColumn.POSITION, Qt.SortOrder.DescendingOrder)

    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)

    written = tmp_path / "spring log.csv"
    with written.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header[:5] == ["Position", "Lead", "E-mail", "Phone", "State"]
    assert [(row[0], row[4]) for row in rows] == [("5", "Rejected"), ("2", "Rejected")]
    assert dialog.message_label.text() == f"Exported 2 deliveries to {written}."


def test_an_export_that_cannot_be_written_is_explained(dialog, tmp_path, warnings):
    assert dialog.export(tmp_path / "missing" / "log.csv") is None

    assert len(warnings.texts) == 1
    assert warnings.texts[0].startswith("Cannot export the delivery log. The folder")


# Live updates and the model ----------------------------------------------------------------


def test_a_change_reported_by_the_sender_shows_and_keeps_the_selection(
    qtbot, database, page, dialog, spring
):
    select_positions(dialog, 6, 7)
    dialog.poll_timer.stop()

    send(database, spring, [Outcome(DeliveryState.ACCEPTED, http_status=201)])
    page.on_distribution_updated(spring)

    qtbot.waitUntil(lambda: cell(dialog, 6, LogColumn.STATE) == "Accepted", timeout=3000)
    assert cell(dialog, 6, LogColumn.HTTP) == "201"
    assert selected_positions(dialog) == [6, 7]
    assert "2 accepted" in dialog.summary_label.text()


def test_a_filtered_log_loses_a_row_in_place_when_its_state_changes(
    qtbot, database, dialog, spring
):
    dialog.choose_state(DeliveryState.QUEUED)
    select_positions(dialog, 7)

    send(database, spring, [Outcome(DeliveryState.REJECTED, http_status=409)])
    with qtbot.assertNotEmitted(dialog.model.modelReset):
        dialog.on_distribution_updated(spring)
        qtbot.waitUntil(lambda: positions(dialog) == [7], timeout=3000)

    assert selected_positions(dialog) == [7]


def test_an_action_on_the_page_shows_in_the_open_log(qtbot, page, dialog, spring):
    page.confirm = lambda text: True
    dialog.poll_timer.stop()

    page.apply_action(spring, Action.DONE)

    qtbot.waitUntil(lambda: dialog.status is Status.DONE, timeout=3000)
    assert dialog.summary_label.text().endswith("0 queued, 2 skipped")
    assert cell(dialog, 6, LogColumn.STATE) == "Skipped"


def test_updates_of_other_distributions_are_ignored(dialog, spring):
    dialog.on_distribution_updated(spring + 1)

    assert not dialog._refresh_soon.isActive()


def test_the_model_passes_the_model_tester(qtmodeltester, database, dialog, spring, questions):
    qtmodeltester.check(dialog.model)

    dialog.table.sortByColumn(LogColumn.REASON, Qt.SortOrder.DescendingOrder)
    dialog.choose_state(DeliveryState.REJECTED)
    select_positions(dialog, 2)
    dialog.ask_and_send_again()
    dialog.choose_state(None)
    dialog.table.sortByColumn(LogColumn.STATE, Qt.SortOrder.AscendingOrder)
    send(database, spring, [Outcome(DeliveryState.ACCEPTED)])
    dialog.refresh()

    assert positions(dialog)[0] in (6, 7)


def test_many_deliveries_load_lazily(database, make_offer, page, qtbot):
    affiliate_id, offer_id = make_offer(OFFER_URL, name="Big", affiliate="Big")
    list_id = store_list(database, "Big", [f"big{i}@example.com" for i in range(1200)])
    distribution_id = create(database, list_id, affiliate_id, offer_id)

    dialog = page.open_delivery_log(distribution_id)
    qtbot.waitExposed(dialog)

    assert dialog.model.rowCount() == 1200
    assert dialog.model.cached_row(dialog.model.delivery_id(1100)) is None
    assert cell(dialog, 1101, LogColumn.EMAIL) == "big1100@example.com"
    assert dialog.model.cached_row(dialog.model.delivery_id(1100)) is not None


# With the real sender ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_lead_sent_again_from_the_log_reaches_the_advertiser_again(
    qtbot, database, sandbox, questions
):
    with database.writer() as session:
        directory.set_current_manager(session, "Dana")
        affiliate = directory.add_affiliate(session, "North")
        offer = directory.add_offer(session, "Solar", sandbox.url)
        session.commit()
    # The sandbox refuses an e-mail it has seen: the third lead is rejected.
    emails = ["ada@example.com", "ben@example.com", "ada@example.com"]
    list_id = store_list(database, "Spring", emails)
    spring = create(database, list_id, affiliate.id, offer.id, SendInterval(1, PeriodUnit.SECONDS))
    window = create_main_window(database)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: len(sandbox.received) == 3, timeout=SEND_TIMEOUT_MS)
        dialog = window.distributions_page.open_delivery_log(spring)
        # From here on the log learns of changes only from the sender's reports.
        dialog.poll_timer.stop()
        qtbot.waitUntil(lambda: dialog.status is Status.DONE, timeout=SEND_TIMEOUT_MS)
        assert dialog.summary_label.text().startswith("Done · 3 leads: 2 accepted, 1 rejected")
        dialog.choose_state(DeliveryState.REJECTED)
        select_positions(dialog, 3)

        assert dialog.ask_and_send_again() == 1

        qtbot.waitUntil(lambda: len(sandbox.received) == 4, timeout=SEND_TIMEOUT_MS)
        qtbot.waitUntil(lambda: positions(dialog) == [3], timeout=SEND_TIMEOUT_MS)
        assert sandbox.received[3]["payload"]["email"] == "ada@example.com"
        tooltip = cell(dialog, 3, LogColumn.STATE, Qt.ItemDataRole.ToolTipRole)
        assert "Sent before: Rejected at" in tooltip and "(HTTP 409)" in tooltip
        qtbot.waitUntil(lambda: dialog.status is Status.DONE, timeout=SEND_TIMEOUT_MS)
    finally:
        window.ask_close_choice = lambda: CloseChoice.QUIT
        window.close()
