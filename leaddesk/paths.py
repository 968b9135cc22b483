"""Where LeadDesk keeps its data file, backups and logs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "LeadDesk"
DATA_DIR_ENV = "LEADDESK_DATA_DIR"
DATA_FILE_NAME = "leaddesk.sqlite3"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder for the data file: the one given, else $LEADDESK_DATA_DIR, else the user's."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    """The `resources/` folder, beside the package or inside a frozen build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
