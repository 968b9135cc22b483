"""Sending one lead to an advertiser over HTTP, and reading what the answer means."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

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
        last_problem = ""
        for attempt in range(1, SEND_ATTEMPTS + 1):
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
                last_problem = f"{host} answered HTTP {response.status_code} (busy)"
            log.info("Attempt %d to %s failed: %s", attempt, host, last_problem)
            if attempt < SEND_ATTEMPTS and self._stop.wait(self._retry_backoff_s[attempt - 1]):
                break
        return Outcome(
            DeliveryState.FAILED,
            reason=f"Not sent: {last_problem} ({attempt} attempts).",
            attempts=attempt,
        )


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


def _read_body(response: requests.Response) -> str:
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            chunks.append(chunk)
            size += len(chunk)
            if size >= RESPONSE_SIZE_LIMIT_BYTES:
                break
    finally:
        response.close()
    return b"".join(chunks)[:RESPONSE_SIZE_LIMIT_BYTES].decode(
        response.encoding or "utf-8", errors="replace"
    )


def _read_answer(response: requests.Response, attempt: int) -> Outcome | None:
    """What the advertiser's answer means; None when it asks to be tried again later."""
    status = response.status_code
    try:
        text = _read_body(response)
    except requests.RequestException:
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
    return Outcome(DeliveryState.ACCEPTED, advertiser_lead_id=_lead_id(answer), **common)


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
    return False


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
