"""Read a lead file (CSV) into leads ready to send and refused rows with their reasons."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers.geodata.locale import LOCALE_DATA

from leaddesk.core.spreadsheet_safety import is_formula_attack, runs_as_formula
from leaddesk.errors import InputError

log = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_SAMPLE_CHARS = 64 * 1024
DELIMITER_SAMPLE_ROWS = 20
BINARY_SAMPLE_BYTES = 8 * 1024
# Share of control bytes above which a file is binary rather than text with a stray NUL.
BINARY_CONTROL_SHARE = 0.05
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15
# No lead field is longer than this; a longer value is damage, not data.
CELL_MAX_CHARS = 10_000
RAW_VALUE_SHOWN_CHARS = 200
# A lead needs a handful of columns and a wide CRM export a few hundred; more is not a lead file.
MAX_COLUMNS = 1_000
# Extra cells of a row longer than its header kept with the refused row, and names listed in
# a message about the header.
OVERFLOW_SHOWN_CELLS = 20
HEADERS_SHOWN = 20
REASON_VALUE_SHOWN_CHARS = 60
# What decoding puts in place of bytes that are not text in the file's encoding.
UNREADABLE_CHAR = "\ufffd"
# The csv module refuses fields over 128 KiB with an error that names no row; read them, and
# refuse the row with a reason instead.
csv.field_size_limit(64 * 1024 * 1024)

FIRST_NAME = "first_name"
LAST_NAME = "last_name"
FULL_NAME = "full_name"
EMAIL = "email"
PHONE = "phone"
COUNTRY = "country"
LANGUAGE = "language"
PHONE_EXTENSION_KEY = "phone_extension"

# Header spellings after _header_key (accents, case and punctuation dropped, "Email 1" -> "email").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    FIRST_NAME: ("firstname", "fname", "givenname", "forename", "vorname", "prenom", "nombre"),
    LAST_NAME: (
        "lastname",
        "lname",
        "surname",
        "familyname",
        "nachname",
        "nom",
        "apellido",
        "apellidos",
    ),
    FULL_NAME: ("name", "fullname", "displayname", "contactname"),
    EMAIL: ("email", "emails", "emailid", "emailaddress", "mail", "correo"),
    PHONE: (
        "phone",
        "phones",
        "phonenumber",
        "mobilephone",
        "mobile",
        "mobilenumber",
        "telephone",
        "tel",
        "telefon",
        "telefono",
        "contactnumber",
        "contactnumbers",
        "cell",
        "cellphone",
    ),
    COUNTRY: ("country", "countrycode", "billingcountry", "land", "pays", "pais"),
    LANGUAGE: ("language", "lang", "sprache", "langue", "idioma"),
}
FIELD_BY_HEADER_KEY = {key: name for name, keys in HEADER_ALIASES.items() for key in keys}

# ISO 3166-1 alpha-3 to alpha-2, as pairs "AAA BB"; XKX/XK is Kosovo's user-assigned code.
_ALPHA3_PAIRS = """
AFG AF ALA AX ALB AL DZA DZ ASM AS AND AD AGO AO AIA AI ATA AQ ATG AG ARG AR ARM AM ABW AW
AUS AU AUT AT AZE AZ BHS BS BHR BH BGD BD BRB BB BLR BY BEL BE BLZ BZ BEN BJ BMU BM BTN BT
BOL BO BES BQ BIH BA BWA BW BVT BV BRA BR IOT IO BRN BN BGR BG BFA BF BDI BI CPV CV KHM KH
CMR CM CAN CA CYM KY CAF CF TCD TD CHL CL CHN CN CXR CX CCK CC COL CO COM KM COG CG COD CD
COK CK CRI CR CIV CI HRV HR CUB CU CUW CW CYP CY CZE CZ DNK DK DJI DJ DMA DM DOM DO ECU EC
EGY EG SLV SV GNQ GQ ERI ER EST EE SWZ SZ ETH ET FLK FK FRO FO FJI FJ FIN FI FRA FR GUF GF
PYF PF ATF TF GAB GA GMB GM GEO GE DEU DE GHA GH GIB GI GRC GR GRL GL GRD GD GLP GP GUM GU
GTM GT GGY GG GIN GN GNB GW GUY GY HTI HT HMD HM VAT VA HND HN HKG HK HUN HU ISL IS IND IN
IDN ID IRN IR IRQ IQ IRL IE IMN IM ISR IL ITA IT JAM JM JPN JP JEY JE JOR JO KAZ KZ KEN KE
KIR KI PRK KP KOR KR KWT KW KGZ KG LAO LA LVA LV LBN LB LSO LS LBR LR LBY LY LIE LI LTU LT
LUX LU MAC MO MDG MG MWI MW MYS MY MDV MV MLI ML MLT MT MHL MH MTQ MQ MRT MR MUS MU MYT YT
MEX MX FSM FM MDA MD MCO MC MNG MN MNE ME MSR MS MAR MA MOZ MZ MMR MM NAM NA NRU NR NPL NP
NLD NL NCL NC NZL NZ NIC NI NER NE NGA NG NIU NU NFK NF MKD MK MNP MP NOR NO OMN OM PAK PK
PLW PW PSE PS PAN PA PNG PG PRY PY PER PE PHL PH PCN PN POL PL PRT PT PRI PR QAT QA REU RE
ROU RO RUS RU RWA RW BLM BL SHN SH KNA KN LCA LC MAF MF SPM PM VCT VC WSM WS SMR SM STP ST
SAU SA SEN SN SRB RS SYC SC SLE SL SGP SG SXM SX SVK SK SVN SI SLB SB SOM SO ZAF ZA SGS GS
SSD SS ESP ES LKA LK SDN SD SUR SR SJM SJ SWE SE CHE CH SYR SY TWN TW TJK TJ TZA TZ THA TH
TLS TL TGO TG TKL TK TON TO TTO TT TUN TN TUR TR TKM TM TCA TC TUV TV UGA UG UKR UA ARE AE
GBR GB USA US UMI UM URY UY UZB UZ VUT VU VEN VE VNM VN VGB VG VIR VI WLF WF ESH EH YEM YE
ZMB ZM ZWE ZW XKX XK
"""
_ALPHA3_WORDS = _ALPHA3_PAIRS.split()
ALPHA3_TO_ALPHA2 = dict(zip(_ALPHA3_WORDS[::2], _ALPHA3_WORDS[1::2], strict=True))
ALPHA2_CODES = frozenset(ALPHA3_TO_ALPHA2.values())
# Everyday names the phone-number library's country names do not cover; keys as _name_key gives.
COUNTRY_NAME_ALIASES = {
    "usa": "US",
    "america": "US",
    "unitedstatesofamerica": "US",
    "uk": "GB",
    "britain": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "holland": "NL",
    "czechia": "CZ",
    "turkiye": "TR",
    "ivorycoast": "CI",
    "northmacedonia": "MK",
    "eswatini": "SZ",
    "burma": "MM",
    "caboverde": "CV",
    "korea": "KR",
    "kosovo": "XK",
}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
_PHONE_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*(\d{1,7})\s*$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]{2,8})*")
_FILE_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zipped file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
)


@dataclass
class LeadRecord:
    """One accepted lead.

    `row_number` is the row a spreadsheet shows for the record: the header is row 1, so the
    first lead is usually row 2; blank lines count, a quoted line break does not.
    """

    row_number: int
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    country: str = ""
    language: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class RefusedRecord:
    """A row that is not a usable lead, with the reason in a manager's words."""

    row_number: int
    reason: str
    raw: dict[str, str]


@dataclass
class ImportResult:
    """What a lead file held: leads, refused rows and how the file was understood.

    `rows_read` counts the data rows that are not blank (leads plus refused rows). `encoding`
    is empty for text given directly. `columns` maps each recognised header to a lead field,
    or to "full_name" for a whole-name column that is split into first and last name. `notes`
    say what was cleaned in the whole file, such as control characters removed.
    """

    rows_read: int
    leads: list[LeadRecord]
    refused: list[RefusedRecord]
    encoding: str
    delimiter: str
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)


class _Unusable(ValueError):
    """A cell value that cannot serve as the lead field its column maps to."""


def read_lead_file(path: str | os.PathLike, default_country: str | None = None) -> ImportResult:
    """Read a CSV lead file; `default_country` places phone numbers given without one."""
    data = _read_bytes(Path(path))
    name = Path(path).name
    text, encoding = _decode(data, name)
    return _import_text(text, encoding, default_country, name)


def read_lead_text(text: str, default_country: str | None = None) -> ImportResult:
    """Read leads from CSV text that is already decoded."""
    return _import_text(text.removeprefix("\ufeff"), "", default_country, "the text")


# Reading and decoding


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"File not found: {path}. Check the folder and the name.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder. Choose a CSV file inside it.") from None
    except PermissionError:
        raise InputError(
            f"LeadDesk may not read {path}. If the file is open in Excel, close it there, "
            "or ask for read permission, then import again."
        ) from None
    except OSError as exc:
        raise InputError(f"LeadDesk cannot read {path} ({exc.strerror}).") from None


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Return the text of the file and the encoding it was read with."""
    if not data.strip():
        raise InputError(f"{name} is empty. Export the leads again or choose another file.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        return data.decode("utf-16", errors="replace"), "utf-16"
    _refuse_binary(data, name)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if _mostly_utf8(text):
        # UTF-8 with a few damaged bytes: rows holding them are refused, the rest read well.
        return text, "utf-8"
    # Files saved by Excel on Windows in the "CSV (comma delimited)" format.
    return data.decode("cp1252", errors="replace"), "cp1252"


def _mostly_utf8(text: str) -> bool:
    """True when characters read as UTF-8 outnumber the bytes that could not be."""
    unreadable = text.count(UNREADABLE_CHAR)
    readable = len(re.findall(r"[^\x00-\x7f\ufffd]", text))
    return readable > unreadable


def _refuse_binary(data: bytes, name: str) -> None:
    kind = next((kind for magic, kind in _FILE_SIGNATURES if data.startswith(magic)), None)
    sample = data[:BINARY_SAMPLE_BYTES]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\n\r\f")
    if kind is None and controls <= BINARY_CONTROL_SHARE * len(sample):
        return
    raise InputError(
        f"{name} is not a text file (it looks like {kind or 'binary data'}). Open it in Excel "
        "or LibreOffice, save it as 'CSV UTF-8 (comma delimited)' and import that file."
    )


# Splitting the text into rows


def _import_text(text: str, encoding: str, default_country: str | None, name: str) -> ImportResult:
    default_region = _default_region(default_country)
    text, removed = _CONTROL_CHARS.subn("", text)
    if not text.strip():
        raise InputError(f"{name} is empty. Export the leads again or choose another file.")

    delimiter = _choose_delimiter(text)
    rows = enumerate(_csv_reader(text, delimiter), start=1)
    header_row, headers = _read_header(rows, name)
    fields = _map_columns(headers)
    if EMAIL not in fields.values() and PHONE not in fields.values():
        raise InputError(
            f"No column of {name} looks like an e-mail or phone column "
            f"(columns found: {_some_headers(headers)}). Name the e-mail column 'Email' or the "
            "phone column 'Phone' and import again."
        )

    result = ImportResult(0, [], [], encoding, delimiter, fields)
    if removed:
        result.notes.append(
            f"{removed:,} control characters (such as NUL bytes) were removed from {name}."
        )
    reader = _LeadRowReader(headers, fields, default_region)
    try:
        for row_number, row in rows:
            cells = [_clean(cell) for cell in row]
            if not any(cells):
                continue
            result.rows_read += 1
            if max(len(cell) for cell in cells) > CELL_MAX_CHARS:
                result.refused.append(_too_long(row_number, headers, cells))
                continue
            outcome = reader.read(row_number, cells)
            target = result.leads if isinstance(outcome, LeadRecord) else result.refused
            target.append(outcome)
    except csv.Error as error:
        raise InputError(
            f"{name} cannot be read past row {result.rows_read + header_row}: {error}. "
            "Save it again as CSV from the program that made it."
        ) from error
    log.debug(
        "Read %s (header on row %d): %d rows, %d leads, %d refused",
        name,
        header_row,
        result.rows_read,
        len(result.leads),
        len(result.refused),
    )
    return result


def _some_headers(headers: list[str]) -> str:
    shown = ", ".join(_shorten(header) for header in headers[:HEADERS_SHOWN])
    more = len(headers) - HEADERS_SHOWN
    return shown + (f" and {more:,} more" if more > 0 else "")


def _shorten(value: str, limit: int = REASON_VALUE_SHOWN_CHARS) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _too_long(row_number: int, headers: list[str], cells: list[str]) -> RefusedRecord:
    longest = max(len(cell) for cell in cells)
    shown = {
        header: cell if len(cell) <= RAW_VALUE_SHOWN_CHARS else cell[:RAW_VALUE_SHOWN_CHARS] + "…"
        for header, cell in zip(headers, cells, strict=False)
        if cell
    }
    return RefusedRecord(
        row_number,
        f"a value of {longest:,} characters; the longest LeadDesk takes is {CELL_MAX_CHARS:,}",
        shown,
    )


def _csv_reader(text: str, delimiter: str) -> Iterable[list[str]]:
    # newline="" lets the csv module see CRLF, LF and CR-only endings and quoted line breaks.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)


def _choose_delimiter(text: str) -> str:
    """Pick the delimiter that splits the header and the first rows into equal field counts."""
    sample = text[:DELIMITER_SAMPLE_CHARS]
    best, best_score = ",", (False, 0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for row in _csv_reader(sample, delimiter) if any(c.strip() for c in row)]
        if len(sample) < len(text):
            rows = rows[:-1]  # the cut may have split the last row
        rows = rows[: DELIMITER_SAMPLE_ROWS + 1]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        matching = sum(1 for row in rows[1:] if len(row) == width)
        share = matching / (len(rows) - 1) if len(rows) > 1 else 1.0
        score = (matching == len(rows) - 1, share, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_header(rows: Iterable[tuple[int, list[str]]], name: str) -> tuple[int, list[str]]:
    """Return the row number and unique names of the first non-blank row."""
    for row_number, row in rows:
        cells = [_clean(cell) for cell in row]
        if not any(cells):
            continue
        data_cell = next((cell for cell in cells if _looks_like_data(cell)), None)
        if data_cell is not None:
            raise InputError(
                f"The first row of {name} holds data ('{data_cell}') instead of column names. "
                "Add a first row naming the columns, e.g. 'First Name,Last Name,Email,Phone', "
                "and import again."
            )
        _check_header_size(cells, name)
        return row_number, _unique_headers(cells)
    raise InputError(f"{name} has no header row. Export the leads again with column names.")


def _check_header_size(cells: list[str], name: str) -> None:
    if len(cells) > MAX_COLUMNS:
        raise InputError(
            f"{name} has {len(cells):,} columns; a lead file has at most {MAX_COLUMNS:,}. "
            "Keep the lead's columns (name, e-mail, phone, country...) and import again."
        )
    longest = max(len(cell) for cell in cells)
    if longest > CELL_MAX_CHARS:
        raise InputError(
            f"A column name in the first row of {name} is {longest:,} characters long; the file "
            "may be damaged or have no header row. Export the leads again with column names."
        )


def _looks_like_data(cell: str) -> bool:
    if "@" in cell and "." in cell.rpartition("@")[2]:
        return True
    digits = sum(ch.isdigit() for ch in cell)
    return digits >= PHONE_MIN_DIGITS and _PHONE_CHARS.fullmatch(cell) is not None


def _unique_headers(cells: list[str]) -> list[str]:
    headers: list[str] = []
    taken: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        header = cell.replace("\n", " ") or f"Column {index}"
        base, copy = header, 1
        while header in taken:
            copy += 1
            header = f"{base} ({copy})"
        headers.append(header)
        taken.add(header)
    return headers


def _map_columns(headers: list[str]) -> dict[str, str]:
    fields = {header: FIELD_BY_HEADER_KEY.get(_header_key(header)) for header in headers}
    return {header: name for header, name in fields.items() if name}


def _header_key(header: str) -> str:
    return _name_key(header).rstrip("0123456789")


def _name_key(text: str) -> str:
    """Fold a header or a country name: no accents, no case, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def _clean(cell: str) -> str:
    # Line breaks inside a quoted value are kept as "\n"; tabs would shift columns elsewhere.
    return cell.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").strip()


# Turning one row into a lead


class _LeadRowReader:
    """Build leads from rows of one file and refuse rows that repeat an earlier lead."""

    def __init__(self, headers: list[str], fields: dict[str, str], region: str | None) -> None:
        self.headers = headers
        self.columns = {
            name: [h for h in headers if fields.get(h) == name] for name in HEADER_ALIASES
        }
        self.unmapped = [header for header in headers if header not in fields]
        self.default_region = region
        self.email_rows: dict[str, int] = {}
        self.phone_rows: dict[str, int] = {}

    def read(self, row_number: int, cells: list[str]) -> LeadRecord | RefusedRecord:
        # A short row's missing cells are empty; overflow cells are handled below.
        padded = cells + [""] * (len(self.headers) - len(cells))
        raw = dict(zip(self.headers, padded, strict=False))
        overflow = cells[len(self.headers) :]
        if any(overflow):
            shown = overflow[:OVERFLOW_SHOWN_CELLS]
            for index, cell in enumerate(shown, start=len(self.headers) + 1):
                raw[f"Column {index}"] = cell
            return RefusedRecord(
                row_number,
                f"the row has {len(cells)} fields but the header names {len(self.headers)} "
                "columns (a value may hold an unquoted delimiter)",
                raw,
            )
        unsafe = self._unsafe_value_reason(raw)
        if unsafe:
            return RefusedRecord(row_number, unsafe, raw)
        try:
            lead = self._build_lead(row_number, raw)
        except _Unusable as exc:
            return RefusedRecord(row_number, str(exc), raw)
        duplicate = self._duplicate_reason(lead)
        if duplicate:
            return RefusedRecord(row_number, duplicate, raw)
        return lead

    def _unsafe_value_reason(self, raw: dict[str, str]) -> str:
        """Why a row cannot be kept as it is: unreadable bytes or a spreadsheet formula."""
        for header, cell in raw.items():
            if UNREADABLE_CHAR in cell:
                return (
                    f"column '{_shorten(header)}' holds bytes that are not text (shown as "
                    f"{UNREADABLE_CHAR}): '{_shorten(cell)}'; the file may mix encodings or "
                    "be damaged"
                )
        for name in (FIRST_NAME, LAST_NAME, FULL_NAME):
            for header in self.columns[name]:
                cell = raw.get(header, "")
                # A lone "-" is how many exports mark an empty name; it is not a formula.
                if runs_as_formula(cell) and cell.strip("- "):
                    return f"name '{_shorten(cell)}' looks like a spreadsheet formula"
        for header, cell in raw.items():
            if is_formula_attack(cell):
                return (
                    f"column '{_shorten(header)}' holds '{_shorten(cell)}', which looks like a "
                    "spreadsheet formula"
                )
        return ""

    def _build_lead(self, row_number: int, raw: dict[str, str]) -> LeadRecord:
        lead = LeadRecord(row_number)
        extra = lead.extra
        for header in self.unmapped:
            if raw.get(header):
                extra[header] = raw[header]

        lead.country, _, _ = _pick(raw, self.columns[COUNTRY], _country_value, extra)
        lead.language, _, _ = _pick(raw, self.columns[LANGUAGE], _language_value, extra)
        lead.first_name, _, _ = _pick(raw, self.columns[FIRST_NAME], _text_value, extra)
        lead.last_name, _, _ = _pick(raw, self.columns[LAST_NAME], _text_value, extra)
        full_name_extra: dict[str, str] = {}
        full_name, _, _ = _pick(raw, self.columns[FULL_NAME], _text_value, full_name_extra)
        if full_name and not (lead.first_name or lead.last_name):
            lead.first_name, lead.last_name = split_full_name(full_name)
        elif full_name:
            full_name_extra[self._first_filled(raw, FULL_NAME)] = full_name
        extra.update(full_name_extra)

        lead.email, _, email_problems = _pick(raw, self.columns[EMAIL], _email_value, extra)
        region = lead.country or self.default_region
        phone_value = partial(_phone_value, region=region)
        lead.phone, phone_raw, phone_problems = _pick(raw, self.columns[PHONE], phone_value, extra)
        extension = _split_extension(phone_raw)[1]
        if extension:
            extra[PHONE_EXTENSION_KEY] = extension

        if not (lead.email or lead.phone):
            problems = email_problems + phone_problems
            if not problems:
                raise _Unusable("no e-mail or phone")
            raise _Unusable("no valid e-mail or phone: " + "; ".join(problems))
        return lead

    def _first_filled(self, raw: dict[str, str], name: str) -> str:
        return next(header for header in self.columns[name] if raw.get(header))

    def _duplicate_reason(self, lead: LeadRecord) -> str:
        email_key = lead.email.strip().casefold()
        if email_key and email_key in self.email_rows:
            return f"duplicate of row {self.email_rows[email_key]} (same e-mail)"
        # Only numbers in E.164 are compared: bare digits may belong to different countries.
        phone_key = lead.phone if lead.phone.startswith("+") else ""
        if phone_key and phone_key in self.phone_rows:
            return f"duplicate of row {self.phone_rows[phone_key]} (same phone)"
        if email_key:
            self.email_rows[email_key] = lead.row_number
        if phone_key:
            self.phone_rows[phone_key] = lead.row_number
        return ""


def _pick(
    raw: dict[str, str],
    headers: list[str],
    value_of: Callable[[str], str],
    extra: dict[str, str],
) -> tuple[str, str, list[str]]:
    """Return the first usable value in header order, the text it came from and the problems.

    Cells not used go to `extra` under their header, so that nothing in the file is lost.
    """
    chosen, chosen_text, problems = "", "", []
    for header in headers:
        cell = raw.get(header, "")
        if not cell:
            continue
        if chosen:
            extra[header] = cell
            continue
        items = _json_items(cell)
        candidates = [_item_text(item) for item in items] if items else [cell]
        for index, text in enumerate(candidates):
            try:
                chosen = value_of(text)
            except _Unusable as exc:
                problems.append(str(exc))
                continue
            chosen_text = text
            if items and len(items) > 1:
                rest = items[:index] + items[index + 1 :]
                extra[header] = json.dumps(rest, ensure_ascii=False)
            break
        else:
            extra[header] = cell
    return chosen, chosen_text, problems


def _json_items(cell: str) -> list[object]:
    """Return the items of a cell holding a JSON array such as [{"value": "a@b.c"}], else []."""
    if not (cell.startswith("[") and cell.endswith("]")):
        return []
    try:
        items = json.loads(cell)
    except ValueError:
        return []
    if not isinstance(items, list) or not all(_item_text(item) for item in items):
        return []
    return items


def _item_text(item: object) -> str:
    if isinstance(item, dict):
        item = item.get("value")
    return item.strip() if isinstance(item, str) else ""


def split_full_name(full_name: str) -> tuple[str, str]:
    """Split "Jessica Jones" or "Jones, Jessica" into first and last name."""
    if "," in full_name:
        last, _, first = full_name.partition(",")
        return first.strip(), last.strip()
    parts = full_name.split()
    if len(parts) == 1:
        return parts[0], ""
    return " ".join(parts[:-1]), parts[-1]


# Values of single fields


def _text_value(text: str) -> str:
    return text


def _email_value(text: str) -> str:
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _Unusable(f"e-mail '{text}' is not valid ({exc})") from None


def _phone_value(text: str, region: str | None) -> str:
    """Return the number in E.164 when its country is known, else its digits."""
    number, _ = _split_extension(text)
    if not _PHONE_CHARS.fullmatch(number):
        raise _Unusable(f"phone '{text}' is not a phone number")
    digits = re.sub(r"\D", "", number)
    international = number.startswith("+")
    if not international and digits.startswith("00"):
        # 00 is the international call prefix in most countries; no national number uses it.
        international, digits = True, digits[2:]
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise _Unusable(
            f"phone '{text}' has {len(digits)} digits, a phone number has "
            f"{PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS}"
        )
    if not (international or region):
        return digits

    try:
        parsed = phonenumbers.parse(f"+{digits}" if international else digits, region)
    except phonenumbers.NumberParseException:
        raise _Unusable(f"phone '{text}' has an unknown country code") from None
    if not phonenumbers.is_possible_number(parsed):
        where = phonenumbers.region_code_for_number(parsed) or region
        raise _Unusable(f"phone '{text}' is not a possible number in {where}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _split_extension(text: str) -> tuple[str, str]:
    """Split "(240)452-2332x4601" into the number and the extension "4601"."""
    match = _PHONE_EXTENSION.search(text)
    if not match:
        return text.strip(), ""
    return text[: match.start()].strip(), match.group(1)


def _language_value(text: str) -> str:
    match = _LANGUAGE_TAG.fullmatch(text)
    if not match:
        raise _Unusable(f"language '{text}' is not a two-letter code")
    return match.group(1).lower()


def _country_value(text: str) -> str:
    code = country_code(text)
    if not code:
        raise _Unusable(f"country '{text}' is not recognised")
    return code


def country_code(text: str) -> str:
    """Return the ISO 3166 alpha-2 code for 'de', 'DEU', 'Germany' or 'Deutschland', else ""."""
    letters = text.strip().upper()
    if letters in ALPHA2_CODES:
        return letters
    if letters in ALPHA3_TO_ALPHA2:
        return ALPHA3_TO_ALPHA2[letters]
    return _country_names().get(_name_key(text), "")


@cache
def _country_names() -> dict[str, str]:
    """Country names in every language the phone-number library knows, English first."""
    names = dict(COUNTRY_NAME_ALIASES)
    regions = sorted(ALPHA2_CODES)
    for region in regions:
        names.setdefault(_name_key(LOCALE_DATA.get(region, {}).get("aa", "")), region)
    for region in regions:
        for name in _region_names(region):
            names.setdefault(_name_key(name), region)
    names.pop("", None)
    return names


def _region_names(region: str) -> list[str]:
    # "*xx" entries point at the name given for another language, so they add no name.
    return [name for name in LOCALE_DATA.get(region, {}).values() if not name.startswith("*")]


def _default_region(default_country: str | None) -> str | None:
    if not default_country:
        return None
    code = country_code(default_country)
    if not code:
        raise InputError(
            f"'{default_country}' is not a country LeadDesk knows. Give a two-letter code "
            "such as 'US' or 'DE'."
        )
    return code
