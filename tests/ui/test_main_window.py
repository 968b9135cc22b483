"""The main window: its pages, its title and status bar, and closing it."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import DeliveryState
from leaddesk.logs import setup_logging
from leaddesk.services import directory, distributions, lead_lists
from leaddesk.storage.database import Database
from leaddesk.storage.models import Delivery
from leaddesk.ui import app
from leaddesk.ui.app import CrashReporter, create_main_window, run_app
from leaddesk.ui.directory_page import DirectoryPage
from leaddesk.ui.distributions_page import DistributionsPage
from leaddesk.ui.lead_lists_page import LeadListsPage
from leaddesk.ui.main_window import CloseChoice, MainWindow

SEND_TIMEOUT_MS = 15_000


class Answers:
    """Stands in for a QMessageBox static function: records the text, gives one answer."""

    def __init__(self, answer=QMessageBox.StandardButton.Ok) -> None:
        self.answer = answer
        self.texts: list[str] = []

    def __call__(self, _parent, _title, text, *args, **kwargs):
        self.texts.append(text)
        return self.answer


@pytest.fixture
def window(qtbot, database) -> MainWindow:
    with database.writer() as session:
        directory.set_current_manager(session, "Maria Lopez")
        session.commit()
    main = create_main_window(database)
    qtbot.addWidget(main)
    yield main
    main.stop_sender()


def seed_active_distribution(database: Database) -> None:
    leads = [LeadRecord(row_number=2, email="ada@example.com")]
    with database.writer() as session:
        affiliate = directory.add_affiliate(session, "North Media")
        offer = directory.add_offer(session, "Solar DE", "http://127.0.0.1:9/leads")
        lead_list = lead_lists.store_list(
            session, "Spring", ImportResult(1, leads, [], "utf-8", ",", {}), None, "x.csv"
        )
        distributions.create_distribution(
            session,
            distributions.NewDistribution(
                "Spring",
                lead_list.id,
                affiliate.id,
                offer.id,
                SendInterval(1, PeriodUnit.DAYS),
                {},
            ),
        )
        session.commit()


def test_window_has_three_pages(window, database):
    tabs = window.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Distributions",
        "Lead lists",
        "Directory",
    ]
    assert isinstance(tabs.widget(0), DistributionsPage)
    assert isinstance(tabs.widget(1), LeadListsPage)
    assert isinstance(tabs.widget(2), DirectoryPage)
    assert window.windowTitle() == "Maria Lopez"
    assert window.data_file_label.text() == f"Data file: {database.path}"
    assert (window.width(), window.height()) == (1280, 760)


def test_sender_state_shows_in_the_status_bar(qtbot, window):
    qtbot.waitUntil(lambda: "idle" in window.sender_label.text())
    window.on_sender_error("Cannot read the data file: disk I/O error")
    assert window.error_label.isVisibleTo(window)
    assert "disk I/O error" in window.error_label.text()


def test_closing_with_nothing_active_stops_the_sender(qtbot, window):
    asked: list[bool] = []
    window.ask_close_choice = lambda: asked.append(True) or CloseChoice.CANCEL
    window.show()
    qtbot.waitUntil(window.sender_thread.is_running)

    assert window.close()

    assert asked == []
    assert not window.isVisible()
    assert not window.sender_thread.is_running()


def test_closing_while_sending_asks_first(qtbot, database):
    seed_active_distribution(database)
    main = MainWindow(database, None)
    qtbot.addWidget(main)
    main.show()
    answers = [CloseChoice.CANCEL, CloseChoice.QUIT]
    main.ask_close_choice = lambda: answers.pop(0)

    assert not main.close()
    assert main.isVisible()

    assert main.close()
    assert not main.isVisible()
    assert answers == []


def test_an_unusable_data_folder_stops_before_any_window(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    critical = Answers()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    try:
        assert run_app(not_a_folder / "data") == 1
    finally:
        _remove_log_handlers()
    assert len(critical.texts) == 1
    assert "Cannot create the data folder" in critical.texts[0]


def _remove_log_handlers() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "leaddesk", False)]:
        root.removeHandler(handler)
        handler.close()


def test_a_bug_is_logged_and_names_the_log_file(qtbot, monkeypatch, caplog):
    critical = Answers()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    reporter = CrashReporter("/logs/leaddesk.log")
    reporter.install()
    try:
        try:
            raise ValueError("broken")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        reporter.uninstall()

    qtbot.waitUntil(lambda: bool(critical.texts))
    assert "The details are in /logs/leaddesk.log" in critical.texts[0]
    assert any(record.exc_info and record.exc_info[0] is ValueError for record in caplog.records)


def _fail() -> None:
    raise RuntimeError("broken in a thread")


def test_a_bug_in_another_thread_opens_the_dialog_in_the_window_thread(qtbot, monkeypatch):
    critical = Answers()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    reporter = CrashReporter("/logs/leaddesk.log")
    reporter.install()
    try:
        worker = threading.Thread(target=_fail)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(critical.texts))
    finally:
        reporter.uninstall()
    assert len(critical.texts) == 1


def test_app_icon_is_found():
    assert Path(app.resources_dir(), app.ICON_FILE).exists()
    assert not app.app_icon().isNull()


def test_the_file_menu_offers_import_new_and_quit_with_shortcuts(window):
    [file_menu] = [a.menu() for a in window.menuBar().actions()]
    shortcuts = {
        action.text().replace("&", ""): action.shortcut().toString()
        for action in file_menu.actions()
        if not action.isSeparator()
    }
    assert shortcuts == {
        "Import lead file…": "Ctrl+I",
        "New distribution…": "Ctrl+N",
        "Quit": "Ctrl+Q",
    }


def test_a_bug_in_a_slot_names_the_log_file_while_sending_goes_on(
    qtbot, tmp_path, monkeypatch, database, make_list, make_offer, sandbox
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = logging.getLogger()
    root_level = root.level
    earlier = [h for h in root.handlers if getattr(h, "leaddesk", False)]
    for handler in earlier:
        root.removeHandler(handler)
    log_path = setup_logging()
    assert log_path is not None
    critical = Answers()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    reporter = CrashReporter(log_path)
    reporter.install()
    try:
        main = _sending_window(qtbot, database, make_list, make_offer, sandbox)
        qtbot.waitUntil(lambda: len(sandbox.received) >= 1, timeout=SEND_TIMEOUT_MS)
        monkeypatch.setattr(main.lead_lists_page, "refresh", _refresh_with_a_bug)

        # Qt calls the window's slot for the page shown; the slot raises.
        main.tabs.setCurrentWidget(main.lead_lists_page)
        qtbot.waitUntil(lambda: bool(critical.texts))

        assert f"The details are in {log_path}" in critical.texts[0]
        assert main.sender_thread.is_running()
        sent = len(sandbox.received)
        qtbot.waitUntil(lambda: len(sandbox.received) > sent, timeout=SEND_TIMEOUT_MS)
        main.ask_close_choice = lambda: CloseChoice.QUIT
        assert main.close()
    finally:
        reporter.uninstall()
        _remove_log_handlers()
        for handler in earlier:
            root.addHandler(handler)
        root.setLevel(root_level)

    with database.session() as session:
        states = list(session.scalars(select(Delivery.state)))
    assert DeliveryState.IN_FLIGHT.value not in states
    assert states.count(DeliveryState.ACCEPTED.value) == len(sandbox.received)
    text = Path(log_path).read_text(encoding="utf-8")
    assert "RuntimeError: The lead list of a***@***.com cannot be shown" in text
    assert "ada@example.com" not in text


def _refresh_with_a_bug() -> None:
    raise RuntimeError("The lead list of ada@example.com cannot be shown")


def _sending_window(qtbot, database, make_list, make_offer, sandbox) -> MainWindow:
    affiliate_id, offer_id = make_offer(sandbox.url)
    list_id = make_list(count=30)
    with database.writer() as session:
        directory.set_current_manager(session, "Dana")
        distributions.create_distribution(
            session,
            distributions.NewDistribution(
                "Spring", list_id, affiliate_id, offer_id, SendInterval(1, PeriodUnit.SECONDS), {}
            ),
        )
        session.commit()
    main = create_main_window(database)
    qtbot.addWidget(main)
    main.show()
    return main
