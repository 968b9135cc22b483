"""Who a lead is, to find the same person in several lists: the e-mail, or the phone in E.164."""

from __future__ import annotations

from collections.abc import Iterable

EMAIL_PREFIX = "e:"
PHONE_PREFIX = "p:"
# The start of the reason the lead file reader gives a row that repeats an earlier lead.
DUPLICATE_REASON_START = "duplicate of row "


def email_key(email: str) -> str:
    """The e-mail as compared: case does not make two people."""
    return email.strip().casefold()


def phone_key(phone: str) -> str:
    """The phone as compared; bare digits may belong to different countries, so only E.164."""
    phone = phone.strip()
    return phone if phone.startswith("+") else ""


def person_keys(email: str, phone: str) -> tuple[str, ...]:
    """The keys under which a lead with this e-mail and phone is the same person as another."""
    keys = []
    if email_key(email):
        keys.append(EMAIL_PREFIX + email_key(email))
    if phone_key(phone):
        keys.append(PHONE_PREFIX + phone_key(phone))
    return tuple(keys)


def is_duplicate_reason(reason: str) -> bool:
    return reason.startswith(DUPLICATE_REASON_START)


def duplicate_reason(row_number: int, key: str) -> str:
    """A reason worded like the file reader's, so duplicates are counted the same way."""
    what = "e-mail" if key.startswith(EMAIL_PREFIX) else "phone"
    return f"{DUPLICATE_REASON_START}{row_number} (same {what})"


class PersonIndex:
    """The people seen so far, by key, each with a value such as the row it was first seen in."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def find(self, keys: Iterable[str]) -> tuple[str, int] | None:
        """The first key already seen and its value, or None for a new person."""
        for key in keys:
            if key in self._seen:
                return key, self._seen[key]
        return None

    def add(self, keys: Iterable[str], value: int) -> None:
        for key in keys:
            self._seen.setdefault(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self._seen
