"""Building the HTTP request an offer sends for one lead, and showing it without its secrets.

Nothing here touches the network: `build_request` turns an offer's configuration, a lead and
the offer's secrets into an `OutgoingRequest` that the advertiser client sends as it is.

Templates are plain text with `{name}` placeholders replaced by a dictionary look-up; they are
never given to str.format or eval. A placeholder must be a plain name (OfferConfig.check
refuses `{0}`, `{a.b}`, `{__class__}` and stray braces); a name the lead has no value for
(a custom field this lead lacks, a typo) becomes an empty string when sending, and a field
left empty is not sent at all.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets as secret_random
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import phonenumbers
import requests

from leaddesk import __version__
from leaddesk.core.data_setting import build_payload
from leaddesk.core.lead_fields import COUNTRY, PASSWORD
from leaddesk.core.lead_import import country_code, country_name
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    TEMPLATE_NAME,
    TEMPLATE_PLACEHOLDER,
    AuthKind,
    BodyFormat,
    Endpoint,
    FieldRule,
    OfferConfig,
    PasswordRules,
    SourceKind,
    Transform,
    header_secret,
)
from leaddesk.errors import InputError

MASK = "••••••"
USER_AGENT = f"LeadDesk/{__version__}"
# Symbols most sign-up forms accept; no quotes, spaces or characters that need escaping.
PASSWORD_SYMBOLS = "!#$%*+-=?@_"
PASSWORD_CLASSES = (
    ("lower", string.ascii_lowercase),
    ("upper", string.ascii_uppercase),
    ("digits", string.digits),
    ("symbols", PASSWORD_SYMBOLS),
)
_NOT_DIGIT = re.compile(r"\D")
_MISSING_SECRET = {
    AuthKind.HEADER: "API key",
    AuthKind.QUERY: "API key",
    AuthKind.BODY: "API key",
    AuthKind.BEARER: "bearer token",
    AuthKind.BASIC: "password for basic authentication",
}

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LeadValues:
    """One lead as plain values, with who sends it and the distribution's fixed fields."""

    # Lead fields by name (first_name, phone, country, sub_id1, password...) and custom
    # fields by their own name.
    fields: Mapping[str, str]
    affiliate_id: int
    affiliate_name: str
    # The distribution's Data setting.
    fixed_fields: Mapping[str, str]


@dataclass(frozen=True, repr=False)
class OutgoingRequest:
    """One request, ready to send; it holds secrets, so show it only through `preview`."""

    method: str
    url: str
    params: Pairs
    headers: Pairs
    json_body: object | None
    form_body: Pairs | None
    basic_auth: tuple[str, str] | None
    connect_timeout_s: float
    read_timeout_s: float
    proxy_url: str
    ca_bundle: str
    allow_plain_http: bool
    # A password made for this lead, to be stored with its delivery; "" when none was made.
    generated_password: str
    # The offer's secrets, never shown in a preview, a log or a stored answer. A lead's
    # password is the lead's data, stored with its delivery, and not among them.
    secret_values: frozenset[str]

    def __repr__(self) -> str:
        return f"OutgoingRequest({self.method} {self.mask(self.url)})"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def to_requests(self) -> requests.Request:
        """The same request as `requests` builds it, for sending or for a preview."""
        return requests.Request(
            method=self.method,
            url=self.url,
            params=list(self.params),
            headers=dict(self.headers),
            json=self.json_body,
            data=list(self.form_body) if self.form_body is not None else None,
            auth=self.basic_auth,
        )

    def preview(self) -> str:
        """The exact request as HTTP text, every secret replaced by a mask."""
        with requests.Session() as session:
            session.trust_env = False
            session.headers["User-Agent"] = USER_AGENT
            prepared = session.prepare_request(self.to_requests())
        parts = urlsplit(prepared.url or self.url)
        lines = [f"{prepared.method} {prepared.url}"]
        lines.append(f"Host: {parts.netloc}")
        lines += [f"{name}: {value}" for name, value in prepared.headers.items()]
        body = prepared.body or b""
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        return self.mask("\n".join(lines) + "\n\n" + body)

    def mask(self, text: str) -> str:
        """`text` with every secret, as written anywhere in a request, replaced by a mask."""
        return mask_secrets(text, self.secret_forms())

    def secret_forms(self) -> frozenset[str]:
        """Each secret as a request or an answer may write it: raw, encoded, in Basic auth."""
        return secret_forms(self.secret_values, self.basic_auth)

    def to_json(self) -> dict[str, Any]:
        """Plain data for carrying the request to another thread or process (secrets too)."""
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["secret_values"] = sorted(self.secret_values)
        return json.loads(json.dumps(data))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutgoingRequest:
        def pairs(value: Any) -> Pairs:
            return tuple((str(name), str(text)) for name, text in value)

        return cls(
            method=data["method"],
            url=data["url"],
            params=pairs(data["params"]),
            headers=pairs(data["headers"]),
            json_body=data["json_body"],
            form_body=None if data["form_body"] is None else pairs(data["form_body"]),
            basic_auth=None if data["basic_auth"] is None else tuple(data["basic_auth"]),
            connect_timeout_s=float(data["connect_timeout_s"]),
            read_timeout_s=float(data["read_timeout_s"]),
            proxy_url=data["proxy_url"],
            ca_bundle=data["ca_bundle"],
            allow_plain_http=bool(data["allow_plain_http"]),
            generated_password=data["generated_password"],
            secret_values=frozenset(data["secret_values"]),
        )


def build_request(
    config: OfferConfig,
    lead: LeadValues,
    secrets: Mapping[str, str],
    choose_password: Callable[[PasswordRules], str] | None = None,
) -> OutgoingRequest:
    """The request `config` sends for `lead`; an InputError names what the offer lacks."""
    config.check()
    endpoint = config.endpoint
    hidden = _secret_header_values(config, secrets)
    auth_secret = _auth_secret(config, secrets)
    headers = [(header.name, hidden.get(header.name, header.value)) for header in endpoint.headers]
    if config.fields:
        body, generated = _mapped_fields(config, lead, choose_password or generate_password)
    else:
        body, generated = _plain_fields(lead), ""
    params: list[tuple[str, str]] = []
    basic_auth = _place_auth(endpoint, auth_secret, headers, params, body)

    json_body, form_body = None, None
    if endpoint.body_format is BodyFormat.JSON:
        json_body = body
    elif endpoint.body_format is BodyFormat.FORM:
        form_body = _as_pairs(body)
    else:
        params = [*_as_pairs(body), *params]
    return OutgoingRequest(
        method=endpoint.method.value,
        url=endpoint.url.strip(),
        params=tuple(params),
        headers=tuple(headers),
        json_body=json_body,
        form_body=form_body,
        basic_auth=basic_auth,
        connect_timeout_s=endpoint.connect_timeout_s,
        read_timeout_s=endpoint.read_timeout_s,
        proxy_url=endpoint.proxy_url.strip(),
        ca_bundle=endpoint.ca_bundle.strip(),
        allow_plain_http=endpoint.allow_plain_http,
        generated_password=generated,
        secret_values=frozenset(value for value in (*hidden.values(), auth_secret) if value),
    )


def _place_auth(
    endpoint: Endpoint,
    secret: str,
    headers: list[tuple[str, str]],
    params: list[tuple[str, str]],
    body: dict[str, object],
) -> tuple[str, str] | None:
    """Put the credentials where the offer says; returns the user and password of basic auth."""
    if endpoint.auth is AuthKind.HEADER:
        headers.append((endpoint.auth_name, secret))
    elif endpoint.auth is AuthKind.BEARER:
        headers.append(("Authorization", f"Bearer {secret}"))
    elif endpoint.auth is AuthKind.QUERY:
        params.append((endpoint.auth_name, secret))
    elif endpoint.auth is AuthKind.BODY:
        body[endpoint.auth_name] = secret
    elif endpoint.auth is AuthKind.BASIC:
        return (endpoint.auth_name, secret)
    return None


def plain_json_request(url: str, payload: Mapping[str, object]) -> OutgoingRequest:
    """A ready payload as a JSON POST, as offers without a configuration send it."""
    config = OfferConfig.for_url(url)
    return OutgoingRequest(
        method="POST",
        url=url.strip(),
        params=(),
        headers=(),
        json_body=dict(payload),
        form_body=None,
        basic_auth=None,
        connect_timeout_s=config.endpoint.connect_timeout_s,
        read_timeout_s=config.endpoint.read_timeout_s,
        proxy_url="",
        ca_bundle="",
        allow_plain_http=False,
        generated_password="",
        secret_values=frozenset(),
    )


# Secrets ---------------------------------------------------------------------------------


def _auth_secret(config: OfferConfig, secrets: Mapping[str, str]) -> str:
    auth = config.endpoint.auth
    if auth is AuthKind.NONE:
        return ""
    value = secrets.get(AUTH_SECRET, "")
    if not value:
        raise InputError(
            f"The offer has no {_MISSING_SECRET[auth]} yet: enter it in the offer editor."
        )
    return value


def _secret_header_values(config: OfferConfig, secrets: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for header in config.endpoint.headers:
        if header.secret:
            value = secrets.get(header_secret(header.name), "")
            if not value:
                raise InputError(
                    f"The offer has no value yet for the header {header.name}: enter it in "
                    "the offer editor."
                )
            values[header.name] = value
    return values


def secret_forms(
    values: Iterable[str], basic_auth: tuple[str, str] | None = None
) -> frozenset[str]:
    """Every form in which a request or an echoing answer may write these secrets."""
    forms = {form for value in values if value for form in _written_forms(value)}
    if basic_auth is not None and basic_auth[1]:
        forms |= set(_basic_forms(*basic_auth))
    forms.discard("")
    return frozenset(forms)


def mask_secrets(text: str, forms: Iterable[str]) -> str:
    """`text` with each of the forms (from `secret_forms`) replaced by a mask."""
    forms = [form for form in forms if form]
    if not forms or not text:
        return text
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, MASK, text, flags=re.IGNORECASE)


def _written_forms(value: str) -> tuple[str, ...]:
    """A secret as written raw, URL-encoded, and inside a JSON string (slashes escaped too)."""
    in_json = json.dumps(value)[1:-1]
    return (
        value,
        quote_plus(value),
        quote(value, safe=""),
        in_json,
        in_json.replace("/", "\\/"),
        json.dumps(value, ensure_ascii=False)[1:-1],
    )


def _basic_forms(user: str, password: str) -> tuple[str, ...]:
    joined = f"{user}:{password}"
    forms = [base64.b64encode(joined.encode("utf-8")).decode("ascii")]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(base64.b64encode(joined.encode("latin-1")).decode("ascii"))
    return tuple(forms)


# Fields ----------------------------------------------------------------------------------


def _plain_fields(lead: LeadValues) -> dict[str, object]:
    """Every lead field under its own name, as offers without field rules receive them."""
    return build_payload(
        dict(lead.fields), dict(lead.fixed_fields), lead.affiliate_id, lead.affiliate_name
    )


def _mapped_fields(
    config: OfferConfig, lead: LeadValues, choose_password: Callable[[PasswordRules], str]
) -> tuple[dict[str, object], str]:
    """The fields the rules name, then the fixed fields they do not set; empty ones left out."""
    values = lead_values(lead)
    country = country_code(values.get(COUNTRY, ""))
    body: dict[str, object] = {}
    generated = ""
    for rule in config.fields:
        if rule.source is SourceKind.PASSWORD:
            value = values.get(PASSWORD, "")
            if not value:
                value = generated = generated or choose_password(config.password)
        else:
            value = transform(_source_value(rule, values), rule.transform, country)
        if value:
            body[rule.name] = value
    for name, value in lead.fixed_fields.items():
        if value and name not in body:
            body[name] = value
    return body, generated


def lead_values(lead: LeadValues) -> dict[str, str]:
    """The values a field rule or template may name.

    The lead's own fields first; a fixed field of the distribution fills a name the lead has
    no value for; affiliate_id and affiliate_name always name who sends the lead.
    """
    values = {name: str(value) for name, value in lead.fixed_fields.items() if value}
    values.update({name: str(value) for name, value in lead.fields.items() if value})
    values["affiliate_id"] = str(lead.affiliate_id)
    values["affiliate_name"] = lead.affiliate_name
    return values


def _source_value(rule: FieldRule, values: Mapping[str, str]) -> str:
    if rule.source is SourceKind.FIXED:
        return rule.value
    if rule.source is SourceKind.FIELD:
        return values.get(rule.value.strip(), "")
    return render_template(rule.value, values)


def render_template(template: str, values: Mapping[str, str]) -> str:
    """`{name}` placeholders replaced by their values (missing ones by ""), then trimmed."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if not TEMPLATE_NAME.match(name):
            return match.group(0)
        return values.get(name, "")

    return TEMPLATE_PLACEHOLDER.sub(value_of, template).strip()


def _as_pairs(body: Mapping[str, object]) -> Pairs:
    return tuple((name, str(value)) for name, value in body.items())


# Transforms ------------------------------------------------------------------------------


def transform(value: str, how: Transform, country: str = "") -> str:
    """One value changed as a field rule asks; `country` is the lead's ISO code, if known."""
    value = value.strip()
    if not value or how is Transform.NONE:
        return value
    if how is Transform.UPPER:
        return value.upper()
    if how is Transform.LOWER:
        return value.lower()
    if how is Transform.COUNTRY_ISO2:
        return country_code(value) or value
    if how is Transform.COUNTRY_NAME:
        return country_name(country_code(value)) or value
    return _phone_part(value, how, country)


def _phone_part(phone: str, how: Transform, country: str) -> str:
    """A part of a phone number; a number that cannot be read is sent as it was given."""
    parsed = _parse_phone(phone, country)
    if parsed is None:
        digits = _NOT_DIGIT.sub("", phone)
        return digits if how in (Transform.DIGITS, Transform.NATIONAL_NUMBER) else phone
    calling_code = str(parsed.country_code)
    national = phonenumbers.national_significant_number(parsed)
    return {
        Transform.E164: f"+{calling_code}{national}",
        Transform.DIGITS: f"{calling_code}{national}",
        Transform.DIALING_CODE: calling_code,
        Transform.DIALING_CODE_PLUS: f"+{calling_code}",
        Transform.NATIONAL_NUMBER: national,
    }[how]


def _parse_phone(phone: str, country: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(phone, country or None)
    except phonenumbers.NumberParseException:
        return None


# Passwords -------------------------------------------------------------------------------


def generate_password(rules: PasswordRules) -> str:
    """A random password of the rules' length holding at least one of each class asked for."""
    classes = [chars for name, chars in PASSWORD_CLASSES if getattr(rules, name)]
    if not classes:
        classes = [string.ascii_letters, string.digits]
    everything = "".join(classes)
    chosen = [secret_random.choice(chars) for chars in classes]
    chosen += [secret_random.choice(everything) for _ in range(rules.length - len(chosen))]
    secret_random.SystemRandom().shuffle(chosen)
    return "".join(chosen)
