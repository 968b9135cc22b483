"""The advertiser's time zone: its name, and moments read on its clocks.

Moments are naive UTC datetimes, as the data file stores them; local times are naive wall-clock
times of the zone. A wall-clock time that a daylight-saving change skips or repeats is placed at
the first instant the zone's clocks show it (or, when skipped, at the jump that passes it).
"""

from __future__ import annotations

import difflib
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from leaddesk.errors import InputError

DEFAULT_TIME_ZONE = "UTC"
_SECOND = timedelta(seconds=1)
_HOUR = timedelta(hours=1)
# A daylight-saving jump lasts at most this long (Antarctica's Troll station moves two hours).
_LONGEST_JUMP = timedelta(hours=3)


def parse_time_zone(text: str | None) -> str:
    """The zone's IANA name as the database spells it, for `Europe/Berlin` or `europe/berlin`."""
    name = (text or "").strip()
    known = _names_by_folded()
    if name.casefold() in known:
        return known[name.casefold()]
    if name and not known:
        # Without a listing of the database, the zone itself is the only test.
        try:
            return zone(name).key
        except InputError:
            pass
    raise InputError(_unknown_message(name, known))


def zone(name: str) -> ZoneInfo:
    """The zone for a name parse_time_zone gave back."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(_unknown_message(name, _names_by_folded())) from None


def local_time(moment: datetime, name: str) -> datetime:
    """The zone's wall clock at `moment`; `fold` is 1 in the repeated hour of an autumn night."""
    aware = moment.replace(tzinfo=timezone.utc).astimezone(zone(name))
    return aware.replace(tzinfo=None, fold=aware.fold)


def utc_moment(wall: datetime, name: str) -> datetime:
    """The first instant the zone's clocks show `wall`, or the jump that skips it."""
    local_zone = zone(name)
    if wall.fold:
        return _to_utc(wall, local_zone)
    earliest = _to_utc(wall.replace(fold=0), local_zone)
    if _from_utc(earliest, local_zone) == wall:
        return earliest
    return _jump_across(wall, local_zone)


def local_midnight(day: date, name: str) -> datetime:
    """When `day` begins in the zone."""
    return utc_moment(datetime.combine(day, time()), name)


def day_bounds(moment: datetime, name: str) -> tuple[datetime, datetime]:
    """Start and end of the zone's calendar day holding `moment` (23, 24 or 25 hours)."""
    day = local_time(moment, name).date()
    next_midnight = datetime.combine(day + timedelta(days=1), time())
    end = utc_moment(next_midnight, name)
    if end <= moment:
        # Clocks turned back from midnight into this day: it ends at the second midnight.
        end = utc_moment(next_midnight.replace(fold=1), name)
    return local_midnight(day, name), end


def hour_bounds(moment: datetime, name: str) -> tuple[datetime, datetime]:
    """Start and end of the zone's clock hour holding `moment`.

    The repeated hour of an autumn night is two hours here, one after the other. The hour ends
    an hour after it began, which is exact unless a jump falls inside it (only a few islands
    move their clocks by half an hour).
    """
    wall = local_time(moment, name)
    into_hour = timedelta(minutes=wall.minute, seconds=wall.second, microseconds=wall.microsecond)
    start = moment - into_hour
    return start, start + _HOUR


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def _names_by_folded() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def _unknown_message(name: str, known: dict[str, str]) -> str:
    close = [known[key] for key in difflib.get_close_matches(name.casefold(), list(known))]
    hint = f" Did you mean {_one_of(close)}?" if close else ""
    shown = f"'{name}' is not a time zone" if name else "The time zone is missing"
    return (
        f"{shown}. Write an IANA time zone name such as Europe/Berlin, America/New_York "
        f"or UTC.{hint}"
    )


def _one_of(names: list[str]) -> str:
    """`A`, `A or B`, `A, B or C`."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _to_utc(wall: datetime, local_zone: ZoneInfo) -> datetime:
    aware = wall.replace(tzinfo=local_zone).astimezone(timezone.utc)
    return aware.replace(tzinfo=None)


def _from_utc(moment: datetime, local_zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(local_zone).replace(tzinfo=None)


def _jump_across(wall: datetime, local_zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over `wall`: the first one showing a later time."""
    # Bisect on whole seconds: clocks jump on whole seconds.
    whole = wall.replace(microsecond=0)
    before = _to_utc(whole - _LONGEST_JUMP, local_zone)
    after = _to_utc(whole + _LONGEST_JUMP, local_zone)
    while after - before > _SECOND:
        middle = before + (after - before) // 2 // _SECOND * _SECOND
        if _from_utc(middle, local_zone) < wall:
            before = middle
        else:
            after = middle
    return after
