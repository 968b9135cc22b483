"""Moments written as the advertiser's wall clock shows them, for readable expectations.

Independent of leaddesk.core.time_zones, so the tests do not check the code against itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
_FORMAT = "%Y-%m-%d %H:%M"


def utc(zone: str, wall: str, fold: int = 0) -> datetime:
    """The naive UTC moment at which `zone`'s clocks show `wall` (`2026-06-01 09:00`)."""
    local = datetime.strptime(wall, _FORMAT).replace(tzinfo=ZoneInfo(zone), fold=fold)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def wall(zone: str, moment: datetime) -> str:
    """What `zone`'s clocks show at the naive UTC `moment`."""
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).strftime(_FORMAT)


def moment(text: str) -> datetime:
    """A naive UTC moment written `2026-06-01 07:00`."""
    return datetime.strptime(text, _FORMAT)
