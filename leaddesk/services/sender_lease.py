"""One sender per data file: a lease the sending process renews while it runs.

The app and a headless `leaddesk run` may open the same file. Only the holder of the lease
claims leads, so the pace is not doubled, and a sender that starts never mistakes another's
requests in flight for ones left by a crash. A holder that dies stops renewing, and the
lease passes to another sender once it has expired.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leaddesk.core.clock import utc_now
from leaddesk.storage.models import Setting

LEASE_KEY = "sender_lease"
LEASE_TTL_S = 15.0
RENEW_EVERY_S = 4.0


def new_owner() -> str:
    """A name for this sender, unique even for two senders in one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(session: Session, owner: str, now: datetime | None = None) -> bool:
    """Take or renew the lease for `owner` unless another live sender holds it; commits."""
    now = now or utc_now()
    setting = session.get(Setting, LEASE_KEY)
    if setting is not None:
        holder, renewed_at = _read(setting.value)
        fresh = now - renewed_at < timedelta(seconds=LEASE_TTL_S)
        if holder != owner and fresh and not _died_here(holder):
            session.commit()
            return False
    value = json.dumps({"owner": owner, "renewed_at": now.isoformat()})
    if setting is None:
        session.add(Setting(key=LEASE_KEY, value=value))
    else:
        setting.value = value
    session.commit()
    return True


def release(session: Session, owner: str) -> None:
    setting = session.get(Setting, LEASE_KEY)
    if setting is not None and _read(setting.value)[0] == owner:
        session.delete(setting)
    session.commit()


def _died_here(holder: str) -> bool:
    """True when the holder ran on this computer and its process no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _read(value: str) -> tuple[str, datetime]:
    try:
        data = json.loads(value)
        return str(data["owner"]), datetime.fromisoformat(data["renewed_at"])
    except (ValueError, KeyError, TypeError):
        return "", datetime.min
