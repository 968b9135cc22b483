"""How an offer talks to its advertiser: endpoint, authentication, fields and answer rules.

A configuration is plain data: it is stored as JSON beside the offer, exported to share a
working integration, and never holds a secret. Secrets (API keys, tokens, passwords) are named
here and kept apart, in the keyring or the data file.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from leaddesk.errors import InputError

CONFIG_VERSION = 1
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 300.0
# An advertiser that stays unreachable this long pauses the distribution with the reason.
OUTAGE_PAUSE_AFTER_MIN = 30
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,99}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
STATUS_LIST = re.compile(r"^\s*(\d{3}(\s*-\s*\d{3})?)(\s*,\s*\d{3}(\s*-\s*\d{3})?)*\s*$")
# Header and query names that carry credentials, which must be kept as secrets.
CREDENTIAL_NAME = re.compile(r"auth|token|key|secret|passw|pwd", re.IGNORECASE)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PROXY_SCHEMES = frozenset({"http", "https", "socks5", "socks5h"})
# A template is plain text with `{name}` placeholders; a name is a lead field, a custom field
# whose name is written this way, or affiliate_id / affiliate_name. Nothing else is read.
TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TEMPLATE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")

# The name under which an offer's authentication secret is kept.
AUTH_SECRET = "auth"


def header_secret(name: str) -> str:
    """The name under which the secret value of an extra header is kept."""
    return f"header:{name}"


class Method(str, Enum):
    POST = "POST"
    PUT = "PUT"
    GET = "GET"


class BodyFormat(str, Enum):
    JSON = "json"
    FORM = "form"
    QUERY = "query"

    @property
    def label(self) -> str:
        return {"json": "JSON", "form": "Form-encoded", "query": "Query string"}[self.value]


class AuthKind(str, Enum):
    NONE = "none"
    HEADER = "header"
    QUERY = "query"
    BODY = "body"
    BEARER = "bearer"
    BASIC = "basic"

    @property
    def label(self) -> str:
        return _AUTH_LABELS[self]


_AUTH_LABELS = {
    AuthKind.NONE: "None",
    AuthKind.HEADER: "API key in a header",
    AuthKind.QUERY: "API key in the query string",
    AuthKind.BODY: "API key in the body",
    AuthKind.BEARER: "Bearer token",
    AuthKind.BASIC: "Basic (user and password)",
}


class SourceKind(str, Enum):
    """Where an advertiser field takes its value from."""

    FIELD = "field"
    FIXED = "fixed"
    TEMPLATE = "template"
    PASSWORD = "password"


class Transform(str, Enum):
    NONE = ""
    E164 = "e164"
    DIGITS = "digits"
    DIALING_CODE = "dialing_code"
    DIALING_CODE_PLUS = "dialing_code_plus"
    NATIONAL_NUMBER = "national_number"
    COUNTRY_ISO2 = "iso2"
    COUNTRY_NAME = "country_name"
    UPPER = "upper"
    LOWER = "lower"

    @property
    def label(self) -> str:
        return _TRANSFORM_LABELS[self]


_TRANSFORM_LABELS = {
    Transform.NONE: "as it is",
    Transform.E164: "phone as E.164 (+4915112345678)",
    Transform.DIGITS: "digits only (4915112345678)",
    Transform.DIALING_CODE: "country calling code (49)",
    Transform.DIALING_CODE_PLUS: "country calling code with + (+49)",
    Transform.NATIONAL_NUMBER: "national number (15112345678)",
    Transform.COUNTRY_ISO2: "country as ISO code (DE)",
    Transform.COUNTRY_NAME: "country as name (Germany)",
    Transform.UPPER: "upper case",
    Transform.LOWER: "lower case",
}


@dataclass(frozen=True)
class Header:
    """An extra request header; a secret one keeps its value apart, never in the config."""

    name: str
    value: str = ""
    secret: bool = False


@dataclass(frozen=True)
class Endpoint:
    url: str = ""
    method: Method = Method.POST
    body_format: BodyFormat = BodyFormat.JSON
    headers: tuple[Header, ...] = ()
    auth: AuthKind = AuthKind.NONE
    # The header, query or body field that carries the key, or the user name of basic auth.
    auth_name: str = ""
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    read_timeout_s: float = READ_TIMEOUT_S
    # http://, https://, socks5:// or socks5h://; advertisers often whitelist one address.
    proxy_url: str = ""
    ca_bundle: str = ""
    # Leads are personal data: plain http to another computer needs the manager's yes.
    allow_plain_http: bool = False


@dataclass(frozen=True)
class FieldRule:
    """One field of the advertiser's request and where its value comes from."""

    name: str
    source: SourceKind = SourceKind.FIELD
    # A lead field name, a fixed text, or a template such as `{first_name} {last_name}`.
    value: str = ""
    transform: Transform = Transform.NONE


@dataclass(frozen=True)
class PasswordRules:
    """What a generated password must hold, for advertisers that require one."""

    length: int = 12
    lower: bool = True
    upper: bool = True
    digits: bool = True
    symbols: bool = False


@dataclass(frozen=True)
class ResponseRules:
    """How to read an advertiser's answer.

    Status lists are written as `200-299` or `400,422`. A JSON path is dotted, with list
    positions as numbers: `data.lead.id`, `errors.0.message`. Texts match case-insensitively;
    several alternatives are separated by `|`.
    """

    accepted_statuses: str = "200-299"
    accepted_json_path: str = ""
    accepted_json_value: str = ""
    accepted_text: str = ""
    duplicate_statuses: str = "409"
    duplicate_text: str = "duplicate|already exists|already registered"
    invalid_statuses: str = "400,422"
    denied_statuses: str = "401,403"
    # Texts that mark a refusal as denied or as invalid data when its status does not say so
    # (a 200 with `"success": false`, say); denied is looked for first.
    invalid_text: str = ""
    denied_text: str = ""
    lead_id_path: str = ""
    autologin_path: str = ""
    reason_path: str = ""


@dataclass(frozen=True)
class OfferConfig:
    endpoint: Endpoint = field(default_factory=Endpoint)
    # No rules: every lead field under its own name, as a plain JSON object.
    fields: tuple[FieldRule, ...] = ()
    response: ResponseRules = field(default_factory=ResponseRules)
    password: PasswordRules = field(default_factory=PasswordRules)
    preset: str = ""
    # Minutes; a fraction is allowed for a quick pause (the editor offers whole minutes).
    outage_pause_after_min: float = OUTAGE_PAUSE_AFTER_MIN

    @classmethod
    def for_url(cls, url: str) -> OfferConfig:
        return cls(endpoint=Endpoint(url=url))

    def with_url(self, url: str) -> OfferConfig:
        return replace(self, endpoint=replace(self.endpoint, url=url))

    def secret_names(self) -> tuple[str, ...]:
        """The secrets this configuration needs, by the name they are kept under."""
        names = [header_secret(header.name) for header in self.endpoint.headers if header.secret]
        if self.endpoint.auth is not AuthKind.NONE:
            names.insert(0, AUTH_SECRET)
        return tuple(names)

    def to_json(self) -> dict[str, Any]:
        """Plain data for a JSON column or a shared file; secrets are never part of it."""
        data = asdict(self)
        data["version"] = CONFIG_VERSION
        data["endpoint"]["headers"] = [
            {**header, "value": "" if header["secret"] else header["value"]}
            for header in data["endpoint"]["headers"]
        ]
        return _plain(data)

    @classmethod
    def from_json(cls, data: Any) -> OfferConfig:
        """Read a stored or shared configuration, with a message naming what is wrong."""
        if not isinstance(data, dict):
            raise InputError("An offer configuration must be a JSON object.")
        try:
            endpoint = dict(data.get("endpoint") or {})
            endpoint["headers"] = tuple(Header(**item) for item in endpoint.get("headers", ()))
            endpoint["method"] = Method(str(endpoint.get("method", "POST")).upper())
            endpoint["body_format"] = BodyFormat(endpoint.get("body_format", "json"))
            endpoint["auth"] = AuthKind(endpoint.get("auth", "none"))
            rules = tuple(
                FieldRule(
                    name=item["name"],
                    source=SourceKind(item.get("source", "field")),
                    value=item.get("value", ""),
                    transform=Transform(item.get("transform", "")),
                )
                for item in data.get("fields", ())
            )
            config = cls(
                endpoint=Endpoint(**endpoint),
                fields=rules,
                response=ResponseRules(**(data.get("response") or {})),
                password=PasswordRules(**(data.get("password") or {})),
                preset=str(data.get("preset", "")),
                outage_pause_after_min=float(
                    data.get("outage_pause_after_min", OUTAGE_PAUSE_AFTER_MIN)
                ),
            )
        except (TypeError, ValueError, KeyError) as error:
            raise InputError(f"The offer configuration is not readable: {error}.") from error
        return config

    def problems(self) -> list[str]:
        """What stops this configuration from sending, each with what to do."""
        found = _endpoint_problems(self.endpoint)
        found += _field_problems(self.fields)
        found += _response_problems(self.response)
        if not 6 <= self.password.length <= 64:
            found.append("A generated password must be 6 to 64 characters long.")
        if self.outage_pause_after_min < 0:
            found.append("The pause after an outage cannot be negative (0 never pauses).")
        return found

    def check(self) -> OfferConfig:
        """This configuration, or an InputError listing what must change."""
        found = self.problems()
        if found:
            raise InputError(" ".join(found))
        return self


def is_local_host(host: str) -> bool:
    return host.lower() in LOCAL_HOSTS or host.startswith("127.")


def _endpoint_problems(endpoint: Endpoint) -> list[str]:
    found = []
    parts = urlsplit(endpoint.url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        found.append("The URL must start with https:// (or http://) and name a host.")
    elif (
        parts.scheme == "http"
        and not is_local_host(parts.hostname)
        and not endpoint.allow_plain_http
    ):
        found.append(
            f"{parts.hostname} would receive personal data unencrypted over http://. Use "
            "https://, or confirm plain http for this offer."
        )
    if endpoint.method is Method.GET and endpoint.body_format is not BodyFormat.QUERY:
        found.append("A GET request carries its fields in the query string; choose that.")
    for header in endpoint.headers:
        if not HEADER_NAME.match(header.name):
            found.append(f"'{header.name}' is not a header name.")
        elif not header.secret and header.value and CREDENTIAL_NAME.search(header.name):
            found.append(
                f"The header '{header.name}' looks like it carries a credential: mark it "
                "Secret, so its value is kept apart and never shown, exported or logged."
            )
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if CREDENTIAL_NAME.search(name):
            found.append(
                f"The URL carries '{name}=…': take it out of the URL and choose the "
                "authentication 'API key in the query string', so the key is kept secret."
            )
    named_auth = (AuthKind.HEADER, AuthKind.QUERY, AuthKind.BODY, AuthKind.BASIC)
    if endpoint.auth in named_auth and not endpoint.auth_name.strip():
        found.append("Name the header, field or user that carries the credentials.")
    for label, seconds in (
        ("connect", endpoint.connect_timeout_s),
        ("read", endpoint.read_timeout_s),
    ):
        if not 0 < seconds <= MAX_TIMEOUT_S:
            found.append(f"The {label} timeout must be between 1 and {MAX_TIMEOUT_S:.0f} s.")
    if endpoint.proxy_url:
        proxy = urlsplit(endpoint.proxy_url.strip())
        if proxy.scheme not in PROXY_SCHEMES or not proxy.hostname:
            found.append("The proxy must be written like http://host:port or socks5://host:port.")
    return found


def _field_problems(rules: tuple[FieldRule, ...]) -> list[str]:
    found, seen = [], set()
    for rule in rules:
        if not FIELD_NAME.match(rule.name):
            found.append(f"'{rule.name}' is not a field name the request can carry.")
        elif rule.name in seen:
            found.append(f"The field '{rule.name}' is mapped twice.")
        seen.add(rule.name)
        if rule.source in (SourceKind.FIELD, SourceKind.TEMPLATE) and not rule.value.strip():
            found.append(f"Choose what the field '{rule.name}' takes from the lead.")
        elif rule.source is SourceKind.TEMPLATE:
            found += template_problems(rule.name, rule.value)
    return found


def template_problems(field_name: str, template: str) -> list[str]:
    """What is wrong with the `{name}` placeholders of one field's template."""
    found = [
        f"'{{{name}}}' in the field '{field_name}' does not name a field: write a field name "
        "such as {first_name} (letters, digits and _, starting with a letter)."
        for name in TEMPLATE_PLACEHOLDER.findall(template)
        if not TEMPLATE_NAME.match(name)
    ]
    rest = TEMPLATE_PLACEHOLDER.sub("", template)
    if "{" in rest or "}" in rest:
        found.append(f"The template of the field '{field_name}' has a brace without its pair.")
    return found


def _response_problems(rules: ResponseRules) -> list[str]:
    found = []
    for label, text in (
        ("accepted", rules.accepted_statuses),
        ("duplicate", rules.duplicate_statuses),
        ("invalid", rules.invalid_statuses),
        ("denied", rules.denied_statuses),
    ):
        if text.strip() and not STATUS_LIST.match(text):
            found.append(
                f"The {label} status codes '{text}' are not a list such as 200-299 or 400,422."
            )
    if rules.accepted_json_value and not rules.accepted_json_path:
        found.append("Name the JSON path whose value means accepted.")
    return found


def parse_statuses(text: str) -> frozenset[int]:
    """`200-299, 302` as the set of status codes it names."""
    codes: set[int] = set()
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        low, _, high = piece.partition("-")
        codes.update(range(int(low), int(high or low) + 1))
    return frozenset(codes)


def _plain(value: Any) -> Any:
    """Enums as their values, tuples as lists: what json.dumps writes and reads back."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
