"""Caps: the most leads an offer or a distribution may take per hour, per day and in all.

Hours and days are those of the advertiser's clocks. Checking a cap is a pure function of the
caps and of what was already sent (`CapUsage`); counting what was sent is the caller's job.

So that several distributions feeding one offer never overshoot its caps together, the sender
counts the offer's deliveries in the periods of `cap_periods` and calls `check_caps` inside the
same write transaction in which it claims the next lead (SQLite lets one writer in at a time),
counting every lead already claimed for the offer, in flight or sent, not only those answered.
A distribution's own caps are checked the same way, with its own counts: one call for each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from leaddesk.core.lead_import import country_code
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.time_zones import day_bounds, hour_bounds, local_time
from leaddesk.errors import InputError

HOURLY = "hourly"
DAILY = "daily"
TOTAL = "total"
_COUNTRY_CAP_PATTERN = re.compile(r"^\s*([^:]+?)\s*:\s*([^:]+?)\s*$")
_RESUME_FORMAT = "%H:%M %a"


@dataclass(frozen=True)
class Caps:
    """The most leads per clock hour, per calendar day, in all, and per country a day.

    None is no cap. Country keys are ISO 3166 alpha-2 codes, as leads store their country.
    """

    per_hour: int | None = None
    per_day: int | None = None
    total: int | None = None
    per_country_day: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for label, cap in (
            ("hourly", self.per_hour),
            ("daily", self.per_day),
            ("total", self.total),
        ):
            _check_count(cap, f"The {label} cap")
        countries = {code.strip().upper(): cap for code, cap in self.per_country_day.items()}
        for code, cap in countries.items():
            _check_count(cap, f"The daily cap for {code}")
        object.__setattr__(self, "per_country_day", dict(sorted(countries.items())))

    def __hash__(self) -> int:
        return hash((self.per_hour, self.per_day, self.total, *self.per_country_day.items()))

    @classmethod
    def parse(
        cls,
        per_hour: str | None = None,
        per_day: str | None = None,
        total: str | None = None,
        per_country_day: str | None = None,
    ) -> Caps:
        """Caps from command-line text such as `--cap-day 200` and `--cap-country DE:50,FR:20`."""
        return cls(
            per_hour=parse_cap_count(per_hour, "hourly cap"),
            per_day=parse_cap_count(per_day, "daily cap"),
            total=parse_cap_count(total, "total cap"),
            per_country_day=parse_country_caps(per_country_day),
        )

    @property
    def any(self) -> bool:
        return any((self.per_hour, self.per_day, self.total, self.per_country_day))

    def describe(self) -> str:
        """`200 a day, 20 an hour, 5,000 in total, DE 50 a day`; "" when there are none."""
        parts = []
        if self.per_day is not None:
            parts.append(f"{self.per_day:,} a day")
        if self.per_hour is not None:
            parts.append(f"{self.per_hour:,} an hour")
        if self.total is not None:
            parts.append(f"{self.total:,} in total")
        parts.extend(f"{code} {cap:,} a day" for code, cap in self.per_country_day.items())
        return ", ".join(parts)

    def tightest(self, other: Caps) -> Caps:
        """The smaller of each cap: what holds when both an offer's and a distribution's do."""
        countries = dict(other.per_country_day)
        for code, cap in self.per_country_day.items():
            countries[code] = min(cap, countries.get(code, cap))
        return Caps(
            per_hour=_smaller(self.per_hour, other.per_hour),
            per_day=_smaller(self.per_day, other.per_day),
            total=_smaller(self.total, other.total),
            per_country_day=countries,
        )

    def to_json(self) -> dict[str, int | dict[str, int]]:
        """Plain values for a JSON column, caps that are set only; from_json reads them back."""
        data: dict[str, int | dict[str, int]] = {}
        for key in ("per_hour", "per_day", "total"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.per_country_day:
            data["per_country_day"] = dict(self.per_country_day)
        return data

    @classmethod
    def from_json(cls, data: Mapping | None) -> Caps:
        data = data or {}
        return cls(
            per_hour=data.get("per_hour"),
            per_day=data.get("per_day"),
            total=data.get("total"),
            per_country_day=dict(data.get("per_country_day") or {}),
        )


@dataclass(frozen=True)
class CapUsage:
    """Leads already counted against a set of caps, in the periods holding the moment checked."""

    this_hour: int = 0
    today: int = 0
    total: int = 0
    country_today: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CapPeriods:
    """The advertiser's clock hour and calendar day holding a moment, in naive UTC."""

    hour_start: datetime
    hour_end: datetime
    day_start: datetime
    day_end: datetime


@dataclass(frozen=True)
class CapDecision:
    """Whether one more lead may go; if not, until when it waits (None: for good) and why."""

    allowed: bool
    resumes_at: datetime | None = None
    reason: str = ""


ALLOWED = CapDecision(allowed=True)


def cap_periods(moment: datetime, time_zone: str) -> CapPeriods:
    """The periods whose leads the caller counts to fill a CapUsage for `moment`."""
    return CapPeriods(*hour_bounds(moment, time_zone), *day_bounds(moment, time_zone))


def check_caps(
    caps: Caps,
    usage: CapUsage,
    moment: datetime,
    windows: SendWindows,
    country: str = "",
) -> CapDecision:
    """Whether one more lead (of `country`) may go at `moment` under `caps`.

    `windows` gives the advertiser's time zone and, when a cap blocks, moves the resume moment
    to the next open window, so the reason reads "daily cap of 200 reached; resumes 09:00 Tue".
    """
    blocking = blocking_caps(caps, usage, country)
    if not blocking:
        return ALLOWED
    if TOTAL in blocking:
        return CapDecision(False, None, f"total cap of {caps.total:,} reached")
    periods = cap_periods(moment, windows.time_zone)
    # Every blocking count starts afresh when its period ends: the last of those ends frees all.
    ends = {HOURLY: periods.hour_end, DAILY: periods.day_end}
    kind, label = max(blocking.items(), key=lambda item: ends[item[0]])
    resumes_at = windows.next_open(ends[kind])
    shown = local_time(resumes_at, windows.time_zone).strftime(_RESUME_FORMAT)
    return CapDecision(False, resumes_at, f"{label} reached; resumes {shown}")


def blocking_caps(caps: Caps, usage: CapUsage, country: str = "") -> dict[str, str]:
    """The caps that one more lead would overshoot, by period (HOURLY, DAILY, TOTAL)."""
    blocking: dict[str, str] = {}
    if caps.total is not None and usage.total >= caps.total:
        blocking[TOTAL] = f"total cap of {caps.total:,}"
    if caps.per_hour is not None and usage.this_hour >= caps.per_hour:
        blocking[HOURLY] = f"hourly cap of {caps.per_hour:,}"
    country_cap = caps.per_country_day.get(country.upper()) if country else None
    if country_cap is not None and usage.country_today.get(country.upper(), 0) >= country_cap:
        blocking[DAILY] = f"daily cap of {country_cap:,} for {country.upper()}"
    if caps.per_day is not None and usage.today >= caps.per_day:
        blocking[DAILY] = f"daily cap of {caps.per_day:,}"
    return blocking


def room_left(caps: Caps, usage: CapUsage, country: str = "") -> int | None:
    """How many more leads (of `country`) the caps let go in these periods; None: no limit."""
    rooms = [
        cap - used
        for cap, used in (
            (caps.per_hour, usage.this_hour),
            (caps.per_day, usage.today),
            (caps.total, usage.total),
            (
                caps.per_country_day.get(country.upper()) if country else None,
                usage.country_today.get(country.upper(), 0),
            ),
        )
        if cap is not None
    ]
    return max(min(rooms), 0) if rooms else None


class UsageTally:
    """Counts leads as they go, period by period, in memory: for estimates and tests.

    The sender counts in the database instead (see the module's docstring). Moments given to
    one tally never go back in time.
    """

    def __init__(self, time_zone: str, now: datetime, start: CapUsage | None = None):
        """Count on from `start`, the usage in the periods holding `now`."""
        start = start or CapUsage()
        self.time_zone = time_zone
        self._this_hour = start.this_hour
        self._today = start.today
        self._total = start.total
        self._country_today = dict(start.country_today)
        self._hour_end = hour_bounds(now, time_zone)[1]
        self._day_end = day_bounds(now, time_zone)[1]

    def usage(self, moment: datetime, country: str = "") -> CapUsage:
        """What counts against the caps at `moment` (for `country`, when given)."""
        self._roll(moment)
        countries = (
            {country.upper(): self._country_today.get(country.upper(), 0)} if country else {}
        )
        return CapUsage(self._this_hour, self._today, self._total, countries)

    def period_end(self, moment: datetime) -> datetime:
        """When the first of the current hour and day ends: counts change only then."""
        self._roll(moment)
        return min(self._hour_end, self._day_end)

    def record(self, moment: datetime, country: str = "", count: int = 1) -> None:
        """`count` leads went at `moment` (all within its hour)."""
        self._roll(moment)
        self._this_hour += count
        self._today += count
        self._total += count
        if country:
            key = country.upper()
            self._country_today[key] = self._country_today.get(key, 0) + count

    def record_run(self, moment: datetime, count: int, country_counts: Mapping[str, int]) -> None:
        """`count` leads went from `moment` on, within its hour; `country_counts` of them by
        country."""
        self.record(moment, "", count)
        for country, counted in country_counts.items():
            key = country.upper()
            self._country_today[key] = self._country_today.get(key, 0) + counted

    def _roll(self, moment: datetime) -> None:
        if moment >= self._hour_end:
            self._this_hour = 0
            self._hour_end = hour_bounds(moment, self.time_zone)[1]
        if moment >= self._day_end:
            self._today = 0
            self._country_today.clear()
            self._day_end = day_bounds(moment, self.time_zone)[1]


def parse_cap_count(text: str | int | None, label: str) -> int | None:
    """A cap given as text (`200`); None or "" is no cap."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return _read_count(text, label)


def _read_count(text: str | int, label: str) -> int:
    try:
        count = int(str(text).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise InputError(
            f"'{text}' is not a number for the {label}. Write a whole number of leads, "
            "at least 1, such as 200."
        ) from None
    _check_count(count, f"The {label}")
    return count


def parse_country_caps(text: str | None) -> dict[str, int]:
    """Daily caps per country: `DE:50` or `DE:50, FR:20` (country names work too)."""
    caps: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        match = _COUNTRY_CAP_PATTERN.match(item)
        code = country_code(match.group(1)) if match else ""
        if not code:
            raise InputError(
                f"'{item.strip()}' is not a daily cap for a country. Write the country code, "
                "a colon and the number a day, such as DE:50 or DE:50,FR:20."
            )
        caps[code] = _read_count(match.group(2), f"daily cap for {code}")
    return caps


def _check_count(cap: object, what: str) -> None:
    if cap is None:
        return
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        raise InputError(
            f"{what} must be a whole number of leads, at least 1. To stop sending, pause the "
            "distribution instead."
        )


def _smaller(first: int | None, second: int | None) -> int | None:
    if first is None:
        return second
    if second is None:
        return first
    return min(first, second)
