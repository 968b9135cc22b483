"""Durations and moments written the way a manager reads them."""

from __future__ import annotations

from datetime import datetime

_PARTS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def format_duration(seconds: float) -> str:
    """`1 h 40 min`: the two largest units, rounded to the smaller of them."""
    if seconds < 0.5:
        return "0 s"
    index = _largest_unit(seconds)
    precision = _PARTS[min(index + 1, len(_PARTS) - 1)][1]
    remaining = round(seconds / precision) * precision
    # Rounding can carry into a larger unit: 59.7 s is 1 min, not 60 s.
    index = _largest_unit(remaining)
    pieces: list[str] = []
    for label, size in _PARTS[index : index + 2]:
        amount, remaining = divmod(remaining, size)
        if amount:
            pieces.append(f"{amount} {label}")
    return " ".join(pieces)


def _largest_unit(seconds: float) -> int:
    return next((i for i, (_label, size) in enumerate(_PARTS) if seconds >= size), len(_PARTS) - 1)


def format_moment(moment: datetime | None, reference: datetime | None = None) -> str:
    """A local moment; the date is left out when it is the reference's date."""
    if moment is None:
        return ""
    if reference is not None and moment.date() == reference.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")
