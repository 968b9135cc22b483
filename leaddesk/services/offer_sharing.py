"""Offer configurations as JSON files a manager shares with a colleague, secrets left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaddesk.core.offer_config import CONFIG_VERSION, OfferConfig
from leaddesk.errors import InputError
from leaddesk.services import directory, offer_secrets
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Offer

FORMAT = "leaddesk-offer"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1_000_000
FILE_SUFFIX = ".json"


class OfferNameTaken(InputError):
    """An imported offer's name is taken: it may be imported under another."""


def export_offer(session: Session, offer_id: int) -> dict[str, Any]:
    """The offer as plain data: name, product, configuration, and the secrets left out."""
    offer = session.get_one(Offer, offer_id)
    config = directory.offer_config(offer)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": offer.name,
        "product": offer.product.name if offer.product else None,
        "config": config.to_json(),
        "send_rules": SendRules.from_json(offer.send_rules).to_json(),
        "secrets_to_enter": [
            {"name": name, "label": offer_secrets.secret_label(config, name)}
            for name in config.secret_names()
        ],
    }


def export_text(data: dict[str, Any]) -> str:
    """An exported offer as the text of its file."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_offer_file(path: Path) -> Any:
    """The JSON held by an offer file, or an InputError saying why it cannot be read."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(f"Cannot read {path}: {error.strerror or error}.") from error
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path} is too large to be an offer file exported by LeadDesk.")
    return parse_offer_text(raw, str(path))


def parse_offer_text(raw: bytes | str, source: str) -> Any:
    try:
        return json.loads(raw)
    except UnicodeDecodeError as error:
        raise InputError(f"{source} is not a text file, so not an offer file.") from error
    except json.JSONDecodeError as error:
        raise InputError(
            f"{source} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}). Export the offer again, or repair the file."
        ) from error


def check_offer_data(data: Any) -> tuple[str, str | None, OfferConfig]:
    """The name, product and configuration an exported offer holds, checked; or InputError."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(
            f'This is not an offer exported by LeadDesk (it has no "format": "{FORMAT}").'
        )
    version = data.get("version")
    config_data = data.get("config")
    config_version = config_data.get("version", 1) if isinstance(config_data, dict) else 1
    if not isinstance(version, int) or not isinstance(config_version, int):
        raise InputError("The offer file has no readable version number.")
    if version > FORMAT_VERSION or config_version > CONFIG_VERSION:
        raise InputError(
            "The offer was exported by a newer LeadDesk. Update LeadDesk to import it."
        )
    name, product = data.get("name"), data.get("product")
    if not isinstance(name, str) or not (product is None or isinstance(product, str)):
        raise InputError("The offer file's name and product must be texts.")
    if not isinstance(config_data, dict):
        raise InputError("The offer file holds no configuration.")
    config = OfferConfig.from_json(config_data)
    found = config.problems()
    if found:
        raise InputError("The offer's configuration cannot be used: " + " ".join(found))
    return name, product or None, config


def import_offer(session: Session, data: Any, name: str | None = None) -> Offer:
    """Add the exported offer, under `name` if given; nothing is added when it is refused.

    The caller commits. The new offer has no secrets yet: `config.secret_names()` says which
    the manager must enter.
    """
    exported_name, product_name, config = check_offer_data(data)
    chosen = directory.clean_name(name or exported_name, "offer")
    if session.scalars(select(Offer).where(Offer.name == chosen)).first() is not None:
        raise OfferNameTaken(
            f"There is already an offer named '{chosen}'. Import this one under another name."
        )
    url = directory.check_url(config.endpoint.url)
    try:
        rules = SendRules.from_json(data.get("send_rules"))
    except (InputError, TypeError, AttributeError) as error:
        raise InputError(f"The offer's send windows or caps cannot be used: {error}") from error
    product_id = None
    if product_name:
        product_id = directory.get_or_create_product(session, product_name).id
    return directory.add_offer(session, chosen, url, product_id, config, send_rules=rules)
