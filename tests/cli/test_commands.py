"""The command line: each command, its output, and errors a manager can act on."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def lead_file(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        "First Name;Last Name;Email;Phone;Country\n"
        "Ana;Silva;ana@example.com;+351 912 345 678;PT\n"
        "Ben;Stone;not-an-email;;US\n"
        "Cleo;Marsh;cleo@example.com;;GB\n",
        encoding="utf-8-sig",
    )
    return path


def test_import_prints_counts_and_refused_rows(cli, lead_file):
    code, out, _ = cli("import", str(lead_file), "--list", "Spring")
    assert code == 0
    assert "3 rows read, 2 leads, 1 refused" in out
    assert "row 3:" in out


def test_the_whole_job_is_set_up_from_the_command_line(cli, lead_file):
    cli("import", str(lead_file), "--list", "Spring")
    assert cli("affiliate", "add", "North")[0] == 0
    assert (
        cli("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads", "--product", "Energy")[0]
        == 0
    )
    code, out, _ = cli(
        "distribute",
        "--list",
        "Spring",
        "--affiliate",
        "North",
        "--offer",
        "Solar",
        "--every",
        "2m",
        "--title",
        "Spring to Solar",
        "--manager",
        "Dana",
        "--set",
        "language=pt",
    )
    assert code == 0 and "Distribution 1 is Active: 2 leads" in out

    code, out, _ = cli("distributions", "--json")
    [row] = json.loads(out)
    assert row["id"] == 1
    assert row["list_title"] == "Spring to Solar"
    assert row["managers"] == "Dana"
    assert row["affiliates"] == "North" and row["offers"] == "Solar"
    assert row["period"] == "2 min"
    assert row["data_setting"].endswith("adds language=pt")
    assert row["status"] == "active"
    assert {k: row[k] for k in ("total", "sent", "accepted", "rejected", "failed")} == {
        "total": 2,
        "sent": 0,
        "accepted": 0,
        "rejected": 0,
        "failed": 0,
    }
    for key in ("send_interval", "last_send_lead", "last_send", "unknown"):
        assert key in row


def test_status_commands_and_search(cli, lead_file):
    cli("import", str(lead_file), "--list", "Spring")
    cli("affiliate", "add", "North")
    cli("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads", "--product", "Energy")
    cli(
        "distribute",
        "--list",
        "Spring",
        "--affiliate",
        "North",
        "--offer",
        "Solar",
        "--every",
        "1h",
    )

    assert cli("pause", "1")[1].strip() == "Distribution 1 is now Paused."
    assert json.loads(cli("distributions", "--status", "paused", "--json")[1])[0]["id"] == 1
    assert cli("resume", "1")[0] == 0
    assert json.loads(cli("distributions", "--by", "product", "--value", "ENER", "--json")[1])
    assert json.loads(cli("distributions", "--by", "offer", "--value", "wind", "--json")[1]) == []
    assert cli("delete", "1")[0] == 0
    assert json.loads(cli("distributions", "--json")[1]) == []
    assert json.loads(cli("distributions", "--status", "deleted", "--json")[1])[0]["id"] == 1

    code, _, err = cli("resume", "1")
    assert code == 1 and "Deleted" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "missing.csv", "--list", "X"), "missing.csv"),
        (
            ("distribute", "--list", "None", "--affiliate", "A", "--offer", "O", "--every", "5s"),
            "no lead list named 'None'",
        ),
        (("offer", "add", "Solar", "--url", "ftp//nowhere"), "not an advertiser address"),
        (("pause", "42"), "no distribution with ID 42"),
    ],
)
def test_errors_go_to_stderr_in_plain_words(cli, args, message):
    code, out, err = cli(*args)
    assert code != 0
    assert message in err
    assert "Traceback" not in err and out == ""


def test_every_needs_a_unit(cli, lead_file):
    cli("import", str(lead_file), "--list", "Spring")
    cli("affiliate", "add", "North")
    cli("offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads")
    code, _, err = cli(
        "distribute",
        "--list",
        "Spring",
        "--affiliate",
        "North",
        "--offer",
        "Solar",
        "--every",
        "5",
    )
    assert code == 1 and "5s, 2m, 1h or 1d" in err
