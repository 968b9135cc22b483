"""Reading advertisers' answers by an offer's rules and by the defaults for common shapes."""

from __future__ import annotations

import json

import pytest

from leaddesk.core.answer_rules import Verdict, VerdictKind, classify, read_path
from leaddesk.core.offer_config import ResponseRules

DEFAULTS = ResponseRules()
URL = "https://brand.example/login?t=1"
ACCEPTED = VerdictKind.ACCEPTED
REJECTED = VerdictKind.REJECTED
UNKNOWN = VerdictKind.UNKNOWN


def read(answer: object, status: int = 200, rules: ResponseRules = DEFAULTS) -> Verdict:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return classify(rules, status, text)


# JSON paths ------------------------------------------------------------------------------

ANSWER = {
    "data": {"lead": {"id": 17, "ok": True}},
    "errors": [{"message": "first"}, "second"],
    "name": "x",
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.lead.id", 17),
        ("data.lead.ok", True),
        ("errors.0.message", "first"),
        ("errors.1", "second"),
        ("data.lead", {"id": 17, "ok": True}),
        ("errors.2", None),
        ("errors.x", None),
        ("name.length", None),
        ("data.missing.id", None),
        ("", None),
    ],
)
def test_a_path_reads_objects_and_list_positions(path, value) -> None:
    assert read_path(ANSWER, path) == value


def test_a_path_into_no_json_reads_nothing() -> None:
    assert read_path(None, "data") is None
    assert read_path("text", "data") is None


# Today's judgement, by the defaults ------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ({"status": "accepted", "id": "a-1"}, Verdict(ACCEPTED, lead_id="a-1")),
        ({"lead_id": 5, "id": 9}, Verdict(ACCEPTED, lead_id="5")),
        ({"data": {"leadId": "d-2"}}, Verdict(ACCEPTED, lead_id="d-2")),
        ({"uuid": "u-3", "autologin": URL}, Verdict(ACCEPTED, lead_id="u-3", autologin_url=URL)),
        ({"status": True, "data": URL}, Verdict(ACCEPTED, autologin_url=URL)),
        ({"data": {"redirect_url": URL}}, Verdict(ACCEPTED, autologin_url=URL)),
        ({"link": "not a link", "id": True}, Verdict(ACCEPTED)),
        ({"success": True, "errors": []}, Verdict(ACCEPTED)),
        ("OK", Verdict(ACCEPTED)),
        ("", Verdict(ACCEPTED)),
    ],
)
def test_accepted_answers_by_the_defaults(answer, verdict) -> None:
    assert read(answer) == verdict


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"status": False, "message": "bad phone"}, "bad phone"),
        ({"success": "failed", "reason": "closed"}, "closed"),
        ({"error": "Invalid email"}, "Invalid email"),
        ({"errors": [{"message": "Phone is wrong"}]}, "Phone is wrong"),
        ({"errors": ["Too young"]}, "Too young"),
        ({"ok": False, "detail": "geo"}, "geo"),
        ({"status": False}, '{"status": false}'),
    ],
)
def test_a_2xx_saying_no_is_a_rejection_with_its_reason(answer, reason) -> None:
    assert read(answer) == Verdict(REJECTED, reason=reason)


def test_garbage_in_a_2xx_is_unknown() -> None:
    verdict = read("<html><h1>Thank you!</h1></html>")

    assert verdict == Verdict(
        UNKNOWN,
        reason="The advertiser answered HTTP 200 with something LeadDesk cannot read "
        "('<html><h1>Thank you!</h1></html>'); check with the advertiser whether the lead "
        "arrived.",
    )


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_server_error_is_unknown(status) -> None:
    assert read({"status": "accepted"}, status) == Verdict(
        UNKNOWN,
        reason=f"The advertiser failed (HTTP {status}) and may have stored the lead; check "
        "with the advertiser before sending it again.",
    )


def test_a_status_the_rules_do_not_name_below_400_is_unknown() -> None:
    assert read("", 302).kind is UNKNOWN
    assert read("", 201, ResponseRules(accepted_statuses="200")).kind is UNKNOWN


@pytest.mark.parametrize(
    ("status", "answer", "kind", "reason"),
    [
        (409, {"message": "Conflict"}, VerdictKind.DUPLICATE, "Conflict"),
        (400, {"message": "Phone missing"}, VerdictKind.INVALID, "Phone missing"),
        (422, {"message": "Bad email"}, VerdictKind.INVALID, "Bad email"),
        (401, {"message": "Who are you"}, VerdictKind.DENIED, "Who are you"),
        (403, "Forbidden", VerdictKind.DENIED, "Forbidden"),
        (404, "", REJECTED, "Refused with HTTP 404."),
        # The words of a duplicate win over the status.
        (400, {"message": "Lead already exists"}, VerdictKind.DUPLICATE, "Lead already exists"),
        (403, {"error": "DUPLICATE"}, VerdictKind.DUPLICATE, "DUPLICATE"),
    ],
)
def test_refusal_statuses_name_the_kind(status, answer, kind, reason) -> None:
    assert read(answer, status) == Verdict(kind, reason=reason)


def test_duplicate_words_are_looked_for_in_a_2xx_refusal() -> None:
    answer = {"status": False, "errors": [{"message": "Email already registered"}]}

    assert read(answer) == Verdict(VerdictKind.DUPLICATE, reason="Email already registered")


def test_duplicate_words_are_looked_for_in_the_reason_when_there_is_one() -> None:
    answer = {"status": False, "message": "Phone not valid", "duplicate_check": "passed"}

    assert read(answer).kind is REJECTED


# Rules of an offer -----------------------------------------------------------------------

BY_PATH = ResponseRules(accepted_json_path="result.code", accepted_json_value="OK")


def test_a_json_path_equal_to_its_value_is_accepted() -> None:
    assert read({"result": {"code": "ok"}, "id": 4}, rules=BY_PATH) == Verdict(ACCEPTED, "4")


def test_a_json_path_with_another_value_is_a_rejection() -> None:
    answer = {"result": {"code": "LIMIT"}, "message": "Cap reached"}

    assert read(answer, rules=BY_PATH) == Verdict(REJECTED, reason="Cap reached")


def test_a_json_path_missing_from_the_answer_is_unknown() -> None:
    assert read({"id": 4}, rules=BY_PATH).kind is UNKNOWN
    assert read("OK", rules=BY_PATH).kind is UNKNOWN


def test_a_json_path_without_a_value_must_say_yes() -> None:
    rules = ResponseRules(accepted_json_path="success")

    assert read({"success": True}, rules=rules).kind is ACCEPTED
    assert read({"success": "true"}, rules=rules).kind is ACCEPTED
    assert read({"success": 0}, rules=rules).kind is REJECTED


def test_accepted_text_must_appear() -> None:
    rules = ResponseRules(accepted_text="thank you|lead received")

    assert read("<h1>Thank You!</h1>", rules=rules).kind is ACCEPTED
    assert read("Lead RECEIVED", rules=rules).kind is ACCEPTED
    assert read("<h1>Sorry</h1>", rules=rules).kind is UNKNOWN
    assert read({"status": False, "message": "thank you, but no"}, rules=rules) == Verdict(
        REJECTED, reason="thank you, but no"
    )


def test_invalid_and_denied_words_name_only_refusals_whose_status_does_not() -> None:
    rules = ResponseRules(invalid_text="not valid", denied_text="api key")

    assert read({"success": False, "message": "Phone not valid"}, rules=rules).kind is (
        VerdictKind.INVALID
    )
    assert read({"success": False, "message": "API key not valid"}, rules=rules).kind is (
        VerdictKind.DENIED
    )
    assert read({"message": "not valid"}, 401, rules=rules).kind is VerdictKind.DENIED
    assert read({"message": "api key"}, 422, rules=rules).kind is VerdictKind.INVALID


def test_paths_for_the_id_link_and_reason() -> None:
    rules = ResponseRules(
        lead_id_path="result.lead.id",
        autologin_path="result.lead.redirect",
        reason_path="result.why",
    )
    accepted = {"result": {"lead": {"id": 77, "redirect": "/relative"}}, "id": "other"}
    refused = {"result": {"why": "Geo closed"}, "message": "other"}

    assert read(accepted, rules=rules) == Verdict(ACCEPTED, "77", "/relative")
    assert read(refused, 400, rules=rules) == Verdict(VerdictKind.INVALID, reason="Geo closed")


def test_accepted_statuses_of_an_offer() -> None:
    rules = ResponseRules(accepted_statuses="200,202")

    assert read({"id": 1}, 202, rules).kind is ACCEPTED
    assert read({"id": 1}, 201, rules).kind is UNKNOWN
