"""Send windows, time zones and caps given on the command line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from leaddesk.core.clock import utc_now
from leaddesk.storage.database import open_database
from leaddesk.storage.models import Delivery


@pytest.fixture
def listed(cli, tmp_path):
    """A list of 3 leads and an affiliate, ready to distribute."""
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,country\nana@example.com,DE\nben@example.com,DE\ncleo@example.com,AT\n",
        encoding="utf-8",
    )
    assert cli("import", str(path), "--list", "Spring")[0] == 0
    assert cli("affiliate", "add", "North")[0] == 0
    return cli


def only_row(cli) -> dict:
    code, out, _ = cli("distributions", "--json")
    assert code == 0
    [row] = json.loads(out)
    return row


def test_an_offer_takes_a_window_a_time_zone_and_caps(listed):
    code, out, _ = listed(
        *("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads"),
        *("--window", "mon-fri 09:00-18:00", "--timezone", "europe/berlin"),
        *("--cap-day", "200", "--cap-hour", "30"),
    )
    assert code == 0
    assert "Sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day, 30 an hour." in out

    code, out, _ = listed(
        *("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar"),
        *("--every", "1m"),
    )
    assert code == 0
    row = only_row(listed)
    assert row["send_rules"] == "sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day, 30 an hour"
    assert "sending mon-fri 09:00-18:00 Europe/Berlin" in out


def test_a_distribution_spreads_a_number_a_day_over_the_window(listed):
    listed(
        *("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads"),
        *("--window", "daily 09:00-18:00", "--timezone", "Europe/Berlin"),
    )
    code, _, _ = listed(
        *("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar"),
        *("--per-day", "100"),
    )
    assert code == 0
    # Nine open hours a day, 100 leads: one every 324 seconds.
    assert only_row(listed)["every"] == "324s"


def test_a_distribution_sets_caps_of_its_own(listed):
    listed("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads")
    code, _, _ = listed(
        *("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar"),
        *("--every", "1m", "--cap-country", "DE:1"),
    )
    assert code == 0
    row = only_row(listed)
    assert row["send_rules"] == "DE 1 a day"
    assert (row["waiting_reason"], row["waiting_until"], row["status_reason"]) == ("", None, "")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--window", "someday 9-5", "is not a day"),
        ("--timezone", "Europe/Berln", "Europe/Berlin"),
        ("--cap-day", "many", "daily cap"),
    ],
)
def test_a_wrong_rule_says_what_to_write(listed, option, value, message):
    code, _, err = listed(
        *("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads", option, value)
    )
    assert code == 1
    assert message in err


def test_a_distributions_window_is_read_on_its_offers_clock(listed):
    listed(
        *("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads"),
        *("--window", "mon-fri 09:00-18:00", "--timezone", "America/New_York"),
    )
    code, _, _ = listed(
        *("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar"),
        *("--every", "1m", "--window", "sat 10:00-12:00"),
    )
    assert code == 0
    assert only_row(listed)["send_rules"] == "sending sat 10:00-12:00 America/New_York"


def test_a_time_zone_without_a_window_of_its_own_is_refused(listed):
    listed("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads")
    code, _, err = listed(
        *("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar"),
        *("--every", "1m", "--timezone", "Asia/Tokyo"),
    )
    assert code == 1
    assert "--timezone goes with --window" in err


def test_several_windows_given_apart_are_all_kept(listed):
    code, out, _ = listed(
        *("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads"),
        *("--window", "mon-fri 09:00-18:00", "--window", "sat 10:00-12:00"),
        *("--timezone", "Europe/Berlin"),
    )
    assert code == 0
    assert "Sending mon-fri 09:00-18:00; sat 10:00-12:00 Europe/Berlin." in out


def test_a_list_sent_already_goes_again_only_when_asked(listed, tmp_path):
    listed("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads")
    distribute = ("distribute", "--list", "Spring", "--affiliate", "North", "--offer", "Solar")
    assert listed(*distribute, "--every", "1m")[0] == 0
    database = open_database(tmp_path / "data")
    with database.writer() as session:
        session.execute(update(Delivery).values(state="accepted", claimed_at=utc_now()))
        session.commit()
    database.close()

    code, _, err = listed(*distribute, "--every", "1m", "--title", "Again")
    assert code == 1 and "--include-repeats" in err

    code, out, _ = listed(*distribute, "--every", "1m", "--title", "Again", "--include-repeats")
    assert code == 0 and "3 leads" in out
