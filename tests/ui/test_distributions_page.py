"""The Distributions page over a real data file: search, sort, actions and live updates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, Qt, QTimer
from sqlalchemy import func, select, update

from leaddesk.core.clock import local_to_utc
from leaddesk.core.filters import SearchField
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Action, DeliveryState, Status
from leaddesk.services import directory, distributions, lead_lists
from leaddesk.services.distributions import Column, NewDistribution
from leaddesk.storage.models import Delivery, Distribution
from leaddesk.ui.create_dialog import CreateDistributionDialog
from leaddesk.ui.distributions_page import DistributionsPage, confirmation_text

# title: (lead list, manager, affiliate, offer, status, local creation day)
DISTRIBUTIONS = {
    "Spring DE": ("Victor list", "Müller", "North", "Sun offer", Status.ACTIVE, 10),
    "Autumn": ("Berlin leads", "Dana", "Süd Partner", "Wind deal", Status.PAUSED, 15),
    "Winter": ("Victor list", "Ivan", "North", "Wind deal", Status.DONE, 20),
    "Old": ("Berlin leads", "Dana", "East", "Sun offer", Status.DELETED, 25),
}
OFFER_PRODUCTS = {"Sun offer": "Solar", "Wind deal": "Energy"}
NOT_DELETED = {"Spring DE", "Autumn", "Winter"}


def _result(count: int, prefix: str) -> ImportResult:
    leads = [
        LeadRecord(row_number=i + 2, first_name=f"Name{i}", email=f"{prefix}{i}@example.com")
        for i in range(count)
    ]
    return ImportResult(count, leads, [], "utf-8", ",", {})


def _created_on(day: int) -> datetime:
    return local_to_utc(datetime(2026, 3, day, 12, 0))


@pytest.fixture
def ids(database) -> dict[str, int]:
    """The four distributions above, by title."""
    found: dict[str, int] = {}
    with database.writer() as session:
        lists = {
            title: lead_lists.store_list(session, title, _result(4, title[:3]), "Dana", "x.csv")
            for title in ("Victor list", "Berlin leads")
        }
        affiliates = {
            name: directory.add_affiliate(session, name)
            for name in ("North", "Süd Partner", "East")
        }
        offers = {
            name: directory.add_offer(
                session,
                name,
                "https://advertiser.example/leads",
                directory.get_or_create_product(session, product).id,
            )
            for name, product in OFFER_PRODUCTS.items()
        }
        for title, (list_title, manager, affiliate, offer, status, day) in DISTRIBUTIONS.items():
            new = NewDistribution(
                title=title,
                lead_list_id=lists[list_title].id,
                affiliate_id=affiliates[affiliate].id,
                offer_id=offers[offer].id,
                interval=SendInterval(1, PeriodUnit.MINUTES),
                fixed_fields={},
                manager_name=manager,
            )
            distribution = distributions.create_distribution(session, new)
            distribution.status = status.value
            distribution.created_at = _created_on(day)
            found[title] = distribution.id
        session.commit()
    return found


@pytest.fixture
def page(qtbot, database, ids) -> DistributionsPage:
    shown = DistributionsPage(database)
    qtbot.addWidget(shown)
    return shown


def shown_titles(page: DistributionsPage) -> list[str]:
    model = page.model
    return [model.data(model.index(row, Column.LIST_TITLE)) for row in range(model.rowCount())]


def cell(page: DistributionsPage, distribution_id: int, column: int) -> str:
    model = page.model
    return model.data(model.index(model.row_of(distribution_id), column))


def search(qtbot, page: DistributionsPage, field: SearchField, text: str) -> None:
    page.field_combo.setCurrentIndex(page.field_combo.findData(field))
    page.search_edit.clear()
    qtbot.keyClicks(page.search_edit, text)
    qtbot.keyClick(page.search_edit, Qt.Key.Key_Return)


def set_status(database, distribution_id: int, **values) -> None:
    with database.writer() as session:
        session.execute(
            update(Distribution).where(Distribution.id == distribution_id).values(**values)
        )
        session.commit()


def status_of(database, distribution_id: int) -> Status:
    with database.session() as session:
        return Status(session.get_one(Distribution, distribution_id).status)


# Searching ---------------------------------------------------------------------------------


def test_first_view_shows_every_distribution_but_deleted_newest_first(page, ids):
    assert shown_titles(page) == ["Winter", "Autumn", "Spring DE"]
    assert page.count_label.text() == "3 distributions"


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        (SearchField.LIST, "VICTOR", {"Spring DE", "Winter"}),
        (SearchField.LIST, "tumn", {"Autumn"}),
        (SearchField.MANAGER, "MÜLLER", {"Spring DE"}),
        (SearchField.MANAGER, "dan", {"Autumn"}),
        (SearchField.AFFILIATE, "SÜD", {"Autumn"}),
        (SearchField.AFFILIATE, "north", {"Spring DE", "Winter"}),
        (SearchField.OFFER, "wind", {"Autumn", "Winter"}),
        (SearchField.PRODUCT, "SOLAR", {"Spring DE"}),
        (SearchField.PRODUCT, "nothing like it", set()),
    ],
)
def test_enter_searches_one_field_ignoring_case(qtbot, page, field, text, expected):
    search(qtbot, page, field, text)

    assert set(shown_titles(page)) == expected
    assert page.count_label.text().startswith(f"{len(expected)} distribution")


def test_search_text_with_like_wildcards_is_taken_literally(qtbot, page):
    search(qtbot, page, SearchField.LIST, "%")

    assert shown_titles(page) == []


def test_apply_button_runs_the_search(qtbot, page):
    page.field_combo.setCurrentIndex(page.field_combo.findData(SearchField.OFFER))
    page.search_edit.setText("sun")
    assert len(shown_titles(page)) == 3

    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)

    assert shown_titles(page) == ["Spring DE"]


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (15, 20, {"Autumn", "Winter"}),
        (16, None, {"Winter"}),
        (None, 10, {"Spring DE"}),
        (10, 10, {"Spring DE"}),
        (21, 24, set()),
    ],
)
def test_creation_dates_are_an_inclusive_range(qtbot, page, first, last, expected):
    for check, edit, day in (
        (page.from_check, page.from_edit, first),
        (page.to_check, page.to_edit, last),
    ):
        check.setChecked(day is not None)
        if day is not None:
            edit.setDate(QDate(2026, 3, day))

    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)

    assert set(shown_titles(page)) == expected


def test_dates_are_off_until_ticked_and_pop_up_a_calendar(page):
    assert page.from_edit.calendarPopup() and page.to_edit.calendarPopup()
    assert not page.from_edit.isEnabled()
    assert page.current_filter().created_from is None

    page.from_check.setChecked(True)
    page.from_edit.setDate(QDate(2026, 3, 1))

    assert page.from_edit.isEnabled()
    assert page.current_filter().created_from == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, NOT_DELETED),
        (Status.ACTIVE, {"Spring DE"}),
        (Status.PAUSED, {"Autumn"}),
        (Status.DONE, {"Winter"}),
        (Status.DELETED, {"Old"}),
    ],
)
def test_status_filter(qtbot, page, status, expected):
    page.status_combo.setCurrentIndex(page.status_combo.findData(status))

    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)

    assert set(shown_titles(page)) == expected


def test_any_status_is_the_first_choice(page):
    assert page.status_combo.itemText(0) == "Any status"
    assert [page.status_combo.itemText(i) for i in range(1, 5)] == [
        "Active",
        "Paused",
        "Done",
        "Deleted",
    ]


def test_clear_resets_every_filter_and_shows_all(qtbot, page):
    page.field_combo.setCurrentIndex(page.field_combo.findData(SearchField.AFFILIATE))
    page.search_edit.setText("east")
    page.from_check.setChecked(True)
    page.from_edit.setDate(QDate(2026, 3, 24))
    page.to_check.setChecked(True)
    page.to_edit.setDate(QDate(2026, 3, 26))
    page.status_combo.setCurrentIndex(page.status_combo.findData(Status.DELETED))
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    assert shown_titles(page) == ["Old"]

    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)

    assert page.current_filter().field is SearchField.LIST
    assert page.search_edit.text() == ""
    assert not page.from_check.isChecked() and not page.to_check.isChecked()
    assert page.status_combo.currentText() == "Any status"
    assert page.current_filter().is_empty
    assert set(shown_titles(page)) == NOT_DELETED
    assert page.count_label.text() == "3 distributions"


# Sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("column", range(len(Column.TITLES)))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_every_column_sorts_without_losing_rows(page, column, order):
    page.table.sortByColumn(column, order)

    assert set(shown_titles(page)) == NOT_DELETED


@pytest.mark.parametrize(
    ("column", "ascending"),
    [
        (Column.ID, ["Spring DE", "Autumn", "Winter"]),
        (Column.LIST_TITLE, ["Autumn", "Spring DE", "Winter"]),
        (Column.MANAGERS, ["Autumn", "Winter", "Spring DE"]),
        (Column.STATUS, ["Spring DE", "Winter", "Autumn"]),
    ],
)
def test_sorting_orders_rows_both_ways(page, column, ascending):
    page.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    assert shown_titles(page) == ascending

    page.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    assert shown_titles(page) == list(reversed(ascending))


def test_sorting_by_progress_follows_the_share_sent(database, page, ids):
    set_status(database, ids["Autumn"], sent=3)
    set_status(database, ids["Winter"], sent=1)

    page.table.sortByColumn(Column.PROGRESS, Qt.SortOrder.DescendingOrder)

    assert shown_titles(page) == ["Autumn", "Winter", "Spring DE"]


def test_sorting_keeps_the_selected_distribution_selected(page, ids):
    page.table.selectRow(page.model.row_of(ids["Autumn"]))

    page.table.sortByColumn(Column.LIST_TITLE, Qt.SortOrder.AscendingOrder)

    selected = page.table.selectionModel().selectedRows()
    assert [page.model.distribution_id(index.row()) for index in selected] == [ids["Autumn"]]


# Actions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "status", "actions"),
    [
        ("Spring DE", None, [Action.PAUSE, Action.DONE, Action.DELETE]),
        ("Autumn", None, [Action.RESUME, Action.DONE, Action.DELETE]),
        ("Winter", None, [Action.DELETE]),
        ("Old", Status.DELETED, []),
    ],
)
def test_context_menu_offers_what_the_status_allows(qtbot, page, ids, title, status, actions):
    page.status_combo.setCurrentIndex(page.status_combo.findData(status))
    page.apply_filter()

    assert page.actions_for_row(page.model.row_of(ids[title])) == actions
    assert [action.label for action in actions] == [
        {"pause": "Pause", "resume": "Resume", "done": "Done", "delete": "Delete"}[a.value]
        for a in actions
    ]


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (Action.DONE, "Mark distribution {id} 'Spring DE' Done? Leads not yet sent"),
        (Action.DELETE, "Delete distribution {id} 'Spring DE'? Sending stops"),
    ],
)
def test_declining_the_confirmation_changes_nothing(database, page, ids, action, words):
    asked: list[str] = []
    page.confirm = lambda text: asked.append(text) or False

    assert not page.apply_action(ids["Spring DE"], action)

    assert len(asked) == 1
    assert asked[0].startswith(words.format(id=ids["Spring DE"]))
    assert status_of(database, ids["Spring DE"]) is Status.ACTIVE
    assert cell(page, ids["Spring DE"], Column.STATUS) == "Active"


def test_confirming_done_finishes_the_distribution(qtbot, database, page, ids):
    page.confirm = lambda text: True

    with qtbot.waitSignal(page.distributions_changed, timeout=1000):
        assert page.apply_action(ids["Spring DE"], Action.DONE)

    assert status_of(database, ids["Spring DE"]) is Status.DONE
    assert cell(page, ids["Spring DE"], Column.STATUS) == "Done"
    assert cell(page, ids["Spring DE"], Column.LAST_SEND) != ""
    with database.session() as session:
        states = set(
            session.scalars(
                select(Delivery.state).where(Delivery.distribution_id == ids["Spring DE"])
            )
        )
    assert states == {DeliveryState.SKIPPED.value}


def test_confirming_delete_takes_the_row_out_of_any_status(qtbot, database, page, ids):
    page.confirm = lambda text: True
    page.table.selectRow(page.model.row_of(ids["Winter"]))

    with qtbot.assertNotEmitted(page.model.modelReset):
        assert page.apply_action(ids["Autumn"], Action.DELETE)

    assert status_of(database, ids["Autumn"]) is Status.DELETED
    assert set(shown_titles(page)) == {"Spring DE", "Winter"}
    assert page.count_label.text() == "2 distributions"
    selected = page.table.selectionModel().selectedRows()
    assert [page.model.distribution_id(index.row()) for index in selected] == [ids["Winter"]]


def test_pause_and_resume_ask_nothing(qtbot, database, page, ids):
    page.confirm = lambda text: pytest.fail(f"asked: {text}")

    assert page.apply_action(ids["Spring DE"], Action.PAUSE)
    assert cell(page, ids["Spring DE"], Column.STATUS) == "Paused"
    assert cell(page, ids["Spring DE"], Column.SEND_INTERVAL).endswith("– paused")

    assert page.apply_action(ids["Spring DE"], Action.RESUME)
    assert status_of(database, ids["Spring DE"]) is Status.ACTIVE


def test_an_action_the_status_forbids_is_explained(database, page, ids):
    warnings: list[str] = []
    page.warn = warnings.append

    assert not page.apply_action(ids["Winter"], Action.RESUME)

    assert warnings == [f"Distribution {ids['Winter']} is Done; it cannot be resumed."]
    assert status_of(database, ids["Winter"]) is Status.DONE


# What the cells show -----------------------------------------------------------------------


def test_cells_of_an_active_distribution(database, page, ids):
    start = local_to_utc(datetime(2026, 12, 4, 15, 2))
    set_status(
        database,
        ids["Spring DE"],
        total=101,
        sent=37,
        accepted=35,
        rejected=2,
        failed=0,
        unknown=0,
        started_at=start,
        anchor_at=start,
        last_lead_label="Name7 N.",
        last_sent_at=local_to_utc(datetime(2026, 12, 4, 15, 40, 5)),
    )
    page.on_distribution_updated(ids["Spring DE"])
    model = page.model
    index = model.index(model.row_of(ids["Spring DE"]), Column.PROGRESS)

    assert cell(page, ids["Spring DE"], Column.SEND_INTERVAL) == "2026-12-04 15:02 – 16:42 (est.)"
    assert cell(page, ids["Spring DE"], Column.PERIOD) == "1 h 40 min (every 1 min)"
    assert cell(page, ids["Spring DE"], Column.LAST_SEND_LEAD) == "Name7 N. at 15:40:05"
    assert cell(page, ids["Spring DE"], Column.PROGRESS) == "37 / 101 (35 accepted, 2 rejected)"
    assert model.data(index, Qt.ItemDataRole.UserRole) == pytest.approx(37 / 101)
    assert "0 failed" in model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert cell(page, ids["Spring DE"], Column.OFFERS) == "Sun offer (Solar)"
    assert cell(page, ids["Spring DE"], Column.MANAGERS) == "Müller"
    row = model.row_of(ids["Spring DE"])
    assert model.data(model.index(row, Column.ID), Qt.ItemDataRole.UserRole) == ids["Spring DE"]
    title = model.index(row, Column.LIST_TITLE)
    assert model.data(title, Qt.ItemDataRole.ToolTipRole) == "Lead list: Victor list"
    assert model.data(model.index(row, Column.STATUS), Qt.ItemDataRole.ForegroundRole)


def test_a_finished_distribution_shows_when_it_ended(database, page, ids):
    start = local_to_utc(datetime(2026, 12, 4, 15, 2))
    set_status(
        database,
        ids["Winter"],
        started_at=start,
        finished_at=start + timedelta(hours=1, minutes=3),
    )
    page.on_distribution_updated(ids["Winter"])

    assert cell(page, ids["Winter"], Column.SEND_INTERVAL) == "2026-12-04 15:02 – 16:05"
    assert cell(page, ids["Winter"], Column.LAST_SEND) == "2026-12-04 16:05"


# Live updates ------------------------------------------------------------------------------


def _load_every_row(page: DistributionsPage) -> None:
    for row in range(page.model.rowCount()):
        page.model.data(page.model.index(row, 0))


def test_an_update_from_the_sender_touches_only_the_changed_cells(qtbot, database, page, ids):
    _load_every_row(page)
    changes = []
    page.model.dataChanged.connect(lambda first, last, roles: changes.append((first, last)))
    set_status(
        database,
        ids["Autumn"],
        sent=2,
        accepted=1,
        rejected=1,
        last_lead_label="Name1 L.",
        last_sent_at=local_to_utc(datetime(2026, 3, 15, 13, 0)),
    )

    with qtbot.assertNotEmitted(page.model.modelReset):
        page.on_distribution_updated(ids["Autumn"])

    row = page.model.row_of(ids["Autumn"])
    cells = {
        (first.row(), column)
        for first, last in changes
        for column in range(first.column(), last.column() + 1)
    }
    assert cells == {(row, Column.LAST_SEND_LEAD), (row, Column.PROGRESS)}
    assert all(first.row() == last.row() == row for first, last in changes)
    assert cell(page, ids["Autumn"], Column.PROGRESS) == "2 / 4 (1 accepted, 1 rejected)"
    assert cell(page, ids["Autumn"], Column.LAST_SEND_LEAD) == "Name1 L. at 13:00:00"


def test_an_update_that_changes_nothing_emits_nothing(qtbot, page, ids):
    _load_every_row(page)

    with qtbot.assertNotEmitted(page.model.dataChanged):
        page.on_distribution_updated(ids["Winter"])


def test_periodic_refresh_sees_changes_made_by_another_program(qtbot, database, page, ids):
    _load_every_row(page)
    set_status(database, ids["Spring DE"], sent=1, accepted=1)

    with qtbot.waitSignal(page.model.dataChanged, timeout=1000) as blocker:
        page.model.refresh_visible()

    assert blocker.args[0].row() == page.model.row_of(ids["Spring DE"])
    assert cell(page, ids["Spring DE"], Column.PROGRESS) == "1 / 4 (1 accepted, 0 rejected)"


def test_the_shown_page_rereads_its_rows_on_a_timer(qtbot, database, page, ids):
    page.resize(1200, 400)
    page.show()
    qtbot.waitExposed(page)
    assert page.refresh_timer.isActive()
    _load_every_row(page)
    set_status(database, ids["Winter"], sent=4, accepted=4)

    with qtbot.waitSignal(page.model.dataChanged, timeout=5000):
        pass

    assert cell(page, ids["Winter"], Column.PROGRESS) == "4 / 4 (4 accepted, 0 rejected)"
    page.hide()
    assert not page.refresh_timer.isActive()


def test_a_new_distribution_is_inserted_in_place(qtbot, database, page, ids):
    with database.writer() as session:
        source = session.get_one(Distribution, ids["Spring DE"])
        new = NewDistribution(
            title="Brand new",
            lead_list_id=source.lead_list_id,
            affiliate_id=source.affiliate_id,
            offer_id=source.offer_id,
            interval=SendInterval(5, PeriodUnit.SECONDS),
            fixed_fields={"language": "de"},
        )
        new_id = distributions.create_distribution(session, new).id
        session.commit()

    with (
        qtbot.assertNotEmitted(page.model.modelReset),
        qtbot.waitSignal(page.model.rowsInserted, timeout=1000),
    ):
        page.on_distribution_updated(new_id)

    assert shown_titles(page) == ["Brand new", "Winter", "Autumn", "Spring DE"]
    assert cell(page, new_id, Column.DATA_SETTING) == "first_name, email; adds language=de"


def test_the_model_passes_the_model_tester(qtmodeltester, database, page, ids):
    set_status(database, ids["Spring DE"], sent=2, accepted=2)

    qtmodeltester.check(page.model)

    page.table.sortByColumn(Column.PROGRESS, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(page.model)


def test_the_model_tester_watches_live_updates(qtmodeltester, qtbot, database, page, ids):
    qtmodeltester.check(page.model)
    page.confirm = lambda text: True

    page.apply_action(ids["Autumn"], Action.DELETE)
    set_status(database, ids["Spring DE"], sent=3, accepted=3)
    page.model.refresh_visible()
    page.table.sortByColumn(Column.MANAGERS, Qt.SortOrder.AscendingOrder)
    search(qtbot, page, SearchField.MANAGER, "ivan")

    assert shown_titles(page) == ["Winter"]


def test_many_rows_load_lazily(qtbot, database, page, ids):
    with database.writer() as session:
        source = session.get_one(Distribution, ids["Winter"])
        for number in range(450):
            copy = Distribution(
                title=f"Copy {number}",
                manager_id=source.manager_id,
                lead_list_id=source.lead_list_id,
                affiliate_id=source.affiliate_id,
                offer_id=source.offer_id,
                period_unit=source.period_unit,
                period_value=source.period_value,
                fixed_fields={},
                data_setting="",
                status=Status.DONE.value,
                created_at=source.created_at,
            )
            session.add(copy)
        session.commit()
        count = session.scalar(select(func.count()).select_from(Distribution))

    page.apply_filter()

    assert page.model.rowCount() == count - 1
    assert page.model.data(page.model.index(0, Column.LIST_TITLE)) == "Copy 449"
    last = page.model.rowCount() - 1
    assert page.model.data(page.model.index(last, Column.LIST_TITLE)) == "Spring DE"
    page.model.refresh_visible(0, 10)
    assert page.model.data(page.model.index(5, Column.LIST_TITLE)) == "Copy 444"


# Creating ----------------------------------------------------------------------------------


def test_new_distribution_button_creates_and_selects_it(qtbot, database, page, ids):
    def fill_in() -> None:
        dialog = page.findChild(CreateDistributionDialog)
        dialog.title_edit.setText("From the dialog")
        dialog.apply()

    QTimer.singleShot(0, fill_in)
    with qtbot.waitSignal(page.distributions_changed, timeout=5000):
        qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)

    assert shown_titles(page)[0] == "From the dialog"
    selected = page.table.selectionModel().selectedRows()
    assert [index.row() for index in selected] == [0]
    assert page.count_label.text() == "4 distributions"


def test_deleting_a_finished_distribution_does_not_speak_of_stopping():
    text = confirmation_text(7, "Old", Action.DELETE, Status.DONE)
    assert text.startswith("Delete distribution 7 'Old'? Its records are kept")
    assert "Sending stops" in confirmation_text(7, "Old", Action.DELETE, Status.ACTIVE)


def menu_texts(menu) -> list[str]:
    return [entry.text() for entry in menu.actions() if not entry.isSeparator()]


def test_the_real_context_menu_lists_and_applies_the_allowed_actions(database, page, ids):
    row = page.model.row_of(ids["Spring DE"])
    menu = page.context_menu(row)
    assert menu_texts(menu) == ["Delivery log…", "Pause", "Done", "Delete"]

    next(entry for entry in menu.actions() if entry.text() == "Pause").trigger()

    with database.session() as session:
        assert session.get(Distribution, ids["Spring DE"]).status == Status.PAUSED.value
    menu = page.context_menu(page.model.row_of(ids["Spring DE"]))
    assert menu_texts(menu) == ["Delivery log…", "Resume", "Done", "Delete"]


def test_a_deleted_distribution_still_offers_its_delivery_log(page, ids):
    page.status_combo.setCurrentIndex(page.status_combo.findData(Status.DELETED))
    page.apply_filter()

    assert menu_texts(page.context_menu(page.model.row_of(ids["Old"]))) == ["Delivery log…"]


def test_progress_names_failed_and_unknown_outcomes_when_there_are_any(database, page, ids):
    with database.writer() as session:
        session.get(Distribution, ids["Spring DE"]).failed = 1
        session.get(Distribution, ids["Spring DE"]).unknown = 2
        session.commit()
    page.on_distribution_updated(ids["Spring DE"])

    assert cell(page, ids["Spring DE"], Column.PROGRESS).endswith(
        "rejected, 1 failed, 2 outcome unknown)"
    )


def test_the_status_says_why_an_active_distribution_waits(database, page, ids):
    until = datetime.now().astimezone().replace(tzinfo=None) + timedelta(minutes=30)
    set_status(
        database,
        ids["Spring DE"],
        waiting_reason="The advertiser asked to wait.",
        waiting_until=local_to_utc(until),
    )
    page.on_distribution_updated(ids["Spring DE"])
    model = page.model
    index = model.index(model.row_of(ids["Spring DE"]), Column.STATUS)

    moment = until.strftime("%H:%M") if until.date() == date.today() else f"{until:%Y-%m-%d %H:%M}"
    expected = f"Active · waiting until {moment}: The advertiser asked to wait."
    assert cell(page, ids["Spring DE"], Column.STATUS) == expected
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == expected


def test_the_status_gives_the_reason_leaddesk_paused_for(database, page, ids):
    set_status(
        database,
        ids["Autumn"],
        status_reason="The advertiser refused the login; check the offer's key.",
        waiting_reason="The advertiser refused the login; check the offer's key.",
        waiting_until=local_to_utc(datetime(2026, 3, 15, 13, 0)),
    )
    page.on_distribution_updated(ids["Autumn"])

    assert cell(page, ids["Autumn"], Column.STATUS) == (
        "Paused · The advertiser refused the login; check the offer's key."
    )


def test_a_wait_that_is_over_shows_no_time(database, page, ids):
    set_status(
        database,
        ids["Spring DE"],
        waiting_reason="No connection to the advertiser.",
        waiting_until=local_to_utc(datetime(2026, 3, 15, 13, 0)),
    )
    page.on_distribution_updated(ids["Spring DE"])

    assert cell(page, ids["Spring DE"], Column.STATUS) == (
        "Active · waiting: No connection to the advertiser."
    )
    model = page.model
    plain = model.index(model.row_of(ids["Winter"]), Column.STATUS)
    assert model.data(plain) == "Done"
    assert model.data(plain, Qt.ItemDataRole.ToolTipRole) is None
