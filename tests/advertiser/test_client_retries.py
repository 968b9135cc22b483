"""What one send does when the lead cannot get through: hold it (QUEUED), pause, or leave it
unknown; a lead is never received twice by one send. Every server here is on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from local_servers import closed_port, full_backlog, raw_server, reset
from pytest_httpserver import HTTPServer
from werkzeug import Response

from leaddesk.advertiser import client
from leaddesk.advertiser.client import AdvertiserClient, retry_after_s
from leaddesk.core.offer_config import AUTH_SECRET, AuthKind, Endpoint, OfferConfig
from leaddesk.core.offer_request import LeadValues, OutgoingRequest, build_request
from leaddesk.core.status import DeliveryState
from leaddesk.services.deliveries import Outcome

BACKOFF_S = (0.5, 4.0, 9.0)
LEAD = LeadValues({"email": "ada@example.com", "phone": "+441234567890"}, 7, "North", {})
API_KEY = "s3cret-key-0042"
PATH = "/leads"
CHECK = "The lead may have arrived; check with the advertiser before sending it again."
HANDLER_WAIT_S = 10
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 0.5


def wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def request_to(url: str, **endpoint: object) -> OutgoingRequest:
    config = OfferConfig(endpoint=Endpoint(url=url, **endpoint))  # type: ignore[arg-type]
    secrets = {AUTH_SECRET: API_KEY} if config.endpoint.auth is not AuthKind.NONE else {}
    return build_request(config, LEAD, secrets)


def send(request: OutgoingRequest, sender: AdvertiserClient | None = None) -> Outcome:
    """The outcome without its duration, which differs from run to run."""
    outcome = (sender or AdvertiserClient(retry_backoff_s=BACKOFF_S)).send(request)
    return replace(outcome, duration_ms=None)


def queued(reason: str, wait_s: float = 0.0, pause: bool = False, **answer: object) -> Outcome:
    return Outcome(DeliveryState.QUEUED, reason=reason, wait_s=wait_s, pause=pause, **answer)  # type: ignore[arg-type]


# Never connected: the lead keeps its place ----------------------------------------------


def test_a_refused_connection_holds_the_lead_longer_each_time_in_a_row() -> None:
    port = closed_port()
    sender = AdvertiserClient(retry_backoff_s=BACKOFF_S)
    request = request_to(f"http://127.0.0.1:{port}{PATH}")

    outcomes = [send(request, sender) for _ in range(4)]

    reason = "could not connect to 127.0.0.1: [Errno 111] Connection refused"
    assert outcomes == [queued(reason, wait) for wait in (0.5, 4.0, 9.0, 9.0)]


def test_an_answer_ends_the_run_of_failures(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH).respond_with_json({"status": "accepted"})
    sender = AdvertiserClient(retry_backoff_s=BACKOFF_S)
    refused = request_to(f"http://127.0.0.1:{closed_port()}{PATH}")
    # One host for both: the port is not part of the count.
    answered = request_to(httpserver_ipv4.url_for(PATH))

    first = send(refused, sender)
    accepted = send(answered, sender)
    again = send(refused, sender)

    assert (first.wait_s, accepted.state, again.wait_s) == (0.5, DeliveryState.ACCEPTED, 0.5)


def test_a_connect_timeout_holds_the_lead() -> None:
    with full_backlog(probe_timeout_s=0.2) as port:
        if port is None:
            pytest.skip("this system answers connections to a full queue instead of dropping them")
        started = time.monotonic()
        outcome = send(request_to(f"http://127.0.0.1:{port}{PATH}", connect_timeout_s=0.5))
        elapsed_s = time.monotonic() - started

    assert outcome == queued("could not connect to 127.0.0.1: no answer within 0.5 s", 0.5)
    assert elapsed_s < 3


def test_a_name_that_does_not_resolve_holds_the_lead(monkeypatch) -> None:
    def no_such_name(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # The name is never looked up for real: the resolver itself is replaced.
    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)

    outcome = send(request_to("https://lead-api.invalid/leads"))

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.reason.startswith("could not connect to lead-api.invalid: ")
    assert "Name or service not known" in outcome.reason
    assert (outcome.wait_s, outcome.pause, outcome.http_status) == (0.5, False, None)


# Asked to wait: the lead keeps its place -------------------------------------------------


def test_too_many_requests_holds_for_the_seconds_asked(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome == queued(
        "rate-limited by 127.0.0.1 (HTTP 429), which asked to wait 120 s.",
        120.0,
        http_status=429,
        response_text="slow down",
    )
    assert len(httpserver_ipv4.log) == 1


def test_a_long_wait_asked_is_capped(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "86400"}
    )

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome.wait_s == client.RETRY_AFTER_CAP_S == 900
    assert len(httpserver_ipv4.log) == 1


def test_unavailable_with_a_date_holds_until_that_moment(httpserver_ipv4) -> None:
    moment = datetime.now(timezone.utc) + timedelta(seconds=300)
    httpserver_ipv4.expect_request(PATH).respond_with_data(
        "", status=503, headers={"Retry-After": email.utils.format_datetime(moment, usegmt=True)}
    )

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.http_status == 503
    assert outcome.wait_s == pytest.approx(300, abs=3)
    assert outcome.reason.startswith("busy at 127.0.0.1 (HTTP 503), which asked to wait ")
    assert (outcome.pause, outcome.verdict) == (False, "")
    assert len(httpserver_ipv4.log) == 1


def test_unavailable_without_retry_after_holds_for_the_default_wait(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH).respond_with_data("busy", status=503)

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome == queued(
        "busy at 127.0.0.1 (HTTP 503), which asked to wait 30 s.",
        30.0,
        http_status=503,
        response_text="busy",
    )
    assert len(httpserver_ipv4.log) == 1


# The lead may have arrived: unknown, never sent again -----------------------------------


def test_a_read_timeout_is_unknown(httpserver_ipv4) -> None:
    answered = threading.Event()

    def too_late(_request) -> Response:
        answered.wait(HANDLER_WAIT_S)
        return Response("{}", status=200)

    httpserver_ipv4.expect_request(PATH).respond_with_handler(too_late)
    started = time.monotonic()

    outcome = send(request_to(httpserver_ipv4.url_for(PATH), read_timeout_s=READ_TIMEOUT_S))
    elapsed_s = time.monotonic() - started
    answered.set()

    assert outcome == Outcome(
        DeliveryState.UNKNOWN, reason=f"127.0.0.1 did not answer within 0.5 s. {CHECK}"
    )
    assert elapsed_s < 3
    # The server notes a request once its handler has answered.
    wait_until(lambda: len(httpserver_ipv4.log) == 1)


def test_a_connection_reset_in_the_middle_of_the_answer_is_unknown() -> None:
    def half_a_status_line(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(b"HTTP/1.1 200 O")
        reset(connection)

    with raw_server(half_a_status_line) as server:
        outcome = send(request_to(server.url()))
        received = len(server.requests)

    assert outcome == Outcome(
        DeliveryState.UNKNOWN,
        reason=f"The connection to 127.0.0.1 broke before it answered. {CHECK}",
    )
    assert received == 1


def test_an_answer_cut_off_is_unknown() -> None:
    def half_a_body(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
            b'{"status": "acc'
        )
        reset(connection)

    with raw_server(half_a_body) as server:
        outcome = send(request_to(server.url()))
        received = len(server.requests)

    assert outcome == Outcome(
        DeliveryState.UNKNOWN, reason=f"The answer (HTTP 200) broke off. {CHECK}"
    )
    assert received == 1


def test_a_server_error_is_unknown(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH).respond_with_data(
        '{"error": "database down"}', status=500
    )

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome == Outcome(
        DeliveryState.UNKNOWN,
        http_status=500,
        response_text='{"error": "database down"}',
        verdict="unknown",
        reason="The advertiser failed (HTTP 500) and may have stored the lead; check with the "
        "advertiser before sending it again.",
    )
    assert len(httpserver_ipv4.log) == 1


# Redirected: failed, never followed ------------------------------------------------------


def test_a_redirect_fails_and_is_not_followed(httpserver_ipv4) -> None:
    elsewhere = httpserver_ipv4.url_for("/elsewhere")
    httpserver_ipv4.expect_request(PATH).respond_with_data(
        "", status=302, headers={"Location": elsewhere}
    )

    outcome = send(request_to(httpserver_ipv4.url_for(PATH)))

    assert outcome == Outcome(
        DeliveryState.FAILED,
        http_status=302,
        reason=f"The advertiser redirected to {elsewhere}; a lead is never sent on to another "
        "address. Check the offer's URL.",
    )
    assert [request.path for request, _ in httpserver_ipv4.log] == [PATH]


# Proxies ---------------------------------------------------------------------------------


def test_an_unreachable_proxy_holds_the_lead() -> None:
    target = f"https://127.0.0.1:{closed_port()}{PATH}"
    proxy = f"http://127.0.0.1:{closed_port()}"

    outcome = send(request_to(target, proxy_url=proxy))

    assert outcome == queued(
        "could not connect to 127.0.0.1 through the proxy 127.0.0.1: [Errno 111] Connection "
        "refused",
        0.5,
    )


def test_an_unreachable_socks_proxy_holds_the_lead() -> None:
    target = f"http://127.0.0.1:{closed_port()}{PATH}"
    proxy = f"socks5://127.0.0.1:{closed_port()}"

    outcome = send(request_to(target, proxy_url=proxy))

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.reason.startswith(
        "could not connect to 127.0.0.1 through the proxy 127.0.0.1: "
    )
    assert "Connection refused" in outcome.reason
    assert (outcome.wait_s, outcome.pause) == (0.5, False)


PROXY_REFUSAL = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
PROXY_AUTH_REASON = (
    "The proxy 127.0.0.1 refused LeadDesk's credentials (HTTP 407); correct the proxy's user "
    "and password in the offer editor."
)


def test_a_proxy_refusing_the_tunnel_pauses_without_sending() -> None:
    def refuse(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(PROXY_REFUSAL)

    target = f"https://127.0.0.1:{closed_port()}{PATH}"
    with raw_server(refuse) as proxy:
        outcome = send(request_to(target, proxy_url=f"http://user:pw@127.0.0.1:{proxy.port}"))
        asked = list(proxy.requests)

    assert outcome == queued(PROXY_AUTH_REASON, pause=True)
    assert len(asked) == 1
    assert asked[0].startswith(b"CONNECT 127.0.0.1:")


def test_a_proxy_refusing_a_plain_request_pauses_without_sending() -> None:
    def refuse(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(PROXY_REFUSAL)

    target = f"http://127.0.0.1:{closed_port()}{PATH}"
    with raw_server(refuse) as proxy:
        outcome = send(request_to(target, proxy_url=f"http://127.0.0.1:{proxy.port}"))
        asked = list(proxy.requests)

    assert outcome == queued(PROXY_AUTH_REASON, pause=True, http_status=407)
    assert len(asked) == 1
    assert asked[0].startswith(f"POST {target} HTTP/1.1".encode())


# TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, Path]:
    """A test certificate authority and a certificate for 127.0.0.1 that it signed."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    files = {name: folder / name for name in ("ca.pem", "ca.key", "leaf.pem", "leaf.key")}
    (folder / "leaf.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    days = ["-days", "2"]
    commands = [
        ["req", "-x509", *key, *days, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=CA"],
        ["req", *key, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"],
        [
            *("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
            *("-set_serial", "2", *days, "-out", "leaf.pem", "-extfile", "leaf.ext"),
        ],
    ]
    for command in commands:
        subprocess.run(["openssl", *command], cwd=folder, check=True, capture_output=True)
    return files


@pytest.fixture
def tls_server(certificates):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["leaf.pem"], certificates["leaf.key"])
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_certificate_that_fails_pauses_without_sending(tls_server) -> None:
    tls_server.expect_request(PATH).respond_with_json({"status": "accepted"})

    outcome = send(request_to(tls_server.url_for(PATH)))

    assert outcome.state == DeliveryState.QUEUED
    assert outcome.pause is True
    assert outcome.reason.startswith("127.0.0.1's certificate could not be verified (")
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.reason
    assert outcome.reason.endswith("choose its CA bundle in the offer editor.")
    assert tls_server.log == []


def test_the_offers_ca_bundle_verifies_its_certificate(tls_server, certificates) -> None:
    tls_server.expect_request(PATH).respond_with_json({"status": "accepted", "id": "t-1"})

    outcome = send(request_to(tls_server.url_for(PATH), ca_bundle=str(certificates["ca.pem"])))

    assert (outcome.state, outcome.advertiser_lead_id) == (DeliveryState.ACCEPTED, "t-1")
    assert len(tls_server.log) == 1


def test_a_missing_ca_bundle_pauses_without_sending(httpserver_ipv4, tmp_path) -> None:
    missing = tmp_path / "gone.pem"

    outcome = send(request_to(httpserver_ipv4.url_for(PATH), ca_bundle=str(missing)))

    assert outcome == queued(
        f"The CA bundle {missing} does not exist; choose the file again in the offer editor.",
        pause=True,
    )
    assert httpserver_ipv4.log == []


# Refused before sending ------------------------------------------------------------------


def test_plain_http_to_another_computer_is_refused_without_a_connection(monkeypatch) -> None:
    def never(*_args, **_kwargs):
        raise AssertionError("no connection may be attempted")

    monkeypatch.setattr(socket, "getaddrinfo", never)
    monkeypatch.setattr(socket, "create_connection", never)
    request = replace(
        request_to("https://lead-api.invalid/leads"), url="http://lead-api.invalid/x"
    )

    outcome = send(request)

    assert outcome == queued(
        "lead-api.invalid would receive personal data unencrypted over http://. Use https://, "
        "or confirm plain http in the offer editor.",
        pause=True,
    )


# Secrets ---------------------------------------------------------------------------------


def test_a_secret_the_advertiser_echoes_is_never_stored(httpserver_ipv4) -> None:
    echoed = {"success": False, "message": f"Key {API_KEY} is not active", "key": API_KEY}
    httpserver_ipv4.expect_request(PATH).respond_with_json(echoed, status=403)

    outcome = send(
        request_to(httpserver_ipv4.url_for(PATH), auth=AuthKind.QUERY, auth_name="api_token")
    )

    assert outcome.state == DeliveryState.REJECTED
    assert API_KEY not in outcome.response_text
    assert API_KEY not in outcome.reason
    assert outcome.reason == "Key •••••• is not active"
    assert json.loads(outcome.response_text)["key"] == "••••••"
    assert httpserver_ipv4.log[0][0].args["api_token"] == API_KEY


def test_half_a_secret_at_the_end_of_a_cut_answer_is_masked(httpserver_ipv4) -> None:
    padding = "x" * (client.RESPONSE_SIZE_LIMIT_BYTES - 6)
    httpserver_ipv4.expect_request(PATH).respond_with_data(padding + API_KEY, status=200)

    outcome = send(
        request_to(httpserver_ipv4.url_for(PATH), auth=AuthKind.HEADER, auth_name="Api-Key")
    )

    assert outcome.response_text == padding + "••••••"
    assert API_KEY[:6] not in outcome.response_text


def test_the_plain_json_adapter_sends_a_ready_payload(httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request(PATH, method="POST").respond_with_json(
        {"status": "accepted", "lead_id": "p-1"}
    )

    outcome = AdvertiserClient().send_json(httpserver_ipv4.url_for(PATH), {"email": "a@b.c"})

    assert (outcome.state, outcome.advertiser_lead_id, outcome.verdict) == (
        DeliveryState.ACCEPTED,
        "p-1",
        "accepted",
    )
    assert httpserver_ipv4.log[0][0].get_json() == {"email": "a@b.c"}


# Retry-After -----------------------------------------------------------------------------


def test_retry_after_in_seconds() -> None:
    assert retry_after_s("5") == 5
    assert retry_after_s(" 7 ") == 7


def test_retry_after_is_capped() -> None:
    assert retry_after_s("100000") == client.RETRY_AFTER_CAP_S


def test_retry_after_as_an_http_date() -> None:
    ahead = datetime.now(timezone.utc) + timedelta(seconds=3)

    assert retry_after_s(email.utils.format_datetime(ahead, usegmt=True)) == pytest.approx(
        3, abs=1
    )


def test_retry_after_in_the_past_asks_for_no_wait() -> None:
    before = datetime.now(timezone.utc) - timedelta(hours=1)

    assert retry_after_s(email.utils.format_datetime(before, usegmt=True)) == 0


@pytest.mark.parametrize("header", ["soon", "-5", "1.5", "", None])
def test_retry_after_that_cannot_be_read_is_none(header) -> None:
    assert retry_after_s(header) is None
