"""The import dialog: reading settings, column mapping, and an import that never blocks."""

from __future__ import annotations

import codecs
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, Slot
from sqlalchemy import func, select

from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.services import distributions, lead_lists
from leaddesk.storage.database import Database
from leaddesk.storage.models import Lead, LeadList
from leaddesk.ui.import_wizard import ImportWizard
from leaddesk.ui.lead_lists_page import LeadListsPage
from leaddesk.ui.sender_worker import SenderThread

IMPORT_TIMEOUT_MS = 180_000
SEND_TIMEOUT_MS = 20_000
TICK_MS = 10
# The requirement: no pause over 100 ms. With the file read in a process of its own the
# longest pause is some 15-25 ms, and under 60 ms with the two cores of the machine
# oversubscribed twice over; the figure is printed.
MAX_EVENT_LOOP_PAUSE_S = 0.1
# The sender's pacing varies each gap by up to 0.7 of the interval (two jitters of 0.35).
SEND_GAP_RANGE_S = (0.3, 1.7)
COUNTRIES = (("DE", "+49 30 {:07d}"), ("FR", "+33 1 {:08d}"), ("GB", "+44 20 7{:07d}"))


def write_leads(path: Path, count: int, delimiter: str = ",", prefix: str = "lead") -> Path:
    """A lead file of `count` plausible leads, several countries, written quickly."""
    lines = [delimiter.join(("First Name", "Last Name", "Email", "Phone", "Country"))]
    for index in range(count):
        country, phone = COUNTRIES[index % len(COUNTRIES)]
        lines.append(
            delimiter.join(
                (
                    f"First{index}",
                    f"Last{index}",
                    f"{prefix}{index}@example.com",
                    phone.format(index),
                    country,
                )
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def list_titles(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(LeadList.title)))


def lead_count(database: Database, list_id: int | None = None) -> int:
    query = select(func.count()).select_from(Lead)
    if list_id is not None:
        query = query.where(Lead.lead_list_id == list_id)
    with database.session() as session:
        return session.scalar(query) or 0


def first_email(database: Database, list_id: int) -> str | None:
    with database.session() as session:
        return session.scalar(
            select(Lead.email).where(Lead.lead_list_id == list_id).order_by(Lead.id).limit(1)
        )


def leads_of(database: Database, list_id: int) -> list[Lead]:
    with database.session() as session:
        found = list(
            session.scalars(select(Lead).where(Lead.lead_list_id == list_id).order_by(Lead.id))
        )
        session.expunge_all()
        return found


@pytest.fixture
def open_wizard(qtbot, database) -> Iterator:
    """Opens an import dialog on a file; every dialog is closed, its thread waited for."""
    opened: list[ImportWizard] = []

    def open_on(path: Path, **kwargs) -> ImportWizard:
        wizard = ImportWizard(database, path, **kwargs)
        qtbot.addWidget(wizard)
        wizard.show()
        opened.append(wizard)
        return wizard

    yield open_on
    for wizard in opened:
        wizard.runner.shutdown()
        assert not wizard.runner.is_running()


def import_and_wait(qtbot, wizard: ImportWizard) -> int:
    assert wizard.import_button.isEnabled(), wizard.error_label.text()
    with qtbot.waitSignal(wizard.imported, timeout=IMPORT_TIMEOUT_MS) as blocker:
        wizard.import_button.click()
    return blocker.args[0]


def choose(combo, value) -> None:
    """Pick an item by its data, as a manager's click would."""
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_preview_shows_the_detected_reading(qtbot, tmp_path, open_wizard, qtmodeltester):
    path = tmp_path / "crm export.txt"
    text = (
        "Leads exported from the CRM\r\n"
        "\r\n"
        "Vorname;Nachname;E-Mail;Telefon\r\n"
        "Jürgen;Groß;jurgen@example.de;030 1234567\r\n"
        "Zoë;Ångström;zoe@example.se;+46 8 123 456 78\r\n"
    )
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    wizard = open_wizard(path)

    assert codecs.lookup(wizard.encoding_combo.currentData()).name == "utf-16"
    assert wizard.delimiter_combo.currentData() == ";"
    assert wizard.header_row_spin.value() == 3
    assert not wizard.sheet_combo.isVisibleTo(wizard)
    assert wizard.title_edit.text() == "crm export"
    model = wizard.preview_model
    assert model.columnCount() == 4
    assert model.rowCount() == 2
    assert model.cell_text(0, 0) == "Jürgen"
    assert model.header_text(2) == "E-Mail\n→ E-mail"
    assert model.header_text(3) == "Telefon\n→ Phone"
    assert wizard.mapping() == {
        "Vorname": "first_name",
        "Nachname": "last_name",
        "E-Mail": "email",
        "Telefon": "phone",
    }
    qtmodeltester.check(model)


def test_changing_the_delimiter_reads_the_file_again(qtbot, tmp_path, open_wizard):
    path = tmp_path / "leads.csv"
    path.write_text(
        "Email,Name;Phone\n"
        "ada@example.com,Ada Lovelace;+44 20 7946 0000\n"
        "grace@example.com,Grace Hopper;+1 202 555 0143\n",
        encoding="utf-8",
    )
    wizard = open_wizard(path)
    detected = wizard.delimiter_combo.currentData()
    other = ";" if detected == "," else ","
    headers = {",": ["Email", "Name;Phone"], ";": ["Email,Name", "Phone"]}
    assert wizard.preview().headers == headers[detected]

    choose(wizard.delimiter_combo, other)

    assert wizard.delimiter_combo.currentData() == other
    assert wizard.preview().headers == headers[other]
    model = wizard.preview_model
    assert [model.header_text(column).split("\n")[0] for column in (0, 1)] == headers[other]
    cells = {",": "Ada Lovelace;+44 20 7946 0000", ";": "ada@example.com,Ada Lovelace"}
    assert model.cell_text(0, 1 if other == "," else 0) == cells[other]


def test_a_changed_mapping_is_honoured(qtbot, tmp_path, database, open_wizard):
    path = tmp_path / "partners.csv"
    path.write_text(
        "Name,Work,Phone\n"
        "Ada Lovelace,ada@example.com,+44 20 7946 0000\n"
        "Grace Hopper,grace@example.com,+1 202 555 0143\n",
        encoding="utf-8",
    )
    wizard = open_wizard(path)
    assert wizard.mapping()["Work"] == ""

    work = wizard.preview().headers.index("Work")
    choose(wizard._mapping_combos[work], "email")
    wizard.set_field("Phone", "skip")

    assert wizard.preview_model.header_text(work) == "Work\n→ E-mail"
    list_id = import_and_wait(qtbot, wizard)

    leads = leads_of(database, list_id)
    assert [(lead.first_name, lead.last_name, lead.email, lead.phone) for lead in leads] == [
        ("Ada", "Lovelace", "ada@example.com", ""),
        ("Grace", "Hopper", "grace@example.com", ""),
    ]
    assert "Work" not in (leads[0].extra or {})


def test_a_file_without_a_recognised_contact_column_is_mapped_by_hand(
    qtbot, tmp_path, database, open_wizard
):
    path = tmp_path / "kunden.csv"
    path.write_text(
        "Name,Kontakt\nAda Lovelace,ada@example.com\nGrace Hopper,grace@example.com\n",
        encoding="utf-8",
    )
    wizard = open_wizard(path)
    assert wizard.error_label.text() == ""
    assert wizard.mapping() == {"Name": "full_name", "Kontakt": ""}
    assert "No column was recognised as e-mail or phone" in wizard.notes_label.text()

    wizard.set_field("Kontakt", "email")
    list_id = import_and_wait(qtbot, wizard)

    leads = leads_of(database, list_id)
    assert [(lead.first_name, lead.last_name, lead.email) for lead in leads] == [
        ("Ada", "Lovelace", "ada@example.com"),
        ("Grace", "Hopper", "grace@example.com"),
    ]


def test_without_an_email_or_phone_column_the_import_fails_with_a_message(
    qtbot, tmp_path, database, open_wizard
):
    path = tmp_path / "kunden.csv"
    path.write_text("Name,Kontakt\nAda Lovelace,ada@example.com\n", encoding="utf-8")
    wizard = open_wizard(path)

    with qtbot.waitSignal(wizard.runner.failed, timeout=IMPORT_TIMEOUT_MS):
        wizard.import_button.click()

    assert "looks like an e-mail or phone column" in wizard.error_label.text()
    assert list_titles(database) == []


def test_the_mapping_is_remembered_for_the_next_file_of_the_same_header(
    qtbot, tmp_path, database, open_wizard
):
    header = "Name,Work,Notes,Phone\n"
    first = tmp_path / "march.csv"
    first.write_text(header + "Ada Lovelace,ada@example.com,vip,\n", encoding="utf-8")
    wizard = open_wizard(first)
    wizard.set_field("Work", "email")
    wizard.set_field("Notes", "source")
    import_and_wait(qtbot, wizard)

    second = tmp_path / "april.csv"
    second.write_text(header + "Grace Hopper,grace@example.com,fair,\n", encoding="utf-8")
    again = open_wizard(second)

    assert again.mapping() == {
        "Name": "full_name",
        "Work": "email",
        "Notes": "source",
        "Phone": "phone",
    }
    assert "last file with the same header" in again.mapping_note.text()
    assert again.preview_model.header_text(1) == "Work\n→ E-mail"


def test_required_fields_refuse_rows_without_them(qtbot, tmp_path, database, open_wizard):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "First Name,Email,Phone\n"
        "Ada,ada@example.com,+44 20 7946 0000\n"
        "Grace,grace@example.com,\n"
        ",alan@example.com,+44 20 7946 0001\n",
        encoding="utf-8",
    )
    wizard = open_wizard(path)
    wizard.required_boxes["phone"].setChecked(True)
    wizard.required_boxes["first_name"].setChecked(True)

    list_id = import_and_wait(qtbot, wizard)

    assert [lead.email for lead in leads_of(database, list_id)] == ["ada@example.com"]
    with database.session() as session:
        refused = {row.row_number: row.reason for row in lead_lists.refused_rows(session, list_id)}
    assert sorted(refused) == [3, 4]
    assert "phone" in refused[3].lower()
    assert "first name" in refused[4].lower()


def test_a_title_in_use_fails_with_a_message_and_no_new_list(
    qtbot, tmp_path, database, open_wizard
):
    path = write_leads(tmp_path / "spring.csv", 3)
    import_and_wait(qtbot, open_wizard(path))
    wizard = open_wizard(path, title="spring")

    with qtbot.waitSignal(wizard.runner.failed, timeout=IMPORT_TIMEOUT_MS):
        wizard.import_button.click()

    assert "already a lead list named 'spring'" in wizard.error_label.text()
    assert wizard.error_label.isVisibleTo(wizard)
    assert wizard.import_button.isEnabled()
    assert list_titles(database) == ["spring"]


def test_cancel_mid_import_leaves_no_list(qtbot, tmp_path, database, open_wizard):
    path = write_leads(tmp_path / "big.csv", 200_000)
    wizard = open_wizard(path)

    with qtbot.waitSignal(wizard.runner.progress, timeout=IMPORT_TIMEOUT_MS):
        wizard.import_button.click()
    assert wizard.progress_panel.isVisibleTo(wizard)
    assert "rows read" in wizard.progress_label.text()
    assert not wizard.import_button.isEnabled()
    with qtbot.waitSignal(wizard.runner.cancelled, timeout=IMPORT_TIMEOUT_MS):
        wizard.cancel_import_button.click()

    assert not wizard.runner.is_running()
    assert wizard.list_id is None
    assert "cancelled" in wizard.error_label.text()
    assert wizard.import_button.isEnabled()
    assert list_titles(database) == []
    assert lead_count(database) == 0


def test_closing_the_dialog_while_importing_cancels_and_waits(
    qtbot, tmp_path, database, open_wizard
):
    path = write_leads(tmp_path / "big.csv", 200_000)
    wizard = open_wizard(path)
    with qtbot.waitSignal(wizard.runner.progress, timeout=IMPORT_TIMEOUT_MS):
        wizard.import_button.click()

    wizard.reject()

    assert not wizard.runner.is_running()
    assert not wizard.isVisible()
    assert list_titles(database) == []
    assert lead_count(database) == 0


def test_the_page_shows_counts_and_refused_rows_after_an_import(qtbot, tmp_path, database):
    path = tmp_path / "spring leads.csv"
    path.write_text(
        "First Name,Last Name,Email,Phone\n"
        "Ada,Lovelace,ada@example.com,+44 20 7946 0000\n"
        "Grace,Hopper,not-an-email,\n"
        "Alan,Turing,alan@example.com,\n",
        encoding="utf-8",
    )
    page = LeadListsPage(database)
    qtbot.addWidget(page)

    wizard = page.open_import_wizard(path)
    with qtbot.waitSignal(page.lists_changed, timeout=IMPORT_TIMEOUT_MS):
        wizard.import_button.click()

    result = page.findChild(QObject, "import-result")
    assert result is not None
    assert result.summary_label.text().startswith("2 leads imported, 1 row refused")
    assert result.model.rowCount() == 1
    assert result.model.cell_text(0, 0) == "3"
    assert "not-an-email" in result.model.cell_text(0, 1)
    assert page.model.rowCount() == 1
    with qtbot.waitSignal(result.destroyed):
        result.close()


# Importing while sending ---------------------------------------------------------------


class EventLoopWatch(QObject):
    """Ticks on the GUI thread and keeps the longest gap between two ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.max_gap_s = 0.0
        self.ticks = 0
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        now = time.monotonic()
        self.max_gap_s = max(self.max_gap_s, now - self._last)
        self._last = now
        self.ticks += 1


def start_sending(database: Database, list_id: int, offer: tuple[int, int]) -> int:
    affiliate_id, offer_id = offer
    with database.writer() as session:
        distribution = distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title="Every second",
                lead_list_id=list_id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=SendInterval(1, PeriodUnit.SECONDS),
                fixed_fields={},
                manager_name="Tester",
            ),
        )
        session.commit()
        return distribution.id


@pytest.mark.slow
def test_a_large_import_keeps_the_window_and_the_sender_going(
    qtbot, tmp_path, database, sandbox, make_list, make_offer, open_wizard
):
    start_sending(database, make_list("To send", count=400), make_offer(sandbox.url))
    sender = SenderThread(database)
    sender.start()
    try:
        qtbot.waitUntil(lambda: len(sandbox.received) >= 2, timeout=SEND_TIMEOUT_MS)
        path = write_leads(tmp_path / "large.csv", 300_000, prefix="big")
        wizard = open_wizard(path)
        watch = EventLoopWatch()

        watch.start()
        started = time.time()
        list_id = import_and_wait(qtbot, wizard)
        ended = time.time()
        watch.stop()
        # One more send after the import shows the sender went on afterwards too.
        sent_before_end = len(sandbox.received)
        qtbot.waitUntil(lambda: len(sandbox.received) > sent_before_end, timeout=SEND_TIMEOUT_MS)
    finally:
        assert sender.shutdown()

    times = [entry["received_at"] for entry in sandbox.received]
    during = [t for t in times if started <= t <= ended]
    around = [t for t in times if t < started][-1:] + during
    around += [t for t in times if t > ended][:1]
    gaps = [later - earlier for earlier, later in itertools.pairwise(around)]
    print(
        f"\nimport of 300000 rows: {ended - started:.1f} s; longest event-loop pause: "
        f"{watch.max_gap_s * 1000:.0f} ms over {watch.ticks} ticks; "
        f"{len(during)} sends during the import, gaps {min(gaps):.2f}-{max(gaps):.2f} s"
    )
    assert lead_count(database, list_id) == 300_000
    assert first_email(database, list_id) == "big0@example.com"
    assert watch.max_gap_s < MAX_EVENT_LOOP_PAUSE_S
    assert len(during) >= max(2, int(ended - started) - 2)
    low, high = SEND_GAP_RANGE_S
    assert all(low <= gap <= high for gap in gaps), gaps
