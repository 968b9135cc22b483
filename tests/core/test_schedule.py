"""A distribution's schedule under windows and caps, and the estimate read from it."""

import itertools
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from wall_clock import BERLIN, KOLKATA, NEW_YORK, moment, utc, wall

from leaddesk.core.caps import Caps, CapUsage
from leaddesk.core.durations import format_duration
from leaddesk.core.pacing import estimated_total_seconds
from leaddesk.core.schedule import SendPlan, estimate, simulate, spread_interval_seconds
from leaddesk.core.send_windows import SendWindows
from leaddesk.errors import InputError

WORKING_HOURS = SendWindows.parse("mon-fri 09:00-18:00", BERLIN)
# Monday 1 June 2026, 08:00 in Berlin.
MONDAY_8AM = utc(BERLIN, "2026-06-01 08:00")


def walls(zone: str, moments: list[datetime]) -> list[str]:
    return [wall(zone, each) for each in moments]


def test_without_windows_or_caps_the_pace_is_as_before():
    schedule = simulate(4, moment("2026-06-01 10:00"), SendPlan(60))
    assert schedule.send_times == [moment(f"2026-06-01 10:0{minute}") for minute in range(4)]
    found = estimate(1000, moment("2026-06-01 10:00"), SendPlan(60))
    assert found.total_seconds == estimated_total_seconds(1000, 60)
    assert found.end_at == moment("2026-06-01 10:00") + timedelta(seconds=999 * 60)
    assert found.description == format_duration(999 * 60) == "16 h 39 min"


def test_an_empty_list_ends_where_it_starts():
    found = estimate(0, MONDAY_8AM, SendPlan(60, WORKING_HOURS))
    assert (found.end_at, found.total_seconds) == (MONDAY_8AM, 0)


def test_a_thousand_leads_at_two_hundred_a_day_end_on_friday_morning():
    # Monday 08:00: the window opens at 09:00 and 200 leads a minute apart end at 12:19. Four
    # more days of 200 end on Friday at 09:00 + 199 minutes.
    plan = SendPlan(60, WORKING_HOURS, distribution_caps=Caps(per_day=200))
    found = estimate(1000, MONDAY_8AM, plan)
    assert found.end_at == utc(BERLIN, "2026-06-05 12:19")
    assert found.total_seconds == 4 * 86400 + 4 * 3600 + 19 * 60
    assert found.description == "4 d 4 h, sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day"

    sent = simulate(1000, MONDAY_8AM, plan).send_times
    assert walls(BERLIN, sent[:2]) == ["2026-06-01 09:00", "2026-06-01 09:01"]
    assert walls(BERLIN, sent[199:202]) == [
        "2026-06-01 12:19",
        "2026-06-02 09:00",
        "2026-06-02 09:01",
    ]


def test_the_estimate_ends_where_the_simulated_schedule_ends():
    windows = SendWindows.parse("mon-fri 09:00-12:00,13:00-18:00", BERLIN)
    plan = SendPlan(45, windows, Caps(per_hour=40), Caps(per_day=150))
    # Thursday 22 October 2026, 15:00; the clocks go back on the Sunday in between.
    start = utc(BERLIN, "2026-10-22 15:00")
    schedule = simulate(1000, start, plan)
    found = estimate(1000, start, plan)

    # 120 on Thursday afternoon, 150 on each full day (40 an hour from 09:00 to 12:00, then
    # 30 from 13:00), and the last 130 on Friday the 30th: 13:00 plus nine times 45 s.
    assert (
        found.end_at
        == schedule.send_times[-1]
        == utc(BERLIN, "2026-10-30 13:06") + timedelta(seconds=45)
    )
    assert len(schedule.send_times) == 1000
    assert all(windows.is_open(each) for each in schedule.send_times)
    per_day = Counter(wall(BERLIN, each)[:10] for each in schedule.send_times)
    assert per_day["2026-10-22"] == 120
    assert set(per_day.values()) == {120, 150, 130}
    assert max(Counter(wall(BERLIN, each)[:13] for each in schedule.send_times).values()) == 40
    gaps = [later - earlier for earlier, later in itertools.pairwise(schedule.send_times)]
    assert min(gaps) == timedelta(seconds=45)
    assert found.description == (
        # 7 d 22 h 7 min on the wall, and the hour the clocks went back.
        "7 d 23 h, sending mon-fri 09:00-12:00,13:00-18:00 Europe/Berlin, 150 a day, 40 an hour"
    )


def test_the_pace_starts_again_when_a_window_opens():
    # Seven minutes apart in a one-hour window: 09:00 to 09:56 is nine leads a day, no burst.
    plan = SendPlan(7 * 60, SendWindows.parse("daily 09:00-10:00", BERLIN))
    sent = simulate(20, MONDAY_8AM, plan).send_times
    first_day = [f"2026-06-01 09:{minute:02d}" for minute in range(0, 57, 7)]
    second_day = [each.replace("06-01", "06-02") for each in first_day]
    assert walls(BERLIN, sent) == [*first_day, *second_day, "2026-06-03 09:00", "2026-06-03 09:07"]


def test_spring_forward_moves_the_window_an_hour_earlier_in_utc():
    plan = SendPlan(3600, SendWindows.parse("daily 09:00-18:00", BERLIN))
    sent = simulate(20, utc(BERLIN, "2026-03-28 09:00"), plan).send_times
    assert sent[:9] == [moment(f"2026-03-28 {hour:02d}:00") for hour in range(8, 17)]
    assert sent[9:18] == [moment(f"2026-03-29 {hour:02d}:00") for hour in range(7, 16)]
    assert sent[18:] == [moment("2026-03-30 07:00"), moment("2026-03-30 08:00")]


def test_a_night_shift_over_fall_back_is_an_hour_longer():
    plan = SendPlan(3600, SendWindows.parse("daily 22:00-06:00", BERLIN))
    sent = simulate(10, moment("2026-10-24 20:00"), plan).send_times
    assert sent[:9] == [moment("2026-10-24 20:00") + timedelta(hours=hour) for hour in range(9)]
    assert [each[11:] for each in walls(BERLIN, sent[:9])] == [
        "22:00", "23:00", "00:00", "01:00", "02:00", "02:00", "03:00", "04:00", "05:00"
    ]  # fmt: skip
    assert sent[9] == moment("2026-10-25 21:00")


def test_a_daily_cap_counts_new_york_days_across_spring_forward():
    plan = SendPlan(3600, SendWindows(time_zone=NEW_YORK), distribution_caps=Caps(per_day=5))
    sent = simulate(15, moment("2026-03-07 05:00"), plan).send_times
    assert sent == [
        *(moment(f"2026-03-07 {hour:02d}:00") for hour in range(5, 10)),
        # Sunday starts at 00:00 winter time (05:00 UTC) and skips 02:00.
        *(moment(f"2026-03-08 {hour:02d}:00") for hour in range(5, 10)),
        # Monday starts at 00:00 summer time, 04:00 UTC.
        *(moment(f"2026-03-09 {hour:02d}:00") for hour in range(4, 9)),
    ]
    assert [each[11:] for each in walls(NEW_YORK, sent[5:10])] == [
        "00:00", "01:00", "03:00", "04:00", "05:00"
    ]  # fmt: skip


def test_leads_sent_after_midnight_count_for_the_new_day():
    plan = SendPlan(3600, SendWindows(time_zone=BERLIN), distribution_caps=Caps(per_day=5))
    sent = simulate(10, utc(BERLIN, "2026-06-01 22:00"), plan).send_times
    assert [each[5:] for each in walls(BERLIN, sent)] == [
        "06-01 22:00", "06-01 23:00",
        "06-02 00:00", "06-02 01:00", "06-02 02:00", "06-02 03:00", "06-02 04:00",
        "06-03 00:00", "06-03 01:00", "06-03 02:00",
    ]  # fmt: skip


def test_an_hourly_cap_waits_for_the_advertisers_next_hour():
    plan = SendPlan(60, SendWindows(time_zone=KOLKATA), offer_caps=Caps(per_hour=5))
    sent = simulate(12, moment("2026-06-01 10:10"), plan).send_times
    assert sent == [
        *(moment(f"2026-06-01 10:1{minute}") for minute in range(5)),
        *(moment(f"2026-06-01 10:3{minute}") for minute in range(5)),
        moment("2026-06-01 11:30"),
        moment("2026-06-01 11:31"),
    ]


def test_a_country_cap_holds_up_the_list_until_the_next_local_day():
    plan = SendPlan(60, SendWindows(time_zone=BERLIN), Caps(per_country_day={"DE": 2}))
    countries = ["DE", "FR", "de", "", "DE", "FR"]
    sent = simulate(countries, moment("2026-06-01 10:00"), plan).send_times
    assert sent == [
        moment("2026-06-01 10:00"),
        moment("2026-06-01 10:01"),
        moment("2026-06-01 10:02"),
        moment("2026-06-01 10:03"),
        # Berlin's midnight; the French lead behind waits in line.
        moment("2026-06-01 22:00"),
        moment("2026-06-01 22:01"),
    ]


def test_a_total_cap_stops_the_list_and_the_estimate_says_so():
    plan = SendPlan(60, WORKING_HOURS, distribution_caps=Caps(total=500))
    schedule = simulate(1000, MONDAY_8AM, plan, distribution_usage=CapUsage(total=100))
    assert (schedule.sent, schedule.unsent) == (400, 600)
    assert schedule.stopped_by == "total cap of 500 reached"
    assert schedule.last_send_at == utc(BERLIN, "2026-06-01 15:39")
    found = estimate(1000, MONDAY_8AM, plan, distribution_usage=CapUsage(total=100))
    assert (found.end_at, found.total_seconds) == (None, None)
    assert found.description == (
        "stops after 400 of 1,000 leads: total cap of 500 reached, "
        "sending mon-fri 09:00-18:00 Europe/Berlin, 500 in total"
    )


def test_what_the_offer_already_sent_today_counts():
    plan = SendPlan(60, WORKING_HOURS, offer_caps=Caps(per_day=200))
    start = utc(BERLIN, "2026-06-01 09:00")
    sent = simulate(100, start, plan, offer_usage=CapUsage(today=150)).send_times
    assert walls(BERLIN, [sent[49], sent[50], sent[-1]]) == [
        "2026-06-01 09:49",
        "2026-06-02 09:00",
        "2026-06-02 09:49",
    ]


def test_spreading_a_list_over_the_window():
    assert spread_interval_seconds(WORKING_HOURS, 200) == 162
    assert spread_interval_seconds(SendWindows(), 1000) == 87
    # 32,400 s / 7 rounded up, so that no more than seven go in a day.
    assert spread_interval_seconds(WORKING_HOURS, 7) == 4629
    sent = simulate(14, MONDAY_8AM, SendPlan(4629, WORKING_HOURS)).send_times
    assert Counter(wall(BERLIN, each)[:10] for each in sent) == {"2026-06-01": 7, "2026-06-02": 7}

    found = estimate(1000, MONDAY_8AM, SendPlan(162, WORKING_HOURS))
    assert found.end_at == utc(BERLIN, "2026-06-05 09:00") + timedelta(seconds=199 * 162)


@pytest.mark.parametrize("per_day", [0, -5])
def test_spreading_needs_at_least_one_lead_a_day(per_day):
    with pytest.raises(InputError, match="The number of leads a day must be a whole number"):
        spread_interval_seconds(WORKING_HOURS, per_day)


def test_an_interval_of_zero_is_refused():
    with pytest.raises(InputError, match="longer than zero"):
        simulate(10, MONDAY_8AM, SendPlan(0))


def test_a_hundred_thousand_leads_are_estimated_at_once():
    plan = SendPlan(60, WORKING_HOURS, Caps(per_hour=50), Caps(per_day=200))
    started = time.perf_counter()
    found = estimate(100_000, MONDAY_8AM, plan)
    elapsed = time.perf_counter() - started
    # 200 a day, 50 an hour from 09:00: 500 working days, the last one Friday of week 100.
    assert found.end_at == utc(BERLIN, "2028-04-28 12:49")
    # About 0.2 s; the margin is for a busy machine, not for stepping minute by minute.
    assert elapsed < 2.0
