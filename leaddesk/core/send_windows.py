"""Send windows: the days and hours, on the advertiser's clocks, when leads may go.

A window belongs to the day it opens: `fri 22:00-06:00` opens on Friday night and closes on
Saturday morning. Moments in and out are naive UTC datetimes. When clocks spring forward, the
skipped hour is simply missing from a window; when they fall back, a window opens and closes
at the first moment the clocks show its times, so it is never opened twice in one night.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from leaddesk.core.time_zones import DEFAULT_TIME_ZONE, local_time, parse_time_zone, utc_moment
from leaddesk.errors import InputError

MINUTES_PER_DAY = 24 * 60
DAYS_PER_WEEK = 7
SECONDS_PER_MINUTE = 60
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = "daily"
EXAMPLE = "'mon-fri 09:00-18:00' or 'mon,wed 08:00-12:00,14:00-17:00; sat 10:00-14:00'"
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {
    name: number for names in (DAY_NAMES, _FULL_DAY_NAMES) for number, name in enumerate(names)
}
_TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
# The days are everything before the first digit: `mon, wed 08:00-12:00`.
_GROUP_PATTERN = re.compile(r"^(?P<days>[^\d]*)(?P<hours>\d.*)?$", re.DOTALL)
_WEEK_MINUTES = DAYS_PER_WEEK * MINUTES_PER_DAY
# Days looked through for an open stretch, from the night before a moment's day: windows that
# close at all close within a week.
_SEARCH_DAYS = DAYS_PER_WEEK + 2


@dataclass(frozen=True, order=True)
class WindowSpan:
    """Open `start_minute` to `end_minute` after midnight of `weekday` (0 is Monday).

    `end_minute` is after `start_minute`; past 1440 the window runs into the next morning.
    """

    weekday: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not (
            0 <= self.weekday < DAYS_PER_WEEK
            and 0 <= self.start_minute < MINUTES_PER_DAY
            and self.start_minute < self.end_minute
            # A night shift closes the next morning, before the time it opened.
            and (
                self.end_minute <= MINUTES_PER_DAY
                or self.end_minute - MINUTES_PER_DAY < self.start_minute
            )
        ):
            raise ValueError(f"not a send window: {self}")

    @property
    def hours(self) -> str:
        """`22:00-06:00`."""
        end = self.end_minute
        if end > MINUTES_PER_DAY:  # the next morning; 24:00 itself stays 24:00
            end -= MINUTES_PER_DAY
        return f"{_clock(self.start_minute)}-{_clock(end)}"


@dataclass(frozen=True)
class SendWindows:
    """When leads may go, on the clocks of `time_zone`; no spans at all means always."""

    spans: tuple[WindowSpan, ...] = ()
    time_zone: str = DEFAULT_TIME_ZONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", tuple(sorted(set(self.spans))))
        object.__setattr__(self, "time_zone", parse_time_zone(self.time_zone))

    @classmethod
    def parse(cls, text: str | None, time_zone: str = DEFAULT_TIME_ZONE) -> SendWindows:
        """Read `mon-fri 09:00-18:00`, `daily 22:00-06:00` or groups joined by `;`."""
        groups = [group.strip() for group in (text or "").split(";")]
        spans: list[WindowSpan] = []
        for group in groups:
            if group:
                spans.extend(_parse_group(group))
        if not spans and (text or "").strip():
            raise InputError(
                f"'{text}' gives no send window. Write days and hours, such as {EXAMPLE}."
            )
        return cls(tuple(spans), time_zone)

    @cached_property
    def always_open(self) -> bool:
        return not self.spans or _covers_the_week(self.spans)

    def describe(self) -> str:
        """The canonical short text, such as `mon-fri 09:00-18:00`; "" when always open."""
        return "; ".join(self.groups())

    def groups(self) -> list[str]:
        """One text per set of days sharing the same hours: `mon-fri 09:00-18:00`."""
        hours_by_day = {day: self._hours_of(day) for day in range(DAYS_PER_WEEK)}
        texts: list[str] = []
        done: set[int] = set()
        for day, hours in hours_by_day.items():
            if not hours or day in done:
                continue
            days = [other for other in range(DAYS_PER_WEEK) if hours_by_day[other] == hours]
            done.update(days)
            texts.append(f"{_describe_days(days)} {','.join(hours)}")
        return texts

    def to_json(self) -> dict[str, str | list[str]]:
        """Plain values for a JSON column; from_json reads them back."""
        return {"time_zone": self.time_zone, "windows": self.groups()}

    @classmethod
    def from_json(cls, data: dict | None) -> SendWindows:
        if not data:
            return cls()
        return cls.parse("; ".join(data.get("windows") or []), data.get("time_zone") or "")

    def is_open(self, moment: datetime) -> bool:
        return self.next_open(moment) == moment

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when a window is open then, else when the next one opens."""
        if self.always_open:
            return moment
        for start, end in self._stretches_around(moment):
            if end > moment:
                return max(start, moment)
        raise AssertionError("a week of windows always opens")  # pragma: no cover

    def open_until(self, moment: datetime) -> datetime | None:
        """When the open stretch holding `moment` closes; `moment` when closed, None if never.

        Windows that touch (`18:00-24:00` and the next day's `00:00-06:00`) are one stretch.
        """
        if self.always_open:
            return None
        for start, end in self._stretches_around(moment):
            if end > moment:
                return end if start <= moment else moment
        raise AssertionError("a week of windows always opens")  # pragma: no cover

    def open_seconds_per_day(self) -> int:
        """Open seconds on the most open day (86400 when always open), to spread a list over."""
        if self.always_open:
            return MINUTES_PER_DAY * SECONDS_PER_MINUTE
        minutes = max(_union_minutes(self._spans_of(day)) for day in range(DAYS_PER_WEEK))
        return minutes * SECONDS_PER_MINUTE

    def _spans_of(self, weekday: int) -> list[WindowSpan]:
        return [span for span in self.spans if span.weekday == weekday]

    def _hours_of(self, weekday: int) -> tuple[str, ...]:
        return tuple(span.hours for span in self._spans_of(weekday))

    def _stretches_around(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Merged open stretches in UTC, from the night before `moment`'s day onwards."""
        first_day = local_time(moment, self.time_zone).date() - timedelta(days=1)
        current: tuple[datetime, datetime] | None = None
        for offset in range(_SEARCH_DAYS):
            for start, end in self._windows_on(first_day + timedelta(days=offset)):
                if current is not None and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None:
                    yield current
                current = (start, end)
        if current is not None:
            yield current

    def _windows_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The windows opening on `day`, in UTC; those a spring-forward skips entirely are left
        out."""
        midnight = datetime.combine(day, datetime.min.time())
        for span in self._spans_of(day.weekday()):
            start = utc_moment(midnight + timedelta(minutes=span.start_minute), self.time_zone)
            end = utc_moment(midnight + timedelta(minutes=span.end_minute), self.time_zone)
            if end > start:
                yield start, end


def _parse_group(group: str) -> list[WindowSpan]:
    match = _GROUP_PATTERN.match(group)
    if match is None or not match.group("hours"):
        raise InputError(f"'{group}' has no hours. Write days and hours, such as {EXAMPLE}.")
    days = _parse_days(match.group("days"), group)
    hours = [_parse_hours(text, group) for text in match.group("hours").split(",")]
    return [WindowSpan(day, start, end) for day in days for start, end in hours]


def _parse_days(text: str, group: str) -> list[int]:
    words = re.sub(r"\s*-\s*", "-", text.strip().lower())
    if words in ("", EVERY_DAY):
        return list(range(DAYS_PER_WEEK))
    days: list[int] = []
    for item in re.split(r"[\s,]+", words):
        if not item:
            continue
        first, _, last = item.partition("-")
        start = _day_number(first, group)
        end = _day_number(last, group) if last else start
        # A range may run over the weekend: `fri-mon` is Friday to Monday.
        days.extend((start + step) % DAYS_PER_WEEK for step in range((end - start) % 7 + 1))
    return days


def _day_number(word: str, group: str) -> int:
    if word not in _DAY_NUMBERS:
        raise InputError(
            f"'{word}' in '{group}' is not a day. Write mon, tue, wed, thu, fri, sat or sun, "
            f"a range such as mon-fri, or {EVERY_DAY}."
        )
    return _DAY_NUMBERS[word]


def _parse_hours(text: str, group: str) -> tuple[int, int]:
    first, dash, last = text.strip().partition("-")
    if not dash:
        raise InputError(
            f"'{text.strip()}' in '{group}' is not a span of hours. Write opening and closing "
            "times joined by a dash, such as 09:00-18:00."
        )
    start = _minute_of_day(first, group)
    end = _minute_of_day(last, group)
    if start == MINUTES_PER_DAY:
        raise InputError(f"A window in '{group}' opens at 24:00. Write 00:00 of the next day.")
    if end == start:
        raise InputError(
            f"The window {text.strip()} in '{group}' opens and closes at the same time. "
            "For a whole day write 00:00-24:00."
        )
    # An end before the start is the next morning: a night shift.
    return start, end if end > start else end + MINUTES_PER_DAY


def _minute_of_day(text: str, group: str) -> int:
    match = _TIME_PATTERN.match(text.strip())
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    minute = hours * 60 + minutes
    if not match or minutes >= 60 or not 0 <= minute <= MINUTES_PER_DAY:
        raise InputError(
            f"'{text.strip()}' in '{group}' is not a time of day. Write hours and minutes "
            "from 00:00 to 24:00, such as 09:00-18:00."
        )
    return minute


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _describe_days(days: list[int]) -> str:
    """`daily`, `mon-fri`, `mon,wed,sat-sun`."""
    if len(days) == DAYS_PER_WEEK:
        return EVERY_DAY
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
        for run in runs
    )


def _union_minutes(spans: list[WindowSpan]) -> int:
    covered = _merge([(span.start_minute, span.end_minute) for span in spans])
    return sum(end - start for start, end in covered)


def _covers_the_week(spans: tuple[WindowSpan, ...]) -> bool:
    """Whether the windows leave no minute of the week closed (clock changes aside)."""
    pieces: list[tuple[int, int]] = []
    for span in spans:
        start = span.weekday * MINUTES_PER_DAY + span.start_minute
        end = span.weekday * MINUTES_PER_DAY + span.end_minute
        # Sunday night runs into Monday morning, the start of the week.
        pieces.append((start, min(end, _WEEK_MINUTES)))
        if end > _WEEK_MINUTES:
            pieces.append((0, end - _WEEK_MINUTES))
    return _merge(pieces) == [(0, _WEEK_MINUTES)]


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
