"""Building an offer's request for a lead: fields, templates, transforms, passwords, secrets."""

from __future__ import annotations

import base64
import string
from dataclasses import replace

import pytest

from leaddesk import __version__
from leaddesk.core.data_setting import build_payload
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
    SourceKind,
    Transform,
    header_secret,
)
from leaddesk.core.offer_request import (
    MASK,
    PASSWORD_SYMBOLS,
    LeadValues,
    OutgoingRequest,
    build_request,
    generate_password,
    render_template,
    transform,
)
from leaddesk.errors import InputError

URL = "https://api.example.com/leads"
FIELDS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+4915112345678",
    "country": "DE",
    "language": "de",
    "ip": "",
    "sub_id1": "s-1",
    "sub_id2": "",
    "password": "",
    "Favourite": "tea",
}
LEAD = LeadValues(FIELDS, 7, "North", {"funnel": "spring"})
# A key with characters every encoding writes differently.
KEY = 'k+y/"é z'


def mapped(*rules: FieldRule, **endpoint: object) -> OfferConfig:
    return OfferConfig(endpoint=Endpoint(url=URL, **endpoint), fields=rules)  # type: ignore[arg-type]


def field(name: str, value: str = "", how: Transform = Transform.NONE) -> FieldRule:
    return FieldRule(name, SourceKind.FIELD, value or name, how)


def template(name: str, text: str) -> FieldRule:
    return FieldRule(name, SourceKind.TEMPLATE, text)


# Without field rules: today's payload ----------------------------------------------------


def test_without_rules_the_body_is_todays_payload() -> None:
    request = build_request(OfferConfig.for_url(URL), LEAD, {})

    assert request.json_body == build_payload(dict(FIELDS), {"funnel": "spring"}, 7, "North")
    assert request.json_body == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "language": "de",
        "sub_id1": "s-1",
        "Favourite": "tea",
        "funnel": "spring",
        "affiliate_id": 7,
        "affiliate_name": "North",
    }
    assert (request.method, request.url, request.params, request.headers) == ("POST", URL, (), ())
    assert (request.form_body, request.basic_auth, request.generated_password) == (None, None, "")
    assert request.secret_values == frozenset()


def test_without_rules_a_form_carries_the_same_fields_as_text() -> None:
    config = OfferConfig(endpoint=Endpoint(url=URL, body_format=BodyFormat.FORM))

    request = build_request(config, LeadValues({"email": "a@b.c"}, 7, "North", {}), {})

    assert request.json_body is None
    assert request.form_body == (
        ("email", "a@b.c"),
        ("affiliate_id", "7"),
        ("affiliate_name", "North"),
    )


# Field rules -----------------------------------------------------------------------------


def test_rules_take_fields_fixed_values_templates_and_the_affiliate() -> None:
    config = mapped(
        field("firstName", "first_name"),
        FieldRule("offer", SourceKind.FIXED, "summer"),
        template("name", "{first_name} {last_name}"),
        template("tag", "{affiliate_name}-{affiliate_id}-{sub_id1}"),
        field("hobby", "Favourite"),
    )

    request = build_request(config, LEAD, {})

    assert request.json_body == {
        "firstName": "Ada",
        "offer": "summer",
        "name": "Ada Lovelace",
        "tag": "North-7-s-1",
        "hobby": "tea",
        "funnel": "spring",
    }


def test_empty_fields_are_left_out_and_nothing_is_made_up() -> None:
    config = mapped(field("ip"), field("sub2", "sub_id2"), field("city"), template("t", "{ip}"))

    request = build_request(config, LEAD, {})

    assert request.json_body == {"funnel": "spring"}


def test_fixed_fields_are_added_unless_a_rule_sets_the_same_name() -> None:
    lead = LeadValues(FIELDS, 7, "North", {"funnel": "spring", "language": "fr"})

    request = build_request(mapped(field("language")), lead, {})

    assert request.json_body == {"language": "de", "funnel": "spring"}


def test_a_fixed_field_fills_a_name_the_lead_has_no_value_for() -> None:
    lead = LeadValues({"email": "a@b.c", "ip": ""}, 7, "North", {"ip": "fixed", "offer": "x"})
    config = mapped(field("email"), template("tag", "{offer}/{ip}"))

    request = build_request(config, lead, {})

    assert request.json_body == {"email": "a@b.c", "tag": "x/fixed", "ip": "fixed", "offer": "x"}


def test_a_get_request_carries_the_fields_in_the_query() -> None:
    config = mapped(
        field("email"),
        field("phone", how=Transform.DIGITS),
        method=Method.GET,
        body_format=BodyFormat.QUERY,
        auth=AuthKind.QUERY,
        auth_name="key",
    )

    request = build_request(config, LEAD, {AUTH_SECRET: "abc"})

    assert request.method == "GET"
    assert request.params == (
        ("email", "ada@example.com"),
        ("phone", "4915112345678"),
        ("funnel", "spring"),
        ("key", "abc"),
    )
    assert (request.json_body, request.form_body) == (None, None)


def test_a_configuration_with_problems_is_refused() -> None:
    config = OfferConfig.for_url("http://leads.example.com/in")

    with pytest.raises(InputError, match="unencrypted over http://"):
        build_request(config, LEAD, {})


# Templates -------------------------------------------------------------------------------


def test_a_template_replaces_each_name_once_and_trims() -> None:
    values = {"first_name": "{last_name}", "last_name": "Lovelace"}

    assert render_template("{first_name} {last_name}", values) == "{last_name} Lovelace"
    assert render_template("  {first_name}  ", {}) == ""
    assert render_template("{missing}-x", {}) == "-x"


@pytest.mark.parametrize(
    "text",
    ["{__class__}", "{0}", "{a.b}", "{first_name.__class__}", "{first_name!r}", "{x:>9}", "{}"],
)
def test_hostile_placeholders_are_refused_at_check_and_never_reach_python(text) -> None:
    config = mapped(template("name", f"Hi {text}"))

    assert config.problems() == [
        f"'{text}' in the field 'name' does not name a field: write a field name such as "
        "{first_name} (letters, digits and _, starting with a letter)."
    ]
    with pytest.raises(InputError, match="does not name a field"):
        build_request(config, LEAD, {})
    # Even unchecked, such a placeholder stays plain text.
    assert render_template(f"Hi {text}", {"first_name": "Ada", "a": "x"}) == f"Hi {text}"


@pytest.mark.parametrize("text", ["{first_name", "first_name}", "{{first_name}}"])
def test_a_brace_without_its_pair_is_refused(text) -> None:
    problems = mapped(template("name", text)).problems()

    assert problems[-1] == "The template of the field 'name' has a brace without its pair."


def test_a_well_formed_template_has_no_problem() -> None:
    assert mapped(template("name", "{first_name} {Favourite} ({sub_id1})")).problems() == []


# Transforms ------------------------------------------------------------------------------

PHONE_PARTS = [
    # (phone as stored or typed, lead's country, e164, digits, calling code, national)
    ("+4915112345678", "DE", "+4915112345678", "4915112345678", "49", "15112345678"),
    ("0151 1234 5678", "DE", "+4915112345678", "4915112345678", "49", "15112345678"),
    ("+12025550123", "US", "+12025550123", "12025550123", "1", "2025550123"),
    ("(202) 555-0123", "US", "+12025550123", "12025550123", "1", "2025550123"),
    ("+447911123456", "GB", "+447911123456", "447911123456", "44", "7911123456"),
    ("07911 123456", "GB", "+447911123456", "447911123456", "44", "7911123456"),
    # The lead's country does not override the number's own code.
    ("+447911123456", "DE", "+447911123456", "447911123456", "44", "7911123456"),
]


@pytest.mark.parametrize(("phone", "country", "e164", "digits", "code", "national"), PHONE_PARTS)
def test_phone_transforms(phone, country, e164, digits, code, national) -> None:
    assert transform(phone, Transform.E164, country) == e164
    assert transform(phone, Transform.DIGITS, country) == digits
    assert transform(phone, Transform.DIALING_CODE, country) == code
    assert transform(phone, Transform.DIALING_CODE_PLUS, country) == f"+{code}"
    assert transform(phone, Transform.NATIONAL_NUMBER, country) == national


def test_a_phone_that_cannot_be_read_is_sent_as_given() -> None:
    assert transform("ext. 12", Transform.E164, "") == "ext. 12"
    assert transform("ext. 12", Transform.DIGITS, "") == "12"
    assert transform("", Transform.E164, "DE") == ""


def test_the_phone_is_read_with_the_leads_country() -> None:
    lead = LeadValues({"phone": "030 1234567", "country": "Germany"}, 1, "A", {})
    config = mapped(
        field("areaCode", "phone", Transform.DIALING_CODE),
        field("phone", how=Transform.NATIONAL_NUMBER),
    )

    assert build_request(config, lead, {}).json_body == {"areaCode": "49", "phone": "301234567"}


@pytest.mark.parametrize(
    ("country", "iso2", "name"),
    [
        ("DE", "DE", "Germany"),
        ("de", "DE", "Germany"),
        ("DEU", "DE", "Germany"),
        ("Deutschland", "DE", "Germany"),
        ("US", "US", "United States"),
        ("GB", "GB", "United Kingdom"),
        ("XK", "XK", "Kosovo"),
        ("Atlantis", "Atlantis", "Atlantis"),
    ],
)
def test_country_transforms(country, iso2, name) -> None:
    assert transform(country, Transform.COUNTRY_ISO2) == iso2
    assert transform(country, Transform.COUNTRY_NAME) == name


def test_case_transforms() -> None:
    assert transform("De-at", Transform.UPPER) == "DE-AT"
    assert transform("De-AT", Transform.LOWER) == "de-at"
    assert transform(" as is ", Transform.NONE) == "as is"


# Passwords -------------------------------------------------------------------------------

CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": PASSWORD_SYMBOLS,
}


@pytest.mark.parametrize(
    "rules",
    [
        PasswordRules(),
        PasswordRules(length=6, symbols=True),
        PasswordRules(length=20, upper=False, symbols=True),
        PasswordRules(length=8, lower=False, upper=False),
    ],
    ids=["default", "short-all-classes", "no-upper", "digits-only"],
)
def test_generated_passwords_follow_the_rules(rules) -> None:
    passwords = [generate_password(rules) for _ in range(200)]

    wanted = {name for name in CLASSES if getattr(rules, name)}
    allowed = "".join(CLASSES[name] for name in wanted)
    for password in passwords:
        assert len(password) == rules.length
        assert set(password) <= set(allowed)
        for name in wanted:
            assert set(password) & set(CLASSES[name]), (password, name)
    assert len(set(passwords)) == 200


def test_a_password_is_made_only_when_the_lead_has_none() -> None:
    config = mapped(FieldRule("pass", SourceKind.PASSWORD), field("email"))
    made = []

    def choose(rules: PasswordRules) -> str:
        made.append(rules)
        return "Made-Up-Pw1"

    without = build_request(config, LEAD, {}, choose_password=choose)
    lead_with = LeadValues({**FIELDS, "password": "Own-Pw-22"}, 7, "North", {})
    with_own = build_request(config, lead_with, {}, choose_password=choose)

    assert without.json_body["pass"] == "Made-Up-Pw1"
    assert without.generated_password == "Made-Up-Pw1"
    assert with_own.json_body["pass"] == "Own-Pw-22"
    assert with_own.generated_password == ""
    assert made == [PasswordRules()]


# Secrets and the preview -----------------------------------------------------------------


def test_a_missing_secret_is_named() -> None:
    config = mapped(field("email"), auth=AuthKind.HEADER, auth_name="Api-Key")

    with pytest.raises(InputError) as raised:
        build_request(config, LEAD, {})

    assert str(raised.value) == "The offer has no API key yet: enter it in the offer editor."


def test_a_missing_bearer_token_and_header_value_are_named() -> None:
    bearer = mapped(field("email"), auth=AuthKind.BEARER)
    header = mapped(field("email"), headers=(Header("X-Client", secret=True),))

    with pytest.raises(InputError, match=r"^The offer has no bearer token yet"):
        build_request(bearer, LEAD, {})
    with pytest.raises(InputError, match=r"^The offer has no value yet for the header X-Client"):
        build_request(header, LEAD, {})


def test_the_preview_is_the_exact_request_with_the_key_masked() -> None:
    config = mapped(
        field("email"),
        body_format=BodyFormat.FORM,
        auth=AuthKind.QUERY,
        auth_name="api_token",
        headers=(Header("X-Source", "leaddesk"),),
    )

    preview = build_request(config, LEAD, {AUTH_SECRET: KEY}).preview()

    assert preview == (
        "POST https://api.example.com/leads?api_token=••••••\n"
        "Host: api.example.com\n"
        f"User-Agent: LeadDesk/{__version__}\n"
        "Accept-Encoding: gzip, deflate\n"
        "Accept: */*\n"
        "Connection: keep-alive\n"
        "X-Source: leaddesk\n"
        "Content-Length: 37\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        "\n"
        "email=ada%40example.com&funnel=spring"
    )


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ({"auth": AuthKind.HEADER, "auth_name": "Api-Key"}, "Api-Key: ••••••"),
        ({"auth": AuthKind.QUERY, "auth_name": "token"}, "?token=••••••"),
        ({"auth": AuthKind.BODY, "auth_name": "api_key"}, '"api_key": "••••••"'),
        (
            {"auth": AuthKind.BODY, "auth_name": "api_key", "body_format": BodyFormat.FORM},
            "&api_key=••••••",
        ),
        ({"auth": AuthKind.BEARER}, "Authorization: Bearer ••••••"),
        ({"auth": AuthKind.BASIC, "auth_name": "ada"}, "Authorization: Basic ••••••"),
        (
            {"headers": (Header("X-Secret", secret=True),)},
            "X-Secret: ••••••",
        ),
    ],
    ids=["header", "query", "json-body", "form-body", "bearer", "basic", "secret-header"],
)
def test_every_secret_is_masked_in_the_preview(endpoint, shown) -> None:
    config = mapped(field("email"), **endpoint)
    secrets = {AUTH_SECRET: KEY, header_secret("X-Secret"): KEY}

    request = build_request(config, LEAD, secrets)
    preview = request.preview()

    assert shown in preview
    assert MASK in preview
    for form in ("k+y", "k%2By", "y/", "y%2F", "\\u00e9", "%C3%A9", "é z"):
        assert form not in preview
    basic = base64.b64encode(f"ada:{KEY}".encode("latin-1")).decode()
    assert basic not in preview
    assert KEY not in repr(request)


def test_an_echoed_secret_is_masked_in_any_case_and_escaping() -> None:
    config = mapped(field("email"), auth=AuthKind.HEADER, auth_name="Api-Key")
    request = build_request(config, LEAD, {AUTH_SECRET: "ab/CD-12"})

    masked = request.mask('{"key": "AB\\/cd-12", "raw": "ab/CD-12", "url": "ab%2FCD-12"}')

    assert masked == '{"key": "••••••", "raw": "••••••", "url": "••••••"}'


def test_a_request_crosses_as_plain_data_and_back() -> None:
    config = mapped(
        field("email"),
        body_format=BodyFormat.FORM,
        auth=AuthKind.BASIC,
        auth_name="ada",
        headers=(Header("X-Secret", secret=True), Header("X-Plain", "1")),
        proxy_url="socks5h://127.0.0.1:1080",
    )
    request = build_request(config, LEAD, {AUTH_SECRET: "pw", header_secret("X-Secret"): "s"})

    assert OutgoingRequest.from_json(request.to_json()) == request
    assert replace(request, url=URL).host == "api.example.com"
