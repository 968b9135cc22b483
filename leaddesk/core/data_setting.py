"""The Data setting of a distribution: fixed field values added to every lead it sends."""

from __future__ import annotations

import re
from collections.abc import Iterable

from leaddesk.errors import InputError

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
# Fields LeadDesk fills itself, and who the lead is: a fixed value must not replace them.
RESERVED_FIELDS = frozenset(
    {"affiliate_id", "affiliate_name", "first_name", "last_name", "email", "phone"}
)


def parse_fixed_fields(entries: Iterable[str]) -> dict[str, str]:
    """Read `FIELD=VALUE` entries (one per item, or several split by commas or new lines)."""
    fields: dict[str, str] = {}
    for entry in entries:
        for piece in re.split(r"[\n,]", entry or ""):
            if not piece.strip():
                continue
            name, separator, value = piece.partition("=")
            name = name.strip()
            if not separator or not FIELD_NAME.match(name):
                raise InputError(
                    f"'{piece.strip()}' is not a field setting. Write FIELD=VALUE, "
                    "such as language=de."
                )
            if name in RESERVED_FIELDS:
                raise InputError(
                    f"'{name}' comes from each lead or from LeadDesk and cannot be set to one "
                    "value for all leads."
                )
            fields[name] = value.strip()
    return fields


def format_fixed_fields(fields: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in fields.items())


def summarise(lead_fields: Iterable[str], fixed_fields: dict[str, str]) -> str:
    """`first_name, email, phone; adds language=de`: what each request carries."""
    summary = ", ".join(lead_fields)
    if fixed_fields:
        summary += f"; adds {format_fixed_fields(fixed_fields)}"
    return summary


def build_payload(
    lead_fields: dict[str, str],
    fixed_fields: dict[str, str],
    affiliate_id: int,
    affiliate_name: str,
) -> dict[str, object]:
    """The JSON object an offer receives for one lead."""
    payload: dict[str, object] = {name: value for name, value in lead_fields.items() if value}
    payload.update(fixed_fields)
    payload["affiliate_id"] = affiliate_id
    payload["affiliate_name"] = affiliate_name
    return payload
