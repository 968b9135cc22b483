"""Import progress: rows per second, time left from the file size, throttled reports."""

from __future__ import annotations

import pytest

from leaddesk.core.import_progress import (
    UNKNOWN,
    ImportPace,
    bytes_per_row,
    duration_text,
    estimate_total_rows,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bytes_per_row_counts_delimiters_quotes_and_line_ends():
    rows = [["Ada", "ada@example.com"], ["Grace, Jr", "g@example.com"]]
    # "Ada,ada@example.com\r\n" = 21 bytes; "\"Grace, Jr\",g@example.com\r\n" = 27 bytes.
    assert bytes_per_row(rows, ",", "utf-8") == pytest.approx(24)
    assert bytes_per_row([["é"]], ";", "utf-16") == 2 + 2 + 2 + 2  # BOM, é, CR, LF
    assert bytes_per_row([], ",", "utf-8") is None


def test_estimate_total_rows():
    assert estimate_total_rows(1000, 24.0) == 42
    assert estimate_total_rows(1000, None) is None
    assert estimate_total_rows(0, 24.0) is None


def test_pace_reports_rows_per_second_and_time_left():
    clock = FakeClock()
    pace = ImportPace(total_rows=10_000, clock=clock, report_interval_s=0.2)

    clock.now += 1.0
    report = pace.update(1_000)

    assert report is not None
    assert report.rows == 1_000
    assert report.rows_per_s == pytest.approx(1_000)
    assert report.seconds_left == pytest.approx(9.0)


def test_pace_throttles_reports_but_not_the_final_one():
    clock = FakeClock()
    pace = ImportPace(total_rows=None, clock=clock, report_interval_s=0.2)

    clock.now += 0.1
    assert pace.update(100) is not None
    clock.now += 0.1
    assert pace.update(200) is None
    clock.now += 0.15
    assert pace.update(300) is not None
    final = pace.final(310)
    assert final.rows == 310
    assert final.seconds_left == UNKNOWN


def test_time_left_is_never_negative_past_the_estimate():
    clock = FakeClock()
    pace = ImportPace(total_rows=100, clock=clock)
    clock.now += 1.0
    report = pace.update(150)
    assert report is not None
    assert report.seconds_left == 0.0


def test_rate_follows_the_last_seconds():
    clock = FakeClock()
    pace = ImportPace(total_rows=None, clock=clock, report_interval_s=0.0)
    for _ in range(10):
        clock.now += 1.0
        pace.update(0)
    rows = 0
    for _ in range(10):
        clock.now += 1.0
        rows += 2_000
        report = pace.update(rows)
    assert report is not None
    assert report.rows_per_s == pytest.approx(2_000, rel=0.1)


def test_duration_text():
    assert duration_text(UNKNOWN) == "unknown"
    assert duration_text(3) == "a few seconds"
    assert duration_text(42.4) == "about 42 s"
    assert duration_text(130) == "about 2 min 10 s"
    assert duration_text(3 * 3600 + 120) == "about 3 h 2 min"
