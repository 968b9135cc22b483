"""Log files: rotating, in the user's log folder, for whoever must fix a problem."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from leaddesk.paths import log_dir

LOG_FILE_NAME = "leaddesk.log"
LOG_FILE_BYTES = 2_000_000
LOG_FILES_KEPT = 5


def setup_logging(console: bool = False) -> str | None:
    """Log to a rotating file (and to stderr when asked); returns the log file's path."""
    root = logging.getLogger()
    if any(getattr(handler, "leaddesk", False) for handler in root.handlers):
        return None
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = None
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = str(folder / LOG_FILE_NAME)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILES_KEPT, encoding="utf-8"
        )
    except OSError:
        # Without a writable log folder LeadDesk still works; problems go to stderr.
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.leaddesk = True
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        stream.setFormatter(formatter)
        stream.leaddesk = True
        root.addHandler(stream)
    return path
