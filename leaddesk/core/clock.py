"""Wall-clock time as stored in the data file: naive datetimes in UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A stored UTC moment as the user's local time, for showing."""
    return moment.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


def local_to_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
