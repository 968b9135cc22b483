"""`leaddesk deliveries` and `leaddesk resend` over a real data file."""

from __future__ import annotations

import io
import json

import pytest

from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import Action, DeliveryState
from leaddesk.services import deliveries, distributions, lead_lists
from leaddesk.services.deliveries import Outcome

OFFER_URL = "http://127.0.0.1:9/leads"
EVERY_HOUR = SendInterval(1, PeriodUnit.HOURS)
LONG_REASON = "The advertiser refused this lead because " + "it said so at length " * 5

OUTCOMES = [
    Outcome(DeliveryState.ACCEPTED, http_status=200, advertiser_lead_id="adv-1", duration_ms=80),
    Outcome(DeliveryState.REJECTED, http_status=409, reason="Duplicate lead", duration_ms=95),
    Outcome(DeliveryState.UNKNOWN, reason="The connection broke before it answered."),
    Outcome(DeliveryState.REJECTED, http_status=400, reason=LONG_REASON, duration_ms=1500),
]
LOG_FIELDS = {
    "id",
    "position",
    "lead",
    "email",
    "phone",
    "state",
    "verdict",
    "time",
    "attempts",
    "http_status",
    "duration_ms",
    "advertiser_lead_id",
    "autologin_url",
    "generated_password",
    "reason",
    "history",
}


@pytest.fixture
def spring(database, make_offer) -> int:
    """Five leads: accepted, rejected, unknown, rejected at length, and one queued."""
    affiliate_id, offer_id = make_offer(OFFER_URL)
    leads = [
        LeadRecord(row_number=i + 2, first_name=f"Name{i}", email=f"lead{i}@example.com")
        for i in range(5)
    ]
    with database.writer() as session:
        result = ImportResult(len(leads), leads, [], "utf-8", ",", {})
        lead_list = lead_lists.store_list(session, "Spring", result, "Dana", "x.csv")
        distribution = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                "Spring", lead_list.id, affiliate_id, offer_id, EVERY_HOUR, {}
            ),
        )
        session.commit()
    for outcome in OUTCOMES:
        with database.writer() as session:
            claim = deliveries.claim_next(session, distribution.id)
        with database.writer() as session:
            deliveries.record_outcome(session, claim, outcome)
    return distribution.id


def listed(cli, *args: str) -> list[dict]:
    code, out, err = cli("deliveries", *args, "--json")
    assert code == 0, err
    return json.loads(out)


# deliveries --------------------------------------------------------------------------------


def test_deliveries_prints_one_line_per_delivery(cli, spring):
    code, out, err = cli("deliveries", str(spring))

    assert code == 0 and err == ""
    summary, header, *lines = out.splitlines()
    assert summary == (
        f"Distribution {spring} 'Spring' is Active: 1 accepted, 2 rejected, 0 failed, "
        "1 outcome unknown, 1 queued, 0 skipped."
    )
    assert header.split() == [
        "Position",
        "State",
        "Sent",
        "HTTP",
        "Duration",
        "Lead",
        "id",
        "Reason",
        "Lead",
    ]
    assert len(lines) == 5
    assert lines[0].split()[:2] == ["1", "Accepted"]
    assert "200" in lines[0] and "80 ms" in lines[0] and "adv-1" in lines[0]
    assert lines[0].endswith("Name0")
    assert "409" in lines[1] and "Duplicate lead" in lines[1] and lines[1].endswith("Name1")
    assert "Outcome unknown" in lines[2]
    assert "1.5 s" in lines[3] and "…" in lines[3] and lines[3].endswith("Name3")
    assert LONG_REASON.strip() not in out
    assert lines[4].split()[:2] == ["5", "Queued"] and lines[4].endswith("Name4")
    # Every column starts at the same place on every line.
    assert len({line.index("Name") for line in lines}) == 1


def test_deliveries_json_holds_every_field_of_the_log(cli, spring):
    rows = listed(cli, str(spring))

    assert [row["position"] for row in rows] == [1, 2, 3, 4, 5]
    assert all(set(row) == LOG_FIELDS for row in rows)
    accepted = rows[0]
    assert accepted["state"] == "accepted"
    assert accepted["lead"] == "Name0" and accepted["email"] == "lead0@example.com"
    assert accepted["http_status"] == 200 and accepted["duration_ms"] == 80
    assert accepted["advertiser_lead_id"] == "adv-1"
    assert accepted["time"].endswith("Z")
    assert rows[3]["reason"] == LONG_REASON[:4000]
    assert rows[4]["time"] is None and rows[4]["history"] == []


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["--state", "rejected"], [2, 4]),
        (["--state", "rejected", "unknown"], [2, 3, 4]),
        (["--state", "accepted", "--state", "queued"], [1, 5]),
        (["--state", "in_flight"], []),
    ],
)
def test_deliveries_filter_by_state(cli, spring, states, expected):
    assert [row["position"] for row in listed(cli, str(spring), *states)] == expected


def test_no_delivery_in_a_state_is_said(cli, spring):
    code, out, _ = cli("deliveries", str(spring), "--state", "skipped")

    assert code == 0
    assert out.splitlines()[-1] == "No deliveries in these states."


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_unknown_distribution_is_named(cli, spring, json_flag):
    code, out, err = cli("deliveries", "42", *json_flag)

    assert code == 1
    assert out == ""
    assert err.strip() == "leaddesk: There is no distribution with ID 42."


def test_an_unknown_state_is_refused_by_name(cli, spring):
    with pytest.raises(SystemExit) as stopped:
        cli("deliveries", str(spring), "--state", "lost")

    assert stopped.value.code == 2


# resend ------------------------------------------------------------------------------------


def test_resend_with_yes_queues_every_lead_in_the_state(cli, spring):
    code, out, err = cli("resend", str(spring), "--state", "rejected", "--yes")

    assert code == 0, err
    assert out.strip() == (
        f"Distribution {spring} is Active: 2 leads go again while the app or `leaddesk run` "
        "is running."
    )
    queued = listed(cli, str(spring), "--state", "queued")
    assert [row["position"] for row in queued] == [2, 4, 5]
    assert queued[0]["history"][0]["state"] == "rejected"
    assert queued[0]["history"][0]["http_status"] == 409


def test_resend_asks_first_and_a_no_sends_nothing(cli, spring, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))

    code, out, err = cli("resend", str(spring), "--state", "unknown")

    assert code == 1
    assert out.startswith("Send 1 lead of “Spring” again?")
    assert "Its outcome is unknown" in out and "receives it twice" in out
    assert err.strip() == "Nothing was sent again."
    assert [row["position"] for row in listed(cli, str(spring), "--state", "unknown")] == [3]


def test_resend_asks_first_and_a_yes_sends(cli, spring, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    code, out, _ = cli("resend", str(spring), "--state", "unknown", "rejected")

    assert code == 0
    assert out.startswith("Send 3 leads of “Spring” again?")
    assert out.strip().endswith("3 leads go again while the app or `leaddesk run` is running.")


def test_no_answer_to_the_question_sends_nothing(cli, spring, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert cli("resend", str(spring), "--state", "rejected")[0] == 1

    assert len(listed(cli, str(spring), "--state", "rejected")) == 2


def test_resend_chosen_positions(cli, spring):
    code, out, _ = cli("resend", str(spring), "--delivery", "4", "1", "--yes")

    assert code == 0
    # The accepted lead at position 1 stays as it is.
    assert "1 lead goes again" in out
    assert [row["position"] for row in listed(cli, str(spring), "--state", "accepted")] == [1]
    assert [row["position"] for row in listed(cli, str(spring), "--state", "rejected")] == [2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delivery", "9"], "has no lead at position 9."),
        (["--delivery", "1", "5"], "None of these leads can be sent again"),
        (["--state", "failed"], "None of these leads can be sent again"),
    ],
)
def test_resend_explains_what_it_cannot_do(cli, spring, args, message):
    code, out, err = cli("resend", str(spring), *args, "--yes")

    assert code == 1 and out == ""
    assert message in err


def test_resend_refuses_a_deleted_distribution(cli, spring):
    assert cli("delete", str(spring))[0] == 0

    code, _, err = cli("resend", str(spring), "--state", "rejected", "--yes")

    assert code == 1
    assert "is Deleted; its leads cannot be sent again" in err


def test_resend_to_a_paused_distribution_says_when_they_go(cli, spring, database):
    with database.writer() as session:
        distributions.apply_action(session, spring, Action.PAUSE)
        session.commit()

    code, out, _ = cli("resend", str(spring), "--delivery", "2", "--yes")

    assert code == 0
    assert out.strip() == f"Distribution {spring} is Paused: 1 lead goes again when it is resumed."


@pytest.mark.parametrize(
    "args",
    [["--state", "accepted"], [], ["--state", "rejected", "--delivery", "2"]],
)
def test_resend_needs_resendable_states_or_positions(cli, spring, args):
    with pytest.raises(SystemExit) as stopped:
        cli("resend", str(spring), *args)

    assert stopped.value.code == 2
