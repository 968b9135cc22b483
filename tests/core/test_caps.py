"""Caps per hour, per day, in total and per country, on the advertiser's clocks."""

import heapq
import json
from collections import Counter
from datetime import timedelta

import pytest
from wall_clock import BERLIN, KOLKATA, NEW_YORK, moment, utc, wall

from leaddesk.core.caps import (
    Caps,
    CapUsage,
    UsageTally,
    cap_periods,
    check_caps,
    parse_cap_count,
    parse_country_caps,
)
from leaddesk.core.send_windows import SendWindows
from leaddesk.errors import InputError

ALWAYS_IN_BERLIN = SendWindows(time_zone=BERLIN)


def test_caps_are_read_from_the_command_line_and_described():
    caps = Caps.parse(per_hour="20", per_day="200", total="5000", per_country_day="de:50, FR:20")
    assert caps == Caps(20, 200, 5000, {"DE": 50, "FR": 20})
    assert caps.describe() == "200 a day, 20 an hour, 5,000 in total, DE 50 a day, FR 20 a day"
    assert Caps.parse(per_day="200").describe() == "200 a day"
    assert Caps.parse().describe() == ""
    assert not Caps.parse(per_hour="", per_day=None).any


def test_a_country_can_be_named_instead_of_its_code():
    assert parse_country_caps("Germany:50,Österreich:10") == {"DE": 50, "AT": 10}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots", "'lots' is not a number for the daily cap. Write a whole number of leads"),
        ("2.5", "'2.5' is not a number for the daily cap."),
        ("0", "The daily cap must be a whole number of leads, at least 1. To stop sending, pause"),
        ("-3", "The daily cap must be a whole number of leads, at least 1."),
    ],
)
def test_a_bad_cap_is_refused_with_what_to_write(text, message):
    with pytest.raises(InputError) as refused:
        parse_cap_count(text, "daily cap")
    assert message in str(refused.value)


@pytest.mark.parametrize("text", ["DE50", "XX:50", "DE:", ":50", "DE:50:1"])
def test_a_bad_country_cap_is_refused_with_what_to_write(text):
    with pytest.raises(InputError) as refused:
        parse_country_caps(text)
    assert str(refused.value) == (
        f"'{text}' is not a daily cap for a country. Write the country code, a colon and the "
        "number a day, such as DE:50 or DE:50,FR:20."
    )


def test_a_zero_country_cap_is_refused():
    with pytest.raises(InputError, match="The daily cap for DE must be a whole number"):
        parse_country_caps("DE:0")


@pytest.mark.parametrize(
    "caps", [Caps(), Caps(per_day=200), Caps(20, 200, 5000, {"DE": 50, "FR": 20})]
)
def test_caps_survive_a_json_column(caps):
    stored = json.loads(json.dumps(caps.to_json()))
    assert Caps.from_json(stored) == caps


def test_nothing_stored_reads_as_no_caps():
    assert Caps.from_json(None) == Caps()
    assert Caps().to_json() == {}


def test_the_tightest_of_an_offers_and_a_distributions_caps():
    offer = Caps(per_hour=30, per_day=500, per_country_day={"DE": 50})
    distribution = Caps(per_day=200, total=1000, per_country_day={"DE": 80, "FR": 10})
    assert offer.tightest(distribution) == Caps(30, 200, 1000, {"DE": 50, "FR": 10})


def test_a_lead_goes_while_every_cap_has_room():
    caps = Caps(per_hour=20, per_day=200, total=1000, per_country_day={"DE": 50})
    usage = CapUsage(this_hour=19, today=199, total=999, country_today={"DE": 49})
    decision = check_caps(caps, usage, moment("2026-06-01 10:00"), ALWAYS_IN_BERLIN, "DE")
    assert decision.allowed
    assert decision.resumes_at is None


def test_an_hourly_cap_waits_for_the_next_clock_hour():
    usage = CapUsage(this_hour=20, today=20, total=20)
    decision = check_caps(
        Caps(per_hour=20), usage, utc(BERLIN, "2026-06-01 14:40"), ALWAYS_IN_BERLIN
    )
    assert not decision.allowed
    assert decision.resumes_at == utc(BERLIN, "2026-06-01 15:00")
    assert decision.reason == "hourly cap of 20 reached; resumes 15:00 Mon"


def test_an_hour_is_the_advertisers_hour_where_it_is_not_a_utc_hour():
    # Kolkata is five and a half hours ahead of UTC: its hours turn at half past in UTC.
    decision = check_caps(
        Caps(per_hour=5),
        CapUsage(this_hour=5),
        moment("2026-06-01 10:10"),
        SendWindows(time_zone=KOLKATA),
    )
    assert decision.resumes_at == moment("2026-06-01 10:30")
    assert decision.reason == "hourly cap of 5 reached; resumes 16:00 Mon"


def test_a_daily_cap_waits_for_local_midnight_not_utc_midnight():
    # 22:30 in Berlin is 20:30 UTC: the day ends in an hour and a half, not three and a half.
    decision = check_caps(
        Caps(per_day=200),
        CapUsage(today=200),
        utc(BERLIN, "2026-06-01 22:30"),
        ALWAYS_IN_BERLIN,
    )
    assert decision.resumes_at == moment("2026-06-01 22:00")
    assert decision.reason == "daily cap of 200 reached; resumes 00:00 Tue"


def test_a_daily_cap_resumes_when_the_next_window_opens():
    windows = SendWindows.parse("mon-fri 09:00-18:00", BERLIN)
    decision = check_caps(
        Caps(per_day=200), CapUsage(today=200), utc(BERLIN, "2026-06-01 12:19"), windows
    )
    assert decision.resumes_at == utc(BERLIN, "2026-06-02 09:00")
    assert decision.reason == "daily cap of 200 reached; resumes 09:00 Tue"


def test_when_two_caps_block_the_later_period_end_counts():
    decision = check_caps(
        Caps(per_hour=20, per_day=100),
        CapUsage(this_hour=20, today=100),
        utc(BERLIN, "2026-06-01 14:40"),
        ALWAYS_IN_BERLIN,
    )
    assert decision.resumes_at == utc(BERLIN, "2026-06-02 00:00")
    assert decision.reason == "daily cap of 100 reached; resumes 00:00 Tue"


def test_a_total_cap_stops_for_good():
    decision = check_caps(
        Caps(per_day=10, total=500),
        CapUsage(today=10, total=500),
        moment("2026-06-01 10:00"),
        ALWAYS_IN_BERLIN,
    )
    assert not decision.allowed
    assert decision.resumes_at is None
    assert decision.reason == "total cap of 500 reached"


def test_a_country_cap_holds_only_that_countrys_leads():
    caps = Caps(per_country_day={"DE": 50})
    usage = CapUsage(this_hour=80, today=80, total=80, country_today={"DE": 50, "FR": 30})
    now = utc(BERLIN, "2026-06-01 10:00")
    german = check_caps(caps, usage, now, ALWAYS_IN_BERLIN, "DE")
    assert not german.allowed
    assert german.resumes_at == utc(BERLIN, "2026-06-02 00:00")
    assert german.reason == "daily cap of 50 for DE reached; resumes 00:00 Tue"
    assert check_caps(caps, usage, now, ALWAYS_IN_BERLIN, "de").reason == german.reason
    assert check_caps(caps, usage, now, ALWAYS_IN_BERLIN, "FR").allowed
    assert check_caps(caps, usage, now, ALWAYS_IN_BERLIN).allowed


def test_cap_periods_on_the_days_the_clocks_change():
    spring = cap_periods(moment("2026-03-29 12:00"), BERLIN)
    assert (spring.day_start, spring.day_end) == (
        moment("2026-03-28 23:00"),
        moment("2026-03-29 22:00"),
    )
    autumn = cap_periods(moment("2026-10-25 12:00"), BERLIN)
    assert autumn.day_end - autumn.day_start == timedelta(hours=25)
    # The repeated hour of the autumn night is two hours, one after the other.
    first = cap_periods(moment("2026-10-25 00:30"), BERLIN)
    second = cap_periods(moment("2026-10-25 01:30"), BERLIN)
    assert (first.hour_start, first.hour_end) == (
        moment("2026-10-25 00:00"),
        moment("2026-10-25 01:00"),
    )
    assert (second.hour_start, second.hour_end) == (
        moment("2026-10-25 01:00"),
        moment("2026-10-25 02:00"),
    )
    new_york = cap_periods(moment("2026-11-01 12:00"), NEW_YORK)
    assert (new_york.day_start, new_york.day_end) == (
        moment("2026-11-01 04:00"),
        moment("2026-11-02 05:00"),
    )


def test_a_tally_starts_a_new_day_at_local_midnight():
    tally = UsageTally(BERLIN, utc(BERLIN, "2026-06-01 23:30"), CapUsage(5, 200, 900, {"DE": 7}))
    assert tally.usage(moment("2026-06-01 21:59"), "DE") == CapUsage(5, 200, 900, {"DE": 7})
    assert tally.usage(moment("2026-06-01 22:00"), "DE") == CapUsage(0, 0, 900, {"DE": 0})
    tally.record(moment("2026-06-01 22:05"), "DE")
    assert tally.usage(moment("2026-06-01 22:06"), "DE") == CapUsage(1, 1, 901, {"DE": 1})


def _feed_one_offer(offer_caps: Caps, intervals_s: list[int], days: int, shared: bool):
    """Distributions sending at their own pace into one offer, each checking the offer's caps
    against one shared tally (as the sender counts in one transaction) or against its own."""
    start = utc(BERLIN, "2026-06-01 00:00")
    tallies = [UsageTally(BERLIN, start) for _ in intervals_s]
    if shared:
        tallies = [tallies[0]] * len(intervals_s)
    due = [(start, index) for index in range(len(intervals_s))]
    sent = []
    while due:
        now, index = heapq.heappop(due)
        if now >= start + timedelta(days=days):
            continue
        tally = tallies[index]
        decision = check_caps(offer_caps, tally.usage(now), now, ALWAYS_IN_BERLIN)
        if decision.allowed:
            tally.record(now)
            sent.append(now)
            heapq.heappush(due, (now + timedelta(seconds=intervals_s[index]), index))
        else:
            heapq.heappush(due, (decision.resumes_at, index))
    return sent


def test_two_distributions_on_one_offer_never_overshoot_its_caps():
    sent = _feed_one_offer(Caps(per_hour=30, per_day=100), [60, 90], days=3, shared=True)
    per_day = Counter(wall(BERLIN, each)[:10] for each in sent)
    per_hour = Counter(wall(BERLIN, each)[:13] for each in sent)
    assert per_day == {"2026-06-01": 100, "2026-06-02": 100, "2026-06-03": 100}
    assert max(per_hour.values()) == 30
    assert [per_hour[f"2026-06-02 0{hour}"] for hour in range(5)] == [30, 30, 30, 10, 0]


def test_counting_apart_would_overshoot_the_offers_caps():
    # The same two distributions, each counting only its own leads: twice the daily cap.
    sent = _feed_one_offer(Caps(per_hour=30, per_day=100), [60, 90], days=1, shared=False)
    assert len(sent) == 200
