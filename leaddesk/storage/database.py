"""Opening the data file: pragmas, migrations, backups and short-lived sessions."""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from leaddesk.errors import DataFileError
from leaddesk.paths import DATA_FILE_NAME

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000
BACKUPS_KEPT = 5
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def fold(text: str | None) -> str:
    """Case-insensitive form of a text for searching, for every alphabet, not just ASCII."""
    return (text or "").casefold()


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Transactions are begun by the "begin" listener, not by the driver's own guesswork.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("ld_fold", 1, fold, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL lets the window read while the sender writes.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def make_engine(path: Path, immediate: bool = False) -> Engine:
    """An engine on the data file; with `immediate`, each transaction takes the write lock first.

    Writers start with the lock so that two of them never both read and then both try to
    write, which SQLite answers with "database is locked" at once instead of waiting.
    """
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_connect)
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


@dataclass
class Database:
    """An open data file: sessions for reading, and sessions that write."""

    path: Path
    engine: Engine
    write_engine: Engine
    readers: sessionmaker[Session]
    writers: sessionmaker[Session]

    def session(self) -> Session:
        """A session for reading; it may write, but a writer avoids waits and retries."""
        return self.readers()

    def writer(self) -> Session:
        """A session whose transaction holds the write lock from its start."""
        return self.writers()

    def close(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


def open_database(folder: Path) -> Database:
    """Open (creating or upgrading) the data file in `folder`, or raise DataFileError."""
    path = folder / DATA_FILE_NAME
    _prepare_folder(folder)
    existed = path.exists()
    engine = make_engine(path)
    write_engine = make_engine(path, immediate=True)
    try:
        engine.connect().close()
        if not existed:
            os.chmod(path, 0o600)
        _migrate(write_engine, path, existed)
    except (OperationalError, DatabaseError) as error:
        engine.dispose()
        write_engine.dispose()
        raise DataFileError(describe_error(error, path)) from error
    return Database(
        path=path,
        engine=engine,
        write_engine=write_engine,
        readers=sessionmaker(engine, expire_on_commit=False),
        writers=sessionmaker(write_engine, expire_on_commit=False),
    )


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise DataFileError(
            f"{folder} is a file, not a folder. Choose a folder for the data with --data-dir "
            "or LEADDESK_DATA_DIR."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise DataFileError(
            f"Cannot create the data folder {folder}: {error.strerror}. "
            "Choose another folder with --data-dir or LEADDESK_DATA_DIR."
        ) from error
    if not os.access(folder, os.W_OK):
        raise DataFileError(
            f"The data folder {folder} is read-only. Give your user write permission on it, "
            "or choose another folder with --data-dir or LEADDESK_DATA_DIR."
        )


def _migrate(engine: Engine, path: Path, existed: bool) -> None:
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.begin() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        if existed and current is not None:
            _back_up(path, current)
        log.info("Upgrading data file %s from %s to %s", path, current, head)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _back_up(path: Path, revision: str) -> None:
    """Copy the data file aside before a migration, keeping the newest few copies."""
    backups = path.parent / "backups"
    backups.mkdir(exist_ok=True, mode=0o700)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = backups / f"{path.stem}-{stamp}-{revision}.sqlite3"
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    os.chmod(target, 0o600)
    for old in sorted(backups.glob(f"{path.stem}-*.sqlite3"))[:-BACKUPS_KEPT]:
        old.unlink()
    log.info("Backed up the data file to %s", target)


def describe_error(error: Exception, path: Path) -> str:
    """What a failure of the data file means, and what the manager can do about it."""
    text = str(getattr(error, "orig", error)).lower()
    if "not a database" in text or "malformed" in text:
        return (
            f"The data file {path} is damaged or is not a LeadDesk file. Move it aside and "
            "restore a copy from the backups folder beside it, or start with an empty folder."
        )
    if "locked" in text or "busy" in text:
        return f"The data file {path} is locked by another program. Close it there and try again."
    if "disk" in text and "full" in text:
        return f"The disk holding {path} is full. Free some space and try again."
    if "readonly" in text or "read-only" in text:
        return f"The data file {path} is read-only. Give your user write permission on it."
    return f"The data file {path} cannot be used: {text}"
