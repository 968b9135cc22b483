"""Hostile lead files: each is refused row by row or as a whole with a reason, quickly.

Formula cells, NUL bytes, a 10 MB field, 100,000 columns and bytes that are not UTF-8 go
through the `import` command and `read_lead_file`. None may end in a traceback or a hang.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from leaddesk.cli.main import main
from leaddesk.core.lead_import import MAX_COLUMNS, OVERFLOW_SHOWN_CELLS, read_lead_file
from leaddesk.core.spreadsheet_safety import is_formula_attack, runs_as_formula
from leaddesk.errors import InputError
from leaddesk.storage.database import open_database
from leaddesk.storage.models import Lead, RefusedRow

T = TypeVar("T")

# Generous for a slow test machine; each file here takes well under a second.
FINISH_WITHIN_S = 10.0
WIDE_FILE_WITHIN_S = 3.0
BIG_FIELD_CHARS = 10 * 1024 * 1024
WIDE_COLUMNS = 100_000
FORMULA = "looks like a spreadsheet formula"
NOT_TEXT = "bytes that are not text"
INVALID_UTF8 = (b"\xc3\x28", b"\xff", b"\x80\x81", b"\xe2\x82")


def finishes(action: Callable[[], T], within_s: float = FINISH_WITHIN_S) -> tuple[T, float]:
    """Run `action` in a thread; fail if it is still running after `within_s`."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # handed back to the test below
            outcome["error"] = error

    started = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within_s)
    elapsed = time.perf_counter() - started
    assert not thread.is_alive(), f"still running after {within_s} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"], elapsed  # type: ignore[return-value]


@pytest.fixture
def cli(tmp_path, capsys):
    data = tmp_path / "data"

    def run(path: Path, title: str = "Hostile") -> tuple[int, str, str]:
        args = ["--data-dir", str(data), "import", str(path), "--list", title]
        code, _ = finishes(lambda: main(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    run.data = data  # type: ignore[attr-defined]
    return run


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def stored(data: Path) -> tuple[list[Lead], list[RefusedRow]]:
    database = open_database(data)
    try:
        with database.session() as session:
            leads = list(session.scalars(select(Lead).order_by(Lead.row_number)))
            refused = list(session.scalars(select(RefusedRow).order_by(RefusedRow.row_number)))
            session.expunge_all()
        return leads, refused
    finally:
        database.close()


# Formula cells

HEADER = ["First Name", "Last Name", "Email", "Phone", "Notes"]
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]


def formula_rows() -> list[list[str]]:
    rows = [HEADER]
    for index, formula in enumerate(FORMULAS):
        rows.append([formula, "Stone", f"first{index}@example.com", "", ""])
        rows.append(["Ana", formula, f"last{index}@example.com", "", ""])
        rows.append(["Ana", "Stone", f"notes{index}@example.com", "", formula])
    rows += [
        ["Ben", "Marsh", "=1+1@example.com", "", ""],
        ["Cleo", "-", "cleo@example.com", "+1-532-344-1362", "-5"],
        ["Dana", "Berg", "dana@example.com", "+49 30 1234567", "- called back"],
        ["Eve", "Kent", "", "-49 30 1234567", ""],
    ]
    return rows


def test_formula_cells_in_names_are_refused_with_a_reason(cli, tmp_path):
    code, out, err = cli(write_rows(tmp_path / "formulas.csv", formula_rows()))

    assert code == 0, err
    _, refused = stored(cli.data)
    reasons = {row.row_number: row.reason for row in refused}
    name_rows = [2 + 3 * index + offset for index in range(4) for offset in (0, 1)]
    for row_number in name_rows:
        assert FORMULA in reasons[row_number], (row_number, reasons.get(row_number))
    assert f"row {name_rows[0]}: name '=HYPERLINK" in out


def test_formula_attacks_in_custom_columns_are_refused_and_data_kept(cli, tmp_path):
    cli(write_rows(tmp_path / "formulas.csv", formula_rows()))

    leads, refused = stored(cli.data)
    reasons = {row.row_number: row.reason for row in refused}
    notes_rows = {formula: 4 + 3 * index for index, formula in enumerate(FORMULAS)}
    for formula in ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)"):
        assert "column 'Notes'" in reasons[notes_rows[formula]]
        assert FORMULA in reasons[notes_rows[formula]]
    # Arithmetic a manager may well have typed is data; an export neutralises it.
    kept = {lead.row_number: lead for lead in leads}
    assert kept[notes_rows["-2+3"]].extra == {"Notes": "-2+3"}
    assert FORMULA in reasons[14]  # the e-mail "=1+1@example.com"


def test_phones_negative_numbers_and_placeholders_stay_valid(cli, tmp_path):
    cli(write_rows(tmp_path / "formulas.csv", formula_rows()))

    leads, _ = stored(cli.data)
    by_email = {lead.email: lead for lead in leads}
    cleo = by_email["cleo@example.com"]
    assert (cleo.last_name, cleo.phone, cleo.extra) == ("-", "+15323441362", {"Notes": "-5"})
    assert by_email["dana@example.com"].extra == {"Notes": "- called back"}


def test_no_stored_value_is_a_formula_attack_or_a_formula_name(cli, tmp_path):
    cli(write_rows(tmp_path / "formulas.csv", formula_rows()))

    leads, _ = stored(cli.data)
    # The "-2+3" note, Cleo, Dana, and Eve, whose "-49 30 1234567" is read as a phone's digits.
    assert len(leads) == 4
    for lead in leads:
        assert not runs_as_formula(lead.first_name)
        assert not runs_as_formula(lead.last_name.strip("-"))
        values = [lead.email, lead.phone, *lead.extra.values()]
        assert not any(is_formula_attack(value) for value in values), values


# NUL and other control bytes


def test_a_few_nul_bytes_are_removed_and_said_so(cli, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(
        b"First\x00 Name,Email\n"
        + b"N\x00ame0,lead0@exa\x00mple.com\n"
        + b"".join(b"Name%d,lead%d@example.com\n" % (n, n) for n in range(1, 30))
    )
    result, _ = finishes(lambda: read_lead_file(path))
    assert [lead.first_name for lead in result.leads[:2]] == ["Name0", "Name1"]
    assert result.leads[0].email == "lead0@example.com"
    assert result.notes == ["3 control characters (such as NUL bytes) were removed from nul.csv."]

    code, out, _ = cli(path)
    assert code == 0
    assert "30 leads, 0 refused" in out


def test_a_file_of_nul_bytes_is_refused_as_not_text(cli, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"Name,Email\n" + b"\x00" * 4096 + b"\nAna,ana@example.com\n")

    code, _, err = cli(path)
    assert code == 1
    assert "nul.csv is not a text file" in err


# A 10 MB field


def test_a_ten_megabyte_field_refuses_its_row_only(cli, tmp_path):
    path = tmp_path / "big.csv"
    big = "A" * BIG_FIELD_CHARS
    path.write_text(
        f'First Name,Email,Notes\nAna,ana@example.com,"{big}"\n{big},big@example.com,\n'
        "Ben,ben@example.com,ok\n",
        encoding="utf-8",
    )

    result, elapsed = finishes(lambda: read_lead_file(path))
    assert elapsed < FINISH_WITHIN_S
    assert [lead.email for lead in result.leads] == ["ben@example.com"]
    assert [row.row_number for row in result.refused] == [2, 3]
    assert "a value of 10,485,760 characters" in result.refused[0].reason
    assert len(result.refused[0].raw["Notes"]) < 300

    code, out, _ = cli(path)
    assert code == 0
    assert "row 2: a value of 10,485,760 characters" in out


# 100,000 columns


def wide_file(path: Path, header_columns: int, row_columns: int) -> Path:
    header = ["Email"] + [f"Field {n}" for n in range(1, header_columns)]
    rows = [header] + [
        [f"lead{r}@example.com"] + [f"v{r}-{n}" for n in range(1, row_columns)] for r in range(3)
    ]
    return write_rows(path, rows)


def test_a_file_of_100000_columns_is_refused_at_once(cli, tmp_path):
    path = wide_file(tmp_path / "wide.csv", WIDE_COLUMNS, WIDE_COLUMNS)

    with pytest.raises(InputError, match=r"wide.csv has 100,000 columns; a lead file has at most"):
        finishes(lambda: read_lead_file(path), within_s=WIDE_FILE_WITHIN_S)

    started = time.perf_counter()
    code, _, err = cli(path)
    assert time.perf_counter() - started < WIDE_FILE_WITHIN_S
    assert code == 1
    assert f"at most {MAX_COLUMNS:,}" in err


def test_a_row_of_100000_fields_under_a_short_header_is_refused(cli, tmp_path):
    path = wide_file(tmp_path / "wide.csv", 2, WIDE_COLUMNS)
    path.write_text(path.read_text() + "ok@example.com,fine\n")

    result, _ = finishes(lambda: read_lead_file(path), within_s=WIDE_FILE_WITHIN_S)
    assert [lead.email for lead in result.leads] == ["ok@example.com"]
    assert len(result.refused) == 3
    assert "the row has 100000 fields but the header names 2 columns" in result.refused[0].reason
    assert len(result.refused[0].raw) == 2 + OVERFLOW_SHOWN_CELLS

    code, out, _ = cli(path)
    assert code == 0
    assert "1 leads, 3 refused" in out


def test_a_header_of_just_over_the_limit_is_refused_and_at_the_limit_read(tmp_path):
    over = wide_file(tmp_path / "over.csv", MAX_COLUMNS + 1, MAX_COLUMNS + 1)
    with pytest.raises(InputError, match="1,001 columns"):
        read_lead_file(over)

    at = wide_file(tmp_path / "at.csv", MAX_COLUMNS, MAX_COLUMNS)
    assert len(read_lead_file(at).leads) == 3


# Bytes that are not UTF-8


def bad_row(email: bytes) -> bytes:
    """A row with a byte that is not UTF-8 in every column."""
    first, last, phone = (b"An" + bad + b"a" for bad in INVALID_UTF8[:3])
    return b",".join([first, last, email.replace(b"@", INVALID_UTF8[3] + b"@"), phone]) + b"\n"


def test_invalid_utf8_in_a_utf8_file_refuses_those_rows(cli, tmp_path):
    path = tmp_path / "mixed.csv"
    good = "".join(f"Jürgen,Müller,j{n}@example.com,+4930123456{n}\n" for n in range(20))
    path.write_bytes(
        b"First Name,Last Name,Email,Phone\n"
        + good.encode("utf-8")
        + bad_row(b"bad1@example.com")
        + bad_row(b"bad2@example.com")
    )

    result, _ = finishes(lambda: read_lead_file(path))
    assert result.encoding == "utf-8"
    assert {lead.last_name for lead in result.leads} == {"Müller"}
    assert [row.row_number for row in result.refused] == [22, 23]
    assert all(NOT_TEXT in row.reason for row in result.refused)

    code, out, _ = cli(path)
    assert code == 0
    assert "20 leads, 2 refused" in out
    assert f"row 22: column 'First Name' holds {NOT_TEXT}" in out


def test_invalid_utf8_in_a_plain_file_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "ansi.csv"
    path.write_bytes(
        b"First Name,Last Name,Email,Phone\n"
        + b"Ana,Stone,ana@example.com,\n"
        + bad_row(b"bad@example.com")
        + b"Ren\xe9,Dupr\xe9,rene@example.com,\n"
    )

    result, _ = finishes(lambda: read_lead_file(path))
    assert result.encoding == "cp1252"
    assert [lead.last_name for lead in result.leads] == ["Stone", "Dupré"]
    # 0x81 is no character in Windows-1252 either: its row is refused, not guessed at.
    assert [row.row_number for row in result.refused] == [3]
    assert NOT_TEXT in result.refused[0].reason


def test_a_file_of_only_invalid_bytes_is_refused_with_a_message(cli, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\xff\xc3\x28\x80\x81,\xe2\x82\n" * 50)

    code, _, err = cli(path)
    assert code == 1
    assert err.startswith("leaddesk: ")
    assert "junk.csv" in err
