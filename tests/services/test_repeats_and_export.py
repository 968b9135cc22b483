"""Leads already sent to an offer, exporting lists, and refused rows fixed and imported again."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from leaddesk.core.lead_import import ImportResult, LeadRecord, RefusedRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.errors import InputError
from leaddesk.services import distributions, lead_lists, list_export
from leaddesk.storage.models import Delivery, Lead, LeadList, RefusedRow

OFFER_URL = "https://advertiser.example/leads"


def new_distribution(list_id, affiliate_id, offer_id, include_repeats=False):
    return distributions.NewDistribution(
        title="Push",
        lead_list_id=list_id,
        affiliate_id=affiliate_id,
        offer_id=offer_id,
        interval=SendInterval(1, PeriodUnit.MINUTES),
        fixed_fields={},
        include_repeats=include_repeats,
    )


def create(database, new) -> int:
    with database.writer() as session:
        distribution = distributions.create_distribution(session, new)
        session.commit()
        return distribution.id


def mark(database, distribution_id: int, count: int, state: str) -> None:
    """Give the first `count` deliveries of a distribution an outcome."""
    with database.writer() as session:
        ids = session.scalars(
            select(Delivery.id)
            .where(Delivery.distribution_id == distribution_id)
            .order_by(Delivery.position)
            .limit(count)
        ).all()
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(state=state))
        session.commit()


def queued(database, distribution_id: int) -> tuple[int, int]:
    with database.session() as session:
        total = session.get_one(distributions.Distribution, distribution_id).total
        rows = session.scalar(
            select(func.count()).where(Delivery.distribution_id == distribution_id)
        )
        return total, rows


# Repeats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["accepted", "rejected", "unknown", "in_flight"])
def test_leads_already_sent_to_the_offer_are_left_out(database, make_list, make_offer, state):
    affiliate_id, offer_id = make_offer(OFFER_URL)
    spring = make_list("Spring", 5)
    first = create(database, new_distribution(spring, affiliate_id, offer_id))
    mark(database, first, 2, state)

    with database.session() as session:
        assert distributions.count_already_sent(session, spring, offer_id) == 2
    second = create(database, new_distribution(spring, affiliate_id, offer_id))

    assert queued(database, second) == (3, 3)
    with database.session() as session:
        positions = session.scalars(
            select(Delivery.position).where(Delivery.distribution_id == second)
        ).all()
    assert sorted(positions) == [0, 1, 2]


def test_failed_and_queued_leads_are_not_repeats(database, make_list, make_offer):
    affiliate_id, offer_id = make_offer(OFFER_URL)
    spring = make_list("Spring", 5)
    first = create(database, new_distribution(spring, affiliate_id, offer_id))
    mark(database, first, 2, "failed")

    with database.session() as session:
        assert distributions.count_already_sent(session, spring, offer_id) == 0


def test_repeats_are_found_in_other_lists_and_only_for_that_offer(database, make_list, make_offer):
    affiliate_id, offer_id = make_offer(OFFER_URL)
    _, other_offer = make_offer(OFFER_URL, name="Wind", affiliate="South")
    spring = make_list("Spring", 4)
    first = create(database, new_distribution(spring, affiliate_id, offer_id))
    mark(database, first, 4, "accepted")
    # The same people, with e-mails written in capitals, in a list of their own.
    with database.writer() as session:
        again = ImportResult(
            4,
            [LeadRecord(row_number=i + 2, email=f"SPRING{i}@EXAMPLE.COM") for i in range(3)],
            [],
            "utf-8",
            ",",
            {},
        )
        copy = lead_lists.store_list(session, "Copy", again, "Dana", "copy.csv").id
        session.commit()

    with database.session() as session:
        assert distributions.count_already_sent(session, copy, offer_id) == 3
        assert distributions.count_already_sent(session, copy, other_offer) == 0


def test_sending_them_anyway_queues_every_lead(database, make_list, make_offer):
    affiliate_id, offer_id = make_offer(OFFER_URL)
    spring = make_list("Spring", 5)
    mark(
        database, create(database, new_distribution(spring, affiliate_id, offer_id)), 5, "accepted"
    )

    with database.session() as session:
        problems = distributions.check_new_distribution(
            session, new_distribution(spring, affiliate_id, offer_id)
        )
    assert "already sent to this offer" in problems["lead_list"]
    with pytest.raises(distributions.FormErrors):
        create(database, new_distribution(spring, affiliate_id, offer_id))

    again = create(database, new_distribution(spring, affiliate_id, offer_id, True))
    assert queued(database, again) == (5, 5)


def test_an_archived_list_cannot_be_sent(database, make_list, make_offer):
    affiliate_id, offer_id = make_offer(OFFER_URL)
    spring = make_list("Spring", 2)
    with database.writer() as session:
        lead_lists.set_archived(session, spring, True)
        session.commit()
        problems = distributions.check_new_distribution(
            session, new_distribution(spring, affiliate_id, offer_id)
        )
    assert "archived" in problems["lead_list"]


# Export ----------------------------------------------------------------------------------


def xlsx_rows(path: Path) -> list[list[str]]:
    """The cells of the first sheet of a workbook, read with nothing but the standard library."""
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        shared = (
            book.read("xl/sharedStrings.xml").decode()
            if ("xl/sharedStrings.xml" in book.namelist())
            else ""
        )
    strings = [_unescape(s) for s in re.findall(r"<si><t[^>]*>(.*?)</t></si>", shared, re.S)]
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet, re.S):
        cells: dict[int, str] = {}
        for attributes, value in re.findall(r"<c ([^>]*?)(?:/>|>(.*?)</c>)", row, re.S):
            column = ord(re.search(r'r="([A-Z])', attributes).group(1)) - ord("A")
            text = re.search(r"<v>(.*?)</v>|<t[^>]*>(.*?)</t>", value, re.S)
            if text is None:
                continue
            raw = text.group(1) if text.group(1) is not None else text.group(2)
            cells[column] = strings[int(raw)] if 't="s"' in attributes else _unescape(raw)
        rows.append([cells.get(column, "") for column in range(max(cells) + 1)])
    return rows


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


@pytest.fixture
def hostile_list(database) -> int:
    records = [
        LeadRecord(
            row_number=2,
            first_name="Ana",
            email="ana@example.com",
            phone="+351912345678",
            country="PT",
            extra={"note": '=HYPERLINK("http://evil.example","click")', "source": "fair"},
        ),
        LeadRecord(
            row_number=3, first_name="Ben", email="ben@example.com", extra={"city": "Oslo"}
        ),
    ]
    result = ImportResult(2, records, [], "utf-8", ",", {})
    with database.writer() as session:
        lead_list = lead_lists.store_list(session, "Hostile", result, "Dana", "h.csv")
        session.commit()
        return lead_list.id


EXPECTED = [
    ["First name", "Last name", "Email", "Phone", "Country", "Language", "note", "source", "city"],
    [
        "Ana",
        "",
        "ana@example.com",
        "+351912345678",
        "PT",
        "",
        '\'=HYPERLINK("http://evil.example","click")',
        "fair",
        "",
    ],
    ["Ben", "", "ben@example.com", "", "", "", "", "", "Oslo"],
]


def test_csv_export_has_every_field_and_neutralises_formulas(database, hostile_list, tmp_path):
    path = tmp_path / "out.csv"
    with database.session() as session:
        assert list_export.export_list(session, hostile_list, path) == 2

    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as file:
        assert list(csv.reader(file)) == EXPECTED


def test_xlsx_export_has_the_same_cells(database, hostile_list, tmp_path):
    path = tmp_path / "out.XLSX"
    with database.session() as session:
        assert list_export.export_list(session, hostile_list, path) == 2

    rows = xlsx_rows(path)
    width = len(EXPECTED[0])
    assert [row + [""] * (width - len(row)) for row in rows] == EXPECTED
    assert "<f>" not in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()


def test_an_unknown_extension_or_folder_is_explained(database, hostile_list, tmp_path):
    with database.session() as session:
        with pytest.raises(InputError, match=r"ending in \.csv or \.xlsx"):
            list_export.export_list(session, hostile_list, tmp_path / "out.pdf")
        with pytest.raises(InputError, match="does not exist"):
            list_export.export_list(session, hostile_list, tmp_path / "nowhere" / "out.csv")
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


# Refused rows: export, fix, import again ---------------------------------------------------

LEAD_FILE = (
    "Name,Email,Phone,Note\n"
    "Ana Silva,ana@example.com,+351 912 345 678,\n"
    'Ben Stone,not-an-email,,=HYPERLINK("http://evil.example")\n'
    "Cleo Marsh,ana@example.com,,\n"
    "Dan Wu,dan@,,keen\n"
)


def test_refused_rows_are_exported_fixed_and_imported_into_the_same_list(database, tmp_path):
    source = tmp_path / "spring.csv"
    source.write_text(LEAD_FILE, encoding="utf-8")
    with database.writer() as session:
        lead_list, _ = lead_lists.import_file(session, source, "Spring")
        session.commit()
        list_id = lead_list.id
    with database.session() as session:
        stored = session.get_one(LeadList, list_id)
        assert (stored.lead_count, stored.refused_count, stored.duplicate_count) == (1, 3, 1)

    exported = tmp_path / "refused.csv"
    with database.session() as session:
        assert list_export.export_refused(session, list_id, exported) == 3
    with exported.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["Name", "Email", "Phone", "Note", "Reason", "Row in list"]
    assert rows[1][0] == "Ben Stone" and rows[1][3] == '\'=HYPERLINK("http://evil.example")'
    assert "spreadsheet formula" in rows[1][4] and rows[1][5] == "3"
    assert rows[2][4] == "duplicate of row 2 (same e-mail)" and rows[2][5] == "4"
    assert rows[3][5] == "5"

    # The manager fixes Ben (e-mail, and the note) and Cleo, leaves Dan as he was, and adds
    # a row that repeats a lead the list already has.
    rows[1][1], rows[1][3] = "ben@example.com", "called"
    rows[2][1] = "cleo@example.com"
    rows.append(["Ana Again", "ANA@example.com", "", "", "", ""])
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)

    with database.writer() as session:
        outcome = lead_lists.import_into_list(session, list_id, fixed)
        session.commit()

    assert (outcome.added, outcome.refused, outcome.fixed) == (2, 2, 2)
    with database.session() as session:
        stored = session.get_one(LeadList, list_id)
        leads = session.execute(
            select(Lead.row_number, Lead.email, Lead.extra)
            .where(Lead.lead_list_id == list_id)
            .order_by(Lead.row_number)
        ).all()
        refused = session.execute(
            select(RefusedRow.row_number, RefusedRow.reason, RefusedRow.raw)
            .where(RefusedRow.lead_list_id == list_id)
            .order_by(RefusedRow.row_number)
        ).all()
        assert (stored.lead_count, stored.refused_count, stored.duplicate_count) == (3, 2, 1)
        assert stored.rows_read == 5
    assert [(row, email) for row, email, _ in leads] == [
        (2, "ana@example.com"),
        (3, "ben@example.com"),
        (4, "cleo@example.com"),
    ]
    # The columns the export added do not come back as custom fields.
    assert leads[1][2] == {"Note": "called"}
    assert [(row, reason) for row, reason, _ in refused] == [
        (5, refused[0][1]),
        (6, "duplicate of row 2 (same e-mail)"),
    ]
    assert "dan@" in refused[0][1]
    assert "Reason" not in refused[0][2] and "Row in list" not in refused[0][2]


def test_a_list_without_refused_rows_says_so(database, make_list, tmp_path):
    spring = make_list("Spring", 2)
    with database.session() as session, pytest.raises(InputError, match="no refused rows"):
        list_export.export_refused(session, spring, tmp_path / "r.csv")


def test_refused_records_keep_the_duplicate_count(database):
    refused = [
        RefusedRecord(3, "duplicate of row 2 (same e-mail)", {}),
        RefusedRecord(4, "no e-mail or phone", {}),
    ]
    result = ImportResult(3, [LeadRecord(2, email="a@b.io")], refused, "utf-8", ",", {})
    with database.writer() as session:
        lead_list = lead_lists.store_list(session, "Counted", result, "Dana", "c.csv")
        session.commit()
        assert (lead_list.refused_count, lead_list.duplicate_count) == (2, 1)
