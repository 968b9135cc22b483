"""Durations and moments as a manager reads them."""

from datetime import datetime

import pytest

from leaddesk.core.durations import format_duration, format_moment


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (1, "1 s"),
        (59, "59 s"),
        (59.7, "1 min"),
        (61, "1 min 1 s"),
        (6000, "1 h 40 min"),
        (5940, "1 h 39 min"),
        (3600, "1 h"),
        (7199, "2 h"),
        (86400, "1 d"),
        (100000, "1 d 4 h"),
        (86399, "1 d"),
    ],
)
def test_two_largest_units_rounded(seconds, text):
    assert format_duration(seconds) == text


def test_moment_leaves_out_the_date_of_the_reference_day():
    moment = datetime(2026, 12, 4, 14, 2, 11)
    assert format_moment(moment, datetime(2026, 12, 4, 9, 0)) == "14:02:11"
    assert format_moment(moment, datetime(2026, 12, 5, 9, 0)) == "2026-12-04 14:02"
    assert format_moment(None) == ""
