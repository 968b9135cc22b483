"""Sending one lead to an advertiser over HTTP, and reading what the answer means."""

from __future__ import annotations

import json
import logging
import threading
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from leaddesk import __version__
from leaddesk.core.status import DeliveryState
from leaddesk.services.deliveries import Outcome

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 30
RESPONSE_SIZE_LIMIT_BYTES = 1_000_000
SEND_ATTEMPTS = 3
RETRY_BACKOFF_S = (2, 8)
# Answers that say the request was not taken in, so sending it again cannot repeat a lead.
RETRYABLE_STATUSES = frozenset({429, 503})
REFUSAL_WORDS = frozenset({"rejected", "error", "fail", "failed", "duplicate", "invalid"})
SUCCESS_WORDS = frozenset({"accepted", "ok", "success", "created", "true"})
PLAIN_SUCCESS_ANSWERS = frozenset({"", "ok", "success", "accepted", "true", "1"})
# However an advertiser drips its answer, LeadDesk stops waiting for it after this long.
ANSWER_DEADLINE_S = 60
RETRY_AFTER_CAP_S = 60


class AdvertiserClient:
    """Posts leads as JSON; one instance is shared by the sending threads."""

    def __init__(
        self,
        stop: threading.Event | None = None,
        retry_backoff_s: tuple[float, ...] = RETRY_BACKOFF_S,
    ) -> None:
        self._stop = stop or threading.Event()
        self._retry_backoff_s = retry_backoff_s
        self._local = threading.local()

    def _http(self) -> requests.Session:
        # A requests.Session is not safe across threads, so each sending thread keeps one.
        http = getattr(self._local, "http", None)
        if http is None:
            http = requests.Session()
            http.headers["User-Agent"] = f"LeadDesk/{__version__}"
            # Leads go only where the offer says, never through a proxy set for other uses.
            http.trust_env = False
            self._local.http = http
        return http

    def send(self, url: str, payload: dict[str, object]) -> Outcome:
        """Send one lead, retrying only while it certainly has not reached the advertiser."""
        host = urlsplit(url).hostname or url
        last_problem, last_status = "", None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            wait_s = self._retry_backoff_s[min(attempt, len(self._retry_backoff_s)) - 1]
            try:
                response = self._http().post(
                    url,
                    json=payload,
                    timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.ConnectionError as error:
                if not _never_connected(error):
                    return _unknown(f"The connection to {host} broke before it answered.")
                last_problem = f"could not connect to {host}"
            except requests.Timeout:
                return _unknown(f"{host} did not answer within {READ_TIMEOUT_S} s.")
            except requests.RequestException as error:
                return Outcome(DeliveryState.FAILED, reason=f"Request failed: {error}")
            else:
                outcome = _read_answer(response, attempt)
                if outcome is not None:
                    return outcome
                last_status = response.status_code
                last_problem = f"{host} answered HTTP {last_status} (busy)"
                wait_s = max(wait_s, retry_after_s(response.headers.get("Retry-After")))
            log.info("Attempt %d to %s failed: %s", attempt, host, last_problem)
            if attempt < SEND_ATTEMPTS and self._stop.wait(wait_s):
                break
        return Outcome(
            DeliveryState.FAILED,
            http_status=last_status,
            reason=f"Not sent: {last_problem} ({attempt} attempts).",
            attempts=attempt,
        )


def retry_after_s(header: str | None) -> float:
    """Seconds a Retry-After header asks to wait (a number or an HTTP date), capped."""
    if not header:
        return 0.0
    header = header.strip()
    if header.isdigit():
        return float(min(int(header), RETRY_AFTER_CAP_S))
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return 0.0
    if moment.tzinfo is None:
        return 0.0
    return max(0.0, min(moment.timestamp() - time.time(), RETRY_AFTER_CAP_S))


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the request cannot have left: refused, unresolved or timed out connecting."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _unknown(reason: str) -> Outcome:
    return Outcome(
        DeliveryState.UNKNOWN,
        reason=f"{reason} The lead may have arrived; check with the advertiser before sending "
        "it again.",
    )


class _AnswerTooSlow(Exception):
    """The advertiser kept the answer coming for longer than LeadDesk waits for one."""


def _read_body(response: requests.Response) -> str:
    """The answer's text: at most a size limit, within a total time limit."""
    chunks, size = [], 0
    deadline = time.monotonic() + ANSWER_DEADLINE_S
    try:
        # read1 returns whatever has arrived, so an advertiser dripping bytes meets the
        # deadline instead of holding the request open for as long as it likes.
        while size < RESPONSE_SIZE_LIMIT_BYTES:
            chunk = response.raw.read1(65536, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise _AnswerTooSlow
    finally:
        response.close()
    return _decode(b"".join(chunks)[:RESPONSE_SIZE_LIMIT_BYTES], response.encoding)


def _decode(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        # The advertiser named a character set that does not exist.
        return body.decode("utf-8", errors="replace")


def _read_answer(response: requests.Response, attempt: int) -> Outcome | None:
    """What the advertiser's answer means; None when it asks to be tried again later."""
    status = response.status_code
    try:
        text = _read_body(response)
    except _AnswerTooSlow:
        return _unknown(f"The answer (HTTP {status}) took longer than {ANSWER_DEADLINE_S} s.")
    except (requests.RequestException, HTTPError, OSError):
        return _unknown(f"The answer (HTTP {status}) broke off.")
    if status in RETRYABLE_STATUSES:
        return None
    answer = _parse_json(text)
    common = {"http_status": status, "response_text": text, "attempts": attempt}
    if 300 <= status < 400:
        target = response.headers.get("Location", "another address")
        return Outcome(
            DeliveryState.FAILED,
            reason=f"The advertiser redirected to {target}; a lead is never sent on to "
            "another address. Check the offer's URL.",
            **common,
        )
    if status >= 500:
        return Outcome(
            DeliveryState.UNKNOWN,
            reason=f"The advertiser failed (HTTP {status}) and may have stored the lead; "
            "check with the advertiser before sending it again.",
            **common,
        )
    if status >= 400 or _says_refused(answer):
        return Outcome(
            DeliveryState.REJECTED,
            reason=_reason(answer, text) or f"Refused with HTTP {status}.",
            **common,
        )
    if answer is None and not _plain_yes(text):
        return Outcome(
            DeliveryState.UNKNOWN,
            reason=f"The advertiser answered HTTP {status} with something LeadDesk cannot "
            f"read ({_snippet(text)!r}); check with the advertiser whether the lead arrived.",
            **common,
        )
    return Outcome(DeliveryState.ACCEPTED, advertiser_lead_id=_lead_id(answer), **common)


def _plain_yes(text: str) -> bool:
    """An empty answer, or a bare word of success such as `OK`, from an advertiser."""
    words = text.strip().lower()
    return words in PLAIN_SUCCESS_ANSWERS


def _snippet(text: str) -> str:
    return " ".join(text.split())[:80]


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _says_refused(answer: object) -> bool:
    if not isinstance(answer, dict):
        return False
    for key in ("status", "success", "ok", "result"):
        value = answer.get(key)
        if value is False:
            return True
        if isinstance(value, str) and value.strip().lower() in REFUSAL_WORDS:
            return True
        if value is True or (isinstance(value, str) and value.strip().lower() in SUCCESS_WORDS):
            return False
    # With no word of success, an error named in the answer is a refusal.
    return any(answer.get(key) for key in ("error", "errors"))


def _reason(answer: object, text: str) -> str:
    if isinstance(answer, dict):
        for key in ("message", "reason", "error", "errors", "detail"):
            value = answer.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail")
            if isinstance(value, str) and value.strip():
                return value.strip()[:500]
    return " ".join(text.split())[:200]


def _lead_id(answer: object) -> str:
    if not isinstance(answer, dict):
        return ""
    for holder in (answer, answer.get("data")):
        if isinstance(holder, dict):
            for key in ("lead_id", "leadId", "id", "uuid"):
                value = holder.get(key)
                if isinstance(value, str | int) and not isinstance(value, bool):
                    return str(value)
    return ""
