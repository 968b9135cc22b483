"""Send windows: reading them, and when they open and close on the advertiser's clocks."""

import json

import pytest
from wall_clock import BERLIN, NEW_YORK, moment, utc, wall

from leaddesk.core.send_windows import SendWindows, WindowSpan
from leaddesk.errors import InputError


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("mon-fri 09:00-18:00", "mon-fri 09:00-18:00"),
        ("Mon - Fri 9:00-18:00", "mon-fri 09:00-18:00"),
        (
            "mon,wed 08:00-12:00,14:00-17:00; sat 10:00-14:00",
            "mon,wed 08:00-12:00,14:00-17:00; sat 10:00-14:00",
        ),
        ("mon-fri 09:00-12:00, 13:00-18:00", "mon-fri 09:00-12:00,13:00-18:00"),
        ("daily 22:00-06:00", "daily 22:00-06:00"),
        ("fri 22:00-06:00", "fri 22:00-06:00"),
        ("09:00-18:00", "daily 09:00-18:00"),
        ("mon-sun 09:00-18:00", "daily 09:00-18:00"),
        ("sat, sun 10:00-14:00", "sat-sun 10:00-14:00"),
        ("fri-mon 10:00-12:00", "mon,fri-sun 10:00-12:00"),
        ("mon 13:00-18:00; mon 09:00-12:00", "mon 09:00-12:00,13:00-18:00"),
        ("Monday 09:00-10:00;", "mon 09:00-10:00"),
        ("mon-fri 18:00-24:00", "mon-fri 18:00-24:00"),
        ("mon-fri 00:00-24:00; sat 10:00-14:00", "mon-fri 00:00-24:00; sat 10:00-14:00"),
    ],
)
def test_windows_are_read_and_written_back_in_one_short_form(text, canonical):
    windows = SendWindows.parse(text, BERLIN)
    assert windows.describe() == canonical
    assert SendWindows.parse(canonical, BERLIN) == windows


@pytest.mark.parametrize("text", [None, "", "  "])
def test_no_windows_means_always_open(text):
    windows = SendWindows.parse(text, BERLIN)
    assert windows.always_open
    assert windows.describe() == ""
    assert windows.next_open(moment("2026-06-01 03:17")) == moment("2026-06-01 03:17")
    assert windows.open_until(moment("2026-06-01 03:17")) is None


def test_windows_covering_the_whole_week_are_always_open():
    windows = SendWindows.parse("mon-fri 00:00-24:00; sat-sun 00:00-24:00", BERLIN)
    assert windows.always_open
    assert windows.open_until(moment("2026-06-06 11:00")) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fry 09:00-18:00", "'fry' in 'mon-fry 09:00-18:00' is not a day. Write mon, tue"),
        ("mon-fri", "'mon-fri' has no hours. Write days and hours, such as 'mon-fri 09:00-18:00'"),
        ("mon 9-18", "'9' in 'mon 9-18' is not a time of day. Write hours and minutes from 00:00"),
        ("mon 09:00-25:00", "'25:00' in 'mon 09:00-25:00' is not a time of day."),
        ("mon 09:60-10:00", "'09:60' in 'mon 09:60-10:00' is not a time of day."),
        ("mon 09:00", "'09:00' in 'mon 09:00' is not a span of hours. Write opening and closing"),
        ("mon 24:00-06:00", "A window in 'mon 24:00-06:00' opens at 24:00. Write 00:00 of the"),
        (
            "mon 09:00-09:00",
            "opens and closes at the same time. For a whole day write 00:00-24:00",
        ),
        (";", "';' gives no send window. Write days and hours, such as 'mon-fri 09:00-18:00'"),
    ],
)
def test_bad_windows_are_refused_with_what_to_write(text, message):
    with pytest.raises(InputError) as refused:
        SendWindows.parse(text, BERLIN)
    assert message in str(refused.value)


def test_an_unknown_time_zone_is_refused_with_suggestions():
    with pytest.raises(InputError) as refused:
        SendWindows.parse("mon-fri 09:00-18:00", "Europe/Berln")
    # The suggestions after the best one depend on the time-zone database's version.
    assert str(refused.value).startswith(
        "'Europe/Berln' is not a time zone. Write an IANA time zone name such as "
        "Europe/Berlin, America/New_York or UTC. Did you mean Europe/Berlin"
    )
    with pytest.raises(InputError, match="The time zone is missing"):
        SendWindows.parse("mon-fri 09:00-18:00", "")


def test_a_time_zone_is_kept_as_the_database_spells_it():
    assert SendWindows.parse("mon 09:00-10:00", "europe/berlin").time_zone == BERLIN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "mon-fri 09:00-18:00",
        "mon,wed 08:00-12:00,14:00-17:00; sat 10:00-14:00",
        "daily 22:00-06:00",
    ],
)
def test_windows_survive_a_json_column(text):
    windows = SendWindows.parse(text, NEW_YORK)
    stored = json.loads(json.dumps(windows.to_json()))
    assert stored == {"time_zone": NEW_YORK, "windows": windows.groups()}
    assert SendWindows.from_json(stored) == windows


def test_nothing_stored_reads_as_always_open():
    assert SendWindows.from_json(None).always_open


def test_a_window_opens_and_closes_on_the_advertisers_clock():
    windows = SendWindows.parse("mon-fri 09:00-18:00", BERLIN)
    assert not windows.is_open(utc(BERLIN, "2026-06-01 08:59"))
    assert windows.is_open(utc(BERLIN, "2026-06-01 09:00"))
    assert windows.is_open(utc(BERLIN, "2026-06-01 17:59"))
    assert not windows.is_open(utc(BERLIN, "2026-06-01 18:00"))
    # Berlin is two hours ahead of UTC in summer.
    assert windows.next_open(moment("2026-06-01 05:00")) == moment("2026-06-01 07:00")
    assert windows.open_until(moment("2026-06-01 07:00")) == moment("2026-06-01 16:00")


def test_a_closed_window_waits_over_the_weekend():
    windows = SendWindows.parse("mon-fri 09:00-18:00", BERLIN)
    friday_evening = utc(BERLIN, "2026-06-05 18:00")
    assert windows.next_open(friday_evening) == utc(BERLIN, "2026-06-08 09:00")
    assert windows.open_until(friday_evening) == friday_evening


def test_a_night_shift_belongs_to_the_day_it_starts():
    windows = SendWindows.parse("fri 22:00-06:00", BERLIN)
    # Friday 9 January 2026, Berlin one hour ahead of UTC.
    assert windows.next_open(moment("2026-01-08 12:00")) == moment("2026-01-09 21:00")
    assert not windows.is_open(moment("2026-01-09 20:59"))
    assert windows.is_open(moment("2026-01-09 21:00"))
    assert windows.is_open(moment("2026-01-10 04:59"))
    assert not windows.is_open(moment("2026-01-10 05:00"))
    assert windows.open_until(moment("2026-01-09 23:00")) == moment("2026-01-10 05:00")
    # Thursday night and Saturday night stay closed.
    assert not windows.is_open(utc(BERLIN, "2026-01-09 02:00"))
    assert not windows.is_open(utc(BERLIN, "2026-01-10 23:00"))
    assert windows.next_open(moment("2026-01-10 05:00")) == moment("2026-01-16 21:00")


def test_several_windows_a_day():
    windows = SendWindows.parse("mon-fri 09:00-12:00,13:00-18:00", BERLIN)
    assert windows.open_until(utc(BERLIN, "2026-06-01 10:00")) == utc(BERLIN, "2026-06-01 12:00")
    assert windows.next_open(utc(BERLIN, "2026-06-01 12:30")) == utc(BERLIN, "2026-06-01 13:00")
    assert windows.open_until(utc(BERLIN, "2026-06-01 13:00")) == utc(BERLIN, "2026-06-01 18:00")


def test_windows_that_touch_are_one_open_stretch():
    windows = SendWindows.parse("mon 18:00-24:00; tue 00:00-06:00,06:00-08:00", BERLIN)
    assert windows.open_until(utc(BERLIN, "2026-06-01 19:00")) == utc(BERLIN, "2026-06-02 08:00")
    weekdays = SendWindows.parse("mon-fri 00:00-24:00", BERLIN)
    assert weekdays.open_until(utc(BERLIN, "2026-06-01 10:00")) == utc(BERLIN, "2026-06-06 00:00")


def test_spring_forward_in_berlin_shortens_the_night():
    # 29 March 2026: at 01:00 UTC Berlin's clocks jump from 02:00 to 03:00.
    night = SendWindows.parse("daily 22:00-06:00", BERLIN)
    assert night.next_open(moment("2026-03-28 12:00")) == moment("2026-03-28 21:00")
    assert night.open_until(moment("2026-03-28 21:00")) == moment("2026-03-29 04:00")

    days = SendWindows.parse("daily 09:00-18:00", BERLIN)
    assert days.next_open(moment("2026-03-28 17:00")) == moment("2026-03-29 07:00")
    assert days.open_until(moment("2026-03-29 07:00")) == moment("2026-03-29 16:00")


def test_a_window_in_the_skipped_hour_is_missing_that_day():
    skipped = SendWindows.parse("sun 02:00-03:00", BERLIN)
    assert skipped.next_open(moment("2026-03-28 23:00")) == moment("2026-04-05 00:00")
    halved = SendWindows.parse("sun 01:30-02:30", BERLIN)
    assert halved.next_open(moment("2026-03-28 23:00")) == moment("2026-03-29 00:30")
    assert halved.open_until(moment("2026-03-29 00:30")) == moment("2026-03-29 01:00")


def test_fall_back_in_berlin_lengthens_the_night_without_opening_twice():
    # 25 October 2026: at 01:00 UTC Berlin's clocks go back from 03:00 to 02:00.
    night = SendWindows.parse("daily 22:00-06:00", BERLIN)
    assert night.open_until(moment("2026-10-24 20:00")) == moment("2026-10-25 05:00")

    repeated = SendWindows.parse("sun 02:00-02:30", BERLIN)
    assert repeated.next_open(moment("2026-10-24 23:00")) == moment("2026-10-25 00:00")
    assert repeated.open_until(moment("2026-10-25 00:00")) == moment("2026-10-25 00:30")
    # 02:15 a second time, in winter time: the window is not opened again.
    assert wall(BERLIN, moment("2026-10-25 01:15")) == "2026-10-25 02:15"
    assert not repeated.is_open(moment("2026-10-25 01:15"))
    assert repeated.next_open(moment("2026-10-25 00:30")) == moment("2026-11-01 01:00")


def test_new_york_changes_its_clocks_on_other_days():
    windows = SendWindows.parse("mon-fri 09:00-17:00", NEW_YORK)
    # Friday 6 March 2026 in winter time (UTC-5); Monday 9 March in summer time (UTC-4).
    assert windows.next_open(moment("2026-03-06 12:00")) == moment("2026-03-06 14:00")
    assert windows.next_open(moment("2026-03-06 22:00")) == moment("2026-03-09 13:00")
    assert windows.open_until(moment("2026-03-09 13:00")) == moment("2026-03-09 21:00")

    # 1 November 2026: at 06:00 UTC New York's clocks go back from 02:00 to 01:00.
    repeated = SendWindows.parse("sun 01:00-01:30", NEW_YORK)
    assert repeated.next_open(moment("2026-11-01 00:00")) == moment("2026-11-01 05:00")
    assert repeated.open_until(moment("2026-11-01 05:00")) == moment("2026-11-01 05:30")
    assert not repeated.is_open(moment("2026-11-01 06:15"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("", 86400),
        ("mon-fri 09:00-18:00", 9 * 3600),
        ("mon,wed 08:00-12:00,14:00-17:00; sat 10:00-14:00", 7 * 3600),
        ("daily 22:00-06:00", 8 * 3600),
        ("mon 09:00-12:00,11:00-13:00", 4 * 3600),
        ("mon-fri 09:00-18:00; sat 10:00-20:00", 10 * 3600),
    ],
)
def test_open_seconds_of_the_most_open_day(text, seconds):
    assert SendWindows.parse(text, BERLIN).open_seconds_per_day() == seconds


@pytest.mark.parametrize(
    ("start", "end"), [(540, 540), (1320, 1320 + 1440), (1440, 1500), (600, 540)]
)
def test_a_window_that_the_text_cannot_write_is_not_made(start, end):
    with pytest.raises(ValueError, match="not a send window"):
        WindowSpan(0, start, end)
