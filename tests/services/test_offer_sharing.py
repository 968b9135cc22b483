"""Sharing an offer as JSON: the round trip, secrets left out, and files that are refused."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from leaddesk.core.caps import Caps
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    AuthKind,
    BodyFormat,
    Endpoint,
    FieldRule,
    Header,
    Method,
    OfferConfig,
    PasswordRules,
    ResponseRules,
    SourceKind,
    Transform,
    header_secret,
)
from leaddesk.core.send_windows import SendWindows
from leaddesk.errors import InputError
from leaddesk.services import directory, offer_secrets, offer_sharing
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.database import open_database
from leaddesk.storage.models import Offer, Product

API_KEY = "sk-live-4f1c9e7a2b"
HEADER_TOKEN = "hdr-token-93b1"
FULL_CONFIG = OfferConfig(
    endpoint=Endpoint(
        url="https://api.example.com/v2/leads",
        method=Method.PUT,
        body_format=BodyFormat.FORM,
        headers=(Header("X-Source", "web"), Header("X-Token", secret=True)),
        auth=AuthKind.QUERY,
        auth_name="api_key",
        connect_timeout_s=4.5,
        read_timeout_s=45.0,
        proxy_url="socks5://127.0.0.1:1080",
        ca_bundle="/etc/ssl/partner.pem",
    ),
    fields=(
        FieldRule("fname", SourceKind.FIELD, "first_name", Transform.UPPER),
        FieldRule("name", SourceKind.TEMPLATE, "{first_name} {last_name}"),
        FieldRule("tel", SourceKind.FIELD, "phone", Transform.E164),
        FieldRule("funnel", SourceKind.FIXED, "solar-2"),
        FieldRule("pass", SourceKind.PASSWORD),
    ),
    response=ResponseRules(
        accepted_json_path="status", accepted_json_value="ok", lead_id_path="data.id"
    ),
    password=PasswordRules(length=16, symbols=True),
    outage_pause_after_min=45,
)


OFFICE_HOURS = SendRules(
    SendWindows.parse("mon-fri 09:00-18:00", "Europe/Berlin"), Caps(per_day=200)
)


@pytest.fixture
def offer_id(database) -> int:
    with database.writer() as session:
        product = directory.add_product(session, "Energy")
        offer = directory.add_offer(
            session,
            "Solar",
            FULL_CONFIG.endpoint.url,
            product.id,
            FULL_CONFIG,
            send_rules=OFFICE_HOURS,
        )
        offer_secrets.store(session, offer.id, AUTH_SECRET, API_KEY)
        offer_secrets.store(session, offer.id, header_secret("X-Token"), HEADER_TOKEN)
        session.commit()
        return offer.id


@pytest.fixture
def other_database(tmp_path):
    opened = open_database(tmp_path / "colleague")
    yield opened
    opened.close()


def exported(database, offer_id: int) -> dict:
    with database.session() as session:
        return offer_sharing.export_offer(session, offer_id)


def offers_and_products(database) -> tuple[list[str], list[str]]:
    with database.session() as session:
        return (
            [offer.name for offer in directory.all_of(session, Offer)],
            [product.name for product in directory.all_of(session, Product)],
        )


def test_an_export_imports_on_another_data_file_with_an_equal_config(
    database, offer_id, other_database, caplog
):
    caplog.set_level(logging.DEBUG)
    text = offer_sharing.export_text(exported(database, offer_id))

    with other_database.writer() as session:
        imported = offer_sharing.import_offer(session, json.loads(text))
        session.commit()
        imported_id = imported.id

    with other_database.session() as session:
        offer = session.get_one(Offer, imported_id)
        assert offer.name == "Solar" and offer.product.name == "Energy"
        assert directory.offer_config(offer) == FULL_CONFIG
        assert SendRules.from_json(offer.send_rules) == OFFICE_HOURS
        assert offer_secrets.load(session, imported_id, FULL_CONFIG.secret_names()) == {}
    assert API_KEY not in caplog.text and HEADER_TOKEN not in caplog.text


def test_an_export_holds_no_secret_and_names_those_to_enter(database, offer_id):
    data = exported(database, offer_id)
    text = offer_sharing.export_text(data)

    assert API_KEY not in text and HEADER_TOKEN not in text
    assert data["format"] == offer_sharing.FORMAT and data["version"] == 1
    assert data["secrets_to_enter"] == [
        {"name": AUTH_SECRET, "label": "API key (query field api_key)"},
        {"name": "header:X-Token", "label": "Value of the header X-Token"},
    ]


def test_a_taken_name_is_refused_unless_another_is_given(database, offer_id):
    data = exported(database, offer_id)
    with database.writer() as session, pytest.raises(offer_sharing.OfferNameTaken) as error:
        offer_sharing.import_offer(session, data)
    assert "already an offer named 'Solar'" in str(error.value)

    with database.writer() as session:
        copy_id = offer_sharing.import_offer(session, data, name="Solar copy").id
        session.commit()
    assert offers_and_products(database) == (["Solar", "Solar copy"], ["Energy"])
    with database.session() as session:
        assert directory.offer_config(session.get_one(Offer, copy_id)) == FULL_CONFIG


def newer(data: dict) -> dict:
    data["version"] = offer_sharing.FORMAT_VERSION + 1
    return data


def newer_config(data: dict) -> dict:
    data["config"]["version"] = 99
    return data


def config_of_wrong_shape(data: dict) -> dict:
    data["config"]["endpoint"]["headers"] = "X-Source: web"
    return data


def unusable_config(data: dict) -> dict:
    data["config"]["endpoint"]["url"] = "http://api.example.com/leads"
    return data


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda data: [data], "not an offer exported by LeadDesk"),
        (lambda data: {**data, "format": "something-else"}, "not an offer exported by LeadDesk"),
        (newer, "exported by a newer LeadDesk"),
        (newer_config, "exported by a newer LeadDesk"),
        (lambda data: {**data, "name": 7}, "name and product must be texts"),
        (lambda data: {**data, "config": None}, "holds no configuration"),
        (config_of_wrong_shape, "not readable"),
        (unusable_config, "unencrypted over http://"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_and_nothing_is_created(
    database, offer_id, other_database, spoil, message
):
    data = spoil(copy.deepcopy(exported(database, offer_id)))

    with other_database.writer() as session, pytest.raises(InputError) as error:
        offer_sharing.import_offer(session, data, name="Fresh")
    assert message in str(error.value)
    assert offers_and_products(other_database) == ([], [])


def test_a_broken_file_is_refused_with_where_it_breaks(tmp_path):
    path = tmp_path / "solar.json"
    path.write_text('{"format": "leaddesk-offer",\n "name": }', encoding="utf-8")
    with pytest.raises(InputError, match=r"is not valid JSON \(line 2, column 10"):
        offer_sharing.read_offer_file(path)

    path.write_bytes(b"\x80\x81 binary")
    with pytest.raises(InputError, match="not a text file"):
        offer_sharing.read_offer_file(path)

    with pytest.raises(InputError, match="Cannot read"):
        offer_sharing.read_offer_file(tmp_path / "missing.json")
