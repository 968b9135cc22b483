"""Opening the data file: where it lives, its schema, its settings and its failures."""

import os
import sqlite3
import stat

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from leaddesk.core.offer_config import OfferConfig
from leaddesk.errors import DataFileError
from leaddesk.paths import DATA_DIR_ENV, DATA_FILE_NAME, data_dir
from leaddesk.services import directory
from leaddesk.storage import database as database_module
from leaddesk.storage.database import alembic_config, make_engine, open_database
from leaddesk.storage.models import Base, Offer


def test_migrations_build_exactly_the_models_schema(tmp_path):
    database = open_database(tmp_path)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    database.close()
    assert differences == []


def test_file_is_in_wal_mode_with_a_busy_timeout_and_owner_only(tmp_path):
    database = open_database(tmp_path / "data")
    with database.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    database.close()
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "data" / DATA_FILE_NAME).st_mode) == 0o600


def test_reopening_keeps_what_was_stored(tmp_path):
    database = open_database(tmp_path)
    with database.writer() as session:
        directory.add_affiliate(session, "North")
        session.commit()
    database.close()
    again = open_database(tmp_path)
    with again.session() as session:
        assert [a.name for a in directory.all_of(session, directory.Affiliate)] == ["North"]
    again.close()


def test_data_dir_comes_from_the_option_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert data_dir(tmp_path / "option") == tmp_path / "option"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert "LeadDesk" in str(data_dir())


def test_a_corrupt_file_says_what_to_do(tmp_path):
    (tmp_path / DATA_FILE_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataFileError, match="damaged"):
        open_database(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_a_read_only_folder_says_what_to_do(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DataFileError, match="read-only"):
            open_database(folder)
    finally:
        folder.chmod(0o700)


def test_a_file_from_the_first_version_is_backed_up_and_upgraded_without_loss(tmp_path):
    path = tmp_path / DATA_FILE_NAME
    engine = make_engine(path, immediate=True)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO affiliate (name, created_at) VALUES ('North', '2026-01-02 03:04:05')"
        )
    engine.dispose()

    database = open_database(tmp_path)

    with database.session() as session:
        assert [a.name for a in directory.all_of(session, directory.Affiliate)] == ["North"]
        indexes = session.execute(text("PRAGMA index_list(delivery)")).all()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    database.close()
    assert "ix_delivery_in_flight" in {row[1] for row in indexes}
    assert revision == "0005"
    [backup] = (tmp_path / "backups").iterdir()
    assert backup.name.endswith("-0001.sqlite3")
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT name FROM affiliate").fetchall() == [("North",)]


def test_an_up_to_date_file_is_not_backed_up_again(tmp_path):
    open_database(tmp_path).close()
    open_database(tmp_path).close()
    assert not (tmp_path / "backups").exists()


def test_a_file_locked_by_another_program_says_what_to_do(tmp_path, monkeypatch):
    open_database(tmp_path).close()
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 300)
    other_program = sqlite3.connect(tmp_path / DATA_FILE_NAME, isolation_level=None)
    other_program.execute("PRAGMA journal_mode = DELETE")
    other_program.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DataFileError, match="locked by another program"):
            open_database(tmp_path)
    finally:
        other_program.execute("ROLLBACK")
        other_program.close()


def test_upgrading_counts_the_duplicates_of_lists_imported_before(tmp_path):
    path = tmp_path / DATA_FILE_NAME
    engine = make_engine(path, immediate=True)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql(
            "INSERT INTO lead_list (id, title, created_at, rows_read, lead_count, refused_count) "
            "VALUES (1, 'Spring', '2026-01-02 03:04:05', 3, 1, 2)"
        )
        connection.exec_driver_sql(
            "INSERT INTO refused_row (lead_list_id, row_number, reason, raw) VALUES "
            "(1, 3, 'duplicate of row 2 (same e-mail)', '{}'), (1, 4, 'no e-mail or phone', '{}')"
        )
    engine.dispose()

    database = open_database(tmp_path)
    with database.session() as session:
        counted = session.execute(
            text("SELECT duplicate_count, archived_at FROM lead_list WHERE id = 1")
        ).one()
    database.close()
    assert tuple(counted) == (1, None)


def test_upgrading_keeps_an_earlier_offer_sending_as_before(tmp_path):
    path = tmp_path / DATA_FILE_NAME
    engine = make_engine(path, immediate=True)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.exec_driver_sql(
            "INSERT INTO offer (id, name, url, created_at) "
            "VALUES (1, 'Solar', 'https://ads.example/leads', '2026-01-02 03:04:05')"
        )
    engine.dispose()

    database = open_database(tmp_path)
    with database.session() as session:
        offer = session.get_one(Offer, 1)
        offer_config = OfferConfig.from_json(offer.config)
    database.close()

    assert offer_config == OfferConfig.for_url("https://ads.example/leads")
    assert offer_config.fields == ()
    assert offer_config.problems() == []
