"""Tests of the sandbox advertiser as a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from leaddesk.advertiser.sandbox import SandboxAdvertiser, run_sandbox

TIMEOUT_S = 10
LEAD = {"first_name": "Ada", "email": "ada@example.com", "phone": "+441234567890"}


def _request(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """One request with its own session, so threads share nothing and no socket is left open."""
    with requests.Session() as session:
        # Proxy settings from the environment must not divert a request meant for 127.0.0.1.
        session.trust_env = False
        with session.request(method, url, timeout=TIMEOUT_S, **kwargs) as response:
            body = response.json() if response.content else None
            return response.status_code, body


def _post(url: str, payload: Any) -> tuple[int, Any]:
    return _request("POST", url, json=payload)


def _log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def sandbox() -> Iterator[SandboxAdvertiser]:
    with SandboxAdvertiser() as running:
        yield running


def test_url_is_local_leads_endpoint(sandbox: SandboxAdvertiser) -> None:
    assert sandbox.port > 0
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/leads"


def test_lead_is_accepted_with_an_id(sandbox: SandboxAdvertiser) -> None:
    status, body = _post(sandbox.url, LEAD)

    assert status == 200
    assert body["status"] == "accepted"
    assert body["lead_id"].startswith("sbx-")


def test_each_accepted_lead_gets_its_own_id(sandbox: SandboxAdvertiser) -> None:
    ids = {_post(sandbox.url, {"email": f"lead{n}@example.com"})[1]["lead_id"] for n in range(3)}

    assert len(ids) == 3


def test_any_path_accepts_leads(sandbox: SandboxAdvertiser) -> None:
    status, body = _post(sandbox.url.replace("/leads", "/api/v2/submit"), LEAD)

    assert status == 200
    assert body["status"] == "accepted"


def test_second_lead_with_same_email_is_rejected(sandbox: SandboxAdvertiser) -> None:
    _post(sandbox.url, LEAD)

    status, body = _post(sandbox.url, {**LEAD, "email": "  ADA@Example.COM "})

    assert status == 409
    assert body == {
        "status": "rejected",
        "message": "Duplicate lead: this e-mail was already received",
    }


def test_body_that_is_not_json_is_rejected(sandbox: SandboxAdvertiser) -> None:
    status, body = _request("POST", sandbox.url, data=b"{not json")

    assert status == 400
    assert body["status"] == "rejected"
    assert body["message"]


def test_a_body_cut_short_by_a_dying_sender_is_no_lead(sandbox: SandboxAdvertiser) -> None:
    # The part that arrives is whole JSON; only the announced length tells it is cut short.
    body = json.dumps(LEAD).encode("utf-8")
    announced = len(body) + 40
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=TIMEOUT_S) as connection:
        connection.sendall(
            b"POST /leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {announced}\r\n\r\n".encode("ascii")
            + body
        )
        connection.shutdown(socket.SHUT_WR)
        answer = connection.recv(4096)

    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    assert [entry["payload"] for entry in sandbox.received_requests()] == [None]
    _, summary = _request("GET", sandbox.url)
    assert summary["accepted"] == 0


def test_json_that_is_not_an_object_is_rejected(sandbox: SandboxAdvertiser) -> None:
    status, body = _post(sandbox.url, ["ada@example.com"])

    assert status == 400
    assert body["status"] == "rejected"


def test_get_shows_a_summary(sandbox: SandboxAdvertiser) -> None:
    _post(sandbox.url, LEAD)

    status, body = _request("GET", sandbox.url.replace("/leads", "/"))

    assert status == 200
    assert body["received"] == 1


def test_other_methods_are_not_allowed(sandbox: SandboxAdvertiser) -> None:
    status, body = _request("PUT", sandbox.url, json=LEAD)

    assert status == 405
    assert body["status"] == "rejected"


def test_received_requests_keep_every_post(sandbox: SandboxAdvertiser) -> None:
    _post(sandbox.url, LEAD)
    _request("POST", sandbox.url, data=b"garbage")

    received = sandbox.received_requests()

    assert [entry["payload"] for entry in received] == [LEAD, None]
    assert all(entry["path"] == "/leads" for entry in received)


def test_log_file_has_one_line_per_post(tmp_path: Path) -> None:
    log_path = tmp_path / "received.jsonl"
    before = time.time()
    with SandboxAdvertiser(log_path=log_path) as sandbox:
        _post(sandbox.url, LEAD)
        _request("POST", sandbox.url.replace("/leads", "/other"), data=b"garbage")
        _request("GET", sandbox.url)

    lines = _log_lines(log_path)

    assert [line["path"] for line in lines] == ["/leads", "/other"]
    assert [line["payload"] for line in lines] == [LEAD, None]
    assert all(before <= line["received_at"] <= time.time() for line in lines)


def test_log_file_is_appended_to(tmp_path: Path) -> None:
    log_path = tmp_path / "received.jsonl"
    log_path.write_text('{"received_at": 1.0, "path": "/old", "payload": null}\n')
    with SandboxAdvertiser(log_path=log_path) as sandbox:
        _post(sandbox.url, LEAD)

    assert [line["path"] for line in _log_lines(log_path)] == ["/old", "/leads"]


def test_log_line_is_written_before_latency(tmp_path: Path) -> None:
    latency_s = 0.5
    log_path = tmp_path / "received.jsonl"
    with SandboxAdvertiser(log_path=log_path, latency_ms=int(latency_s * 1000)) as sandbox:
        status, _ = _post(sandbox.url, LEAD)
        answered_at = time.time()

    (line,) = _log_lines(log_path)
    assert status == 200
    # The answer waits for the latency after the line is written, never before it.
    assert line["received_at"] <= answered_at - latency_s


def test_requests_with_latency_are_handled_concurrently() -> None:
    latency_s = 0.3
    request_count = 5
    with SandboxAdvertiser(latency_ms=int(latency_s * 1000)) as sandbox:
        leads = [{"email": f"lead{n}@example.com"} for n in range(request_count)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=request_count) as pool:
            results = list(pool.map(lambda lead: _post(sandbox.url, lead), leads))
        elapsed = time.monotonic() - started

    assert [status for status, _ in results] == [200] * request_count
    # Handled one after another they would take at least request_count * latency.
    assert elapsed < request_count * latency_s


def test_request_logging_never_carries_the_body(
    sandbox: SandboxAdvertiser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="leaddesk.advertiser.sandbox"):
        _post(sandbox.url, LEAD)
        _post(sandbox.url, LEAD)

    assert "POST /leads" in caplog.text
    assert LEAD["email"] not in caplog.text
    assert LEAD["phone"] not in caplog.text


def test_stop_releases_the_port() -> None:
    sandbox = SandboxAdvertiser()
    sandbox.start()
    port = sandbox.port
    sandbox.stop()

    with SandboxAdvertiser(port=port) as again:
        assert _post(again.url, LEAD)[0] == 200


def test_run_sandbox_with_port_in_use_returns_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()

        code = run_sandbox(port, None, 0, out=out, err=err)

    assert code == 2
    assert err.getvalue().strip() == f"Port {port} is already in use; choose another with --port"
    assert out.getvalue() == ""


def test_run_sandbox_announces_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # Serving would block until Ctrl+C, so it stops at once here.
    monkeypatch.setattr(SandboxAdvertiser, "serve_forever", SandboxAdvertiser.stop)
    out = io.StringIO()

    code = run_sandbox(0, None, 0, out=out)

    assert code == 0
    assert out.getvalue().startswith("Sandbox advertiser listening on http://127.0.0.1:")
    assert out.getvalue().rstrip().endswith("/leads (Ctrl+C to stop)")
