"""Values a spreadsheet would run as a formula: spotting them, and neutralising them for export.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) is read
by Excel, LibreOffice and Google Sheets as a formula when a CSV file is opened, which can open
links, fetch addresses or start programs (DDE). Plain numbers and phone numbers such as `-5`
or `+49 30 1234567` are left alone: a spreadsheet reads them as numbers, not commands.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A quote before the value makes every spreadsheet show it as text.
NEUTRALISING_PREFIX = "'"

_PLAIN_NUMBER = re.compile(r"[+-]?[\d\s().\-/]*\d[\d\s().\-/]*")
# A function call such as =HYPERLINK( or @SUM(, or a DDE link such as +cmd|' /C calc'!A0.
_FUNCTION_CALL = re.compile(r"[A-Za-z_][\w.]*\s*\(")
_DDE_LINK = re.compile(r"[A-Za-z_][\w.]*\s*\|")


def runs_as_formula(value: str) -> bool:
    """True when a spreadsheet opening `value` in a cell would read it as a formula."""
    if not value.startswith(FORMULA_TRIGGERS):
        return False
    return _PLAIN_NUMBER.fullmatch(value.strip()) is None


def neutralise_formula(value: str) -> str:
    """`value` made safe to write into a CSV file a spreadsheet will open."""
    return NEUTRALISING_PREFIX + value if runs_as_formula(value) else value


def is_formula_attack(value: str) -> bool:
    """True for a value no lead file holds as data: `=...`, or a function call or DDE link.

    Narrower than `runs_as_formula`: notes such as "- called back" or "+ keen" run as a
    formula too, but are data, and are neutralised on export instead.
    """
    text = value.lstrip(" \t\r\n")
    if text.startswith("="):
        return True
    if not text.startswith(("+", "-", "@")):
        return False
    rest = text[1:].lstrip()
    return bool(_FUNCTION_CALL.match(rest) or _DDE_LINK.match(rest))
