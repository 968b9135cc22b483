"""Reading an advertiser's answer by an offer's rules: accepted, refused, or unknown.

Paths are dotted, with list positions as numbers (`data.lead.id`, `errors.0.message`). Empty
paths look where common lead APIs put things. Texts match case-insensitively and several
alternatives are separated by `|`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from leaddesk.core.offer_config import ResponseRules, parse_statuses

REASON_MAX_CHARS = 500
SNIPPET_MAX_CHARS = 80
UNREAD_ANSWER_SHOWN_CHARS = 200
LEAD_ID_KEYS = ("lead_id", "leadId", "id", "uuid")
AUTOLOGIN_KEYS = (
    "autologin",
    "auto_login",
    "autologin_url",
    "auto_login_url",
    "redirect",
    "redirect_url",
    "url",
    "link",
)
REASON_PATHS = ("message", "reason", "error", "errors.0.message", "errors.0", "detail")
# Keys whose value says whether the advertiser took the lead in, and the words they use.
STATUS_KEYS = ("status", "success", "ok", "result")
REFUSAL_WORDS = frozenset({"rejected", "error", "fail", "failed", "duplicate", "invalid", "false"})
SUCCESS_WORDS = frozenset({"accepted", "ok", "success", "created", "true"})
PLAIN_SUCCESS_ANSWERS = frozenset({"", "ok", "success", "accepted", "true", "1"})


class VerdictKind(str, Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    DENIED = "denied"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def refused(self) -> bool:
        return self in (
            VerdictKind.DUPLICATE,
            VerdictKind.INVALID,
            VerdictKind.DENIED,
            VerdictKind.REJECTED,
        )


@dataclass(frozen=True)
class Verdict:
    """What an answer means, with what the advertiser told about the lead."""

    kind: VerdictKind
    lead_id: str = ""
    autologin_url: str = ""
    reason: str = ""


_MISSING = object()


def classify(rules: ResponseRules, status: int, text: str) -> Verdict:
    """Read one answer (its HTTP status and text) by the offer's rules."""
    answer = _parse_json(text)
    if status in parse_statuses(rules.accepted_statuses):
        return _read_accepted_status(rules, status, text, answer)
    if status >= 500:
        return Verdict(
            VerdictKind.UNKNOWN,
            reason=f"The advertiser failed (HTTP {status}) and may have stored the lead; "
            "check with the advertiser before sending it again.",
        )
    if status < 400:
        return Verdict(
            VerdictKind.UNKNOWN,
            reason=f"The advertiser answered HTTP {status}, which the offer's rules do not "
            "name; check with the advertiser whether the lead arrived.",
        )
    return _refusal(rules, _kind_by_status(rules, status), status, text, answer)


def read_path(answer: object, path: str) -> object:
    """The value at a dotted path of a JSON answer, or None where there is none."""
    value = _at(answer, path)
    return None if value is _MISSING else value


def _at(answer: object, path: str) -> object:
    value = answer
    for step in path.strip().split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return _MISSING
    return value


def _read_accepted_status(rules: ResponseRules, status: int, text: str, answer: object) -> Verdict:
    """An answer whose status may mean accepted: its body must agree."""
    if rules.accepted_json_path:
        value = _at(answer, rules.accepted_json_path)
        if value is _MISSING:
            # Another shape than the rules expect: the lead may well have been taken in.
            return _unreadable(status, text)
        if not _equals(value, rules.accepted_json_value):
            return _refusal(rules, VerdictKind.REJECTED, status, text, answer)
    elif _says_refused(answer):
        return _refusal(rules, VerdictKind.REJECTED, status, text, answer)
    if rules.accepted_text:
        if not _matches(rules.accepted_text, text):
            return _unreadable(status, text)
    elif answer is None and not _plain_yes(text):
        return _unreadable(status, text)
    return Verdict(
        VerdictKind.ACCEPTED,
        lead_id=_lead_id(rules, answer),
        autologin_url=_autologin(rules, answer),
    )


def _refusal(
    rules: ResponseRules, kind: VerdictKind, status: int, text: str, answer: object
) -> Verdict:
    """A refusal: a duplicate when its words say so, else named by its status, else by words.

    The words are those of the reason when the answer gives one, else the whole answer.
    """
    reason = _reason(rules, answer)
    told = reason or text
    if _matches(rules.duplicate_text, told):
        kind = VerdictKind.DUPLICATE
    elif kind is VerdictKind.REJECTED and _matches(rules.denied_text, told):
        kind = VerdictKind.DENIED
    elif kind is VerdictKind.REJECTED and _matches(rules.invalid_text, told):
        kind = VerdictKind.INVALID
    if not reason:
        reason = _snippet(text, UNREAD_ANSWER_SHOWN_CHARS) or f"Refused with HTTP {status}."
    return Verdict(kind, lead_id=_lead_id(rules, answer), reason=reason)


def _kind_by_status(rules: ResponseRules, status: int) -> VerdictKind:
    if status in parse_statuses(rules.duplicate_statuses):
        return VerdictKind.DUPLICATE
    if status in parse_statuses(rules.invalid_statuses):
        return VerdictKind.INVALID
    if status in parse_statuses(rules.denied_statuses):
        return VerdictKind.DENIED
    return VerdictKind.REJECTED


def _unreadable(status: int, text: str) -> Verdict:
    return Verdict(
        VerdictKind.UNKNOWN,
        reason=f"The advertiser answered HTTP {status} with something LeadDesk cannot read "
        f"({_snippet(text, SNIPPET_MAX_CHARS)!r}); check with the advertiser whether the lead "
        "arrived.",
    )


def _matches(alternatives: str, text: str) -> bool:
    """True when any of the `|`-separated texts appears in `text`, ignoring case."""
    folded = text.casefold()
    return any(
        word.strip().casefold() in folded for word in alternatives.split("|") if word.strip()
    )


def _equals(value: object, expected: str) -> bool:
    """True when a JSON value is the expected text; with none expected, when it says yes."""
    if not expected:
        return _truthy(value)
    return _as_text(value).casefold() == expected.strip().casefold()


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in SUCCESS_WORDS
    return bool(value)


def _as_text(value: object) -> str:
    """A JSON value as the text a manager would write for it: true, 12, abc."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value)


def _plain_yes(text: str) -> bool:
    """An empty answer, or a bare word of success such as `OK`, from an advertiser."""
    return text.strip().lower() in PLAIN_SUCCESS_ANSWERS


def _snippet(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _says_refused(answer: object) -> bool:
    """True when a JSON answer says in words that the lead was not taken in."""
    if not isinstance(answer, dict):
        return False
    for key in STATUS_KEYS:
        value = answer.get(key)
        if value is False:
            return True
        if isinstance(value, str) and value.strip().lower() in REFUSAL_WORDS:
            return True
        if value is True or (isinstance(value, str) and value.strip().lower() in SUCCESS_WORDS):
            return False
    # With no word of success, an error named in the answer is a refusal.
    return any(answer.get(key) for key in ("error", "errors"))


def _reason(rules: ResponseRules, answer: object) -> str:
    paths = (rules.reason_path,) if rules.reason_path else REASON_PATHS
    for path in paths:
        value = _at(answer, path)
        if isinstance(value, dict):
            value = value.get("message") or value.get("detail")
        if isinstance(value, str) and value.strip():
            return value.strip()[:REASON_MAX_CHARS]
    return ""


def _lead_id(rules: ResponseRules, answer: object) -> str:
    if rules.lead_id_path:
        return _scalar(_at(answer, rules.lead_id_path))
    for holder in (answer, _at(answer, "data")):
        if isinstance(holder, dict):
            for key in LEAD_ID_KEYS:
                found = _scalar(holder.get(key, _MISSING))
                if found:
                    return found
    return ""


def _autologin(rules: ResponseRules, answer: object) -> str:
    if rules.autologin_path:
        value = _at(answer, rules.autologin_path)
        return value.strip() if isinstance(value, str) else ""
    data = _at(answer, "data")
    if _is_url(data):
        return str(data).strip()
    for holder in (answer, data):
        if isinstance(holder, dict):
            for key in AUTOLOGIN_KEYS:
                value = holder.get(key)
                if _is_url(value):
                    return str(value).strip()
    return ""


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("https://", "http://"))


def _scalar(value: object) -> str:
    """A lead id as text: a string or a number, never true/false, a list or an object."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()
