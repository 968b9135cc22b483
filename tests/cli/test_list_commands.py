"""`leaddesk lists` and `leaddesk export`: their output and their errors."""

from __future__ import annotations

import csv
import json

import pytest


@pytest.fixture
def imported(cli, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        "Name,Email,Note\n"
        "Ana Silva,ana@example.com,+ keen\n"
        "Ben Stone,not-an-email,\n"
        "Cleo Marsh,ANA@example.com,\n",
        encoding="utf-8",
    )
    assert cli("import", str(path), "--list", "Spring")[0] == 0
    return path


def test_lists_as_json(cli, imported):
    code, out, _ = cli("lists", "--json")
    assert code == 0
    [spring] = json.loads(out)
    assert {key: spring[key] for key in spring if key != "created_at"} == {
        "id": 1,
        "title": "Spring",
        "leads": 3,
        "valid": 1,
        "refused": 2,
        "duplicates": 1,
        "created_by": spring["created_by"],
        "distributions": 0,
        "archived": False,
        "source": spring["source"],
    }
    assert spring["created_at"].endswith("Z")


def test_lists_as_text(cli, imported):
    code, out, _ = cli("lists")
    assert code == 0
    assert "Spring: 3 leads, 1 valid, 2 refused (1 duplicates), in 0 distributions" in out


def test_lists_when_there_are_none(cli):
    assert "No lead lists" in cli("lists")[1]


def test_export_csv_and_xlsx(cli, imported, tmp_path):
    code, out, _ = cli("export", "--list", "Spring", "--out", str(tmp_path / "s.csv"))
    assert code == 0
    assert out.strip() == f"Exported 1 lead of 'Spring' to {tmp_path / 's.csv'}."
    with (tmp_path / "s.csv").open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[1][:3] == ["Ana", "Silva", "ana@example.com"]
    assert rows[0][-1] == "Note" and rows[1][-1] == "'+ keen"

    code, _, _ = cli("export", "--list", "Spring", "--out", str(tmp_path / "s.xlsx"))
    assert code == 0
    assert (tmp_path / "s.xlsx").read_bytes().startswith(b"PK")


def test_export_refused(cli, imported, tmp_path):
    out_file = tmp_path / "refused.csv"
    code, out, _ = cli("export", "--list", "Spring", "--out", str(out_file), "--refused")
    assert code == 0
    assert "Exported 2 refused rows" in out
    with out_file.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["Name", "Email", "Note", "Reason", "Row in list"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--list", "Autumn", "--out", "x.csv"), "There is no lead list named 'Autumn'."),
        (("--list", "Spring", "--out", "x.pdf"), "Give a name ending in .csv or .xlsx."),
        (("--list", "Spring", "--out", "no/such/x.csv"), "does not exist"),
    ],
)
def test_export_errors_are_in_words(cli, imported, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("export", *args)
    assert code == 1
    assert out == ""
    assert err.startswith("leaddesk: ") and message in err
    assert "Traceback" not in err
