"""Closing the main window while sending: keep sending in the tray, pause all, quit, cancel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.services import directory, distributions
from leaddesk.storage.database import Database
from leaddesk.storage.models import Delivery, Distribution
from leaddesk.ui.app import create_main_window
from leaddesk.ui.main_window import (
    CLOSE_EXPLANATIONS,
    CloseChoice,
    MainWindow,
    build_close_dialog,
)

# Long enough that a request is still in flight when the window closes.
ADVERTISER_LATENCY_MS = 400
SEND_TIMEOUT_MS = 15_000
TITLES = ("Spring", "Summer", "Autumn")


@pytest.fixture
def slow_advertiser() -> Iterator[SandboxAdvertiser]:
    with SandboxAdvertiser(port=0, latency_ms=ADVERTISER_LATENCY_MS) as advertiser:
        yield advertiser


@pytest.fixture
def sending(database, make_list, make_offer, slow_advertiser) -> dict[str, int]:
    """Spring and Summer Active, sending to the local advertiser; Autumn Paused. Ids by title."""
    affiliate_id, offer_id = make_offer(slow_advertiser.url)
    list_ids = {title: make_list(title, count=20) for title in TITLES}
    with database.writer() as session:
        directory.set_current_manager(session, "Dana")
        ids = {
            title: distributions.create_distribution(
                session,
                distributions.NewDistribution(
                    title=title,
                    lead_list_id=list_id,
                    affiliate_id=affiliate_id,
                    offer_id=offer_id,
                    interval=SendInterval(1, PeriodUnit.SECONDS),
                    fixed_fields={},
                ),
            ).id
            for title, list_id in list_ids.items()
        }
        distributions.apply_action(session, ids["Autumn"], Action.PAUSE)
        session.commit()
    return ids


@pytest.fixture
def window(qtbot, database, sending, slow_advertiser) -> Iterator[MainWindow]:
    """The window, shown, once its sender has a request in flight."""
    main = create_main_window(database)
    # Not given to qtbot: it would close the window before this fixture ends, and be asked.
    main.show()
    qtbot.waitUntil(lambda: len(slow_advertiser.received) >= 1, timeout=SEND_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "sending 2" in main.sender_label.text(), timeout=SEND_TIMEOUT_MS)
    yield main
    main.close_without_asking()
    main.deleteLater()
    QApplication.instance().setQuitOnLastWindowClosed(True)


class Quits:
    """Stands in for QApplication.quit: counts the calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def statuses(database: Database) -> dict[str, str]:
    with database.session() as session:
        return dict(session.execute(select(Distribution.title, Distribution.status)).all())


def wait_for_a_request_in_flight(qtbot, database: Database) -> None:
    def in_flight() -> bool:
        with database.session() as session:
            found = session.scalars(
                select(Delivery.id).where(Delivery.state == DeliveryState.IN_FLIGHT.value)
            )
            return found.first() is not None

    qtbot.waitUntil(in_flight, timeout=SEND_TIMEOUT_MS)


def assert_in_flight_requests_were_recorded(
    database: Database, advertiser: SandboxAdvertiser
) -> None:
    with database.session() as session:
        states = list(session.scalars(select(Delivery.state)))
    assert DeliveryState.IN_FLIGHT.value not in states
    assert states.count(DeliveryState.ACCEPTED.value) == len(advertiser.received)


def menu_entries(main: MainWindow) -> list[str]:
    return [a.text() for a in main.tray.contextMenu().actions() if not a.isSeparator()]


def trigger(main: MainWindow, text: str) -> None:
    [entry] = [a for a in main.tray.contextMenu().actions() if a.text() == text]
    entry.trigger()


# What is offered ---------------------------------------------------------------------------


def test_without_a_system_tray_the_tray_is_not_offered(window):
    window.tray_available = lambda: False

    assert window.close_choices() == [CloseChoice.PAUSE_ALL, CloseChoice.QUIT, CloseChoice.CANCEL]


def test_offscreen_has_no_system_tray_so_the_tray_is_not_offered(window):
    if QApplication.instance().platformName() != "offscreen":
        pytest.skip("only the offscreen platform is known to have no system tray")

    assert not QSystemTrayIcon.isSystemTrayAvailable()
    assert window.close_choices() == [CloseChoice.PAUSE_ALL, CloseChoice.QUIT, CloseChoice.CANCEL]


def test_with_a_system_tray_keeping_sending_there_comes_first(window):
    window.tray_available = lambda: True

    assert window.close_choices() == [
        CloseChoice.TRAY,
        CloseChoice.PAUSE_ALL,
        CloseChoice.QUIT,
        CloseChoice.CANCEL,
    ]


def test_a_window_without_its_own_sender_never_offers_the_tray(qtbot, database, sending):
    main = MainWindow(database, None)
    qtbot.addWidget(main)
    main.tray_available = lambda: True

    assert CloseChoice.TRAY not in main.close_choices()
    main.close_without_asking()


def test_the_question_names_each_choice_and_what_it_does(window):
    box, buttons = build_close_dialog(window, list(CloseChoice))

    assert {button.text(): buttons[button] for button in box.buttons()} == {
        choice.label: choice for choice in CloseChoice
    }
    explanation = box.informativeText()
    for text in CLOSE_EXPLANATIONS.values():
        assert text in explanation
    assert "resumes the next time LeadDesk (or `leaddesk run`) is open" in explanation
    assert buttons[box.defaultButton()] is CloseChoice.TRAY
    assert buttons[box.escapeButton()] is CloseChoice.CANCEL


def test_without_the_tray_enter_cancels(window):
    box, buttons = build_close_dialog(
        window, [c for c in CloseChoice if c is not CloseChoice.TRAY]
    )

    assert buttons[box.defaultButton()] is CloseChoice.CANCEL
    assert "tray" not in box.informativeText()


@pytest.mark.parametrize("choice", [CloseChoice.PAUSE_ALL, CloseChoice.QUIT, CloseChoice.CANCEL])
def test_the_button_clicked_is_the_choice_returned(window, monkeypatch, choice):
    def click(box: QMessageBox) -> int:
        [button] = [b for b in box.buttons() if b.text() == choice.label]
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)

    assert window.ask_close_choice() is choice


def test_dismissing_the_question_cancels(window, monkeypatch):
    monkeypatch.setattr(QMessageBox, "exec", lambda _box: 0)

    assert window.ask_close_choice() is CloseChoice.CANCEL


# What each choice does ---------------------------------------------------------------------


def test_pause_all_and_quit_pauses_every_active_distribution(window, database, slow_advertiser):
    window.ask_close_choice = lambda: CloseChoice.PAUSE_ALL

    assert window.close()

    assert not window.isVisible()
    assert not window.sender_thread.is_running()
    assert statuses(database) == {title: Status.PAUSED.value for title in TITLES}
    assert_in_flight_requests_were_recorded(database, slow_advertiser)


def test_a_busy_data_file_keeps_the_window_open_and_pauses_nothing(window, database, monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))

    def busy(*_args, **_kwargs):
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(distributions, "apply_action", busy)
    window.ask_close_choice = lambda: CloseChoice.PAUSE_ALL

    assert not window.close()

    assert window.isVisible()
    assert window.sender_thread.is_running()
    assert "nothing was paused" in warnings[0]
    assert statuses(database)["Spring"] == Status.ACTIVE.value


def test_quit_leaves_the_distributions_active_and_records_requests_in_flight(
    qtbot, window, database, slow_advertiser
):
    wait_for_a_request_in_flight(qtbot, database)
    window.ask_close_choice = lambda: CloseChoice.QUIT

    assert window.close()

    assert not window.isVisible()
    assert not window.sender_thread.is_running()
    assert statuses(database) == {
        "Spring": Status.ACTIVE.value,
        "Summer": Status.ACTIVE.value,
        "Autumn": Status.PAUSED.value,
    }
    assert_in_flight_requests_were_recorded(database, slow_advertiser)


def test_cancel_keeps_the_window_open_and_sending(qtbot, window, database, slow_advertiser):
    window.ask_close_choice = lambda: CloseChoice.CANCEL

    assert not window.close()

    assert window.isVisible()
    assert window.sender_thread.is_running()
    assert window.tray is None
    sent = len(slow_advertiser.received)
    qtbot.waitUntil(lambda: len(slow_advertiser.received) > sent, timeout=SEND_TIMEOUT_MS)


def test_the_tray_hides_the_window_and_keeps_sending(qtbot, window, slow_advertiser):
    window.ask_close_choice = lambda: CloseChoice.TRAY

    assert not window.close()

    assert not window.isVisible()
    assert window.sender_thread.is_running()
    assert window.is_in_tray()
    assert not QApplication.instance().quitOnLastWindowClosed()
    assert menu_entries(window) == ["Show LeadDesk", "Quit"]
    assert not window.tray.icon().isNull()
    assert "Sender: sending 2 Active distributions" in window.tray.toolTip()
    sent = len(slow_advertiser.received)
    qtbot.waitUntil(lambda: len(slow_advertiser.received) > sent, timeout=SEND_TIMEOUT_MS)


def test_show_leaddesk_brings_the_window_back_and_closing_asks_again(window):
    answers = [CloseChoice.TRAY, CloseChoice.CANCEL]
    window.ask_close_choice = lambda: answers.pop(0)
    window.close()

    trigger(window, "Show LeadDesk")

    assert window.isVisible()
    assert not window.is_in_tray()
    assert QApplication.instance().quitOnLastWindowClosed()
    assert not window.close()
    assert answers == []


def test_quit_from_the_tray_does_not_ask_again_and_waits_for_requests(
    qtbot, window, database, slow_advertiser, monkeypatch
):
    quits = Quits()
    monkeypatch.setattr(QApplication, "quit", quits)
    answers = [CloseChoice.TRAY]
    window.ask_close_choice = lambda: answers.pop(0)
    window.close()
    wait_for_a_request_in_flight(qtbot, database)

    trigger(window, "Quit")

    assert quits.count == 1
    assert not window.sender_thread.is_running()
    assert not window.is_in_tray()
    assert QApplication.instance().quitOnLastWindowClosed()
    assert statuses(database)["Spring"] == Status.ACTIVE.value
    assert_in_flight_requests_were_recorded(database, slow_advertiser)


def test_the_system_ending_the_session_quits_from_the_tray_too(window, monkeypatch):
    quits = Quits()
    monkeypatch.setattr(QApplication, "quit", quits)
    window.ask_close_choice = lambda: CloseChoice.TRAY
    window.close()

    window.close_without_asking()

    assert quits.count == 1
    assert not window.sender_thread.is_running()
