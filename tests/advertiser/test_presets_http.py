"""Each offer preset sending a lead to a real local server: the request it receives, and how
each answer the advertiser documents is read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from leaddesk.advertiser.client import AdvertiserClient
from leaddesk.core.offer_config import AUTH_SECRET, header_secret
from leaddesk.core.offer_presets import PRESETS, preset
from leaddesk.core.offer_request import LeadValues, build_request
from leaddesk.core.status import DeliveryState
from leaddesk.services.deliveries import Outcome

PATH = "/v1/leads"
API_KEY = "key-Abc/123+xyz"
API_PASSWORD = "pw-9876"
PASSWORD = "Gen3rated-Pw1"
SECRETS = {AUTH_SECRET: API_KEY, header_secret("Api-Password"): API_PASSWORD}
LEAD = LeadValues(
    fields={
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "language": "DE",
        "ip": "",
        "sub_id1": "s-1",
        "sub_id2": "",
        "sub_id3": "",
        "password": "",
    },
    affiliate_id=7,
    affiliate_name="North",
    fixed_fields={"funnel": "spring"},
)
LOGIN_URL = "https://brand.example/login?token=t0k"
FORM = "application/x-www-form-urlencoded"


def send(httpserver, key: str, status: int = 200, answer: object = None) -> Outcome:
    """Send LEAD with the preset to the local server, which answers `answer` as JSON."""
    text = json.dumps({"status": "accepted"} if answer is None else answer)
    httpserver.expect_request(PATH).respond_with_data(
        text, status=status, content_type="application/json"
    )
    config = preset(key).config(httpserver.url_for(PATH))
    request = build_request(config, LEAD, SECRETS, choose_password=lambda _rules: PASSWORD)
    outcome = AdvertiserClient().send(request, config.response)
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    assert outcome.duration_ms is not None and outcome.duration_ms >= 0
    return replace(outcome, duration_ms=None)


def received(httpserver):
    return httpserver.log[0][0]


# The requests ---------------------------------------------------------------------------


def test_plain_json_sends_todays_payload(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "plain_json")

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert request.content_type == "application/json"
    assert "Authorization" not in request.headers
    assert request.get_json() == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "language": "DE",
        "sub_id1": "s-1",
        "funnel": "spring",
        "affiliate_id": 7,
        "affiliate_name": "North",
    }


def test_json_keys_in_headers_sends_both_keys_as_headers(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "json_keys_in_headers")

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert request.headers["Api-Key"] == API_KEY
    assert request.headers["Api-Password"] == API_PASSWORD
    assert request.content_type == "application/json"
    assert request.get_json() == {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "language": "de",
        "password": PASSWORD,
        "affId": "7",
        "sub1": "s-1",
        "funnel": "spring",
    }


def test_json_bearer_sends_the_token_and_snake_case_fields(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "json_bearer", answer={"uuid": "u-1"})

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.content_type == "application/json"
    assert request.get_json() == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "country_code": "DE",
        "language": "de",
        "password": PASSWORD,
        "aff_sub1": "s-1",
        "funnel": "spring",
    }


def test_form_token_in_query_sends_the_token_in_the_url_and_a_form(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "form_token_in_query", answer={"success": True})

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b"api_token=key-Abc%2F123%2Bxyz"
    assert request.args.to_dict() == {"api_token": API_KEY}
    assert "Authorization" not in request.headers
    assert request.content_type == FORM
    assert request.get_data(as_text=True) == (
        "firstname=Ada&lastname=Lovelace&email=ada%40example.com&phone=%2B4915112345678"
        "&country=DE&password=Gen3rated-Pw1&sub1=s-1&funnel=spring"
    )


def test_form_area_code_sends_the_calling_code_apart(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "form_area_code")

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert request.headers["Api-Key"] == API_KEY
    assert request.content_type == FORM
    assert request.form.to_dict() == {
        "fullName": "Ada Lovelace",
        "email": "ada@example.com",
        "areaCode": "49",
        "phone": "15112345678",
        "country": "Germany",
        "password": PASSWORD,
        "subId1": "s-1",
        "funnel": "spring",
    }
    assert request.get_data(as_text=True).startswith("fullName=Ada+Lovelace&")


def test_form_status_codes_sends_the_key_in_the_body(httpserver_ipv4) -> None:
    send(httpserver_ipv4, "form_status_codes")

    request = received(httpserver_ipv4)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert "Api-Key" not in request.headers
    assert request.content_type == FORM
    assert request.get_data(as_text=True) == (
        "first_name=Ada&last_name=Lovelace&email=ada%40example.com&phone=4915112345678"
        "&country=DE&password=Gen3rated-Pw1&sub_id1=s-1&funnel=spring"
        "&api_key=key-Abc%2F123%2Bxyz"
    )


def test_every_preset_is_covered_here() -> None:
    assert {each.key for each in PRESETS} == {key for key, *_ in ANSWERS}


# The answers ----------------------------------------------------------------------------


def _outcome(state, status, answer, verdict, lead_id="", autologin="", reason="") -> Outcome:
    return Outcome(
        state,
        http_status=status,
        response_text=json.dumps(answer),
        advertiser_lead_id=lead_id,
        reason=reason,
        verdict=verdict,
        autologin_url=autologin,
    )


ACCEPTED, REJECTED = DeliveryState.ACCEPTED, DeliveryState.REJECTED
ANSWERS = [
    # plain_json: today's reading.
    ("plain_json", 200, {"status": "accepted", "lead_id": "L-1"}, ACCEPTED, "accepted", "L-1"),
    (
        "plain_json",
        409,
        {"message": "Duplicate lead"},
        REJECTED,
        "duplicate",
        "",
        "",
        "Duplicate lead",
    ),
    (
        "plain_json",
        400,
        {"message": "Phone is missing"},
        REJECTED,
        "invalid",
        "",
        "",
        "Phone is missing",
    ),
    (
        "plain_json",
        403,
        {"message": "Offer is closed"},
        REJECTED,
        "denied",
        "",
        "",
        "Offer is closed",
    ),
    # json_keys_in_headers: status true/false, the link in data, errors as a list.
    (
        "json_keys_in_headers",
        200,
        {"status": True, "data": LOGIN_URL, "leadId": "a-55"},
        ACCEPTED,
        "accepted",
        "a-55",
        LOGIN_URL,
    ),
    (
        "json_keys_in_headers",
        200,
        {"status": False, "errors": [{"message": "Lead already exists"}]},
        REJECTED,
        "duplicate",
        "",
        "",
        "Lead already exists",
    ),
    (
        "json_keys_in_headers",
        200,
        {"status": False, "errors": [{"message": "Email is not valid"}]},
        REJECTED,
        "invalid",
        "",
        "",
        "Email is not valid",
    ),
    (
        "json_keys_in_headers",
        200,
        {"status": False, "errors": [{"message": "Wrong API key"}]},
        REJECTED,
        "denied",
        "",
        "",
        "Wrong API key",
    ),
    # json_bearer: uuid and auto_login_url, or a 4xx with code and message.
    (
        "json_bearer",
        200,
        {"uuid": "6f1c2a", "auto_login_url": LOGIN_URL},
        ACCEPTED,
        "accepted",
        "6f1c2a",
        LOGIN_URL,
    ),
    (
        "json_bearer",
        409,
        {"code": "DUPLICATE", "message": "Email already registered"},
        REJECTED,
        "duplicate",
        "",
        "",
        "Email already registered",
    ),
    (
        "json_bearer",
        422,
        {"code": "VALIDATION", "message": "phone: wrong format"},
        REJECTED,
        "invalid",
        "",
        "",
        "phone: wrong format",
    ),
    (
        "json_bearer",
        401,
        {"code": "UNAUTHENTICATED", "message": "Bad token"},
        REJECTED,
        "denied",
        "",
        "",
        "Bad token",
    ),
    # form_token_in_query: success true/false with a message, all with HTTP 200.
    (
        "form_token_in_query",
        200,
        {"success": True, "id": 991, "autologin": LOGIN_URL},
        ACCEPTED,
        "accepted",
        "991",
        LOGIN_URL,
    ),
    (
        "form_token_in_query",
        200,
        {"success": False, "message": "Lead already exists"},
        REJECTED,
        "duplicate",
        "",
        "",
        "Lead already exists",
    ),
    (
        "form_token_in_query",
        200,
        {"success": False, "message": "Phone number not valid!"},
        REJECTED,
        "invalid",
        "",
        "",
        "Phone number not valid!",
    ),
    (
        "form_token_in_query",
        200,
        {"success": False, "message": "Invalid api_token"},
        REJECTED,
        "denied",
        "",
        "",
        "Invalid api_token",
    ),
    # form_area_code: the id and redirect two levels deep.
    (
        "form_area_code",
        200,
        {"result": {"lead": {"id": "d-1", "redirect": LOGIN_URL}}},
        ACCEPTED,
        "accepted",
        "d-1",
        LOGIN_URL,
    ),
    (
        "form_area_code",
        409,
        {"message": "Duplicate email"},
        REJECTED,
        "duplicate",
        "",
        "",
        "Duplicate email",
    ),
    (
        "form_area_code",
        400,
        {"message": "areaCode is required"},
        REJECTED,
        "invalid",
        "",
        "",
        "areaCode is required",
    ),
    (
        "form_area_code",
        403,
        {"message": "IP not whitelisted"},
        REJECTED,
        "denied",
        "",
        "",
        "IP not whitelisted",
    ),
    # form_status_codes: the kind of refusal is its status.
    (
        "form_status_codes",
        201,
        {"lead_id": "e-1", "redirect_url": LOGIN_URL},
        ACCEPTED,
        "accepted",
        "e-1",
        LOGIN_URL,
    ),
    ("form_status_codes", 409, {"error": "Conflict"}, REJECTED, "duplicate", "", "", "Conflict"),
    ("form_status_codes", 400, {"error": "Bad email"}, REJECTED, "invalid", "", "", "Bad email"),
    ("form_status_codes", 403, {"error": "Closed"}, REJECTED, "denied", "", "", "Closed"),
]


@pytest.mark.parametrize(
    ("key", "status", "answer", "state", "verdict", "lead_id", "autologin", "reason"),
    [(*each, *("",) * (8 - len(each))) for each in ANSWERS],
    ids=[f"{each[0]}-{each[4]}" for each in ANSWERS],
)
def test_each_answer_shape_is_read_as_the_advertiser_means_it(
    httpserver_ipv4, key, status, answer, state, verdict, lead_id, autologin, reason
) -> None:
    outcome = send(httpserver_ipv4, key, status, answer)

    assert outcome == _outcome(state, status, answer, verdict, lead_id, autologin, reason)
