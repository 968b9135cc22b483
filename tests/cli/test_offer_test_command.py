"""`leaddesk offer test`: the request for a test lead, and sending it to a local server."""

from __future__ import annotations

import json

import pytest

TOKEN = "tok-5e1f-secret"


@pytest.fixture(autouse=True)
def offer_token(monkeypatch):
    monkeypatch.setenv("OFFER_TOKEN", TOKEN)


def add_bearer_offer(cli, url: str) -> None:
    code, _, err = cli(
        *("offer", "add", "Solar", "--url", url, "--preset", "json_bearer"),
        *("--secret-env", "OFFER_TOKEN"),
    )
    assert code == 0, err


def test_the_request_is_shown_with_the_secret_masked_and_nothing_is_sent(cli, httpserver):
    add_bearer_offer(cli, httpserver.url_for("/leads"))

    code, out, _ = cli("offer", "test", "Solar", "--field", "email=qa@brand.example")

    assert code == 0
    assert "Authorization: Bearer ••••••" in out
    assert TOKEN not in out
    assert '"email": "qa@brand.example"' in out
    assert "Not sent" in out
    assert httpserver.log == []


def test_send_sends_once_and_says_how_the_answer_reads(cli, httpserver):
    httpserver.expect_oneshot_request("/leads", method="POST").respond_with_json(
        {"code": "duplicate", "message": "Lead already exists"}, status=409
    )
    add_bearer_offer(cli, httpserver.url_for("/leads"))

    code, out, _ = cli("offer", "test", "Solar", "--send")

    assert code == 1
    [(request, _response)] = httpserver.log
    assert json.loads(request.data)["email"] == "test.lead@example.com"
    assert "Result: Duplicate" in out
    assert "HTTP status: 409" in out
    assert "Reason: Lead already exists" in out


def test_an_unknown_offer_is_named(cli):
    code, _, err = cli("offer", "test", "Nowhere")
    assert code == 1
    assert "Nowhere" in err


def test_a_secret_header_is_entered_from_the_command_line_and_used(cli, httpserver, monkeypatch):
    httpserver.expect_oneshot_request("/leads", method="POST").respond_with_json(
        {"status": True, "data": "https://brand.example/login/1"}
    )
    code, _, _ = cli(
        *("offer", "add", "Keys", "--url", httpserver.url_for("/leads")),
        *("--preset", "json_keys_in_headers", "--secret-env", "OFFER_TOKEN"),
    )
    assert code == 0
    code, _, err = cli("offer", "test", "Keys")
    assert code == 1 and "Api-Password" in err

    monkeypatch.setenv("HEADER_VALUE", "hdr-9f2e")
    code, out, _ = cli(
        "offer", "secret", "Keys", "--header", "Api-Password", "--secret-env", "HEADER_VALUE"
    )
    assert code == 0 and "is kept in" in out
    code, out, _ = cli("offer", "test", "Keys", "--send")

    assert code == 0
    [(request, _response)] = httpserver.log
    assert request.headers["Api-Password"] == "hdr-9f2e"
    assert "hdr-9f2e" not in out


def test_a_secret_the_offer_does_not_keep_is_refused(cli):
    add_bearer_offer(cli, "https://api.example.com/leads")

    code, _, err = cli(
        "offer", "secret", "Solar", "--header", "X-Nope", "--secret-env", "OFFER_TOKEN"
    )

    assert code == 1
    assert "keeps no such secret. It needs: Bearer token." in err
