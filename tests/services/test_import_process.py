"""A lead file imported with its reading in a process of its own, as the window imports it."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from leaddesk.core.lead_import import ImportCancelled, ReadOptions
from leaddesk.errors import DataFileError, InputError
from leaddesk.services import import_process, lead_lists, lead_staging
from leaddesk.services.import_process import ImportProcessError, import_in_process
from leaddesk.storage.database import open_database
from leaddesk.storage.models import Lead

# Broken and repeated rows spread over several progress reports of the import's process.
ROWS = 4_500
BROKEN_EVERY = 400
REPEATED_EVERY = 700


def write_leads(path: Path, count: int) -> Path:
    """A lead file with a broken row and a repeated lead every few hundred rows."""
    lines = ["First Name,Email,Phone,Country,Notes"]
    for index in range(count):
        if index % BROKEN_EVERY == BROKEN_EVERY - 1:
            lines.append(f"Broken{index},not-an-email-{index},12,Atlantis,")
        elif index % REPEATED_EVERY == REPEATED_EVERY - 1:
            lines.append(f"Again{index},LEAD{index - 1}@example.com,,DE,repeat")
        else:
            lines.append(f"First{index},lead{index}@example.com,+49 30 {index:07d},DE,n{index}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def staging_files(folder: Path) -> list[Path]:
    return list(folder.glob(f"{lead_lists.STAGING_PREFIX}*"))


def stored_leads(database, list_id: int) -> list[tuple]:
    with database.session() as session:
        rows = session.execute(
            select(Lead.row_number, Lead.email, Lead.phone, Lead.extra)
            .where(Lead.lead_list_id == list_id)
            .order_by(Lead.id)
        )
        return [tuple(row) for row in rows]


def test_the_list_and_summary_are_those_import_stream_makes(database, tmp_path):
    path = write_leads(tmp_path / "leads.csv", ROWS)
    reports: list[int] = []

    list_id, summary = import_in_process(
        database, path, "Spring", manager_name="Dana", progress=reports.append
    )

    other = open_database(tmp_path / "other")
    try:
        other_id, expected = lead_lists.import_stream(other, path, "Spring", manager_name="Dana")
        assert summary == expected
        assert stored_leads(database, list_id) == stored_leads(other, other_id)
    finally:
        other.close()
    assert summary.rows_read == ROWS
    assert summary.duplicates > 0
    assert [row.row_number for row in summary.refused] == sorted(
        row.row_number for row in summary.refused
    )
    assert reports == sorted(reports)
    assert reports[-1] == ROWS
    assert staging_files(database.path.parent) == []


def test_the_mapping_used_is_remembered(database, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_text("Name,Work\nAda Lovelace,ada@example.com\n", encoding="utf-8")
    options = ReadOptions(mapping={"Name": "full_name", "Work": "email"})

    import_in_process(database, path, "Partners", options)

    with database.session() as session:
        preview = lead_lists.preview_import(session, path)
    assert preview.mapping == {"Name": "full_name", "Work": "email"}


def test_cancelling_stops_the_process_and_leaves_no_list(database, tmp_path):
    path = write_leads(tmp_path / "big.csv", 60_000)
    cancel = threading.Event()
    reports: list[int] = []

    def on_rows(rows: int) -> None:
        reports.append(rows)
        cancel.set()

    with pytest.raises(ImportCancelled):
        import_in_process(database, path, "Big", progress=on_rows, cancel=cancel)

    assert reports[-1] < 60_000
    with database.session() as session:
        assert lead_lists.list_summaries(session) == []
    assert staging_files(database.path.parent) == []


def test_a_file_the_import_refuses_fails_with_its_message(database, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text("Name,Kontakt\nAda Lovelace,ada@example.com\n", encoding="utf-8")

    with pytest.raises(InputError, match="looks like an e-mail or phone column"):
        import_in_process(database, path, "Kunden")

    with database.session() as session:
        assert lead_lists.list_summaries(session) == []


def test_a_staging_file_that_cannot_be_written_is_a_data_file_error(
    database, tmp_path, monkeypatch
):
    path = write_leads(tmp_path / "leads.csv", 10)
    unwritable = tmp_path / "no such folder" / "staging.sqlite"
    monkeypatch.setattr(lead_lists, "new_staging_file", lambda _database: unwritable)

    with pytest.raises(DataFileError, match="cannot be used"):
        import_in_process(database, path, "Spring")


def crash(channel, path, options, staging) -> None:
    """An import's process with a bug: a path it cannot use."""
    lead_staging.stage_in_child(channel, None, options, staging)


def end_without_a_word(channel, path, options, staging) -> None:
    """An import's process that ends as a killed one would, before it reports."""
    os._exit(3)


def test_a_bug_in_the_process_comes_back_with_its_traceback(database, tmp_path, monkeypatch):
    path = write_leads(tmp_path / "leads.csv", 10)
    monkeypatch.setattr(import_process, "stage_in_child", crash)

    with pytest.raises(ImportProcessError, match="Traceback") as raised:
        import_in_process(database, path, "Spring")

    assert "TypeError" in str(raised.value)
    assert staging_files(database.path.parent) == []


def test_a_process_that_ends_without_a_result_is_an_error(database, tmp_path, monkeypatch):
    path = write_leads(tmp_path / "leads.csv", 10)
    monkeypatch.setattr(import_process, "stage_in_child", end_without_a_word)

    with pytest.raises(ImportProcessError, match="exit code 3"):
        import_in_process(database, path, "Spring")


def test_the_process_body_reports_rows_then_its_outcome(tmp_path):
    path = write_leads(tmp_path / "leads.csv", ROWS)
    parent_end, child_end = multiprocessing.Pipe()

    with parent_end:
        lead_staging.stage_in_child(child_end, path, ReadOptions(), tmp_path / "staged.sqlite")
        messages = []
        # The body closes its end when done: the messages are followed by the pipe's end.
        with pytest.raises(EOFError):
            while True:
                messages.append(parent_end.recv())

    *reports, (kind, summary) = messages
    assert kind == lead_staging.STAGED
    assert {report[0] for report in reports} == {lead_staging.ROWS}
    refused = [row for report in reports for row in report[2]] + summary.refused
    assert len(refused) == len({row.row_number for row in refused})
    assert summary.rows_read == ROWS
    assert summary.leads + len(refused) == ROWS
