"""A distribution's schedule under send windows and caps, and the estimate read from it.

A lead is due one interval after the previous one went, or at once for the first. Outside the
windows it waits for the next one to open; when a cap is reached it waits for the cap's period
to end. After a wait the pace starts again from the moment sending resumes: the first lead goes
at once and the others follow one interval apart, with no burst to catch up.

The jitter of pacing.py is left out: it moves each lead by at most JITTER_FRACTION of an
interval around its place and averages out, so the end moves by less than one interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leaddesk.core.caps import Caps, CapUsage, UsageTally, check_caps, room_left
from leaddesk.core.durations import format_duration
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.send_windows import EVERY_DAY, SendWindows
from leaddesk.errors import InputError

_MICROSECOND = timedelta(microseconds=1)
# More leads than any list holds: the room left when no cap counts.
_UNLIMITED = 2**62
# A stretch that holds no moment, so the first lookup finds the real one.
_NEVER = datetime.min


@dataclass(frozen=True)
class SendPlan:
    """How a distribution sends: its pace, the advertiser's windows and the caps in force.

    The windows carry the advertiser's time zone, which the caps' hours and days follow too:
    `SendWindows(time_zone="Europe/Berlin")` is always open on Berlin's clocks.
    """

    interval_seconds: float
    windows: SendWindows = field(default_factory=SendWindows)
    offer_caps: Caps = field(default_factory=Caps)
    distribution_caps: Caps = field(default_factory=Caps)


@dataclass(frozen=True)
class Schedule:
    """When each lead goes (naive UTC), and what stopped the list short, if anything."""

    send_times: list[datetime]
    sent: int
    unsent: int
    last_send_at: datetime | None
    stopped_by: str = ""


@dataclass(frozen=True)
class Estimate:
    """When a list will be done (None: a total cap stops it first), and how that reads."""

    end_at: datetime | None
    total_seconds: float | None
    description: str


def simulate(
    leads: int | Sequence[str],
    start_at: datetime,
    plan: SendPlan,
    offer_usage: CapUsage | None = None,
    distribution_usage: CapUsage | None = None,
    keep_send_times: bool = True,
) -> Schedule:
    """The send moments of `leads` (a count, or each lead's country code) from `start_at`.

    Leads go in list order: one whose country's cap is reached holds up those behind it. The
    usages are what was already sent in the periods holding `start_at`; other distributions of
    the offer are taken to send nothing more. Closed stretches, and runs of leads that no window
    or cap period splits, are passed in one step each: 100,000 leads take well under a second.
    """
    step = timedelta(seconds=plan.interval_seconds)
    if step <= timedelta(0):
        raise InputError("The interval must be longer than zero.")
    count = leads if isinstance(leads, int) else len(leads)
    budget = _CapBudget(plan, start_at, offer_usage, distribution_usage)
    countries = None
    if not isinstance(leads, int) and budget.by_country:
        countries = [country.strip().upper() for country in leads]
    stretch = _OpenStretch(plan.windows)

    send_times: list[datetime] = []
    sent = 0
    moment = start_at
    last_send_at = None
    while sent < count:
        moment = stretch.open_at(moment)
        most = min(count - sent, budget.room(moment))
        limits = [end for end in (stretch.until, budget.period_end(moment)) if end is not None]
        if most and limits:
            most = min(most, _fits(moment, min(limits), step))
        run, taken = _country_run(countries, sent, most, budget.country_rooms(moment))
        if run == 0:
            country = countries[sent] if countries is not None and most else ""
            resumes_at, reason = budget.wait(moment, country)
            if resumes_at is None:
                return Schedule(send_times, sent, count - sent, last_send_at, reason)
            moment = resumes_at
            continue

        budget.record(moment, run, taken)
        if keep_send_times:
            send_times.extend(moment + index * step for index in range(run))
        last_send_at = moment + (run - 1) * step
        sent += run
        moment = last_send_at + step
    return Schedule(send_times, sent, 0, last_send_at)


def estimate(
    leads: int | Sequence[str],
    start_at: datetime,
    plan: SendPlan,
    offer_usage: CapUsage | None = None,
    distribution_usage: CapUsage | None = None,
) -> Estimate:
    """When the last lead goes and how long until then, with a description such as
    "3 d 4 h, sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day"."""
    schedule = simulate(
        leads, start_at, plan, offer_usage, distribution_usage, keep_send_times=False
    )
    settings = describe_settings(plan)
    if schedule.unsent:
        total = schedule.sent + schedule.unsent
        stopped = f"stops after {schedule.sent:,} of {total:,} leads: {schedule.stopped_by}"
        return Estimate(None, None, ", ".join([stopped, *settings]))
    end_at = schedule.last_send_at or start_at
    total_seconds = (end_at - start_at).total_seconds()
    return Estimate(end_at, total_seconds, ", ".join([format_duration(total_seconds), *settings]))


def spread_interval_seconds(windows: SendWindows, per_day: int) -> int:
    """The interval that sends `per_day` leads over the most open day's windows, and no more.

    The first lead goes as a window opens, so an interval of open seconds / per_day, rounded
    up, fits `per_day` leads into that day and never one more.
    """
    if isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1:
        raise InputError("The number of leads a day must be a whole number, at least 1.")
    return max(-(-windows.open_seconds_per_day() // per_day), 1)


class _OpenStretch:
    """The open stretch of the windows last looked up, to look up the next one only when due."""

    def __init__(self, windows: SendWindows):
        self.windows = windows
        self.start = _NEVER
        # When the stretch closes; None for windows that are always open.
        self.until: datetime | None = None if windows.always_open else _NEVER

    def open_at(self, moment: datetime) -> datetime:
        """`moment`, or when the windows next open after it."""
        if self.until is None or self.start <= moment < self.until:
            return moment
        self.start = self.windows.next_open(moment)
        self.until = self.windows.open_until(self.start)
        return self.start


class _CapBudget:
    """The offer's and the distribution's caps, with what each has used so far."""

    def __init__(
        self,
        plan: SendPlan,
        start_at: datetime,
        offer_usage: CapUsage | None,
        distribution_usage: CapUsage | None,
    ):
        self.windows = plan.windows
        self.tallies = [
            (caps, UsageTally(plan.windows.time_zone, start_at, usage))
            for caps, usage in (
                (plan.offer_caps, offer_usage),
                (plan.distribution_caps, distribution_usage),
            )
            if caps.any
        ]
        self.by_country = any(caps.per_country_day for caps, _tally in self.tallies)

    def room(self, moment: datetime) -> int:
        """How many more leads the caps let go in the current periods, countries aside."""
        rooms = [room_left(caps, tally.usage(moment)) for caps, tally in self.tallies]
        return min((room for room in rooms if room is not None), default=_UNLIMITED)

    def country_rooms(self, moment: datetime) -> dict[str, int]:
        """How many more leads of each capped country may go today."""
        rooms: dict[str, int] = {}
        for caps, tally in self.tallies:
            for country, cap in caps.per_country_day.items():
                room = max(cap - tally.usage(moment, country).country_today[country], 0)
                rooms[country] = min(room, rooms.get(country, room))
        return rooms

    def period_end(self, moment: datetime) -> datetime | None:
        """When the current hour or day ends, if a cap counts in it."""
        return min((tally.period_end(moment) for _caps, tally in self.tallies), default=None)

    def wait(self, moment: datetime, country: str) -> tuple[datetime | None, str]:
        """When every cap that blocks lets the lead go again (None: never), and why."""
        decisions = [
            check_caps(caps, tally.usage(moment, country), moment, self.windows, country)
            for caps, tally in self.tallies
        ]
        blocked = [decision for decision in decisions if not decision.allowed]
        if any(decision.resumes_at is None for decision in blocked):
            return None, next(d.reason for d in blocked if d.resumes_at is None)
        latest = max(blocked, key=lambda decision: decision.resumes_at or moment)
        return latest.resumes_at, latest.reason

    def record(self, moment: datetime, run: int, taken: dict[str, int]) -> None:
        for _caps, tally in self.tallies:
            tally.record_run(moment, run, taken)


def _country_run(
    countries: list[str] | None, first: int, most: int, rooms: dict[str, int]
) -> tuple[int, dict[str, int]]:
    """How many leads from `first` on (at most `most`) go before a country's cap holds one up,
    and how many of each capped country they are."""
    if countries is None:
        return most, {}
    taken: dict[str, int] = {}
    for offset in range(most):
        country = countries[first + offset]
        if country in rooms:
            if taken.get(country, 0) >= rooms[country]:
                return offset, taken
            taken[country] = taken.get(country, 0) + 1
    return most, taken


def _fits(moment: datetime, limit: datetime, step: timedelta) -> int:
    """How many leads one interval apart go from `moment` before `limit`."""
    return -(-((limit - moment) // _MICROSECOND) // (step // _MICROSECOND))


def describe_settings(plan: SendPlan) -> list[str]:
    """`sending mon-fri 09:00-18:00 Europe/Berlin` and `200 a day`, as far as they apply."""
    settings = []
    if not plan.windows.always_open:
        hours = plan.windows.describe().removeprefix(f"{EVERY_DAY} ")
        settings.append(f"sending {hours} {plan.windows.time_zone}")
    caps = plan.offer_caps.tightest(plan.distribution_caps).describe()
    if caps:
        settings.append(caps)
    return settings


def spread_interval(windows: SendWindows, per_day: int) -> SendInterval:
    """The pace that sends `per_day` leads over the windows of a day, in whole seconds."""
    seconds = spread_interval_seconds(windows, per_day)
    if seconds % 60 == 0:
        return SendInterval(seconds // 60, PeriodUnit.MINUTES)
    return SendInterval(seconds, PeriodUnit.SECONDS)
