"""How fast an import reads rows and how long it has left, from rows read and the clock."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# At most this many reports a second reach the window; more would only cost it time.
REPORT_INTERVAL_S = 0.2
# The rate is taken over the last few seconds, so a slow start does not skew the time left.
RATE_WINDOW_S = 5.0
# Seconds left when there is no estimate of the rows in the file, or no pace yet.
UNKNOWN = -1.0


@dataclass(frozen=True)
class ProgressReport:
    """Rows read so far, their pace, and the seconds left (UNKNOWN when it cannot be told)."""

    rows: int
    rows_per_s: float
    seconds_left: float


def bytes_per_row(rows: Sequence[Sequence[str]], delimiter: str, encoding: str) -> float | None:
    """The average size in the file of the given rows, written back as delimited text."""
    if not rows:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter or ",", lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    try:
        size = len(buffer.getvalue().encode(encoding or "utf-8", errors="replace"))
    except LookupError:
        size = len(buffer.getvalue().encode("utf-8"))
    return size / len(rows)


def estimate_total_rows(file_size: int, average_row_bytes: float | None) -> int | None:
    """How many rows a file of `file_size` bytes holds, when rows are about that size."""
    if not average_row_bytes or average_row_bytes <= 0 or file_size <= 0:
        return None
    return max(1, math.ceil(file_size / average_row_bytes))


class ImportPace:
    """Turns rows read into throttled reports of rows per second and seconds left."""

    def __init__(
        self,
        total_rows: int | None,
        clock: Callable[[], float] = time.monotonic,
        report_interval_s: float = REPORT_INTERVAL_S,
    ) -> None:
        self._total_rows = total_rows
        self._clock = clock
        self._report_interval_s = report_interval_s
        self._started_at = clock()
        self._last_report_at: float | None = None
        self._samples: list[tuple[float, int]] = [(self._started_at, 0)]

    def update(self, rows: int) -> ProgressReport | None:
        """A report for `rows` read, or None when the last one was too recent."""
        now = self._clock()
        self._samples.append((now, rows))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_S:
            self._samples.pop(0)
        last = self._last_report_at
        if last is not None and now - last < self._report_interval_s:
            return None
        self._last_report_at = now
        return self._report(now, rows)

    def final(self, rows: int) -> ProgressReport:
        """The report for the last rows read, whatever the time since the previous one."""
        now = self._clock()
        self._samples.append((now, rows))
        return self._report(now, rows)

    def _report(self, now: float, rows: int) -> ProgressReport:
        first_at, first_rows = self._samples[0]
        elapsed = now - first_at
        rows_per_s = (rows - first_rows) / elapsed if elapsed > 0 else 0.0
        return ProgressReport(rows, rows_per_s, self._seconds_left(rows, rows_per_s))

    def _seconds_left(self, rows: int, rows_per_s: float) -> float:
        if self._total_rows is None or rows_per_s <= 0:
            return UNKNOWN
        # A file read past its estimated size is nearly done, not at a negative time left.
        return max(0.0, (self._total_rows - rows) / rows_per_s)


def duration_text(seconds: float) -> str:
    """Seconds left in a manager's words: `about 2 min 10 s`, `a few seconds`, `unknown`."""
    if seconds < 0:
        return "unknown"
    if seconds < 5:
        return "a few seconds"
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"about {hours} h {minutes} min"
    if minutes:
        return f"about {minutes} min {secs} s"
    return f"about {secs} s"
