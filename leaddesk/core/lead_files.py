"""Open lead files of every kind (delimited text, XLSX, XLS, ODS) and give their rows as text."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from leaddesk.errors import InputError

log = logging.getLogger(__name__)

KIND_CSV = "csv"
KIND_XLSX = "xlsx"
KIND_XLS = "xls"
KIND_ODS = "ods"
SPREADSHEET_KINDS = (KIND_XLSX, KIND_XLS, KIND_ODS)
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SNIFF_BYTES = 64 * 1024
DELIMITER_SAMPLE_ROWS = 40
BINARY_SAMPLE_BYTES = 8 * 1024
# Share of control bytes above which a file is binary rather than text with a stray NUL.
BINARY_CONTROL_SHARE = 0.05
# What decoding puts in place of bytes that are not text in the file's encoding.
UNREADABLE_CHAR = "\ufffd"
FALLBACK_ENCODING = "cp1252"
# Encodings of Latin script that charset-normalizer often names for short Western text;
# Windows-1252 is preferred among them unless another reads more of the bytes as letters.
LATIN_ENCODINGS = frozenset(
    [
        "cp1250",
        "cp1252",
        "cp1257",
        "cp775",
        "cp850",
        "cp852",
        "cp858",
        "latin_1",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_latin2",
        "mac_roman",
        "mac_iceland",
        "mac_turkish",
        "cp1254",
        "ascii",
    ]
)
# The csv module refuses fields over 128 KiB with an error that names no row; read them, and
# refuse the row with a reason instead.
csv.field_size_limit(64 * 1024 * 1024)

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
_FILE_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zipped file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
)


class NumberText(str):
    """The text of a spreadsheet cell that held a number, as the user saw it."""

    value: float

    def __new__(cls, value: float) -> NumberText:
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            text = str(int(value))
        else:
            text = repr(float(value))
        cell = super().__new__(cls, text)
        cell.value = value
        return cell


@dataclass
class RowSource:
    """The numbered rows of one file or sheet, cells as text, and how the file was read."""

    kind: str
    name: str
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    # Control characters removed so far; a list so the row generator can add to it.
    removed_controls: list[int] = field(default_factory=lambda: [0])
    close: Callable[[], None] = lambda: None


def open_rows(
    path: Path, encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None
) -> RowSource:
    """Open a lead file of any supported kind and return its rows."""
    head = _read_head(path)
    kind = _kind(path, head)
    if kind in SPREADSHEET_KINDS:
        return _sheet_source(path, kind, sheet)
    return _text_source(path, head, encoding, delimiter)


def text_rows_source(text: str, delimiter: str | None = None) -> RowSource:
    """Rows of delimited text that is already decoded."""
    text = text.removeprefix("\ufeff")
    chosen = delimiter or choose_delimiter(text[:SNIFF_BYTES], complete=len(text) <= SNIFF_BYTES)
    removed = [0]
    lines = io.StringIO(text, newline="")
    rows = _numbered(_csv_rows(_without_controls(lines, removed), chosen))
    return RowSource(KIND_CSV, "the text", rows, "", chosen, removed_controls=removed)


# Kinds of file


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError(f"File not found: {path}. Check the folder and the name.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder. Choose a lead file inside it.") from None
    except PermissionError:
        raise InputError(
            f"LeadDesk may not read {path}. If the file is open in Excel, close it there, "
            "or ask for read permission, then import again."
        ) from None
    except OSError as exc:
        raise InputError(f"LeadDesk cannot read {path} ({exc.strerror}).") from None


def _kind(path: Path, head: bytes) -> str:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return KIND_XLS
    if not head.startswith(b"PK\x03\x04"):
        return KIND_CSV
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError):
        names, mimetype = set(), b""
    if b"opendocument.spreadsheet" in mimetype:
        return KIND_ODS
    if "xl/workbook.xml" in names or path.suffix.lower() in (".xlsx", ".xlsm"):
        return KIND_XLSX
    raise InputError(
        f"{path.name} is not a text file (it looks like a zipped file that is not a workbook). "
        "Open it in Excel or LibreOffice, save it as 'CSV UTF-8 (comma delimited)' or as an "
        "Excel workbook (.xlsx), and import that file."
    )


# Delimited text


def _text_source(
    path: Path, head: bytes, encoding: str | None, delimiter: str | None
) -> RowSource:
    complete = len(head) < SNIFF_BYTES
    if not head.strip() or (complete and not head.removeprefix(codecs.BOM_UTF8).strip()):
        raise InputError(f"{path.name} is empty. Export the leads again or choose another file.")
    chosen_encoding = _checked_encoding(encoding) if encoding else detect_encoding(head, path.name)
    sample = head.decode(chosen_encoding, errors="replace")
    if chosen_encoding.startswith("utf-16"):
        sample = sample.removeprefix("\ufeff")
    sample = CONTROL_CHARS.sub("", sample)
    if not sample.strip():
        raise InputError(f"{path.name} is empty. Export the leads again or choose another file.")
    chosen_delimiter = delimiter or choose_delimiter(sample, complete)
    if chosen_delimiter not in DELIMITERS and len(chosen_delimiter) != 1:
        raise InputError(f"'{chosen_delimiter}' is not a delimiter: give one character.")

    file = path.open(encoding=chosen_encoding, errors="replace", newline="")
    removed = [0]
    rows = _numbered(_csv_rows(_without_controls(file, removed), chosen_delimiter))
    return RowSource(
        KIND_CSV,
        path.name,
        rows,
        chosen_encoding,
        chosen_delimiter,
        removed_controls=removed,
        close=file.close,
    )


def _checked_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(
            f"'{encoding}' is not an encoding LeadDesk knows; try utf-8, utf-16 or cp1252."
        ) from None


def detect_encoding(head: bytes, name: str) -> str:
    """The encoding of a text file from its first bytes: BOM, UTF-8, else a legacy code page."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        return "utf-16"
    _refuse_binary(head, name)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # Not final: the sample may end inside a character.
        decoder.decode(head, final=len(head) < SNIFF_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(head.decode("utf-8", errors="replace")):
        # UTF-8 with a few damaged bytes: rows holding them are refused, the rest read well.
        return "utf-8"
    return _legacy_encoding(head)


def _legacy_encoding(head: bytes) -> str:
    """A single-byte code page, never Latin-1 (which reads 0x80-0x9F as control characters)."""
    best = from_bytes(head).best()
    guess = best.encoding if best else FALLBACK_ENCODING
    if guess in ("latin_1", "ascii", "utf_8") or guess.startswith("utf"):
        return FALLBACK_ENCODING
    if guess not in LATIN_ENCODINGS:
        return guess
    # Among Latin-script code pages prefer Windows-1252, unless it reads some of the bytes as
    # symbols (Polish "Ł" as "£") where the other reads them all as letters.
    guessed_letters, guessed_others = _letters(head, guess)
    western_letters, western_others = _letters(head, FALLBACK_ENCODING)
    if western_others and not guessed_others and guessed_letters >= western_letters:
        return guess
    return FALLBACK_ENCODING


def _letters(data: bytes, encoding: str) -> tuple[int, int]:
    """How many characters beyond ASCII a decoding reads as letters, and as anything else."""
    text = data.decode(encoding, errors="replace")
    beyond = [ch for ch in text if ord(ch) > 0x7F]
    letters = sum(1 for ch in beyond if ch.isalpha())
    return letters, len(beyond) - letters


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


def choose_delimiter(sample: str, complete: bool) -> str:
    """The delimiter that splits most of the first rows into the same number of fields.

    Lines before the header (a report title) have one field under every delimiter and so
    do not decide; ties go to the delimiter giving more fields.
    """
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        rows = [row for row in _csv_rows(io.StringIO(sample, newline=""), delimiter) if row]
        if not complete:
            rows = rows[:-1]  # the cut may have split the last row
        widths = [len(row) for row in rows[:DELIMITER_SAMPLE_ROWS] if any(c.strip() for c in row)]
        counts: dict[int, int] = {}
        for width in widths:
            if width >= 2:
                counts[width] = counts.get(width, 0) + 1
        if not counts:
            continue
        score = max((count, width) for width, count in counts.items())
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _without_controls(lines: Iterable[str], removed: list[int]) -> Iterator[str]:
    search = CONTROL_CHARS.search
    subn = CONTROL_CHARS.subn
    for line in lines:
        if search(line):
            line, count = subn("", line)
            removed[0] += count
        yield line


def _csv_rows(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    # newline="" lets the csv module see CRLF, LF and CR-only endings and quoted line breaks.
    return csv.reader(lines, delimiter=delimiter, skipinitialspace=True)


def _numbered(rows: Iterable[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Rows with the number a spreadsheet shows: blank lines count, quoted breaks do not."""
    for number, row in enumerate(rows, start=1):
        yield number, [clean(cell) for cell in row]


def clean(cell: str) -> str:
    """A cell trimmed; a line break kept as "\\n", a tab (which shifts columns) as a space."""
    if "\r" in cell or "\t" in cell:
        cell = cell.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return cell.strip()


# Spreadsheets


def _sheet_source(path: Path, kind: str, sheet: str | None) -> RowSource:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        if not names:
            raise InputError(f"{path.name} has no sheets.")
        if sheet is not None and sheet not in names:
            raise InputError(
                f"{path.name} has no sheet named '{sheet}'; its sheets are: {', '.join(names)}."
            )
        chosen = sheet if sheet is not None else names[0]
        data = workbook.get_sheet_by_name(chosen)
    except InputError:
        raise
    except Exception as error:  # calamine raises its own types, and ValueError on damage
        raise InputError(
            f"{path.name} cannot be read as a {kind.upper()} workbook ({_first_line(error)}). "
            "It may be damaged or protected by a password: open it in Excel or LibreOffice, "
            "save it again (or as CSV UTF-8) and import that file."
        ) from None
    start = data.start
    first_row = (start[0] if start else 0) + 1
    removed = [0]
    rows = _sheet_rows(data.iter_rows(), first_row, removed)
    return RowSource(kind, path.name, rows, sheets=names, sheet=chosen, removed_controls=removed)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _sheet_rows(
    rows: Iterable[list[object]], first_row: int, removed: list[int]
) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(rows, start=first_row):
        cells = []
        for value in row:
            if value == "":
                cells.append("")
            elif isinstance(value, str):
                if CONTROL_CHARS.search(value):
                    value, count = CONTROL_CHARS.subn("", value)
                    removed[0] += count
                cells.append(clean(value))
            else:
                cells.append(cell_text(value))
        yield number, cells


def cell_text(value: object) -> str:
    """The text a spreadsheet shows for a cell value: 447701000000.0 -> '447701000000'."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return NumberText(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
