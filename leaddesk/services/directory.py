"""Managers, affiliates, products and offers, and the current manager."""

from __future__ import annotations

import getpass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaddesk.core.clock import utc_now
from leaddesk.core.offer_config import OfferConfig
from leaddesk.errors import InputError, NotFoundError
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Affiliate, Manager, Offer, Product, Setting

CURRENT_MANAGER_KEY = "current_manager"
NAME_MAX_LENGTH = 200


def clean_name(name: str, what: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InputError(f"Give the {what} a name.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InputError(f"The {what} name is longer than {NAME_MAX_LENGTH} characters.")
    return cleaned


def check_url(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or not port_ok or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"'{url}' is not an advertiser address. Write it in full, such as "
            "https://api.example.com/leads."
        )
    return url


def _by_name(session: Session, model: type, name: str):
    found = session.scalars(select(model).where(model.name == name)).first()
    if found is None:
        raise NotFoundError(f"There is no {model.__name__.lower()} named '{name}'.")
    return found


def _refuse_taken(session: Session, model: type, name: str, own_id: int | None = None) -> None:
    existing = session.scalars(select(model).where(model.name == name)).first()
    if existing is not None and existing.id != own_id:
        what = model.__name__.lower()
        article = "an" if what[0] in "aeiou" else "a"
        raise InputError(f"There is already {article} {what} named '{name}'.")


# Managers ----------------------------------------------------------------------------------


def get_or_create_manager(session: Session, name: str) -> Manager:
    name = clean_name(name, "manager")
    manager = session.scalars(select(Manager).where(Manager.name == name)).first()
    if manager is None:
        manager = Manager(name=name, created_at=utc_now())
        session.add(manager)
        session.flush()
    return manager


def current_manager_name(session: Session) -> str | None:
    setting = session.get(Setting, CURRENT_MANAGER_KEY)
    return setting.value if setting else None


def set_current_manager(session: Session, name: str) -> Manager:
    manager = get_or_create_manager(session, name)
    setting = session.get(Setting, CURRENT_MANAGER_KEY)
    if setting is None:
        session.add(Setting(key=CURRENT_MANAGER_KEY, value=manager.name))
    else:
        setting.value = manager.name
    return manager


def resolve_manager(session: Session, name: str | None) -> Manager:
    """The named manager, else the remembered one, else the computer's user."""
    chosen = name or current_manager_name(session) or getpass.getuser()
    return get_or_create_manager(session, chosen)


# Affiliates and products -------------------------------------------------------------------


def _add_named(session: Session, model: type, name: str):
    name = clean_name(name, model.__name__.lower())
    _refuse_taken(session, model, name)
    added = model(name=name, created_at=utc_now())
    session.add(added)
    session.flush()
    return added


def _rename(session: Session, model: type, own_id: int, name: str):
    name = clean_name(name, model.__name__.lower())
    _refuse_taken(session, model, name, own_id)
    renamed = session.get_one(model, own_id)
    renamed.name = name
    return renamed


def add_affiliate(session: Session, name: str) -> Affiliate:
    return _add_named(session, Affiliate, name)


def rename_affiliate(session: Session, affiliate_id: int, name: str) -> Affiliate:
    return _rename(session, Affiliate, affiliate_id, name)


def affiliate_by_name(session: Session, name: str) -> Affiliate:
    return _by_name(session, Affiliate, name)


def add_product(session: Session, name: str) -> Product:
    return _add_named(session, Product, name)


def rename_product(session: Session, product_id: int, name: str) -> Product:
    return _rename(session, Product, product_id, name)


def get_or_create_product(session: Session, name: str) -> Product:
    name = clean_name(name, "product")
    product = session.scalars(select(Product).where(Product.name == name)).first()
    return product or add_product(session, name)


# Offers ------------------------------------------------------------------------------------


def add_offer(
    session: Session,
    name: str,
    url: str,
    product_id: int | None = None,
    config: OfferConfig | None = None,
    send_rules: SendRules | None = None,
) -> Offer:
    """A new offer; without a configuration it posts every lead field as JSON to its URL."""
    name = clean_name(name, "offer")
    _refuse_taken(session, Offer, name)
    url = check_url(url)
    config = (config or OfferConfig.for_url(url)).with_url(url).check()
    offer = Offer(
        name=name,
        url=url,
        product_id=product_id,
        created_at=utc_now(),
        config=config.to_json(),
        send_rules=(send_rules or SendRules()).to_json(),
    )
    session.add(offer)
    session.flush()
    return offer


def update_offer(
    session: Session,
    offer_id: int,
    name: str,
    url: str,
    product_id: int | None,
    config: OfferConfig | None = None,
) -> Offer:
    """Change an offer; without a new configuration its present one keeps, with the new URL."""
    name = clean_name(name, "offer")
    _refuse_taken(session, Offer, name, offer_id)
    offer = session.get_one(Offer, offer_id)
    url = check_url(url)
    config = (config or offer_config(offer)).with_url(url).check()
    offer.name = name
    offer.url = url
    offer.product_id = product_id
    offer.config = config.to_json()
    return offer


def set_offer_send_rules(session: Session, offer_id: int, rules: SendRules) -> Offer:
    """The windows, time zone and caps of an offer; they hold for every distribution to it."""
    offer = session.get_one(Offer, offer_id)
    offer.send_rules = rules.to_json()
    return offer


def offer_config(offer: Offer) -> OfferConfig:
    """The offer's configuration; its URL column is the one the manager last saved."""
    return OfferConfig.from_json(offer.config or {}).with_url(offer.url)


def offer_by_name(session: Session, name: str) -> Offer:
    return _by_name(session, Offer, name)


def all_of(session: Session, model: type) -> list:
    return list(session.scalars(select(model).order_by(model.name)))
