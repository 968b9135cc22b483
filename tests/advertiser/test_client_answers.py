"""The advertiser client against a real local server that answers as each test sets."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leaddesk.advertiser import client
from leaddesk.advertiser.client import AdvertiserClient
from leaddesk.core.offer_request import plain_json_request
from leaddesk.core.status import DeliveryState

LEAD = {"first_name": "Ada", "email": "ada@example.com", "phone": "+441234567890"}
FAST_RETRIES = (0.05, 0.05)
DRIP_EVERY_S = 0.3
BIG_BODY_BYTES = 50 * 1024 * 1024
BIG_BODY_CHUNK_BYTES = 64 * 1024
# Nothing is ever started there: the address only appears as text in a Location header.
ELSEWHERE_URL = "http://127.0.0.2:9/x"

Answer = Callable[["_Handler", int], None]


class _AdvertiserServer(ThreadingHTTPServer):
    """A server that counts the leads it receives and answers as its `answer` says."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.stopping = threading.Event()
        self.received_at: list[float] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def note_request(self) -> int:
        with self._lock:
            self.received_at.append(time.monotonic())
            return len(self.received_at)


class _Handler(BaseHTTPRequestHandler):
    server: _AdvertiserServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        number = self.server.note_request()
        # The client may hang up; what it did then is what the test looks at.
        with contextlib.suppress(OSError):
            self.server.answer(self, number)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeAdvertiser:
    """A running `_AdvertiserServer` and where to reach it."""

    def __init__(self, answer: Answer) -> None:
        self.server = _AdvertiserServer(answer)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/leads"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self._thread.start()

    @property
    def requests(self) -> int:
        return len(self.server.received_at)

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        # Joins the request threads, so no socket outlives the test.
        self.server.server_close()
        self._thread.join(10)


@pytest.fixture
def advertiser() -> Iterator[Callable[[Answer], FakeAdvertiser]]:
    started: list[FakeAdvertiser] = []

    def start(answer: Answer) -> FakeAdvertiser:
        started.append(FakeAdvertiser(answer))
        return started[-1]

    yield start
    for each in started:
        each.stop()


# Answers --------------------------------------------------------------------------------


def reply(
    status: int,
    body: bytes = b"",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Answer:
    def answer(handler: _Handler, _number: int) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def reply_json(status: int, answer: object, content_type: str = "application/json") -> Answer:
    return reply(status, json.dumps(answer).encode(), content_type)


def in_turn(*answers: Answer) -> Answer:
    """The first answer to the first request, and so on; the last one to all that follow."""

    def answer(handler: _Handler, number: int) -> None:
        answers[min(number, len(answers)) - 1](handler, number)

    return answer


def hang(handler: _Handler, _number: int) -> None:
    handler.server.stopping.wait()


def drip(handler: _Handler, _number: int) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b"{")
    while not handler.server.stopping.wait(DRIP_EVERY_S):
        handler.wfile.write(b" ")


def break_off(handler: _Handler, _number: int) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b'{"status":')
    # Returning closes the connection with 990 promised bytes never sent.


def huge(handler: _Handler, _number: int) -> None:
    head, tail = b'{"status": "accepted", "id": "x"', b"}"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(head) + BIG_BODY_BYTES + len(tail)))
    handler.end_headers()
    handler.wfile.write(head)
    spaces = b" " * BIG_BODY_CHUNK_BYTES
    for _ in range(BIG_BODY_BYTES // BIG_BODY_CHUNK_BYTES):
        if handler.server.stopping.is_set():
            return
        handler.wfile.write(spaces)
    handler.wfile.write(tail)


def send(url: str, read_timeout_s: float | None = None) -> tuple[client.Outcome, float]:
    """Send LEAD as a plain JSON POST, as offers without field rules do."""
    request = plain_json_request(url, LEAD)
    if read_timeout_s is not None:
        request = replace(request, read_timeout_s=read_timeout_s)
    started = time.monotonic()
    outcome = AdvertiserClient(retry_backoff_s=FAST_RETRIES).send(request)
    return outcome, time.monotonic() - started


# Accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "accepted", "id": "adv-17"},
        {"status": "ok", "lead_id": "adv-17"},
        {"success": True, "data": {"id": "adv-17"}},
    ],
    ids=["id", "lead_id", "data.id"],
)
def test_an_accepted_lead_keeps_the_advertisers_id(advertiser, answer) -> None:
    server = advertiser(reply_json(200, answer))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.ACCEPTED
    assert outcome.http_status == 200
    assert outcome.advertiser_lead_id == "adv-17"
    assert outcome.attempts == 1
    assert json.loads(outcome.response_text) == answer
    assert server.requests == 1


def test_success_with_an_empty_error_list_is_accepted(advertiser) -> None:
    server = advertiser(reply_json(200, {"success": True, "errors": []}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.ACCEPTED
    assert outcome.http_status == 200
    assert outcome.advertiser_lead_id == ""
    assert server.requests == 1


@pytest.mark.parametrize("body", [b"OK", b""], ids=["ok", "empty"])
def test_a_bare_ok_or_an_empty_answer_is_accepted(advertiser, body) -> None:
    server = advertiser(reply(200, body, content_type="text/plain"))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.ACCEPTED
    assert outcome.http_status == 200
    assert outcome.attempts == 1
    assert server.requests == 1


def test_an_unknown_character_set_does_not_stop_reading_the_answer(advertiser) -> None:
    server = advertiser(
        reply_json(
            200,
            {"status": "accepted", "id": "adv-9"},
            content_type="application/json; charset=bogus-xyz",
        )
    )

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.ACCEPTED
    assert outcome.advertiser_lead_id == "adv-9"
    assert server.requests == 1


# Refused --------------------------------------------------------------------------------


def test_status_false_with_a_message_is_a_rejection(advertiser) -> None:
    server = advertiser(reply_json(200, {"status": False, "message": "bad phone"}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.REJECTED
    assert outcome.http_status == 200
    assert outcome.reason == "bad phone"
    assert outcome.attempts == 1
    assert server.requests == 1


def test_an_error_named_in_a_200_answer_is_a_rejection(advertiser) -> None:
    server = advertiser(reply_json(200, {"error": "Invalid email"}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.REJECTED
    assert outcome.http_status == 200
    assert outcome.reason == "Invalid email"
    assert server.requests == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [(409, "Duplicate lead"), (400, "Phone is missing"), (403, "Offer is closed")],
)
def test_a_refusal_status_is_a_rejection_with_its_message(advertiser, status, message) -> None:
    server = advertiser(reply_json(status, {"status": "rejected", "message": message}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.REJECTED
    assert outcome.http_status == status
    assert outcome.reason == message
    assert outcome.attempts == 1
    assert server.requests == 1


# Unknown: the lead may have arrived, so it is never sent twice ---------------------------


def test_an_html_page_is_unknown(advertiser) -> None:
    page = b"<html><body><h1>Thank you!</h1></body></html>"
    server = advertiser(reply(200, page, content_type="text/html"))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.UNKNOWN
    assert outcome.http_status == 200
    assert "cannot read" in outcome.reason
    assert "Thank you!" in outcome.reason
    assert server.requests == 1


def test_a_server_error_is_unknown_and_not_sent_again(advertiser) -> None:
    server = advertiser(reply_json(500, {"error": "database down"}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.UNKNOWN
    assert outcome.http_status == 500
    assert "HTTP 500" in outcome.reason
    assert "check with the advertiser" in outcome.reason
    assert outcome.attempts == 1
    assert server.requests == 1


def test_an_answer_that_breaks_off_is_unknown(advertiser) -> None:
    server = advertiser(break_off)

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.UNKNOWN
    assert "broke off" in outcome.reason
    assert "may have arrived" in outcome.reason
    assert server.requests == 1


def test_an_advertiser_that_never_answers_is_unknown_after_the_read_timeout(advertiser) -> None:
    server = advertiser(hang)

    outcome, elapsed_s = send(server.url, read_timeout_s=1)

    assert outcome.state == DeliveryState.UNKNOWN
    assert "did not answer within 1 s" in outcome.reason
    assert server.requests == 1
    assert elapsed_s < 4


def test_a_dripping_answer_is_cut_off_at_the_deadline(advertiser, monkeypatch) -> None:
    monkeypatch.setattr(client, "ANSWER_DEADLINE_S", 1)
    server = advertiser(drip)

    outcome, elapsed_s = send(server.url)

    assert outcome.state == DeliveryState.UNKNOWN
    assert "took longer than 1 s" in outcome.reason
    assert server.requests == 1
    assert elapsed_s < 5


def test_a_huge_answer_is_read_only_up_to_the_limit(advertiser) -> None:
    server = advertiser(huge)

    outcome, elapsed_s = send(server.url)

    # The first megabyte holds no complete JSON, so what the advertiser meant is unknown.
    assert outcome.state == DeliveryState.UNKNOWN
    assert outcome.http_status == 200
    assert "cannot read" in outcome.reason
    assert len(outcome.response_text) <= client.RESPONSE_SIZE_LIMIT_BYTES
    assert outcome.response_text.startswith('{"status": "accepted"')
    assert server.requests == 1
    assert elapsed_s < 5


# Redirected: failed, never followed -----------------------------------------------------


def test_a_redirect_is_not_followed(advertiser) -> None:
    server = advertiser(reply(302, headers={"Location": ELSEWHERE_URL}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.FAILED
    assert outcome.http_status == 302
    assert "redirected" in outcome.reason
    assert ELSEWHERE_URL in outcome.reason
    assert outcome.attempts == 1
    assert server.requests == 1


# Asked to wait: held in its place, never sent again by the same call ---------------------


def test_too_many_requests_holds_the_lead_without_sending_again(advertiser) -> None:
    server = advertiser(
        in_turn(
            reply(429, headers={"Retry-After": "1"}),
            reply_json(200, {"status": "accepted", "id": "adv-2"}),
        )
    )

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.http_status == 429
    assert outcome.wait_s == 1
    assert outcome.attempts == 1
    assert server.requests == 1


def test_a_busy_advertiser_holds_the_lead_for_the_default_wait(advertiser) -> None:
    server = advertiser(reply_json(503, {"error": "busy"}))

    outcome, _ = send(server.url)

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.http_status == 503
    assert outcome.wait_s == client.RATE_LIMIT_WAIT_S
    assert outcome.reason == "busy at 127.0.0.1 (HTTP 503), which asked to wait 30 s."
    assert server.requests == 1
