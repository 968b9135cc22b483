"""The sample files from real products imported as lists, with the counts a manager sees."""

from __future__ import annotations

import pytest

from leaddesk.core.lead_import import ReadOptions
from leaddesk.services import lead_lists


@pytest.mark.parametrize(
    ("name", "country", "counts", "refused"),
    [
        # 100 US leads in six phone formats, no country column: all kept, with or without US.
        ("datablist-leads-100.csv", None, (100, 100, 0, 0), []),
        ("datablist-leads-100.csv", "US", (100, 100, 0, 0), []),
        # Five contacts; without a country the national numbers stay bare digits and differ.
        ("zoho-books-contacts.csv", None, (5, 5, 0, 0), []),
        # In the US, row 6's phone 888-867-5309 is row 3's number: the same person.
        ("zoho-books-contacts.csv", "US", (5, 4, 1, 1), [(6, "duplicate of row 3 (same phone)")]),
        ("krayin-persons.csv", None, (2, 2, 0, 0), []),
    ],
)
def test_sample_files_import_as_lists(
    database, samples_dir, name, country, counts, refused
) -> None:
    list_id, summary = lead_lists.import_stream(
        database, samples_dir / name, "Sample", ReadOptions(default_country=country)
    )

    assert (summary.rows_read, summary.leads, len(summary.refused), summary.duplicates) == counts
    assert [(row.row_number, row.reason) for row in summary.refused] == refused
    with database.session() as session:
        [stored] = lead_lists.list_summaries(session)
        stored_refused = lead_lists.refused_rows(session, list_id)
        stored_reasons = [(row.row_number, row.reason) for row in stored_refused]
    assert (
        stored.rows_read,
        stored.lead_count,
        stored.refused_count,
        stored.duplicate_count,
    ) == counts
    assert stored_reasons == refused
