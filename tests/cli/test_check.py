"""`leaddesk check`: a sound file, counters that disagree, and damage found inside."""

from __future__ import annotations

import sqlite3

import pytest

from leaddesk.cli.main import main
from leaddesk.paths import DATA_FILE_NAME


@pytest.fixture
def data_with_a_distribution(tmp_path):
    data = tmp_path / "data"
    leads = tmp_path / "leads.csv"
    rows = "".join(f"Ann{n},ann{n}@example.com,{'note ' * 60}\n" for n in range(300))
    leads.write_text("First Name,Email,Notes\n" + rows, encoding="utf-8")
    for args in (
        ["import", str(leads), "--list", "Spring"],
        ["affiliate", "add", "North"],
        ["offer", "add", "Solar", "--url", "http://127.0.0.1:9/leads"],
        [
            "distribute",
            "--list",
            "Spring",
            "--affiliate",
            "North",
            "--offer",
            "Solar",
            "--every",
            "1h",
        ],
    ):
        assert main(["--data-dir", str(data), *args]) == 0
    return data


def run_check(data, capsys, *extra) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data-dir", str(data), "check", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_sound_file_passes(data_with_a_distribution, capsys):
    code, out, _ = run_check(data_with_a_distribution, capsys)
    assert code == 0 and "The data file is sound." in out


def test_counters_that_disagree_are_named_and_repaired(data_with_a_distribution, capsys):
    with sqlite3.connect(data_with_a_distribution / DATA_FILE_NAME) as connection:
        connection.execute("UPDATE distribution SET accepted = 7, total = 5")

    code, out, err = run_check(data_with_a_distribution, capsys)
    assert code == 1
    assert "distribution 1: total is 5, records say 300" in out
    assert "distribution 1: accepted is 7, records say 0" in out
    assert "--repair" in err

    code, out, _ = run_check(data_with_a_distribution, capsys, "--repair")
    assert code == 0 and "The data file is sound." in out


def test_damage_inside_the_file_is_found(data_with_a_distribution, capsys):
    path = data_with_a_distribution / DATA_FILE_NAME
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    with open(path, "r+b") as damaged:
        damaged.seek(page_size * (pages // 2))
        damaged.write(b"\xff" * page_size * 3)

    code, out, err = run_check(data_with_a_distribution, capsys)

    assert code == 1
    assert "Traceback" not in err
    assert "damaged" in out + err
