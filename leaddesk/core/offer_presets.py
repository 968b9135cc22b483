"""Ready offer configurations for the shapes of lead API advertisers use most, to start from.

Each preset gives a whole OfferConfig for an offer's URL; the manager then enters the
secrets it names and adjusts the field names to the advertiser's documentation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from leaddesk.core.offer_config import (
    AuthKind,
    BodyFormat,
    Endpoint,
    FieldRule,
    Header,
    OfferConfig,
    ResponseRules,
    SourceKind,
    Transform,
)
from leaddesk.errors import InputError

# The usual names advertisers give the sub-ids LeadDesk keeps as sub_id1..3.
SUB_ID_FIELDS = ("sub_id1", "sub_id2", "sub_id3")
# Words of a refusal sent with HTTP 200: denied is looked for before invalid.
DENIED_WORDS = "api key|api_key|token|unauthori|forbidden|not allowed|access denied"
INVALID_WORDS = "not valid|invalid|is required|must be"


@dataclass(frozen=True)
class OfferPreset:
    """A named starting point for an offer's configuration, as a chooser lists it."""

    key: str
    name: str
    description: str
    make: Callable[[str], OfferConfig]

    def config(self, url: str) -> OfferConfig:
        return replace(self.make(url.strip()), preset=self.key)


def _field(name: str, lead_field: str, how: Transform = Transform.NONE) -> FieldRule:
    return FieldRule(name, SourceKind.FIELD, lead_field, how)


def _password(name: str = "password") -> FieldRule:
    return FieldRule(name, SourceKind.PASSWORD)


def _sub_ids(names: tuple[str, str, str]) -> tuple[FieldRule, ...]:
    return tuple(_field(name, sub_id) for name, sub_id in zip(names, SUB_ID_FIELDS, strict=True))


def plain_json(url: str) -> OfferConfig:
    return OfferConfig.for_url(url)


def json_keys_in_headers(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(
            url=url,
            headers=(Header("Api-Password", secret=True),),
            auth=AuthKind.HEADER,
            auth_name="Api-Key",
        ),
        fields=(
            _field("firstName", "first_name"),
            _field("lastName", "last_name"),
            _field("email", "email"),
            _field("phone", "phone", Transform.E164),
            _field("country", "country", Transform.COUNTRY_ISO2),
            _field("language", "language", Transform.LOWER),
            _field("ip", "ip"),
            _password(),
            _field("affId", "affiliate_id"),
            *_sub_ids(("sub1", "sub2", "sub3")),
        ),
        response=ResponseRules(
            accepted_json_path="status",
            accepted_json_value="true",
            autologin_path="data",
            denied_text=DENIED_WORDS,
            invalid_text=INVALID_WORDS,
        ),
    )


def json_bearer_snake_case(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(url=url, auth=AuthKind.BEARER),
        fields=(
            _field("first_name", "first_name"),
            _field("last_name", "last_name"),
            _field("email", "email"),
            _field("phone", "phone", Transform.E164),
            _field("country_code", "country", Transform.COUNTRY_ISO2),
            _field("language", "language", Transform.LOWER),
            _field("ip", "ip"),
            _password(),
            *_sub_ids(("aff_sub1", "aff_sub2", "aff_sub3")),
        ),
        response=ResponseRules(
            lead_id_path="uuid",
            autologin_path="auto_login_url",
            reason_path="message",
        ),
    )


def form_token_in_query(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(
            url=url, body_format=BodyFormat.FORM, auth=AuthKind.QUERY, auth_name="api_token"
        ),
        fields=(
            _field("firstname", "first_name"),
            _field("lastname", "last_name"),
            _field("email", "email"),
            _field("phone", "phone", Transform.E164),
            _field("country", "country", Transform.COUNTRY_ISO2),
            _field("ip", "ip"),
            _password(),
            *_sub_ids(("sub1", "sub2", "sub3")),
        ),
        response=ResponseRules(
            accepted_json_path="success",
            accepted_json_value="true",
            lead_id_path="id",
            autologin_path="autologin",
            reason_path="message",
            denied_text=DENIED_WORDS,
            invalid_text=INVALID_WORDS,
        ),
    )


def form_api_key_area_code(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(
            url=url, body_format=BodyFormat.FORM, auth=AuthKind.HEADER, auth_name="Api-Key"
        ),
        fields=(
            FieldRule("fullName", SourceKind.TEMPLATE, "{first_name} {last_name}"),
            _field("email", "email"),
            _field("areaCode", "phone", Transform.DIALING_CODE),
            _field("phone", "phone", Transform.NATIONAL_NUMBER),
            _field("country", "country", Transform.COUNTRY_NAME),
            _field("ip", "ip"),
            _password(),
            *_sub_ids(("subId1", "subId2", "subId3")),
        ),
        response=ResponseRules(
            lead_id_path="result.lead.id",
            autologin_path="result.lead.redirect",
            denied_text=DENIED_WORDS,
            invalid_text=INVALID_WORDS,
        ),
    )


def form_errors_as_statuses(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(
            url=url, body_format=BodyFormat.FORM, auth=AuthKind.BODY, auth_name="api_key"
        ),
        fields=(
            _field("first_name", "first_name"),
            _field("last_name", "last_name"),
            _field("email", "email"),
            _field("phone", "phone", Transform.DIGITS),
            _field("country", "country", Transform.COUNTRY_ISO2),
            _field("ip", "ip"),
            _password(),
            *_sub_ids(("sub_id1", "sub_id2", "sub_id3")),
        ),
        response=ResponseRules(
            accepted_statuses="200-299",
            duplicate_statuses="409",
            invalid_statuses="400,422",
            denied_statuses="401,403",
        ),
    )


PRESETS: tuple[OfferPreset, ...] = (
    OfferPreset(
        "plain_json",
        "Plain JSON",
        "Every lead field under its own name as a JSON POST, with affiliate_id, "
        "affiliate_name and the distribution's fixed fields; the answer is read as LeadDesk "
        "always did.",
        plain_json,
    ),
    OfferPreset(
        "json_keys_in_headers",
        "JSON, keys in headers",
        'JSON POST with Api-Key and Api-Password headers; answers {"status": true, '
        '"data": "<auto-login link>"} or {"status": false, "errors": [{"message"}]}.',
        json_keys_in_headers,
    ),
    OfferPreset(
        "json_bearer",
        "JSON, bearer token",
        "JSON POST with an Authorization: Bearer token and snake_case fields (first_name, "
        "country_code, aff_sub1...); answers 200 with uuid and auto_login_url, or a 4xx with "
        "code and message.",
        json_bearer_snake_case,
    ),
    OfferPreset(
        "form_token_in_query",
        "Form, api_token in the URL",
        'Form-encoded POST with api_token in the query string; answers {"success": true, '
        '"id", "autologin"} or {"success": false, "message"}.',
        form_token_in_query,
    ),
    OfferPreset(
        "form_area_code",
        "Form, Api-Key header, area code apart",
        "Form-encoded POST with an Api-Key header, the calling code in areaCode and the "
        "national number in phone; the id and redirect come under result.lead.",
        form_api_key_area_code,
    ),
    OfferPreset(
        "form_status_codes",
        "Form, errors as status codes",
        "Form-encoded POST with api_key in the body; 400 means invalid data, 403 denied and "
        "409 a duplicate.",
        form_errors_as_statuses,
    ),
)
PRESETS_BY_KEY = {preset.key: preset for preset in PRESETS}


def preset(key: str) -> OfferPreset:
    """The preset stored under `key` in an offer's configuration."""
    try:
        return PRESETS_BY_KEY[key]
    except KeyError:
        raise InputError(f"There is no offer preset called '{key}'.") from None
