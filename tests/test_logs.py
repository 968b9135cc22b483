"""The log file: where it is, and that it never holds a lead's e-mail, phone, or a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaddesk.logs import LOG_FILE_NAME, mask_personal_data, setup_logging

log = logging.getLogger("leaddesk.tests.logs")


def leaddesk_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "leaddesk", False)]


@pytest.fixture
def log_file(tmp_path, monkeypatch) -> Iterator[Path]:
    """LeadDesk's log file, in a folder of this test's own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = logging.getLogger()
    level = root.level
    # setup_logging does nothing while LeadDesk's handlers are installed.
    earlier = leaddesk_handlers()
    for handler in earlier:
        root.removeHandler(handler)
    path = setup_logging()
    try:
        assert path is not None
        yield Path(path)
    finally:
        for handler in leaddesk_handlers():
            root.removeHandler(handler)
            handler.close()
        for handler in earlier:
            root.addHandler(handler)
        root.setLevel(level)


def written(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_log_file_is_in_the_user_log_folder(log_file, tmp_path):
    assert log_file.name == LOG_FILE_NAME
    assert log_file.is_relative_to(tmp_path / "state")


def test_leads_and_secrets_never_reach_the_file(log_file):
    log.info("Lead %s refused by the advertiser", "ada.lovelace+spring@example.co.uk")
    log.warning("Phones %s, %s, %s", "+1-532-344-1362", "(240) 452-2332", "+4930123456")
    log.info("Lead phone 030 1234 5678 and 240.452.2332")
    log.error("POST https://127.0.0.1/leads?api_key=k3y-abc123&x=1 failed")
    log.error("Sent with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig and token=t0ken")
    try:
        raise ValueError("Duplicate lead: grace.hopper@example.org was already received")
    except ValueError:
        log.exception("Delivery %s failed", 17)

    text = written(log_file)

    for personal in (
        "ada.lovelace",
        "example.co.uk",
        "532-344-1362",
        "452-2332",
        "4930123456",
        "1234 5678",
        "452.2332",
        "k3y-abc123",
        "eyJhbGciOiJIUzI1NiJ9",
        "t0ken",
        "grace.hopper",
        "example.org",
    ):
        assert personal not in text
    assert "Lead a***@***.uk refused by the advertiser" in text
    assert "Phones +***62, ***32, +***56" in text
    assert "api_key=***&x=1" in text
    assert "Authorization: Bearer ***" in text
    assert "ValueError: Duplicate lead: g***@***.org was already received" in text
    assert "Delivery 17 failed" in text
    assert "Traceback (most recent call last)" in text


def test_ordinary_messages_are_written_unchanged(log_file):
    messages = [
        "Distribution 42: pause",
        "Distribution 123456 sent every lead and is Done",
        "Anchor moved to 2024-05-01T12:30:45.123456+00:00 (was 2024-04-30 23:59:59,999)",
        "Backed up the data file to /data/backups/leaddesk-20240501-123000-0002.sqlite3",
        "Attempt 3 to 127.0.0.1:8765 failed: timed out after 12.5 s",
        "Imported 1200 of 1250 rows; 50 refused",
        "Sender lease held by host:4242:ab12cd34",
    ]
    for message in messages:
        log.info("%s", message)

    text = written(log_file)

    for message in messages:
        assert message in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("ada@example.com", "a***@***.com"),
        ("<Ada@Example.DE>", "<A***@***.DE>"),
        ("ops@localhost", "o***@***"),
        ("+1-532-344-1362", "+***62"),
        ("(240) 452-2332", "***32"),
        ("+44 (0)20 7946 0958", "+***58"),
        ("phone=4930123456;", "phone=***56;"),
        ('{"phone": "+4915112345678"}', '{"phone": "+***78"}'),
        ("Bearer abc.def", "Bearer ***"),
        ("'apiKey': 'abc'", "'apiKey': '***'"),
        ("password=hunter2", "password=***"),
    ],
)
def test_masking(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01 12:30:45,123",
        "2024-05-01T12:30:45+02:00",
        "Tue, 01 May 2024 12:00:00 +0200",
        "12:30:45.123456",
        "Distribution 999999",
        "0.1234567 s",
        "1234567.50 EUR",
        "uuid 3f2a1234567b",
        "leaddesk-20240501-123000",
        "a***@***.com and +***62, masked before",
    ],
)
def test_masking_leaves_ordinary_text_alone(text):
    assert mask_personal_data(text) == text


def test_a_malformed_call_is_still_written_masked(log_file):
    log.info("Lead %s %s", "ada@example.com")

    text = written(log_file)

    assert "ada@example.com" not in text
    assert "a***@***.com" in text
