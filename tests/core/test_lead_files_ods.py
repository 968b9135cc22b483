"""Reading an OpenDocument spreadsheet (ODS) built by hand, as LibreOffice saves one."""

from __future__ import annotations

import zipfile
from pathlib import Path

from leaddesk.core.lead_import import LeadRecord, ReadOptions, preview_file, read_leads

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
 manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
CONTENT_START = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
 xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"
 office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Leads">
"""
CONTENT_END = "</table:table></office:spreadsheet></office:body></office:document-content>\n"


def text_cell(text: str) -> str:
    return (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )


def number_cell(value: str, shown: str, formula: str = "") -> str:
    formula_attribute = f' table:formula="{formula}"' if formula else ""
    return (
        f'<table:table-cell office:value-type="float" office:value="{value}"'
        f"{formula_attribute}><text:p>{shown}</text:p></table:table-cell>"
    )


def row(*cells: str) -> str:
    return "<table:table-row>" + "".join(cells) + "</table:table-row>\n"


EMPTY_CELL = "<table:table-cell/>"


def write_ods(path: Path, rows: list[str]) -> Path:
    """An ODS file: the mimetype first and uncompressed, a manifest, and the sheet's content."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        content = CONTENT_START + "".join(rows) + CONTENT_END
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods_sheet_is_read_as_the_text_the_user_saw(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "leads.ods",
        [
            row(text_cell("Leads of May")),
            # A blank row LibreOffice writes as one element repeated.
            '<table:table-row table:number-rows-repeated="2">'
            '<table:table-cell table:number-columns-repeated="5"/></table:table-row>\n',
            row(*map(text_cell, ("Vorname", "Nachname", "E-Mail", "Telefon", "Land"))),
            row(
                text_cell("Anna"),
                text_cell("Berg"),
                text_cell("anna@Example.ORG"),
                # A phone typed as a number: the "+" is lost.
                number_cell("447911123456", "447911123456"),
                text_cell("GB"),
            ),
            row(
                text_cell("Jürgen"),
                text_cell("Groß"),
                EMPTY_CELL,
                text_cell("030 1234567"),
                text_cell("Deutschland"),
            ),
            row(
                text_cell("Cid"),
                text_cell("Moe"),
                EMPTY_CELL,
                number_cell("-2237", "-2237", formula="of:=+1-532-344-1362"),
                text_cell("US"),
            ),
            row(
                text_cell("Dee"),
                text_cell("Roe"),
                text_cell("ANNA@example.org"),
                EMPTY_CELL,
                text_cell("GB"),
            ),
        ],
    )

    preview = preview_file(path)
    assert (preview.kind, preview.header_row, preview.sheets) == ("ods", 4, ["Leads"])
    assert preview.headers == ["Vorname", "Nachname", "E-Mail", "Telefon", "Land"]

    records = list(read_leads(path, ReadOptions()))
    leads = [
        (r.row_number, r.first_name, r.last_name, r.email, r.phone, r.country)
        for r in records
        if isinstance(r, LeadRecord)
    ]
    refused = [(r.row_number, r.reason) for r in records if not isinstance(r, LeadRecord)]
    assert leads == [
        (5, "Anna", "Berg", "anna@example.org", "+447911123456", "GB"),
        (6, "Jürgen", "Groß", "", "+49301234567", "DE"),
    ]
    assert refused == [
        (
            7,
            "no valid e-mail or phone: phone -2237 is a negative number: the spreadsheet "
            "calculated the phone as a formula (such as +1-532-344-1362 typed without quotes); "
            "the number is lost",
        ),
        (8, "duplicate of row 5 (same e-mail)"),
    ]
