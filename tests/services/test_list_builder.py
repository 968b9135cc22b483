"""Lists made from stored leads: by filter, split, merged, renamed and archived."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_filter import LastOutcome, LeadFilter, SplitMode
from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.errors import InputError
from leaddesk.services import distributions, lead_lists, list_builder
from leaddesk.storage.models import Delivery, Lead, LeadList, RefusedRow

OFFER_URL = "https://advertiser.example/leads"


def person(row: int, email: str = "", phone: str = "", **fields: object) -> LeadRecord:
    return LeadRecord(row_number=row, email=email, phone=phone, **fields)


def store(database, title: str, records: list[LeadRecord], created_at: datetime | None = None):
    result = ImportResult(len(records), records, [], "utf-8", ",", {})
    with database.writer() as session:
        lead_list = lead_lists.store_list(session, title, result, "Dana", f"{title}.csv")
        if created_at is not None:
            lead_list.created_at = created_at
        session.commit()
        return lead_list.id


def emails_of(database, lead_list_id: int) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Lead.email)
                .where(Lead.lead_list_id == lead_list_id)
                .order_by(Lead.row_number)
            )
        )


def build(database, wanted: LeadFilter, title: str = "Built") -> list_builder.NewList:
    with database.writer() as session:
        made = list_builder.build_list(session, title, wanted, "Dana")
        session.commit()
        return made


def send(database, lead_list_id: int, offer_id: int, affiliate_id: int, states: dict[str, str]):
    """Create a distribution of the list and give the named leads (by e-mail) an outcome."""
    with database.writer() as session:
        new = distributions.NewDistribution(
            title="Earlier",
            lead_list_id=lead_list_id,
            affiliate_id=affiliate_id,
            offer_id=offer_id,
            interval=SendInterval(1, PeriodUnit.MINUTES),
            fixed_fields={},
            include_repeats=True,
        )
        distribution = distributions.create_distribution(session, new)
        now = utc_now()
        for offset, (email, state) in enumerate(states.items()):
            lead_id = session.scalar(
                select(Lead.id).where(Lead.lead_list_id == lead_list_id, Lead.email == email)
            )
            session.execute(
                update(Delivery)
                .where(Delivery.distribution_id == distribution.id, Delivery.lead_id == lead_id)
                .values(state=state, finished_at=now + timedelta(seconds=offset))
            )
        session.commit()
        return distribution.id


@pytest.fixture
def two_lists(database):
    spring = store(
        database,
        "Spring",
        [
            person(
                2,
                "ana@example.com",
                "+351912345678",
                country="PT",
                language="pt",
                extra={"source": "Fair"},
            ),
            person(3, "ben@example.com", country="US", language="en", extra={"source": "web"}),
            person(4, "cleo@example.com", country="GB", language="en"),
        ],
        created_at=datetime(2026, 3, 10, 12),
    )
    autumn = store(
        database,
        "Autumn",
        [
            person(2, "ANA@example.com", country="PT", language="pt"),
            person(3, "dan@example.com", "+351912345678", country="PT"),
            person(4, "eve@example.com", country="DE", language="de", extra={"source": "fair"}),
        ],
        created_at=datetime(2026, 9, 10, 12),
    )
    return spring, autumn


# Filters ---------------------------------------------------------------------------------


def test_country_filter_keeps_each_person_once(database, two_lists):
    made = build(database, LeadFilter(country="pt"))

    # Ana is in both lists (e-mail in another case) and Dan shares her phone: one person.
    assert emails_of(database, made.id) == ["ana@example.com"]
    assert made.duplicates_left_out == 2
    with database.session() as session:
        lead_list = session.get_one(LeadList, made.id)
        reasons = session.scalars(
            select(RefusedRow.reason).where(RefusedRow.lead_list_id == made.id)
        )
        assert lead_list.source_file == "built from country PT"
        assert (lead_list.lead_count, lead_list.duplicate_count) == (1, 2)
        assert sorted(reasons) == [
            "duplicate of row 2 (same e-mail)",
            "duplicate of row 2 (same phone)",
        ]


def test_language_filter(database, two_lists):
    made = build(database, LeadFilter(language="EN"))
    assert emails_of(database, made.id) == ["ben@example.com", "cleo@example.com"]


def test_source_list_filter(database, two_lists):
    _spring, autumn = two_lists
    made = build(database, LeadFilter(lead_list_ids=(autumn,)))
    assert emails_of(database, made.id) == [
        "ANA@example.com",
        "dan@example.com",
        "eve@example.com",
    ]
    with database.session() as session:
        assert "lists 'Autumn'" in session.get_one(LeadList, made.id).source_file


def test_import_date_filter(database, two_lists):
    made = build(
        database, LeadFilter(imported_from=date(2026, 9, 1), imported_to=date(2026, 9, 30))
    )
    assert emails_of(database, made.id) == [
        "ANA@example.com",
        "dan@example.com",
        "eve@example.com",
    ]

    early = build(database, LeadFilter(imported_to=date(2026, 3, 31)), title="Early")
    assert emails_of(database, early.id) == [
        "ana@example.com",
        "ben@example.com",
        "cleo@example.com",
    ]


def test_custom_field_filter_ignores_case(database, two_lists):
    made = build(database, LeadFilter(custom_field="source", custom_value="FAIR"))
    assert emails_of(database, made.id) == ["ana@example.com", "eve@example.com"]


def test_never_sent_to_an_offer_compares_people_not_rows(database, two_lists, make_offer):
    spring, _autumn = two_lists
    affiliate_id, offer_id = make_offer(OFFER_URL)
    other_affiliate, other_offer = make_offer(OFFER_URL, name="Wind", affiliate="South")
    send(database, spring, offer_id, affiliate_id, {"ana@example.com": "accepted"})
    send(database, spring, other_offer, other_affiliate, {"ben@example.com": "rejected"})
    # A failed delivery never reached the advertiser: Cleo was not sent.
    send(database, spring, offer_id, affiliate_id, {"cleo@example.com": "failed"})

    made = build(database, LeadFilter(never_sent_to_offer_id=offer_id))

    # Ana is left out under her other spelling and Dan under her phone, both in Autumn.
    assert emails_of(database, made.id) == [
        "ben@example.com",
        "cleo@example.com",
        "eve@example.com",
    ]


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (LastOutcome.ACCEPTED, ["ana@example.com"]),
        (LastOutcome.REJECTED, ["ben@example.com"]),
        (LastOutcome.FAILED, ["cleo@example.com"]),
        (LastOutcome.NEVER_SENT, ["eve@example.com"]),
    ],
)
def test_last_outcome_filter(database, two_lists, make_offer, outcome, expected):
    spring, _autumn = two_lists
    affiliate_id, offer_id = make_offer(OFFER_URL)
    send(database, spring, offer_id, affiliate_id, {"ben@example.com": "accepted"})
    send(
        database,
        spring,
        offer_id,
        affiliate_id,
        {
            "ana@example.com": "accepted",
            "ben@example.com": "rejected",
            "cleo@example.com": "failed",
        },
    )

    made = build(database, LeadFilter(last_outcome=outcome))

    assert emails_of(database, made.id) == expected


def test_nothing_matching_makes_no_list(database, two_lists):
    with database.writer() as session, pytest.raises(InputError, match="No stored lead matches"):
        list_builder.build_list(session, "Empty", LeadFilter(country="JP"))


def test_source_lists_stay_untouched(database, two_lists):
    spring, _ = two_lists
    before = emails_of(database, spring)
    made = build(database, LeadFilter(lead_list_ids=(spring,)))
    with database.session() as session:
        copied = set(session.scalars(select(Lead.id).where(Lead.lead_list_id == made.id)))
        original = set(session.scalars(select(Lead.id).where(Lead.lead_list_id == spring)))
    assert emails_of(database, spring) == before
    assert copied.isdisjoint(original)


def test_archived_lists_are_left_out_unless_named(database, two_lists):
    _spring, autumn = two_lists
    with database.writer() as session:
        lead_lists.set_archived(session, autumn, True)
        session.commit()
    assert "eve@example.com" not in emails_of(database, build(database, LeadFilter()).id)
    named = build(database, LeadFilter(lead_list_ids=(autumn,)), title="Named")
    assert "eve@example.com" in emails_of(database, named.id)


# Split and merge ---------------------------------------------------------------------------


@pytest.fixture
def seven(database) -> int:
    return store(database, "Seven", [person(i + 2, f"p{i}@example.com") for i in range(7)])


def test_split_round_robin(database, seven):
    with database.writer() as session:
        parts = list_builder.split_list(session, seven, 3, SplitMode.ROUND_ROBIN, "Dana")
        session.commit()
    assert [part.title for part in parts] == [
        "Seven (part 1 of 3)",
        "Seven (part 2 of 3)",
        "Seven (part 3 of 3)",
    ]
    assert [emails_of(database, part.id) for part in parts] == [
        ["p0@example.com", "p3@example.com", "p6@example.com"],
        ["p1@example.com", "p4@example.com"],
        ["p2@example.com", "p5@example.com"],
    ]
    with database.session() as session:
        first = session.get_one(LeadList, parts[0].id)
        assert first.source_file == "built from 'Seven': part 1 of 3, round-robin"
        assert session.scalars(
            select(Lead.row_number).where(Lead.lead_list_id == first.id).order_by(Lead.row_number)
        ).all() == [2, 3, 4]
    assert len(emails_of(database, seven)) == 7


def test_split_consecutive(database, seven):
    with database.writer() as session:
        parts = list_builder.split_list(session, seven, 3, SplitMode.CONSECUTIVE)
        session.commit()
    assert [emails_of(database, part.id) for part in parts] == [
        ["p0@example.com", "p1@example.com", "p2@example.com"],
        ["p3@example.com", "p4@example.com"],
        ["p5@example.com", "p6@example.com"],
    ]


@pytest.mark.parametrize("parts", [1, 8])
def test_split_into_impossible_parts_is_refused(database, seven, parts):
    with database.writer() as session, pytest.raises(InputError, match="2 to 7 parts"):
        list_builder.split_list(session, seven, parts, SplitMode.CONSECUTIVE)


def test_merge_leaves_out_duplicates_and_says_how_many(database, two_lists):
    spring, autumn = two_lists
    with database.writer() as session:
        made = list_builder.merge_lists(session, [spring, autumn], "Both", "Dana")
        session.commit()

    assert emails_of(database, made.id) == [
        "ana@example.com",
        "ben@example.com",
        "cleo@example.com",
        "eve@example.com",
    ]
    assert made.duplicates_left_out == 2
    with database.session() as session:
        assert session.get_one(LeadList, made.id).source_file == "built from 'Spring' + 'Autumn'"


def test_merge_needs_two_lists_and_a_free_title(database, two_lists):
    spring, autumn = two_lists
    with database.writer() as session:
        with pytest.raises(InputError, match="at least two"):
            list_builder.merge_lists(session, [spring, spring], "Both")
        with pytest.raises(InputError, match="already a lead list named 'Autumn'"):
            list_builder.merge_lists(session, [spring, autumn], "Autumn")


# Rename and archive ------------------------------------------------------------------------


def test_rename(database, two_lists):
    spring, _ = two_lists
    with database.writer() as session:
        lead_lists.rename_list(session, spring, "  Spring   fair ")
        session.commit()
        with pytest.raises(InputError, match="already a lead list named 'Autumn'"):
            lead_lists.rename_list(session, spring, "Autumn")
        with pytest.raises(InputError, match="Give the lead list a name"):
            lead_lists.rename_list(session, spring, " ")
    with database.session() as session:
        assert session.get_one(LeadList, spring).title == "Spring fair"


def test_archived_lists_are_hidden_unless_asked_for(database, two_lists):
    spring, _autumn = two_lists
    with database.writer() as session:
        lead_lists.set_archived(session, spring, True)
        session.commit()
    with database.session() as session:
        shown = [summary.title for summary in lead_lists.list_summaries(session)]
        everything = lead_lists.list_summaries(session, include_archived=True)
    assert shown == ["Autumn"]
    assert {summary.title: summary.archived for summary in everything} == {
        "Spring": True,
        "Autumn": False,
    }
    with database.writer() as session:
        lead_lists.set_archived(session, spring, False)
        session.commit()
    with database.session() as session:
        assert len(lead_lists.list_summaries(session)) == 2


# The same people in other lists ------------------------------------------------------------


def test_duplicates_in_other_lists_are_counted_per_list(database, two_lists):
    spring, autumn = two_lists
    third = store(database, "Third", [person(2, "ben@example.com"), person(3, "cleo@example.com")])

    with database.session() as session:
        overlaps = lead_lists.duplicates_in_other_lists(session, spring)
        none = lead_lists.duplicates_in_other_lists(
            session, store(database, "Alone", [person(2, "z@x.io")])
        )

    assert [(o.title, o.shared) for o in overlaps] == [("Third", 2), ("Autumn", 1)]
    assert {o.lead_list_id for o in overlaps} == {third, autumn}
    assert none == []
