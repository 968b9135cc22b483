"""Offers' secrets: in the keyring where one works, in the data file otherwise, never logged."""

from __future__ import annotations

import logging

import keyring.errors
import pytest
from sqlalchemy import select

from leaddesk.core.offer_config import AUTH_SECRET, AuthKind, Endpoint, OfferConfig
from leaddesk.services import directory, offer_secrets
from leaddesk.storage.database import open_database
from leaddesk.storage.models import OfferSecret

API_KEY = "sk-live-4f1c9e7a2b"
URL = "https://api.example.com/leads"


@pytest.fixture
def offer_id(database) -> int:
    config = OfferConfig(endpoint=Endpoint(url=URL, auth=AuthKind.HEADER, auth_name="X-Api-Key"))
    with database.writer() as session:
        offer = directory.add_offer(session, "Solar", URL, config=config)
        session.commit()
        return offer.id


def store(database, offer_id: int, name: str, value: str) -> str:
    with database.writer() as session:
        kept = offer_secrets.store(session, offer_id, name, value)
        session.commit()
    return kept


def load(database, offer_id: int, *names: str) -> dict[str, str]:
    with database.session() as session:
        return offer_secrets.load(session, offer_id, names)


def rows_in_file(database) -> list[tuple[int, str, str]]:
    with database.session() as session:
        return [(r.offer_id, r.name, r.value) for r in session.scalars(select(OfferSecret))]


def test_the_keyring_keeps_a_secret_and_the_data_file_does_not(
    database, offer_id, memory_keyring, caplog
):
    caplog.set_level(logging.DEBUG)
    assert offer_secrets.keyring_available()
    assert offer_secrets.where_kept() == offer_secrets.IN_KEYRING

    assert store(database, offer_id, AUTH_SECRET, API_KEY) == offer_secrets.IN_KEYRING

    assert rows_in_file(database) == []
    [(service, user)] = memory_keyring.items
    assert service == "LeadDesk" and user.endswith(f":offer-{offer_id}:auth")
    assert load(database, offer_id, AUTH_SECRET, "header:X-Other") == {AUTH_SECRET: API_KEY}
    assert API_KEY not in caplog.text


def test_two_data_files_never_share_a_key(tmp_path, memory_keyring):
    first, second = open_database(tmp_path / "one"), open_database(tmp_path / "two")
    try:
        ids = []
        for each in (first, second):
            with each.writer() as session:
                ids.append(directory.add_offer(session, "Solar", URL).id)
                session.commit()
        assert ids[0] == ids[1]
        store(first, ids[0], AUTH_SECRET, "first-key")
        store(second, ids[1], AUTH_SECRET, "second-key")

        assert len(memory_keyring.items) == 2
        assert load(first, ids[0], AUTH_SECRET) == {AUTH_SECRET: "first-key"}
        assert load(second, ids[1], AUTH_SECRET) == {AUTH_SECRET: "second-key"}
    finally:
        first.close()
        second.close()


def test_without_a_keyring_the_secret_goes_to_the_data_file(database, offer_id, caplog):
    caplog.set_level(logging.DEBUG)
    assert not offer_secrets.keyring_available()
    assert offer_secrets.where_kept() == offer_secrets.IN_DATA_FILE

    assert store(database, offer_id, AUTH_SECRET, API_KEY) == offer_secrets.IN_DATA_FILE
    store(database, offer_id, AUTH_SECRET, API_KEY + "-new")

    assert rows_in_file(database) == [(offer_id, AUTH_SECRET, API_KEY + "-new")]
    assert load(database, offer_id, AUTH_SECRET) == {AUTH_SECRET: API_KEY + "-new"}
    assert API_KEY not in caplog.text


def test_a_keyring_failing_at_work_falls_back_and_logs_no_value(
    database, offer_id, memory_keyring, caplog
):
    caplog.set_level(logging.DEBUG)
    memory_keyring.fail_with = keyring.errors.KeyringLocked(f"locked while storing {API_KEY}")

    assert store(database, offer_id, AUTH_SECRET, API_KEY) == offer_secrets.IN_DATA_FILE

    assert rows_in_file(database) == [(offer_id, AUTH_SECRET, API_KEY)]
    assert "KeyringLocked" in caplog.text and "data file" in caplog.text
    assert API_KEY not in caplog.text
    assert offer_secrets.where_kept() == offer_secrets.IN_DATA_FILE
    assert load(database, offer_id, AUTH_SECRET) == {AUTH_SECRET: API_KEY}


def test_a_keyring_that_works_again_takes_over_from_the_data_file(
    database, offer_id, memory_keyring
):
    memory_keyring.fail_with = keyring.errors.KeyringLocked("locked")
    store(database, offer_id, AUTH_SECRET, "old")
    memory_keyring.fail_with = None
    offer_secrets.clear_cache()

    store(database, offer_id, AUTH_SECRET, "new")

    assert rows_in_file(database) == []
    assert load(database, offer_id, AUTH_SECRET) == {AUTH_SECRET: "new"}


def test_load_asks_the_keyring_once_until_a_secret_changes(database, offer_id, memory_keyring):
    store(database, offer_id, AUTH_SECRET, API_KEY)
    offer_secrets.clear_cache()
    asked = []
    original = memory_keyring.get_password

    def counting(service: str, username: str) -> str | None:
        asked.append(username)
        return original(service, username)

    memory_keyring.get_password = counting
    for _ in range(5):
        assert load(database, offer_id, AUTH_SECRET) == {AUTH_SECRET: API_KEY}
    assert len(asked) == 1

    # Another process changing a secret of the same data file is seen by the next load.
    user = next(iter(memory_keyring.items))[1]
    memory_keyring.items[("LeadDesk", user)] = "changed-elsewhere"
    with database.writer() as session:
        offer_secrets._mark_changed(session)
        session.commit()
    assert load(database, offer_id, AUTH_SECRET) == {AUTH_SECRET: "changed-elsewhere"}
    assert len(asked) == 2


@pytest.mark.parametrize("with_keyring", [True, False])
def test_forget_removes_secrets_wherever_they_are(request, database, offer_id, with_keyring):
    backend = request.getfixturevalue("memory_keyring") if with_keyring else None
    store(database, offer_id, AUTH_SECRET, API_KEY)
    store(database, offer_id, "header:X-Token", "t0ken")

    with database.writer() as session:
        offer_secrets.forget(session, offer_id, ["header:X-Token"])
        session.commit()
    assert load(database, offer_id, AUTH_SECRET, "header:X-Token") == {AUTH_SECRET: API_KEY}

    with database.writer() as session:
        offer_secrets.forget(session, offer_id)
        session.commit()
    assert load(database, offer_id, AUTH_SECRET) == {}
    assert rows_in_file(database) == []
    if backend is not None:
        assert backend.items == {}


def test_secrets_are_labelled_as_a_manager_knows_them():
    config = OfferConfig(endpoint=Endpoint(url=URL, auth=AuthKind.BASIC, auth_name="partner"))
    assert offer_secrets.secret_label(config, AUTH_SECRET) == "Password of the user partner"
    assert offer_secrets.secret_label(config, "header:X-Key") == "Value of the header X-Key"
