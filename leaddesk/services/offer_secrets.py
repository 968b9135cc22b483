"""Offers' secrets: in the system keyring where one exists, otherwise in the data file.

A secret is named as OfferConfig.secret_names() names it (`auth`, `header:X-Api-Key`). In the
keyring it is kept under the service KEYRING_SERVICE and a user name that holds the data
file's own id, so two data files never share a key. When the keyring fails while in use
(locked, no D-Bus), the secret goes to the data file instead and LeadDesk stops asking the
keyring for the rest of the process. Values are never logged.

`load` is called for every lead sent, so keyring answers are cached in this process. The
cache is dropped whenever any process stores or forgets a secret of the same data file: each
change writes a new marker in the Setting table, which `load` reads (one row by its key).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leaddesk.core.offer_config import AUTH_SECRET, AuthKind, OfferConfig
from leaddesk.storage.models import Offer, OfferSecret, Setting

log = logging.getLogger(__name__)

KEYRING_SERVICE = "LeadDesk"
FILE_ID_KEY = "secrets_file_id"
CHANGED_KEY = "secrets_changed"
IN_KEYRING = "the system keyring"
IN_DATA_FILE = "the data file"
HEADER_PREFIX = "header:"

_lock = threading.Lock()
_available: bool | None = None
# data file id -> (change marker, {(offer_id, name): value or None when the keyring has none})
_cache: dict[str, tuple[str, dict[tuple[int, str], str | None]]] = {}


def keyring_available() -> bool:
    """Whether a real keyring backend is there (not the fail or null one); asked once."""
    global _available
    with _lock:
        if _available is None:
            _available = _has_real_backend()
        return _available


def _has_real_backend() -> bool:
    try:
        backend = keyring.get_keyring()
    except Exception as error:  # a broken keyring configuration must not stop LeadDesk
        log.warning("The system keyring cannot be used (%s)", type(error).__name__)
        return False
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return bool(backend.backends)
    return not isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


def where_kept() -> str:
    """Where a secret stored now would be kept, in the words the editor shows."""
    return IN_KEYRING if keyring_available() else IN_DATA_FILE


def clear_cache() -> None:
    """Forget what this process learnt of the keyring: after the keyring backend changed."""
    global _available
    with _lock:
        _available = None
        _cache.clear()


def secret_label(config: OfferConfig, name: str) -> str:
    """A secret's name as a manager knows it: 'API key (header X-Api-Key)', 'Token'."""
    if name.startswith(HEADER_PREFIX):
        return f"Value of the header {name[len(HEADER_PREFIX) :]}"
    if name != AUTH_SECRET:
        return name
    endpoint = config.endpoint
    return {
        AuthKind.HEADER: f"API key (header {endpoint.auth_name})",
        AuthKind.QUERY: f"API key (query field {endpoint.auth_name})",
        AuthKind.BODY: f"API key (body field {endpoint.auth_name})",
        AuthKind.BEARER: "Bearer token",
        AuthKind.BASIC: f"Password of the user {endpoint.auth_name}",
    }.get(endpoint.auth, "Secret")


def store(session: Session, offer_id: int, name: str, value: str) -> str:
    """Keep one secret of an offer; returns where it went (IN_KEYRING or IN_DATA_FILE).

    The caller commits the session: the data file part of the change is in it.
    """
    file_id = _file_id(session, create=True)
    changed = _mark_changed(session)
    kept = IN_DATA_FILE
    if keyring_available() and _keyring_call(
        "store", keyring.set_password, KEYRING_SERVICE, _user(file_id, offer_id, name), value
    ):
        kept = IN_KEYRING
        session.execute(_rows(offer_id, [name], delete(OfferSecret)))
    else:
        _store_in_file(session, offer_id, name, value)
    with _lock:
        _, entries = _cache.pop(file_id, ("", {}))
        if kept == IN_KEYRING:
            entries[(offer_id, name)] = value
        else:
            entries.pop((offer_id, name), None)
        _cache[file_id] = (changed, entries)
    return kept


def load(session: Session, offer_id: int, names: Iterable[str]) -> dict[str, str]:
    """The offer's secrets among `names` that are kept somewhere; missing ones are absent."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        # Most offers need none; the sender asks for every lead it claims.
        return {}
    rows = session.scalars(_rows(offer_id, wanted, select(OfferSecret)))
    found = {row.name: row.value for row in rows}
    missing = [name for name in wanted if name not in found]
    file_id = _file_id(session, create=False)
    if not missing or file_id is None or not keyring_available():
        return found
    entries = _fresh_entries(file_id, _changed_marker(session))
    for name in missing:
        with _lock:
            known = (offer_id, name) in entries
            value = entries.get((offer_id, name))
        if not known:
            value = _from_keyring(file_id, offer_id, name)
            with _lock:
                entries[(offer_id, name)] = value
        if value is not None:
            found[name] = value
    return found


def stored_names(session: Session, offer_id: int, names: Iterable[str]) -> set[str]:
    """Which of `names` have a secret kept, without handing the values out."""
    return set(load(session, offer_id, names))


def forget(session: Session, offer_id: int, names: Iterable[str] | None = None) -> None:
    """Remove the offer's secrets among `names`; with no names, all it has.

    The keyring cannot list what it holds, so "all" means those the offer's configuration
    names and those in the data file. The caller commits the session.
    """
    if names is None:
        offer = session.get(Offer, offer_id)
        named = OfferConfig.from_json(offer.config or {}).secret_names() if offer else ()
        in_file = session.scalars(
            select(OfferSecret.name).where(OfferSecret.offer_id == offer_id)
        ).all()
        names = [*named, *in_file]
    names = list(dict.fromkeys(names))
    if not names:
        return
    session.execute(_rows(offer_id, names, delete(OfferSecret)))
    file_id = _file_id(session, create=False)
    if file_id is None:
        return
    changed = _mark_changed(session)
    if keyring_available():
        for name in names:
            _delete_from_keyring(file_id, offer_id, name)
    with _lock:
        _, entries = _cache.pop(file_id, ("", {}))
        for name in names:
            entries[(offer_id, name)] = None
        _cache[file_id] = (changed, entries)


# The data file -----------------------------------------------------------------------------


def _rows(offer_id: int, names: list[str], statement):
    return statement.where(OfferSecret.offer_id == offer_id, OfferSecret.name.in_(names))


def _store_in_file(session: Session, offer_id: int, name: str, value: str) -> None:
    row = session.scalars(_rows(offer_id, [name], select(OfferSecret))).first()
    if row is None:
        session.add(OfferSecret(offer_id=offer_id, name=name, value=value))
    else:
        row.value = value
    session.flush()


def _file_id(session: Session, create: bool) -> str | None:
    """The id that keeps this data file's keyring entries apart from another file's."""
    setting = session.get(Setting, FILE_ID_KEY)
    if setting is None and create:
        setting = Setting(key=FILE_ID_KEY, value=uuid.uuid4().hex)
        session.add(setting)
        session.flush()
    return setting.value if setting else None


def _changed_marker(session: Session) -> str:
    setting = session.get(Setting, CHANGED_KEY)
    return setting.value if setting else ""


def _mark_changed(session: Session) -> str:
    marker = uuid.uuid4().hex
    setting = session.get(Setting, CHANGED_KEY)
    if setting is None:
        session.add(Setting(key=CHANGED_KEY, value=marker))
    else:
        setting.value = marker
    session.flush()
    return marker


# The keyring -------------------------------------------------------------------------------


def _user(file_id: str, offer_id: int, name: str) -> str:
    return f"{file_id}:offer-{offer_id}:{name}"


def _fresh_entries(file_id: str, marker: str) -> dict[tuple[int, str], str | None]:
    """This file's cached keyring answers, dropped when another process changed a secret."""
    with _lock:
        cached_marker, entries = _cache.get(file_id, ("", {}))
        if cached_marker != marker:
            entries = {}
            _cache[file_id] = (marker, entries)
        return entries


def _from_keyring(file_id: str, offer_id: int, name: str) -> str | None:
    found: list[str | None] = [None]

    def get(service: str, user: str) -> None:
        found[0] = keyring.get_password(service, user)

    _keyring_call("read", get, KEYRING_SERVICE, _user(file_id, offer_id, name))
    return found[0]


def _delete_from_keyring(file_id: str, offer_id: int, name: str) -> None:
    try:
        keyring.delete_password(KEYRING_SERVICE, _user(file_id, offer_id, name))
    except keyring.errors.PasswordDeleteError:
        pass  # it was not there: nothing to forget
    except Exception as error:  # a keyring that fails must not stop LeadDesk
        _give_up_keyring("forget", error)


def _keyring_call(what: str, call, *args: str) -> bool:
    """Run one keyring call; on failure, stop using the keyring in this process."""
    try:
        call(*args)
    except Exception as error:  # backends raise their own errors (D-Bus, locked, denied)
        _give_up_keyring(what, error)
        return False
    return True


def _give_up_keyring(what: str, error: Exception) -> None:
    global _available
    # The error's type only: a backend's message might quote what it was given.
    log.warning(
        "The system keyring failed to %s a secret (%s); secrets are kept in the data file "
        "until LeadDesk restarts",
        what,
        type(error).__name__,
    )
    with _lock:
        _available = False
