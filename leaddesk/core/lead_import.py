"""Read a lead file into leads ready to send and refused rows with their reasons.

Files are streamed: `preview_file` shows how a file is understood, `read_leads` yields one
lead or refused row at a time, and `read_lead_file` collects them for small files.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import ipaddress
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leaddesk.core.e164 import quick_e164
from leaddesk.core.key_index import KeyIndex, email_words, phone_words
from leaddesk.core.lead_fields import (
    COUNTRY,
    CUSTOM,
    EMAIL,
    EXTRA_FIELDS,
    FIRST_NAME,
    FULL_NAME,
    IP,
    LANGUAGE,
    LAST_NAME,
    LEAD_FIELDS,
    PASSWORD,
    PHONE,
    REGISTERED_AT,
    SKIP,
    header_signature,
    name_key,
    recognise,
)
from leaddesk.core.lead_files import (
    UNREADABLE_CHAR,
    NumberText,
    RowSource,
    open_rows,
    text_rows_source,
)
from leaddesk.core.spreadsheet_safety import is_formula_attack, runs_as_formula
from leaddesk.errors import InputError

__all__ = [
    "LEAD_FIELDS",
    "ImportCancelled",
    "ImportResult",
    "LeadRecord",
    "Preview",
    "ReadOptions",
    "RefusedRecord",
    "country_code",
    "header_signature",
    "preview_file",
    "read_lead_file",
    "read_lead_text",
    "read_leads",
    "split_full_name",
]

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
PROGRESS_EVERY_ROWS = 1000
# Rows searched for the header when lines such as a report title come before it.
HEADER_SEARCH_ROWS = 30
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
# Phone numbers and e-mails already checked; repeats (duplicates, shared numbers) are common.
VALUE_CACHE_SIZE = 65_536
# Countries and languages: few values, repeated on every row.
SMALL_VALUE_CACHE_SIZE = 4_096
PHONE_EXTENSION_KEY = "phone_extension"
# A cell that starts otherwise holds neither a formula nor, after trimming, the start of one.
_FORMULA_FIRST_CHARS = frozenset("=+-@ \t\r\n")
NO_CONTACT_COLUMN_NOTE = (
    "No column was recognised as e-mail or phone; map the column holding them to E-mail or "
    "Phone before importing."
)
FIELD_LABELS = {
    FIRST_NAME: "first name",
    LAST_NAME: "last name",
    FULL_NAME: "full name",
    EMAIL: "e-mail",
    PHONE: "phone",
    COUNTRY: "country",
    LANGUAGE: "language",
    IP: "IP address",
    REGISTERED_AT: "registration date",
    "source": "source",
    "sub_id1": "sub-ID 1",
    "sub_id2": "sub-ID 2",
    "sub_id3": "sub-ID 3",
    PASSWORD: "password",
}

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
# Codes the phone-number library's country names leave out.
ENGLISH_NAMES_MISSING = {"XK": "Kosovo"}

_PHONE_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*(\d{1,7})\s*$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")
_NOT_DIGIT = re.compile(r"\D")
# How a spreadsheet shows a long number it shortened: 4.47701E+11.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]{2,8})*")
# A plain ASCII address, which email-validator would take unchanged but for the domain's case.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z])?"
)
EMAIL_MAX_CHARS = 254
SPECIAL_USE_DOMAIN_NAMES = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))
DATE_PATTERNS = (
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
# Language names (in English and in the language itself) and ISO 639-2 codes, as name_key
# folds them, to ISO 639-1.
_LANGUAGE_NAMES = """
en english englisch anglais ingles inglese eng
de german deutsch allemand aleman tedesco deu ger
fr french francais franzosisch frances francese fra fre
es spanish espanol spanisch espagnol spagnolo castellano spa
it italian italiano italienisch italien ita
pt portuguese portugues portugiesisch portugais portoghese por
nl dutch nederlands niederlandisch neerlandais holandes nld dut
pl polish polski polnisch polonais polaco pol
ru russian russkii russisch russe ruso rus русский
uk ukrainian ukrainisch ukr украинский українська
tr turkish turkce turkisch turc turco tur
sv swedish svenska schwedisch suedois sueco swe
no norwegian norsk norwegisch norvegien noruego nor
da danish dansk danisch danois danes dan
fi finnish suomi finnisch finnois fin
cs czech cestina tschechisch tcheque checo ces cze
sk slovak slovencina slowakisch slk slo
sl slovenian slovene slovenscina slv
hu hungarian magyar ungarisch hongrois hun
ro romanian romana rumanisch roumain rumano ron rum
bg bulgarian bulgarisch bul
hr croatian hrvatski kroatisch hrv
sr serbian srpski serbisch srp
el greek ellinika griechisch grec griego ell gre ελληνικά
et estonian eesti est
lv latvian latviesu lav
lt lithuanian lietuviu lit
ja japanese japanisch japonais jpn 日本語
zh chinese chinesisch chinois zho chi 中文
ko korean koreanisch kor 한국어
ar arabic arabisch arabe ara العربية
he hebrew hebraisch heb עברית
hi hindi hin
th thai tha
vi vietnamese vie tiengviet
id indonesian bahasaindonesia ind
ms malay bahasamelayu msa may
"""
LANGUAGE_CODES = {
    name_key(word): line.split()[0]
    for line in _LANGUAGE_NAMES.strip().splitlines()
    for word in line.split()[1:]
}


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


class ImportCancelled(Exception):
    """Reading stopped because the manager cancelled the import."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read a lead file; None everywhere means "detect it"."""

    encoding: str | None = None
    # Text files only.
    delimiter: str | None = None
    # 1-based row of the header; None skips preamble lines (report titles, blank rows).
    header_row: int | None = None
    # Spreadsheets: None reads the first sheet.
    sheet: str | None = None
    # Column header -> lead field, CUSTOM ("") to keep as a custom field, or SKIP; None
    # recognises the headers. Headers left out are kept as custom fields.
    mapping: dict[str, str] | None = None
    default_country: str | None = None
    # Fields every lead must have valid, beyond "an e-mail or a phone".
    required: frozenset[str] = frozenset()


@dataclass
class Preview:
    """How a file is understood, and its first rows, for the manager to check and change."""

    kind: str  # "csv" | "xlsx" | "xls" | "ods"
    encoding: str  # "" for spreadsheets
    delimiter: str  # "" for spreadsheets
    header_row: int
    # Unique display names: duplicates are kept apart, e.g. "Phone", "Phone (2)".
    headers: list[str]
    # Header -> lead field as recognised (or as given in the options); "" keeps it custom.
    mapping: dict[str, str]
    # The first PREVIEW_ROWS data rows as the text the user saw.
    rows: list[list[str]]
    sheets: list[str]
    notes: list[str] = field(default_factory=list)


def preview_file(path: str | os.PathLike, options: ReadOptions = ReadOptions()) -> Preview:
    """Read the header and the first rows of a file, as `read_leads` would understand them."""
    layout = _Layout.open(Path(path), options)
    try:
        rows: list[list[str]] = []
        for _number, cells in layout.data_rows():
            if any(cells):
                rows.append(cells[: len(layout.headers)])
            if len(rows) >= PREVIEW_ROWS:
                break
    finally:
        layout.source.close()
    return Preview(
        kind=layout.source.kind,
        encoding=layout.source.encoding,
        delimiter=layout.source.delimiter,
        header_row=layout.header_row,
        headers=layout.headers,
        mapping=dict(layout.mapping),
        rows=rows,
        sheets=layout.source.sheets,
        notes=layout.notes(),
    )


def read_leads(
    path: str | os.PathLike,
    options: ReadOptions = ReadOptions(),
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> LeadStream:
    """Stream the leads and refused rows of a file, in file order.

    `progress(rows_read)` is called every PROGRESS_EVERY_ROWS rows; when `cancel` is set the
    stream raises ImportCancelled. The stream's attributes say how the file was read.
    """
    return LeadStream(_Layout.open(Path(path), options), options, progress, cancel)


def read_lead_file(path: str | os.PathLike, default_country: str | None = None) -> ImportResult:
    """Read a whole lead file; `default_country` places phone numbers given without one."""
    return _collect(read_leads(path, ReadOptions(default_country=default_country)))


def read_lead_text(text: str, default_country: str | None = None) -> ImportResult:
    """Read leads from delimited text that is already decoded."""
    options = ReadOptions(default_country=default_country)
    layout = _Layout.from_source(text_rows_source(text), options)
    return _collect(LeadStream(layout, options))


def _collect(stream: LeadStream) -> ImportResult:
    leads: list[LeadRecord] = []
    refused: list[RefusedRecord] = []
    for record in stream:
        (leads if isinstance(record, LeadRecord) else refused).append(record)
    return ImportResult(
        stream.rows_read,
        leads,
        refused,
        stream.encoding,
        stream.delimiter,
        stream.columns,
        stream.notes,
    )


# How a file is laid out: its header and the mapping of its columns


@dataclass
class _Layout:
    source: RowSource
    header_row: int
    headers: list[str]
    # Cells of the header row as found, before empty trailing ones were dropped.
    header_width: int
    mapping: dict[str, str]
    # Rows read past the header while looking for it, to be read again as data.
    pending: list[tuple[int, list[str]]]
    skipped_rows: int

    @classmethod
    def open(cls, path: Path, options: ReadOptions) -> _Layout:
        source = open_rows(path, options.encoding, options.delimiter, options.sheet)
        try:
            return cls.from_source(source, options)
        except BaseException:
            source.close()
            raise

    @classmethod
    def from_source(cls, source: RowSource, options: ReadOptions) -> _Layout:
        _default_region(options.default_country)  # a wrong country is refused before reading
        header_row, cells, pending, skipped = _find_header(source, options)
        width = len(cells)
        while cells and not cells[-1]:
            cells = cells[:-1]
        headers = _unique_headers(cells)
        mapping = _mapping(headers, options.mapping)
        return cls(source, header_row, headers, width, mapping, pending, skipped)

    @property
    def reaches_people(self) -> bool:
        """True when a column is mapped to e-mail or phone, the fields that reach a person."""
        return EMAIL in self.mapping.values() or PHONE in self.mapping.values()

    def refuse_unreachable(self) -> None:
        """Refuse to read leads when no column can hold a way to reach the person."""
        if not self.reaches_people:
            raise InputError(
                f"No column of {self.source.name} looks like an e-mail or phone column "
                f"(columns found: {_some_headers(self.headers)}). Map a column to 'email' or "
                "'phone', or name the e-mail column 'Email' or the phone column 'Phone', and "
                "import again."
            )

    def data_rows(self) -> Iterator[tuple[int, list[str]]]:
        yield from self.pending
        self.pending = []
        yield from self.source.rows

    def notes(self) -> list[str]:
        notes = []
        if not self.reaches_people:
            notes.append(NO_CONTACT_COLUMN_NOTE)
        if self.skipped_rows:
            notes.append(
                f"{self.skipped_rows:,} line(s) before the header (row {self.header_row}) skipped."
            )
        removed = self.source.removed_controls[0]
        if removed:
            notes.append(
                f"{removed:,} control characters (such as NUL bytes) were removed from "
                f"{self.source.name}."
            )
        return notes


def _find_header(
    source: RowSource, options: ReadOptions
) -> tuple[int, list[str], list[tuple[int, list[str]]], int]:
    """The header's row number and cells, rows read past it, and lines skipped before it."""
    seen: list[tuple[int, list[str]]] = []
    for number, cells in source.rows:
        if options.header_row is not None:
            if number < options.header_row:
                continue
            _check_header_size(cells, source.name)
            return number, cells, [], 0
        if not any(cells):
            continue
        seen.append((number, cells))
        if _names_fields(cells, options.mapping):
            index = len(seen) - 1
            _check_header_size(cells, source.name)
            return number, cells, seen[index + 1 :], index
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if options.header_row is not None:
        raise InputError(f"{source.name} has no row {options.header_row}.")
    if not seen:
        raise InputError(f"{source.name} is empty. Export the leads again or choose another file.")
    # No row names a lead field: the first row is the header, unless it is data.
    number, cells = seen[0]
    data_cell = next((cell for cell in cells if _looks_like_data(cell)), None)
    if data_cell is not None:
        raise InputError(
            f"The first row of {source.name} holds data ('{_shorten(data_cell)}') instead of "
            "column names. Add a first row naming the columns, e.g. "
            "'First Name,Last Name,Email,Phone', or give the header row, and import again."
        )
    _check_header_size(cells, source.name)
    return number, cells, seen[1:], 0


def _names_fields(cells: list[str], mapping: dict[str, str] | None) -> bool:
    """True when a row names a lead field and holds no data, so it can be the header."""
    if len(cells) > MAX_COLUMNS or any(_looks_like_data(cell) for cell in cells):
        return False
    if mapping:
        return any(cell in mapping for cell in cells)
    return any(recognise(cell) in (EMAIL, PHONE) for cell in cells)


def _mapping(headers: list[str], given: dict[str, str] | None) -> dict[str, str]:
    if given is None:
        return {header: recognise(header) for header in headers}
    unknown = sorted(set(given.values()) - set(LEAD_FIELDS) - {CUSTOM, SKIP})
    if unknown:
        raise InputError(
            f"'{unknown[0]}' is not a lead field. Map columns to one of: "
            f"{', '.join(LEAD_FIELDS)}, or to '' (custom field) or 'skip'."
        )
    return {header: given.get(header, CUSTOM) for header in headers}


class LeadStream(Iterator["LeadRecord | RefusedRecord"]):
    """Leads and refused rows of one file, read one row at a time.

    `rows_read` counts the data rows that are not blank so far; `notes` say what was cleaned.
    """

    def __init__(
        self,
        layout: _Layout,
        options: ReadOptions,
        progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        try:
            layout.refuse_unreachable()
        except InputError:
            layout.source.close()
            raise
        self.layout = layout
        self.kind = layout.source.kind
        self.encoding = layout.source.encoding
        self.delimiter = layout.source.delimiter
        self.sheet = layout.source.sheet
        self.header_row = layout.header_row
        self.headers = layout.headers
        self.mapping = layout.mapping
        self.columns = {h: f for h, f in layout.mapping.items() if f and f != SKIP}
        self.rows_read = 0
        self._progress = progress
        self._cancel = cancel
        self._reader: _LeadRowReader | None = None
        self._records = self._read(options)

    @property
    def notes(self) -> list[str]:
        notes = self.layout.notes()
        reader = self._reader
        for count, what in (
            (reader.kept_without_email if reader else 0, "e-mail"),
            (reader.kept_without_phone if reader else 0, "phone"),
        ):
            if count:
                leads = "1 lead was" if count == 1 else f"{count:,} leads were"
                notes.append(
                    f"{leads} kept without their {what}, which was not valid; the text is kept "
                    "as a custom field of the lead."
                )
        return notes

    def __next__(self) -> LeadRecord | RefusedRecord:
        return next(self._records)

    def close(self) -> None:
        self._records.close()
        self.layout.source.close()

    def _read(self, options: ReadOptions) -> Iterator[LeadRecord | RefusedRecord]:
        layout = self.layout
        reader = self._reader = _LeadRowReader(
            layout.headers,
            layout.header_width,
            layout.mapping,
            _default_region(options.default_country),
            options.required,
        )
        try:
            self._tick()
            for row_number, cells in layout.data_rows():
                if not any(cells):
                    continue
                self.rows_read += 1
                if self.rows_read % PROGRESS_EVERY_ROWS == 0:
                    self._tick()
                if max(map(len, cells)) > CELL_MAX_CHARS:
                    yield _too_long(row_number, layout.headers, cells)
                    continue
                yield reader.read(row_number, cells)
        except UnicodeError as error:
            raise InputError(
                f"{layout.source.name} cannot be read as {self.encoding}: {error}. Choose "
                "another encoding and import again."
            ) from error
        except csv.Error as error:
            raise InputError(
                f"{layout.source.name} cannot be read past row {self.rows_read}: {error}. "
                "Save it again as CSV from the program that made it."
            ) from error
        finally:
            layout.source.close()
        self._tick()
        log.debug(
            "Read a %s file (header on row %d): %d rows",
            self.kind,
            layout.header_row,
            self.rows_read,
        )

    def _tick(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise ImportCancelled("The import was cancelled.")
        if self._progress:
            self._progress(self.rows_read)


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


def _check_header_size(cells: list[str], name: str) -> None:
    if len(cells) > MAX_COLUMNS:
        raise InputError(
            f"{name} has {len(cells):,} columns; a lead file has at most {MAX_COLUMNS:,}. "
            "Keep the lead's columns (name, e-mail, phone, country...) and import again."
        )
    longest = max(map(len, cells), default=0)
    if longest > CELL_MAX_CHARS:
        raise InputError(
            f"A column name in the first row of {name} is {longest:,} characters long; the file "
            "may be damaged or have no header row. Export the leads again with column names."
        )


def _looks_like_data(cell: str) -> bool:
    if isinstance(cell, NumberText):
        return True
    if "@" in cell and "." in cell.rpartition("@")[2]:
        return True
    digits = sum(ch.isdigit() for ch in cell)
    return digits >= PHONE_MIN_DIGITS and _PHONE_CHARS.fullmatch(cell) is not None


def _unique_headers(cells: list[str]) -> list[str]:
    headers: list[str] = []
    taken: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        header = str(cell).replace("\n", " ") or f"Column {index}"
        base, copy = header, 1
        while header in taken:
            copy += 1
            header = f"{base} ({copy})"
        headers.append(header)
        taken.add(header)
    return headers


# Turning one row into a lead


class _LeadRowReader:
    """Build leads from rows of one file and refuse rows that repeat an earlier lead."""

    def __init__(
        self,
        headers: list[str],
        header_width: int,
        mapping: dict[str, str],
        region: str | None,
        required: Iterable[str] = (),
    ) -> None:
        self.headers = headers
        self.header_width = max(header_width, len(headers))
        self.columns = {
            name: [h for h in headers if mapping.get(h) == name] for name in LEAD_FIELDS
        }
        self.unmapped = [header for header in headers if mapping.get(header, CUSTOM) == CUSTOM]
        self.default_region = region
        self.required = sorted(set(required) - {""}, key=LEAD_FIELDS.index)
        self.email_rows = KeyIndex()
        self.phone_rows = KeyIndex()
        # Leads kept for their phone (or e-mail) whose other contact was not valid.
        self.kept_without_email = 0
        self.kept_without_phone = 0

    def read(self, row_number: int, cells: list[str]) -> LeadRecord | RefusedRecord:
        # A short row's missing cells are empty; overflow cells are handled below.
        padded = cells + [""] * (len(self.headers) - len(cells))
        raw = dict(zip(self.headers, padded, strict=False))
        overflow = cells[self.header_width :]
        # Cells under the unnamed columns that end the header are kept as custom fields.
        for index, cell in enumerate(cells[len(self.headers) : self.header_width]):
            if cell:
                raw[f"Column {len(self.headers) + index + 1}"] = cell
        if any(overflow):
            shown = overflow[:OVERFLOW_SHOWN_CELLS]
            for index, cell in enumerate(shown, start=self.header_width + 1):
                raw[f"Column {index}"] = cell
            return RefusedRecord(
                row_number,
                f"the row has {len(cells)} fields but the header names {self.header_width} "
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
        suspects = {
            header: cell
            for header, cell in raw.items()
            if cell[:1] in _FORMULA_FIRST_CHARS or UNREADABLE_CHAR in cell
        }
        if not suspects:
            return ""
        for header, cell in suspects.items():
            if UNREADABLE_CHAR in cell:
                return (
                    f"column '{_shorten(header)}' holds bytes that are not text (shown as "
                    f"{UNREADABLE_CHAR}): '{_shorten(cell)}'; the file may mix encodings or "
                    "be damaged"
                )
        for name in (FIRST_NAME, LAST_NAME, FULL_NAME):
            for header in self.columns[name]:
                cell = suspects.get(header, "")
                # A lone "-" is how many exports mark an empty name; it is not a formula.
                if runs_as_formula(cell) and cell.strip("- "):
                    return f"name '{_shorten(cell)}' looks like a spreadsheet formula"
        for header, cell in suspects.items():
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
        for header, cell in raw.items():
            if cell and header.startswith("Column ") and header not in self.headers:
                extra[header] = cell

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

        for name in EXTRA_FIELDS:
            if self.columns[name]:
                value, _, _ = _pick(raw, self.columns[name], _EXTRA_VALUES[name], extra)
                if value:
                    extra[name] = value

        if not (lead.email or lead.phone):
            problems = email_problems + phone_problems
            if not problems:
                raise _Unusable("no e-mail or phone")
            raise _Unusable("no valid e-mail or phone: " + "; ".join(problems))
        self._check_required(lead, raw)
        self.kept_without_email += bool(email_problems and not lead.email)
        self.kept_without_phone += bool(phone_problems and not lead.phone)
        return lead

    def _check_required(self, lead: LeadRecord, raw: dict[str, str]) -> None:
        for name in self.required:
            if name == FULL_NAME:
                value = lead.first_name or lead.last_name
            elif name in EXTRA_FIELDS:
                value = lead.extra.get(name, "")
            else:
                value = getattr(lead, name)
            if value:
                continue
            given = [raw[h] for h in self.columns[name] if raw.get(h)]
            label = FIELD_LABELS[name]
            if given:
                raise _Unusable(f"{label} '{_shorten(given[0])}' is not valid, and it is required")
            raise _Unusable(f"no {label}, which is required")

    def _first_filled(self, raw: dict[str, str], name: str) -> str:
        return next(header for header in self.columns[name] if raw.get(header))

    def _duplicate_reason(self, lead: LeadRecord) -> str:
        email_key = lead.email.strip().casefold()
        email = email_words(email_key) if email_key else None
        if email is not None:
            earlier = self.email_rows.row_of(*email)
            if earlier:
                return f"duplicate of row {earlier} (same e-mail)"
        # Only numbers in E.164 are compared: bare digits may belong to different countries.
        in_e164 = lead.phone.startswith("+") and lead.phone[1:].isdigit()
        phone = phone_words(lead.phone) if in_e164 else None
        if phone is not None:
            earlier = self.phone_rows.row_of(*phone)
            if earlier:
                return f"duplicate of row {earlier} (same phone)"
            self.phone_rows.add_new(*phone, lead.row_number)
        # add_new fills the slot row_of found free: nothing has touched the e-mails since.
        if email is not None:
            self.email_rows.add_new(*email, lead.row_number)
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
    if cell[0] != "[" or cell[-1] != "]":
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
    if len(text) <= EMAIL_MAX_CHARS and _PLAIN_EMAIL.fullmatch(text):
        local, _, domain = text.rpartition("@")
        domain = domain.lower()
        if "--" not in domain and domain.rpartition(".")[2] not in SPECIAL_USE_DOMAIN_NAMES:
            # What email-validator gives for a plain ASCII address, without its slower checks.
            return f"{local}@{domain}"
    return _checked_email(text)


@lru_cache(maxsize=VALUE_CACHE_SIZE)
def _checked_email(text: str) -> str:
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _Unusable(f"e-mail '{text}' is not valid ({exc})") from None


def _phone_value(text: str, region: str | None) -> str:
    """Return the number in E.164 when its country is known, else its digits."""
    if isinstance(text, NumberText):
        return _number_phone(text, region)
    if _SCIENTIFIC.fullmatch(text.strip()):
        raise _Unusable(
            f"phone '{text}' was saved by a spreadsheet in scientific notation, which lost "
            "its last digits; export the column as text and import again"
        )
    return _text_phone(text, region)


def _text_phone(text: str, region: str | None) -> str:
    number, _ = _split_extension(text)
    if not _PHONE_CHARS.fullmatch(number):
        raise _Unusable(f"phone '{text}' is not a phone number")
    digits = _NOT_DIGIT.sub("", number)
    international = number.startswith("+")
    if not international and digits.startswith("00"):
        # 00 is the international call prefix in most countries; no national number uses it.
        international, digits = True, digits[2:]
    _check_digit_count(text, digits)
    if not (international or region):
        return digits
    return quick_e164(digits, international, region) or _parsed_phone(
        text, digits, international, region
    )


@lru_cache(maxsize=VALUE_CACHE_SIZE)
def _parsed_phone(text: str, digits: str, international: bool, region: str | None) -> str:
    try:
        parsed = phonenumbers.parse(f"+{digits}" if international else digits, region)
    except phonenumbers.NumberParseException:
        raise _Unusable(f"phone '{text}' has an unknown country code") from None
    if not phonenumbers.is_possible_number(parsed):
        where = phonenumbers.region_code_for_number(parsed) or region
        raise _Unusable(f"phone '{text}' is not a possible number in {where}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _check_digit_count(text: str, digits: str) -> None:
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise _Unusable(
            f"phone '{text}' has {len(digits)} digits, a phone number has "
            f"{PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS}"
        )


def _number_phone(text: NumberText, region: str | None) -> str:
    """A phone a spreadsheet stored as a number, which drops a leading '+' or '0'."""
    if text.value < 0:
        raise _Unusable(
            f"phone {text} is a negative number: the spreadsheet calculated the phone as a "
            "formula (such as +1-532-344-1362 typed without quotes); the number is lost"
        )
    if not text.isdigit():
        raise _Unusable(f"phone {text} is not a whole number, so not a phone number")
    _check_digit_count(text, text)
    candidates = ([(text, region)] if region else []) + [(f"+{text}", None)]
    for candidate, where in candidates:
        try:
            parsed = phonenumbers.parse(candidate, where)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if region:
        raise _Unusable(
            f"phone {text} (stored as a number) is not a valid number in {region}, nor with "
            "a country code"
        )
    return str(text)


def _split_extension(text: str) -> tuple[str, str]:
    """Split "(240)452-2332x4601" into the number and the extension "4601"."""
    match = _PHONE_EXTENSION.search(text)
    if not match:
        return text.strip(), ""
    return text[: match.start()].strip(), match.group(1)


@lru_cache(maxsize=SMALL_VALUE_CACHE_SIZE)
def _language_value(text: str) -> str:
    """ISO 639-1 code of 'de', 'de-AT', 'deu', 'German' or 'Deutsch'."""
    match = _LANGUAGE_TAG.fullmatch(text)
    if match:
        return match.group(1).lower()
    code = LANGUAGE_CODES.get(name_key(text), "")
    if not code:
        raise _Unusable(f"language '{text}' is not a language code or name LeadDesk knows")
    return code


def _ip_value(text: str) -> str:
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        raise _Unusable(f"IP address '{text}' is not valid") from None


def _date_value(text: str) -> str:
    """An ISO 8601 date (and time) from the common unambiguous ways of writing one."""
    value = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for pattern in DATE_PATTERNS:
            try:
                parsed = dt.datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        raise _Unusable(f"registration date '{text}' is not a date LeadDesk reads")
    if len(value) <= len("2024-01-31") or (parsed.time() == dt.time(0) and ":" not in value):
        return parsed.date().isoformat()
    return parsed.isoformat(sep=" ")


@lru_cache(maxsize=SMALL_VALUE_CACHE_SIZE)
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
    return _country_names().get(name_key(text), "")


def country_name(code: str) -> str:
    """The English name of an ISO 3166 alpha-2 code ("DE" -> "Germany"), else ""."""
    names = _locale_data().get(code.strip().upper(), {})
    name = names.get("en", "")
    if name.startswith("*"):
        # A pointer to the name given for another language.
        name = names.get(name[1:], "")
    return name or ENGLISH_NAMES_MISSING.get(code.strip().upper(), "")


@cache
def _country_names() -> dict[str, str]:
    """Country names in every language the phone-number library knows, English first."""
    names = dict(COUNTRY_NAME_ALIASES)
    regions = sorted(ALPHA2_CODES)
    for region in regions:
        names.setdefault(name_key(_locale_data().get(region, {}).get("aa", "")), region)
    for region in regions:
        for name in _region_names(region):
            names.setdefault(name_key(name), region)
    names.pop("", None)
    return names


def _region_names(region: str) -> list[str]:
    # "*xx" entries point at the name given for another language, so they add no name.
    return [name for name in _locale_data().get(region, {}).values() if not name.startswith("*")]


@cache
def _locale_data() -> dict[str, dict[str, str]]:
    """Country names by language, from phonenumbers' locale table.

    The module is loaded from its file: importing it by name runs its package's __init__,
    which loads some 100 MB of area names for geocoding that LeadDesk never uses.
    """
    package = importlib.util.find_spec("phonenumbers.geodata")
    if package is None or not package.submodule_search_locations:
        return {}
    path = Path(next(iter(package.submodule_search_locations))) / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LOCALE_DATA


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


_EXTRA_VALUES: dict[str, Callable[[str], str]] = {
    IP: _ip_value,
    REGISTERED_AT: _date_value,
    "source": _text_value,
    "sub_id1": _text_value,
    "sub_id2": _text_value,
    "sub_id3": _text_value,
    PASSWORD: _text_value,
}
