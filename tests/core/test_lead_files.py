"""Tests for reading every kind of lead file: spreadsheets, encodings, layouts and damage."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from leaddesk.core.lead_import import (
    ImportCancelled,
    ReadOptions,
    header_signature,
    preview_file,
    read_leads,
)

xlsxwriter = pytest.importorskip("xlsxwriter", reason="xlsxwriter writes the test workbooks")


def leads_and_refused(path: Path, **options) -> tuple[list, list]:
    records = list(read_leads(path, ReadOptions(**options)))
    leads = [
        (r.row_number, r.first_name, r.last_name, r.email, r.phone)
        for r in records
        if not hasattr(r, "reason")
    ]
    refused = [(r.row_number, r.reason) for r in records if hasattr(r, "reason")]
    return leads, refused


def write_xlsx(path: Path, rows: list[list[object]], text_format: str | None = None) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Leads")
    padded = workbook.add_format({"num_format": text_format}) if text_format else None
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, c, value, None, -2237)
            elif padded is not None and isinstance(value, int):
                sheet.write_number(r, c, value, padded)
            else:
                sheet.write(r, c, value)
    workbook.close()
    return path


def test_xlsx_numbers_are_read_as_the_text_the_user_saw(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "leads.xlsx",
        [
            ["Vorname", "Nachname", "E-Mail", "Telefon", "Land"],
            ["Anna", "Berg", "anna@Example.ORG", 447911123456, "GB"],
            ["Bo", "Lind", "bo@example.org", 4.47701e11, "GB"],
            ["Cid", "Moe", "", "=+1-532-344-1362", "US"],
        ],
    )
    leads, refused = leads_and_refused(path)
    assert leads == [
        (2, "Anna", "Berg", "anna@example.org", "+447911123456"),
        (3, "Bo", "Lind", "bo@example.org", "+447701000000"),
    ]
    assert refused == [(4, refused[0][1])]
    assert "negative number" in refused[0][1]


def test_xlsx_zero_padded_phone_and_preamble(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "padded.xlsx",
        [["Lead report May"], [], ["Name", "Phone"], ["Ann Lee", 7911123456]],
        text_format="00000000000",
    )
    preview = preview_file(path)
    assert (preview.kind, preview.header_row, preview.sheets) == ("xlsx", 3, ["Leads"])
    leads, refused = leads_and_refused(path, default_country="GB")
    assert leads == [(4, "Ann", "Lee", "", "+447911123456")]
    assert refused == []


def test_csv_scientific_phone_is_refused_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "sci.csv"
    path.write_text("Email,Phone\n,4.47701E+11\n", encoding="utf-8")
    _, refused = leads_and_refused(path)
    assert "scientific notation" in refused[0][1]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Name;E-Mail\nJürgen Groß;j@example.org\n".encode("cp1252"), "cp1252"),
        (
            "Имя;Email\nИван Петров;i@example.org\nОльга Орлова;o@example.org\n".encode("cp1251"),
            "cp1251",
        ),
        ("Name\tEmail\r\nZoë Brontë\tz@example.org\r\n".encode("utf-16"), "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "enc.csv"
    path.write_bytes(data)
    assert preview_file(path).encoding == encoding


def test_preamble_duplicate_headers_and_trailing_columns(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(
        "Export of leads,,,\n\nEmail,Phone,Phone,,\na@example.org,+49 30 1234567,+49301,,\n,,,,\n",
        encoding="utf-8",
    )
    preview = preview_file(path)
    assert preview.header_row == 3
    assert preview.headers == ["Email", "Phone", "Phone (2)"]
    records = list(read_leads(path))
    assert len(records) == 1
    assert records[0].phone == "+49301234567"
    assert records[0].extra == {"Phone (2)": "+49301"}


def test_mapping_required_fields_and_extras(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "Kontakt|Mail|IP|Sprache\nAnn Lee|a@example.org|10.0.0.1|Deutsch\nBo|b@example.org||\n",
        encoding="utf-8",
    )
    options = ReadOptions(
        mapping={"Kontakt": "full_name", "Mail": "email", "IP": "ip", "Sprache": "language"},
        required=frozenset({"ip"}),
    )
    records = list(read_leads(path, options))
    assert (records[0].first_name, records[0].language, records[0].extra) == (
        "Ann",
        "de",
        {"ip": "10.0.0.1"},
    )
    assert records[1].reason == "no IP address, which is required"


def test_cancel_stops_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("Email\n" + "".join(f"a{n}@example.org\n" for n in range(3000)))
    cancel = threading.Event()
    seen: list[int] = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if rows:
            cancel.set()

    with pytest.raises(ImportCancelled):
        list(read_leads(path, ReadOptions(), progress, cancel))
    assert seen == [0, 1000]


def test_header_signature_ignores_case_and_punctuation() -> None:
    assert header_signature(["E-Mail", "Phone"]) == header_signature(["email", "PHONE"])
    assert header_signature(["Email", "Phone"]) != header_signature(["Phone", "Email"])


@pytest.mark.skip(reason="no writer for the binary XLS (BIFF) format is available to the tests")
def test_xls() -> None:
    """XLS is read by the same calamine path as XLSX and ODS."""
