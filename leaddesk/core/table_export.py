"""Writing rows of text to a CSV or XLSX file that is safe to open in a spreadsheet.

Every cell passes through `neutralise_formula`, so no value a lead file brought in can run
as a formula where the export is opened. The file is written beside its final name and moved
into place at the end, so a failed export never leaves half a file under that name.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path

import xlsxwriter

from leaddesk.core.spreadsheet_safety import neutralise_formula
from leaddesk.errors import InputError

log = logging.getLogger(__name__)

# Spreadsheet programs read a CSV file as UTF-8 only when it starts with a byte-order mark.
CSV_ENCODING = "utf-8-sig"
XLSX_SHEET_NAME_MAX_CHARS = 31
XLSX_COLUMN_MAX_WIDTH = 50
XLSX_COLUMN_MIN_WIDTH = 8
# The widest cell of this many first rows sets a column's width.
XLSX_WIDTH_SAMPLE_ROWS = 200


class ExportFormat(str, Enum):
    CSV = ".csv"
    XLSX = ".xlsx"


def export_format(path: Path) -> ExportFormat:
    """The format a file name asks for, by its extension."""
    suffix = path.suffix.lower()
    for found in ExportFormat:
        if found.value == suffix:
            return found
    raise InputError(
        f"LeadDesk cannot tell which kind of file '{path.name}' should be. Give a name ending "
        "in .csv or .xlsx."
    )


def safe_cells(cells: Iterable[object]) -> list[str]:
    """A row as text a spreadsheet shows and never runs."""
    return [neutralise_formula("" if cell is None else str(cell)) for cell in cells]


def write_table(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]], sheet_name: str
) -> int:
    """Write the rows under the headers in the format the name asks for; returns the row count."""
    kind = export_format(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"The folder {folder} does not exist. Choose a folder that does.")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=kind.value, dir=folder)
        os.close(handle)
    except OSError as error:
        raise InputError(f"Cannot write in {folder}: {error.strerror}.") from error
    try:
        if kind is ExportFormat.CSV:
            count = _write_csv(Path(temporary), headers, rows)
        else:
            count = _write_xlsx(Path(temporary), headers, rows, sheet_name)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"Cannot write {path}: {error.strerror}.") from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("Exported %d rows as %s", count, kind.name)
    return count


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with path.open("w", encoding=CSV_ENCODING, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(safe_cells(headers))
        for row in rows:
            writer.writerow(safe_cells(row))
            count += 1
    return count


def _write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]], sheet_name: str
) -> int:
    # Strings are written as strings: never read as formulas, links or numbers.
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(_sheet_name(sheet_name))
        bold = workbook.add_format({"bold": True})
        widths = [len(header) for header in headers]
        sheet.write_row(0, 0, safe_cells(headers), bold)
        sheet.freeze_panes(1, 0)
        count = 0
        for count, row in enumerate(rows, start=1):
            cells = safe_cells(row)
            for column, text in enumerate(cells):
                if text:
                    sheet.write_string(count, column, text)
                if count <= XLSX_WIDTH_SAMPLE_ROWS and column < len(widths):
                    widths[column] = max(widths[column], len(text))
        for column, width in enumerate(widths):
            sheet.set_column(
                column, column, min(max(width + 2, XLSX_COLUMN_MIN_WIDTH), XLSX_COLUMN_MAX_WIDTH)
            )
    finally:
        workbook.close()
    return count


def _sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: 31 characters at most, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip("' ")
    return cleaned[:XLSX_SHEET_NAME_MAX_CHARS] or "Sheet1"
