"""Sending one lead's request to an advertiser over HTTP, and reading what the answer means.

Each call sends at most once. When the lead certainly never reached the advertiser (no
connection, a certificate that fails, an answer asking to wait) the outcome is QUEUED: the
lead keeps its place and the engine holds the distribution for `wait_s`, or pauses it when
waiting cannot help. When the lead may have arrived the outcome is UNKNOWN, never a retry.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from leaddesk.core.answer_rules import Verdict, VerdictKind, classify
from leaddesk.core.offer_config import ResponseRules, is_local_host
from leaddesk.core.offer_request import MASK, USER_AGENT, OutgoingRequest, plain_json_request
from leaddesk.core.status import DeliveryState
from leaddesk.services.deliveries import Outcome

log = logging.getLogger(__name__)

RESPONSE_SIZE_LIMIT_BYTES = 1_000_000
# How long to hold a distribution after each failed connection to the same host in a row.
RETRY_BACKOFF_S = (2.0, 8.0, 30.0, 60.0)
# Answers that say the request was not taken in: the advertiser asks to come back later.
RATE_LIMIT_STATUSES = frozenset({429, 503})
# Without a Retry-After, a busy advertiser is left alone this long.
RATE_LIMIT_WAIT_S = 30.0
# However long an advertiser asks to be left alone, LeadDesk tries again after this.
RETRY_AFTER_CAP_S = 15 * 60.0
PROXY_AUTH_STATUS = 407
# How an HTTP proxy's tunnel and a SOCKS proxy say they refused LeadDesk's credentials.
PROXY_AUTH_FAILURES = (
    f"Tunnel connection failed: {PROXY_AUTH_STATUS}",
    "authentication methods were rejected",
    "authentication failed",
)
# However an advertiser drips its answer, LeadDesk stops waiting for it after this long.
ANSWER_DEADLINE_S = 60
# TLS alerts that end a handshake, before any byte of the request is sent.
HANDSHAKE_FAILURES = (
    "WRONG_VERSION_NUMBER",
    "HANDSHAKE_FAILURE",
    "PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_SHARED_CIPHER",
)
# Errors raised while the request is being built: nothing has been sent.
_NOT_SENT_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidJSONError,
)
CHECK_BEFORE_RESENDING = (
    "The lead may have arrived; check with the advertiser before sending it again."
)


class AdvertiserClient:
    """Sends leads' requests; one instance is shared by the sending threads."""

    def __init__(
        self,
        stop: threading.Event | None = None,
        retry_backoff_s: tuple[float, ...] = RETRY_BACKOFF_S,
    ) -> None:
        # One send never waits or repeats, so nothing waits on `stop`; the engine that holds
        # a distribution after a QUEUED outcome does.
        self._stop = stop or threading.Event()
        self._retry_backoff_s = retry_backoff_s or RETRY_BACKOFF_S
        self._local = threading.local()
        self._lock = threading.Lock()
        # Failed connections in a row, by host, for a growing hold.
        self._failures: dict[str, int] = {}

    def _http(self) -> requests.Session:
        # A requests.Session is not safe across threads, so each sending thread keeps one.
        http = getattr(self._local, "http", None)
        if http is None:
            http = requests.Session()
            http.headers["User-Agent"] = USER_AGENT
            # Leads go only where the offer says, never through a proxy set for other uses.
            http.trust_env = False
            self._local.http = http
        return http

    def send_json(self, url: str, payload: dict[str, object]) -> Outcome:
        """Send a ready payload as a JSON POST, read by the default answer rules."""
        return self.send(plain_json_request(url, payload))

    def send(self, request: OutgoingRequest, rules: ResponseRules | None = None) -> Outcome:
        """Send one lead once and say what came of it; `rules` read the answer."""
        refusal = _refusal_before_sending(request)
        if refusal is not None:
            return refusal
        http = self._http()
        try:
            prepared = http.prepare_request(request.to_requests())
        except (requests.RequestException, ValueError) as error:
            return _hold_and_pause(
                request.mask(f"The request could not be made: {_cause_text(error)}")
            )
        started = time.monotonic()
        try:
            outcome = self._send(http, prepared, request, rules or ResponseRules())
        except requests.RequestException as error:
            outcome = self._failure(request, error)
        except OSError as error:
            if "CA certificate bundle" not in str(error):
                raise
            # requests checks the CA bundle's path before it connects.
            outcome = _hold_and_pause(request.mask(f"The request could not be made: {error}."))
        outcome = _with_duration(outcome, started)
        log.info(
            "Lead to %s: %s %s (%d ms)",
            request.host,
            outcome.state.value,
            outcome.verdict or outcome.http_status or "",
            outcome.duration_ms,
        )
        return outcome

    def _send(
        self,
        http: requests.Session,
        prepared: requests.PreparedRequest,
        request: OutgoingRequest,
        rules: ResponseRules,
    ) -> Outcome:
        proxies = {"http": request.proxy_url, "https": request.proxy_url}
        response = http.send(
            prepared,
            timeout=(request.connect_timeout_s, request.read_timeout_s),
            proxies=proxies if request.proxy_url else {},
            verify=request.ca_bundle or True,
            allow_redirects=False,
            stream=True,
        )
        self._connected(request.host)
        status = response.status_code
        try:
            text, cut = _read_body(response)
        except _AnswerTooSlow:
            return _unknown(f"The answer (HTTP {status}) took longer than {ANSWER_DEADLINE_S} s.")
        except (requests.RequestException, HTTPError, OSError):
            return _unknown(f"The answer (HTTP {status}) broke off.")
        common = {"http_status": status, "response_text": _masked_answer(request, text, cut)}
        if status in RATE_LIMIT_STATUSES:
            wait_s = retry_after_s(response.headers.get("Retry-After"))
            wait_s = RATE_LIMIT_WAIT_S if wait_s is None else wait_s
            asked = "rate-limited by" if status == 429 else "busy at"
            reason = f"{asked} {request.host} (HTTP {status}), which asked to wait {wait_s:.0f} s."
            return Outcome(DeliveryState.QUEUED, reason=reason, wait_s=wait_s, **common)
        if status == PROXY_AUTH_STATUS and request.proxy_url:
            return _hold_and_pause(_proxy_auth_reason(request), **common)
        if 300 <= status < 400:
            target = response.headers.get("Location", "another address")
            return Outcome(
                DeliveryState.FAILED,
                reason=request.mask(
                    f"The advertiser redirected to {target}; a lead is never sent on to "
                    "another address. Check the offer's URL."
                ),
                **common,
            )
        return _from_verdict(classify(rules, status, text), request, common)

    # Failures before an answer -----------------------------------------------------------

    def _failure(self, request: OutgoingRequest, error: requests.RequestException) -> Outcome:
        """What a request that got no answer means: never sent, or perhaps arrived."""
        host = request.host
        if isinstance(error, requests.exceptions.ProxyError):
            return self._proxy_failure(request, error)
        if isinstance(error, requests.exceptions.SSLError):
            return _tls_failure(request, error)
        if isinstance(error, requests.ConnectTimeout):
            return self._not_connected(
                request, f"no answer within {request.connect_timeout_s:g} s"
            )
        if isinstance(error, requests.ReadTimeout):
            return _unknown(f"{host} did not answer within {request.read_timeout_s:g} s.")
        if isinstance(error, requests.ConnectionError):
            if _never_connected(error) and request.proxy_url:
                # A SOCKS proxy's failures arrive as failed connections.
                return self._proxy_failure(request, error)
            if _never_connected(error):
                return self._not_connected(request, _cause_text(error))
            return _unknown(f"The connection to {host} broke before it answered.")
        if isinstance(error, _NOT_SENT_ERRORS):
            return _hold_and_pause(
                request.mask(f"The request could not be made: {_cause_text(error)}")
            )
        return _unknown(request.mask(f"The request to {host} failed: {_cause_text(error)}."))

    def _proxy_failure(self, request: OutgoingRequest, error: requests.ConnectionError) -> Outcome:
        """The proxy refused, could not be reached, or could not reach the advertiser."""
        text = " ".join(str(each) for each in _chain(error))
        if any(words in text for words in PROXY_AUTH_FAILURES):
            return _hold_and_pause(_proxy_auth_reason(request))
        if _certificate_failed(error):
            return _tls_failure(request, error)
        return self._not_connected(
            request,
            _cause_text(error),
            where=f"{request.host} through the proxy {_proxy_host(request)}",
        )

    def _not_connected(self, request: OutgoingRequest, cause: str, where: str = "") -> Outcome:
        """The request never left: hold the distribution, longer with each failure in a row."""
        with self._lock:
            failures = self._failures.get(request.host, 0) + 1
            self._failures[request.host] = failures
        wait_s = self._retry_backoff_s[min(failures, len(self._retry_backoff_s)) - 1]
        return Outcome(
            DeliveryState.QUEUED,
            reason=request.mask(f"could not connect to {where or request.host}: {cause}"),
            wait_s=wait_s,
        )

    def _connected(self, host: str) -> None:
        with self._lock:
            self._failures.pop(host, None)


def retry_after_s(header: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (a number or an HTTP date), capped.

    None when there is no header or it cannot be read; 0 for a moment already past.
    """
    if not header or not header.strip():
        return None
    header = header.strip()
    if header.isdigit():
        return min(float(header), RETRY_AFTER_CAP_S)
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, min(moment.timestamp() - time.time(), RETRY_AFTER_CAP_S))


def _refusal_before_sending(request: OutgoingRequest) -> Outcome | None:
    """Refuse what the offer's check refuses too, in case a request skipped it."""
    parts = urlsplit(request.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _hold_and_pause(
            request.mask(f"The offer's URL {request.url} is not an http:// or https:// address.")
        )
    plain_to_another = parts.scheme == "http" and not is_local_host(parts.hostname)
    if plain_to_another and not request.allow_plain_http:
        return _hold_and_pause(
            f"{parts.hostname} would receive personal data unencrypted over http://. Use "
            "https://, or confirm plain http in the offer editor."
        )
    if request.ca_bundle and not os.path.exists(request.ca_bundle):
        return _hold_and_pause(
            f"The CA bundle {request.ca_bundle} does not exist; choose the file again in the "
            "offer editor."
        )
    return None


def _tls_failure(request: OutgoingRequest, error: requests.RequestException) -> Outcome:
    if _certificate_failed(error):
        return _hold_and_pause(
            f"{request.host}'s certificate could not be verified ({_cause_text(error)}). If the "
            "advertiser uses its own certificate authority, choose its CA bundle in the offer "
            "editor."
        )
    text = " ".join(str(each) for each in _chain(error))
    if any(alert in text for alert in HANDSHAKE_FAILURES):
        return _hold_and_pause(
            f"No secure connection could be agreed with {request.host} "
            f"({_cause_text(error)}); check that the offer's URL is right."
        )
    return _unknown(f"The secure connection to {request.host} broke.")


def _certificate_failed(error: BaseException) -> bool:
    return any(
        isinstance(each, ssl.SSLCertVerificationError | ssl.CertificateError)
        or "CERTIFICATE_VERIFY_FAILED" in str(each)
        for each in _chain(error)
    )


def _proxy_auth_reason(request: OutgoingRequest) -> str:
    return (
        f"The proxy {_proxy_host(request)} refused LeadDesk's credentials "
        f"(HTTP {PROXY_AUTH_STATUS}); correct the proxy's user and password in the offer editor."
    )


def _proxy_host(request: OutgoingRequest) -> str:
    # Never the whole proxy URL: it may carry a user and password.
    return urlsplit(request.proxy_url).hostname or "of the offer"


def _hold_and_pause(
    reason: str, http_status: int | None = None, response_text: str = ""
) -> Outcome:
    """The lead never left and waiting will not help: pause until the manager acts."""
    return Outcome(
        DeliveryState.QUEUED,
        reason=reason,
        pause=True,
        http_status=http_status,
        response_text=response_text,
    )


def _from_verdict(verdict: Verdict, request: OutgoingRequest, common: dict) -> Outcome:
    state = {
        VerdictKind.ACCEPTED: DeliveryState.ACCEPTED,
        VerdictKind.UNKNOWN: DeliveryState.UNKNOWN,
    }.get(verdict.kind, DeliveryState.REJECTED)
    return Outcome(
        state,
        verdict=verdict.kind.value,
        advertiser_lead_id=verdict.lead_id,
        autologin_url=verdict.autologin_url,
        reason=request.mask(verdict.reason),
        **common,
    )


def _with_duration(outcome: Outcome, started: float) -> Outcome:
    return replace(outcome, duration_ms=round((time.monotonic() - started) * 1000))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """An exception and every exception it wraps (reason, cause, context, arguments)."""
    seen: set[int] = set()
    waiting: list[object] = [error]
    while waiting:
        each = waiting.pop()
        if not isinstance(each, BaseException) or id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        waiting += [getattr(each, "reason", None), each.__cause__, each.__context__, *each.args]


def _cause_text(error: BaseException) -> str:
    """The innermost error's words, without the URL (which may carry a key) around them."""
    innermost = _innermost(error)
    text = str(innermost)
    if "Failed to establish a new connection: " in text:
        text = text.split("Failed to establish a new connection: ", 1)[1]
    return text.strip() or type(innermost).__name__


def _innermost(error: BaseException) -> BaseException:
    """The error at the root of a wrapped one: urllib3's reason, a cause, a wrapped argument."""
    seen = {id(error)}
    while True:
        reason = getattr(error, "reason", None)
        wrapped = [reason, error.__cause__, *error.args]
        inner = next((each for each in wrapped if isinstance(each, BaseException)), None)
        if inner is None or id(inner) in seen:
            return error
        seen.add(id(inner))
        error = inner


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the request cannot have left: refused, unresolved or timed out connecting."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _unknown(reason: str) -> Outcome:
    return Outcome(DeliveryState.UNKNOWN, reason=f"{reason} {CHECK_BEFORE_RESENDING}")


def _masked_answer(request: OutgoingRequest, text: str, cut: bool) -> str:
    """The answer as stored: no secret the advertiser echoes back, not even half of one."""
    text = request.mask(text)
    if not cut:
        return text
    # Cut at the size limit, the answer may end in the first characters of a secret.
    folded = text.casefold()
    for form in request.secret_forms():
        for length in range(len(form) - 1, 0, -1):
            if folded.endswith(form[:length].casefold()):
                return text[:-length] + MASK
    return text


class _AnswerTooSlow(Exception):
    """The advertiser kept the answer coming for longer than LeadDesk waits for one."""


def _read_body(response: requests.Response) -> tuple[str, bool]:
    """The answer's text, at most a size limit, within a total time limit; and if it was cut."""
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
    body = b"".join(chunks)
    cut = len(body) >= RESPONSE_SIZE_LIMIT_BYTES
    return _decode(body[:RESPONSE_SIZE_LIMIT_BYTES], response.encoding), cut


def _decode(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        # The advertiser named a character set that does not exist.
        return body.decode("utf-8", errors="replace")
