"""The natural, start-anchored schedule and the send interval."""

import itertools
import statistics

import pytest

from leaddesk.core.pacing import (
    JITTER_FRACTION,
    PeriodUnit,
    SendInterval,
    estimated_total_seconds,
    jitter,
    offset_seconds,
)
from leaddesk.errors import InputError


@pytest.mark.parametrize(
    ("text", "value", "unit", "seconds"),
    [
        ("5s", 5, PeriodUnit.SECONDS, 5),
        ("2m", 2, PeriodUnit.MINUTES, 120),
        ("1h", 1, PeriodUnit.HOURS, 3600),
        ("1d", 1, PeriodUnit.DAYS, 86400),
        (" 10 S ", 10, PeriodUnit.SECONDS, 10),
    ],
)
def test_every_is_read_in_each_unit(text, value, unit, seconds):
    interval = SendInterval.parse(text)
    assert (interval.value, interval.unit, interval.seconds) == (value, unit, seconds)


@pytest.mark.parametrize("text", ["", "5", "s", "0s", "-1m", "1.5h", "5 weeks", "5x"])
def test_every_refuses_what_is_not_an_interval(text):
    with pytest.raises(InputError):
        SendInterval.parse(text)


def test_interval_describes_itself():
    assert SendInterval(1, PeriodUnit.MINUTES).describe() == "every 1 minute"
    assert SendInterval(5, PeriodUnit.SECONDS).describe() == "every 5 seconds"


def test_first_lead_is_due_at_the_anchor():
    for seed in range(50):
        assert offset_seconds(60, seed, 0) == 0


def gaps(interval, seed, count):
    offsets = [offset_seconds(interval, seed, index) for index in range(count)]
    return [later - earlier for earlier, later in itertools.pairwise(offsets)]


@pytest.mark.parametrize("seed", [1, 7, 12345, -99, 2**40])
def test_gaps_vary_naturally_and_stay_in_bounds(seed):
    interval = 10.0
    found = gaps(interval, seed, 21)
    assert all(0.3 * interval <= gap <= 1.7 * interval for gap in found)
    variation = statistics.pstdev(found) / statistics.mean(found)
    assert variation >= 0.15
    # Over 20 gaps the mean is within the last lead's jitter, spread over 20, of T.
    assert statistics.mean(found) == pytest.approx(interval, abs=JITTER_FRACTION * interval / 20)


def test_schedule_never_drifts_from_the_grid():
    interval = 3.0
    for index in range(1, 2000, 97):
        assert abs(offset_seconds(interval, 5, index) - index * interval) <= (
            JITTER_FRACTION * interval
        )


def test_jitter_is_repeatable_and_differs_between_leads():
    assert jitter(3, 4) == jitter(3, 4)
    assert len({jitter(3, index) for index in range(1, 100)}) == 99


def test_estimate_counts_from_the_first_lead():
    assert estimated_total_seconds(0, 60) == 0
    assert estimated_total_seconds(1, 60) == 0
    assert estimated_total_seconds(101, 60) == 6000


def test_interval_has_a_short_form_for_table_cells():
    assert SendInterval(2, PeriodUnit.MINUTES).describe_short() == "every 2 min"
    assert SendInterval(1, PeriodUnit.DAYS).describe_short() == "every 1 d"
