"""Log files: rotating, in the user's log folder, for whoever must fix a problem."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys

from leaddesk.paths import log_dir

LOG_FILE_NAME = "leaddesk.log"
LOG_FILE_BYTES = 2_000_000
LOG_FILES_KEPT = 5

MASK = "***"
PHONE_DIGITS_KEPT = 2
PHONE_MIN_DIGITS = 7

_SECRET_NAMES = r"api[_-]?key|apikey|token|password|passwd|secret"
# `api_key=abc`, `"token": "abc"`, `password: abc`; the value ends at a space, quote or separator.
_SECRET = re.compile(
    rf"(?P<name>{_SECRET_NAMES})(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s\"'&,;}}]+)",
    re.IGNORECASE,
)
# `Authorization: Bearer abc`, and a bare `Bearer abc` wherever it appears.
_AUTHORIZATION = re.compile(
    r"(?P<name>\bauthorization[\"']?\s*[=:]\s*[\"']?)(?P<scheme>(?:bearer|basic|token)\s+)?"
    r"(?P<value>[^\s\"',;}]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<scheme>\bbearer\s+)(?!\*\*\*)[^\s\"',;}]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?P<first>\w)[\w.%+-]*@(?P<domain>\w[\w-]*(?:\.[\w-]+)*)")
# A phone written with separators: an international prefix, an area code in brackets, the
# North American 3-3-4 grouping, or a trunk 0 followed by groups. Dates and times are none of
# these: their groups are joined by '-', ':' or '/' and never start with '+', '(' or '0'.
_SEPARATED_PHONE = re.compile(
    r"(?<![\w+.:/\-])(?:"
    r"\+\d{1,4}(?:[ \-]?\(\d{1,5}\)[ \-]?\d{1,8})?(?:[ \-]\d{1,8}){0,5}"
    r"|\(\d{2,5}\)[ \-]?\d{2,8}(?:[ \-]\d{1,8}){0,4}"
    r"|\d{3}([ .\-])\d{3}\1\d{4}"
    r"|0\d{1,4}(?:[ \-]\d{3,8}){1,4}"
    r")(?![\w.:/\-]?\d)"
)
# Seven or more digits in a row, on their own: not inside a word, a decimal or a file name.
_DIGIT_RUN = re.compile(r"(?<![\w.:/])(?<!\w-)\+?\d{7,}(?!\w|\.\d)")


def _mask_email(match: re.Match[str]) -> str:
    labels = match.group("domain").split(".")
    top_level = labels[-1] if len(labels) > 1 and labels[-1].isalpha() else ""
    return f"{match.group('first')}{MASK}@{MASK}" + (f".{top_level}" if top_level else "")


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < PHONE_MIN_DIGITS:
        return match.group(0)
    plus = "+" if match.group(0).startswith("+") else ""
    return f"{plus}{MASK}{digits[-PHONE_DIGITS_KEPT:]}"


def mask_personal_data(text: str) -> str:
    """The text with e-mail addresses, phone numbers and secrets masked."""
    text = _AUTHORIZATION.sub(lambda m: f"{m.group('name')}{m.group('scheme') or ''}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group('scheme')}{MASK}", text)
    text = _SECRET.sub(lambda m: f"{m.group('name')}{m.group('sep')}{MASK}", text)
    text = _EMAIL.sub(_mask_email, text)
    text = _SEPARATED_PHONE.sub(_mask_phone, text)
    return _DIGIT_RUN.sub(_mask_phone, text)


class PersonalDataFilter(logging.Filter):
    """Masks leads' e-mail addresses and phones, and secrets, in a record before it is written.

    The record itself is changed, so every handler after this one sees the masked text too.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call must still be written, and must not raise in the caller.
            message = f"{record.msg} (arguments: {record.args!r})"
            record.args = None
        masked = mask_personal_data(message)
        if masked != message or record.args or not isinstance(record.msg, str):
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def setup_logging(console: bool = False) -> str | None:
    """Log to a rotating file (and to stderr when asked); returns the log file's path."""
    root = logging.getLogger()
    if any(getattr(handler, "leaddesk", False) for handler in root.handlers):
        return None
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = None
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = str(folder / LOG_FILE_NAME)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILES_KEPT, encoding="utf-8"
        )
    except OSError:
        # Without a writable log folder LeadDesk still works; problems go to stderr.
        handler = logging.StreamHandler(sys.stderr)
    _prepare(handler, formatter)
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        _prepare(stream, formatter)
        root.addHandler(stream)
    return path


def _prepare(handler: logging.Handler, formatter: logging.Formatter) -> None:
    handler.setFormatter(formatter)
    handler.addFilter(PersonalDataFilter())
    handler.leaddesk = True
