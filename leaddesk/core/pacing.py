"""The send interval and the natural, start-anchored schedule of a distribution.

Lead k after the anchor is due at k*T plus a jitter drawn in [-J*T, +J*T], with no jitter for
the first lead. Every gap therefore lies in [(1-2J)T, (1+2J)T], gaps average T, and the
schedule never drifts from the grid however slowly the advertiser answers.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from enum import Enum

from leaddesk.errors import InputError

JITTER_FRACTION = 0.35
# One lead a year is the slowest pace that makes sense; beyond it, dates overflow.
MAX_INTERVAL_S = 365 * 86400


class PeriodUnit(str, Enum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"

    @property
    def seconds(self) -> int:
        return _UNIT_SECONDS[self]

    @property
    def label(self) -> str:
        return self.value.capitalize()


_UNIT_SECONDS = {
    PeriodUnit.SECONDS: 1,
    PeriodUnit.MINUTES: 60,
    PeriodUnit.HOURS: 3600,
    PeriodUnit.DAYS: 86400,
}
_SUFFIXES = {
    "s": PeriodUnit.SECONDS,
    "m": PeriodUnit.MINUTES,
    "h": PeriodUnit.HOURS,
    "d": PeriodUnit.DAYS,
}
_SHORT_UNITS = {
    PeriodUnit.SECONDS: "s",
    PeriodUnit.MINUTES: "min",
    PeriodUnit.HOURS: "h",
    PeriodUnit.DAYS: "d",
}
_EVERY_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SendInterval:
    """One lead every `value` `unit`s."""

    value: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.value < 1:
            raise InputError("The interval must be a whole number of at least 1.")
        if self.seconds > MAX_INTERVAL_S:
            raise InputError("The interval can be at most 365 days.")

    @property
    def seconds(self) -> int:
        return self.value * self.unit.seconds

    @property
    def short(self) -> str:
        return f"{self.value}{self.unit.value[0]}"

    def describe(self) -> str:
        unit = self.unit.value[:-1] if self.value == 1 else self.unit.value
        return f"every {self.value} {unit}"

    def describe_short(self) -> str:
        """`every 2 min`: for narrow places such as a table cell."""
        return f"every {self.value} {_SHORT_UNITS[self.unit]}"

    @classmethod
    def parse(cls, text: str) -> SendInterval:
        """Read `5s`, `2m`, `1h` or `1d`."""
        match = _EVERY_PATTERN.match(text or "")
        if not match:
            raise InputError(
                f"'{text}' is not an interval. Write a whole number and a unit: 5s, 2m, 1h or 1d."
            )
        return cls(int(match.group(1)), _SUFFIXES[match.group(2).lower()])


def jitter(seed: int, index: int) -> float:
    """A repeatable fraction in [-JITTER_FRACTION, JITTER_FRACTION] for lead `index`."""
    if index == 0:
        return 0.0
    digest = hashlib.blake2b(struct.pack("<qq", seed, index), digest_size=8).digest()
    unit = struct.unpack("<Q", digest)[0] / 2**64
    return (2 * unit - 1) * JITTER_FRACTION


def offset_seconds(interval_seconds: float, seed: int, index: int) -> float:
    """Seconds after the anchor at which lead `index` (counted from the anchor) is due."""
    return (index + jitter(seed, index)) * interval_seconds


def estimated_total_seconds(lead_count: int, interval_seconds: float) -> float:
    """Time from the first lead to the last: the first leaves at once."""
    return max(lead_count - 1, 0) * interval_seconds
