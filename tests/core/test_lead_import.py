"""Tests for reading lead files: encodings, delimiters, columns, refusals and real samples."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from leaddesk.core.lead_import import (
    NO_CONTACT_COLUMN_NOTE,
    LeadRecord,
    ReadOptions,
    country_code,
    preview_file,
    read_lead_file,
    read_lead_text,
    read_leads,
    split_full_name,
)
from leaddesk.errors import InputError

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"sample lead files not found in {SAMPLES}"
)


def write(tmp_path: Path, data: bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def only_lead(text: str, default_country: str | None = None) -> LeadRecord:
    result = read_lead_text(text, default_country)
    assert result.refused == []
    assert len(result.leads) == 1
    return result.leads[0]


# Encodings


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffFirst Name,Email\nJürgen,j@example.org\n".encode())
    result = read_lead_file(path)
    assert result.encoding == "utf-8-sig"
    assert result.columns == {"First Name": "first_name", "Email": "email"}
    assert result.leads[0].first_name == "Jürgen"


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "Vorname,E-Mail\nJürgen,j@example.org\n".encode())
    result = read_lead_file(path)
    assert result.encoding == "utf-8"
    assert result.leads[0].first_name == "Jürgen"


def test_windows_1252_falls_back(tmp_path: Path) -> None:
    path = write(tmp_path, "Nachname;Email\r\nMüller;m@example.org\r\n".encode("cp1252"))
    result = read_lead_file(path)
    assert result.encoding == "cp1252"
    assert result.delimiter == ";"
    assert result.leads[0].last_name == "Müller"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\tEmail\r\nAnna Berg\ta@example.org\r\n".encode("utf-16"))
    result = read_lead_file(path)
    assert result.encoding == "utf-16"
    assert result.leads[0].first_name == "Anna"


def test_control_characters_are_stripped(tmp_path: Path) -> None:
    rows = b"".join(b"Bea,b%d@example.org\n" % n for n in range(5))
    path = write(tmp_path, b"First Name,Email\nAn\x00na\x07,a\x00@example.org\n" + rows)
    lead = read_lead_file(path).leads[0]
    assert (lead.first_name, lead.email) == ("Anna", "a@example.org")


# Delimiters and line endings


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    text = delimiter.join(["First Name", "Last Name", "Email"]) + "\n"
    text += delimiter.join(["Ann", "Lee", "ann@example.org"]) + "\n"
    result = read_lead_text(text)
    assert result.delimiter == delimiter
    assert (result.leads[0].first_name, result.leads[0].last_name) == ("Ann", "Lee")


def test_semicolon_file_with_commas_in_values() -> None:
    text = "Name;Email;Notes\nAnn Lee;ann@example.org;1,5 kg, urgent\n"
    result = read_lead_text(text)
    assert result.delimiter == ";"
    assert result.leads[0].extra == {"Notes": "1,5 kg, urgent"}


def test_quoted_delimiters_escapes_and_line_breaks() -> None:
    text = (
        "Email,Company,Notes\r\n"
        'a@example.org,"Grimes, Madden and Huff","He said ""call me""\r\nafter 5"\r\n'
        "b@example.org,Crosby Inc,\r\n"
    )
    result = read_lead_text(text)
    first, second = result.leads
    assert first.extra == {
        "Company": "Grimes, Madden and Huff",
        "Notes": 'He said "call me"\nafter 5',
    }
    # The quoted line break does not count as a row, as in a spreadsheet.
    assert (first.row_number, second.row_number) == (2, 3)


def test_cr_only_line_endings() -> None:
    result = read_lead_text("Email,Phone\ra@example.org,\r,+49 30 1234567\r")
    assert [lead.email for lead in result.leads] == ["a@example.org", ""]
    assert result.leads[1].phone == "+49301234567"


def test_blank_rows_are_skipped_but_counted_as_rows() -> None:
    result = read_lead_text("Email\n\na@example.org\n,\n\nb@example.org\n")
    assert result.rows_read == 2
    assert [lead.row_number for lead in result.leads] == [3, 6]


# Columns


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("EmailID", "email"),
        ("email_address", "email"),
        ("Mail", "email"),
        ("Email 1", "email"),
        ("MobilePhone", "phone"),
        ("Telefon", "phone"),
        ("contact_numbers", "phone"),
        ("Phone Number", "phone"),
        ("cell", "phone"),
        ("fname", "first_name"),
        ("Given Name", "first_name"),
        ("Prénom", "first_name"),
        ("nombre", "first_name"),
        ("surname", "last_name"),
        ("Nom", "last_name"),
        ("apellido", "last_name"),
        ("Display Name", "full_name"),
        ("contact.name", "full_name"),
        ("Billing Country", "country"),
        ("País", "country"),
        ("Sprache", "language"),
        ("lang", "language"),
    ],
)
def test_header_recognition(header: str, field: str) -> None:
    result = read_lead_text(f"{header},Email,Phone\nx,a@example.org,\n")
    assert result.columns[header] == field


def test_country_and_language_are_normalised() -> None:
    text = "Email,Country,Language\na@example.org,Deutschland,DE\nb@example.org,DEU,de-AT\n"
    text += "c@example.org,United States,German\nd@example.org,Atlantis,\n"
    leads = read_lead_text(text).leads
    assert [(lead.country, lead.language) for lead in leads] == [
        ("DE", "de"),
        ("DE", "de"),
        ("US", "de"),
        ("", ""),
    ]
    # Values that are not understood are kept.
    assert leads[2].extra == {}
    assert leads[3].extra == {"Country": "Atlantis"}


@pytest.mark.parametrize(
    ("text", "code"),
    [("de", "DE"), ("DEU", "DE"), ("Germany", "DE"), ("united states", "US"), ("UK", "GB")],
)
def test_country_code(text: str, code: str) -> None:
    assert country_code(text) == code


def test_first_non_empty_valid_value_wins_and_others_are_kept() -> None:
    text = "Email 1,Email 2,Phone,MobilePhone\nnot-mail,b@example.org,,+44 20 7946 0958\n"
    lead = only_lead(text)
    assert lead.email == "b@example.org"
    assert lead.phone == "+442079460958"
    assert lead.extra == {"Email 1": "not-mail"}


def test_email_domain_is_lower_cased() -> None:
    assert only_lead("Email\n  Ann.Lee@Example.ORG \n").email == "Ann.Lee@example.org"


def test_full_name_is_split_when_no_first_or_last_name() -> None:
    text = "Name,First Name,Last Name,Email\nJessica Jones,,,j@example.org\n"
    text += "Avengers,Thor,Odinson,t@example.org\n"
    jessica, thor = read_lead_text(text).leads
    assert (jessica.first_name, jessica.last_name) == ("Jessica", "Jones")
    assert "Name" not in jessica.extra
    assert (thor.first_name, thor.last_name) == ("Thor", "Odinson")
    assert thor.extra == {"Name": "Avengers"}


@pytest.mark.parametrize(
    ("full_name", "parts"),
    [
        ("Jessica Jones", ("Jessica", "Jones")),
        ("Mary Ann Smith", ("Mary Ann", "Smith")),
        ("Smith, John", ("John", "Smith")),
        ("Cher", ("Cher", "")),
    ],
)
def test_split_full_name(full_name: str, parts: tuple[str, str]) -> None:
    assert split_full_name(full_name) == parts


def test_json_array_cells() -> None:
    text = (
        "name,emails,contact_numbers\n"
        'Wilson Fisk,"[{""label"": ""work"", ""value"": ""contact@wilson.com""}, '
        '{""label"": ""home"", ""value"": ""home@wilson.com""}]",'
        '"[{""label"": ""work"", ""value"": ""+1 202 555 0143""}]"\n'
    )
    lead = only_lead(text)
    assert lead.email == "contact@wilson.com"
    assert lead.phone == "+12025550143"
    assert lead.extra == {"emails": '[{"label": "home", "value": "home@wilson.com"}]'}


# Phones


@pytest.mark.parametrize(
    ("phone", "default_country", "expected", "extension"),
    [
        ("+1-532-344-1362", None, "+15323441362", None),
        ("001-672-799-2170x5610", None, "+16727992170", "5610"),
        ("(240)452-2332x4601", "US", "+12404522332", "4601"),
        ("985.939.5411 ext. 12", None, "9859395411", "12"),
        ("030 1234567", "DE", "+49301234567", None),
        ("5454445454", None, "5454445454", None),
    ],
)
def test_phone_normalisation(
    phone: str, default_country: str | None, expected: str, extension: str | None
) -> None:
    lead = only_lead(f"Phone\n{phone}\n", default_country)
    assert lead.phone == expected
    assert lead.extra.get("phone_extension") == extension


def test_row_country_places_the_phone() -> None:
    lead = only_lead("Phone,Country\n030 1234567,Germany\n", default_country="US")
    assert (lead.phone, lead.country) == ("+49301234567", "DE")


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("call me", "phone 'call me' is not a phone number"),
        ("12345", "phone '12345' has 5 digits, a phone number has 7 to 15"),
        ("+1 555 12345678", "phone '+1 555 12345678' is not a possible number in US"),
    ],
)
def test_unusable_phone_refuses_a_row_without_email(phone: str, reason: str) -> None:
    refused = read_lead_text(f"Email,Phone\n,{phone}\n", "US").refused
    assert [r.reason for r in refused] == [f"no valid e-mail or phone: {reason}"]


def test_unusable_phone_is_kept_when_email_is_valid() -> None:
    lead = only_lead("Email,Phone\na@example.org,n/a\n")
    assert (lead.email, lead.phone, lead.extra) == ("a@example.org", "", {"Phone": "n/a"})


# Refusals and duplicates


def test_row_without_email_or_phone_is_refused_with_reason() -> None:
    result = read_lead_text("First Name,Email,Phone\nBob,bob@,\nAnn,,\n")
    assert result.rows_read == 2
    assert result.leads == []
    bob, ann = result.refused
    assert bob.row_number == 2
    assert bob.reason.startswith("no valid e-mail or phone: e-mail 'bob@' is not valid (")
    assert bob.raw == {"First Name": "Bob", "Email": "bob@", "Phone": ""}
    assert (ann.row_number, ann.reason) == (3, "no e-mail or phone")


def test_duplicates_are_refused() -> None:
    text = (
        "Email,Phone\n"
        "ann@example.org,+49 30 1234567\n"
        "ANN@example.org ,\n"
        "bob@example.org,030/1234567\n"
        "cid@example.org,5551234\n"
        "dan@example.org,5551234\n"
    )
    result = read_lead_text(text, default_country="DE")
    assert [lead.email for lead in result.leads] == ["ann@example.org", "cid@example.org"]
    assert [(r.row_number, r.reason) for r in result.refused] == [
        (3, "duplicate of row 2 (same e-mail)"),
        (4, "duplicate of row 2 (same phone)"),
        (6, "duplicate of row 5 (same phone)"),
    ]


def test_short_rows_are_padded_and_long_rows_need_empty_overflow() -> None:
    text = "First Name,Email,Phone\nAnn,a@example.org\nBob,b@example.org,,,\n"
    text += "Cid,c@example.org,,oops\n"
    result = read_lead_text(text)
    assert [lead.first_name for lead in result.leads] == ["Ann", "Bob"]
    (cid,) = result.refused
    assert cid.reason.startswith("the row has 4 fields but the header names 3 columns")
    assert cid.raw["Column 4"] == "oops"


def test_duplicate_and_empty_headers_stay_apart() -> None:
    lead = only_lead("Email,Notes,Notes,\na@example.org,one,two,three\n")
    assert lead.extra == {"Notes": "one", "Notes (2)": "two", "Column 4": "three"}


# Files that cannot be read


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="File not found"):
        read_lead_file(tmp_path / "nope.csv")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        read_lead_file(tmp_path)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n  \n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InputError, match="is empty"):
        read_lead_file(write(tmp_path, data))


def test_damaged_xlsx_file_asks_to_save_it_again(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    with zipfile.ZipFile(path, "w") as workbook:
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError, match=r"cannot be read as a XLSX workbook.*save it again"):
        read_lead_file(path)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a text file"):
        read_lead_file(write(tmp_path, bytes(range(256)) * 4, "leads.csv"))


def test_file_without_header_row() -> None:
    with pytest.raises(InputError, match=r"holds data \('ann@example\.org'\) instead of column"):
        read_lead_text("Ann,ann@example.org\nBob,bob@example.org\n")


def test_file_without_email_or_phone_column() -> None:
    with pytest.raises(InputError, match=r"columns found: Company, City\)"):
        read_lead_text("Company,City\nAcme,Berlin\n")


def test_preview_without_email_or_phone_column_asks_for_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Kontakt\nAnn Lee,ann@example.org\n")

    preview = preview_file(path)

    assert preview.headers == ["Name", "Kontakt"]
    assert preview.mapping == {"Name": "full_name", "Kontakt": ""}
    assert preview.rows == [["Ann Lee", "ann@example.org"]]
    assert preview.notes == [NO_CONTACT_COLUMN_NOTE]
    with pytest.raises(InputError, match=r"columns found: Name, Kontakt\)"):
        read_leads(path)
    mapped = ReadOptions(mapping={"Name": "full_name", "Kontakt": "email"})
    assert preview_file(path, mapped).notes == []
    [lead] = list(read_leads(path, mapped))
    assert (lead.first_name, lead.last_name, lead.email) == ("Ann", "Lee", "ann@example.org")


def test_unknown_default_country() -> None:
    with pytest.raises(InputError, match="'Narnia' is not a country"):
        read_lead_text("Email\na@example.org\n", default_country="Narnia")


# Real sample files


@needs_samples
def test_datablist_sample() -> None:
    result = read_lead_file(SAMPLES / "datablist-leads-100.csv")
    assert (result.rows_read, len(result.leads), result.refused) == (100, 100, [])
    assert (result.encoding, result.delimiter) == ("utf-8", ",")
    first, second, third = result.leads[:3]
    assert (first.row_number, first.first_name, first.last_name) == (2, "Victor", "Cochran")
    assert (first.email, first.phone) == ("hatkinson@mclaughlin.com", "+15323441362")
    assert first.extra["Company"] == "Grimes, Madden and Huff"
    assert first.extra["Email 2"] == "ygibbs@guzman.com"
    assert first.extra["Phone 2"] == "2754733370"
    assert (second.phone, second.extra["phone_extension"]) == ("+16727992170", "5610")
    # Without a country the bare national number stays as its digits.
    assert (third.phone, third.extra["phone_extension"]) == ("9859395411", "2641")


@needs_samples
def test_datablist_sample_with_default_country() -> None:
    result = read_lead_file(SAMPLES / "datablist-leads-100.csv", default_country="US")
    assert (len(result.leads), result.refused) == (100, [])
    assert result.leads[2].phone == "+19859395411"
    assert all(lead.phone.startswith("+1") for lead in result.leads)


@needs_samples
def test_zoho_sample() -> None:
    result = read_lead_file(SAMPLES / "zoho-books-contacts.csv")
    assert (result.rows_read, len(result.leads), result.refused) == (5, 5, [])
    assert result.columns == {
        "Display Name": "full_name",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Phone": "phone",
        "Billing Country": "country",
        "EmailID": "email",
        "MobilePhone": "phone",
        "Created Time": "registered_at",
        "Customer Name": "full_name",
        "Source": "source",
    }
    thor, jessica, _, _, lucas = result.leads
    assert (thor.first_name, thor.email, thor.phone) == ("Thor", "thor@midgaurd.org", "")
    assert thor.extra["Display Name"] == "Avengers"
    assert (jessica.first_name, jessica.last_name) == ("Jessica", "Jones")
    assert jessica.extra["Customer ID"] == "2520018000000073022"
    assert (lucas.phone, lucas.extra["MobilePhone"]) == ("8888675309", "98754321")


@needs_samples
def test_zoho_sample_in_us_finds_a_shared_phone() -> None:
    result = read_lead_file(SAMPLES / "zoho-books-contacts.csv", default_country="US")
    assert len(result.leads) == 4
    assert [(r.row_number, r.reason) for r in result.refused] == [
        (6, "duplicate of row 3 (same phone)")
    ]


@needs_samples
def test_krayin_sample() -> None:
    result = read_lead_file(SAMPLES / "krayin-persons.csv")
    assert (result.rows_read, len(result.leads), result.refused) == (2, 2, [])
    wilson, sasha = result.leads
    assert (wilson.first_name, wilson.last_name) == ("Wilson", "Fisk")
    assert (wilson.email, wilson.phone) == ("contact@wilson.com", "5454445454")
    assert wilson.extra["emails"] == '[{"label": "home", "value": "contact.home@wilson.com"}]'
    assert (sasha.first_name, sasha.email, sasha.phone) == (
        "Sasha",
        "contact@sasha.com",
        "15454445454",
    )


def test_a_huge_value_refuses_its_row_with_a_reason(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(
        "Email,Notes\nok@example.com,short\nbig@example.com," + "x" * 300_000 + "\n",
        encoding="utf-8",
    )
    result = read_lead_file(path)
    assert [lead.email for lead in result.leads] == ["ok@example.com"]
    [refused] = result.refused
    assert refused.row_number == 3
    assert refused.reason == (
        "a value of 300,000 characters; the longest LeadDesk takes is 10,000"
    )
    assert len(refused.raw["Notes"]) == 201


def test_a_lead_kept_without_its_invalid_contact_is_said_so(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(
        "first_name,email,phone,country\n"
        "Ann,not-an-email,+4915112345678,DE\n"
        "Ben,ben@example.com,12,DE\n"
        "Cid,also-not-one,+4915112345679,DE\n",
        encoding="utf-8",
    )

    result = read_lead_file(path)

    assert [lead.email for lead in result.leads] == ["", "ben@example.com", ""]
    assert result.leads[0].extra["email"] == "not-an-email"
    assert result.notes == [
        "2 leads were kept without their e-mail, which was not valid; the text is kept as a "
        "custom field of the lead.",
        "1 lead was kept without their phone, which was not valid; the text is kept as a "
        "custom field of the lead.",
    ]
