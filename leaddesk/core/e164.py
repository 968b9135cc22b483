"""Phone numbers to E.164 without a full parse, for the common well-formed cases.

`quick_e164` follows the steps `phonenumbers.parse` takes for a string of digits (with or
without a leading "+") and a default region, using the library's own metadata, and returns
what `format_number(parse(...), E164)` gives for a possible number. Wherever a step could go
another way (a carrier code, a prefix transformation, an international call prefix, a number
that starts with the region's own country code, a length that is not plainly possible) it
returns None, and the caller asks phonenumbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# As phonenumbers: a country calling code has one to three digits, a national number two
# to seventeen.
COUNTRY_CODE_MAX_DIGITS = 3
NATIONAL_MIN_DIGITS = 2
NATIONAL_MAX_DIGITS = 17


@dataclass(frozen=True)
class _Rules:
    """What parsing needs from the metadata of one region."""

    country_code: str
    # Matches a national or international call prefix at the start of the digits; None
    # when the region has none.
    national_prefix: re.Pattern[str] | None
    international_prefix: re.Pattern[str] | None
    # The whole-number pattern of any number of the region; None when there is none.
    number_pattern: re.Pattern[str] | None
    possible_lengths: tuple[int, ...]
    local_only_lengths: tuple[int, ...]
    # The national prefix carries a carrier code or is rewritten: left to phonenumbers.
    complex_prefix: bool


def quick_e164(digits: str, international: bool, region: str | None) -> str | None:
    """The number in E.164 when it is plainly possible, else None (ask phonenumbers).

    `digits` holds only ASCII digits: after a "+" when `international`, else as dialled
    inside `region` (an upper-case ISO 3166 code).
    """
    if international:
        country_code, national = _split_country_code(digits)
        if not country_code:
            return None
        parse_rules = length_rules = _main_rules(country_code)
    else:
        if region is None:
            return None
        parse_rules = _region_rules(region)
        if parse_rules is None:
            return None
        country_code, national = parse_rules.country_code, digits
        if national.startswith(country_code):
            return None
        idd = parse_rules.international_prefix
        if idd is not None and idd.match(national):
            return None
        length_rules = _main_rules(country_code)
    if parse_rules is None or length_rules is None or len(national) < NATIONAL_MIN_DIGITS:
        return None

    national = _without_national_prefix(national, parse_rules)
    if national is None or len(national) > NATIONAL_MAX_DIGITS:
        return None
    if not _possible_length(len(national), length_rules):
        return None
    return f"+{country_code}{national}"


def _split_country_code(digits: str) -> tuple[str, str]:
    if not digits or digits[0] == "0":
        return "", digits
    for size in range(1, min(len(digits), COUNTRY_CODE_MAX_DIGITS) + 1):
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return digits[:size], digits[size:]
    return "", digits


def _without_national_prefix(national: str, rules: _Rules) -> str | None:
    """The national number with its prefix ("0", "1") removed, as parse removes it."""
    if rules.national_prefix is None:
        return national
    match = rules.national_prefix.match(national)
    if match is None:
        return national
    if rules.complex_prefix:
        return None
    stripped = national[match.end() :]
    # A prefix is removed only when the number stays well-formed, and only when what is left
    # has a length the region's numbers can have.
    if _whole_number(national, rules) and not _whole_number(stripped, rules):
        return national
    if not _keeps_stripped(len(stripped), rules):
        return national
    return stripped


def _whole_number(number: str, rules: _Rules) -> bool:
    return rules.number_pattern is not None and rules.number_pattern.fullmatch(number) is not None


def _keeps_stripped(length: int, rules: _Rules) -> bool:
    """True where parse keeps a stripped number: its length is possible, or too long."""
    if length in rules.local_only_lengths:
        return False
    lengths = rules.possible_lengths
    if lengths[0] == length:
        return True
    if lengths[0] > length:
        return False
    if lengths[-1] < length:
        return True
    return length in lengths[1:]


def _possible_length(length: int, rules: _Rules) -> bool:
    """True where `is_possible_number` says yes, local-only lengths included."""
    if length in rules.local_only_lengths:
        return True
    return length in rules.possible_lengths


@cache
def _region_rules(region: str) -> _Rules | None:
    return _rules(PhoneMetadata.metadata_for_region(region, None))


@cache
def _main_rules(country_code: str) -> _Rules | None:
    code = int(country_code)
    main_region = phonenumbers.region_code_for_country_code(code)
    return _rules(PhoneMetadata.metadata_for_region_or_calling_code(code, main_region))


def _rules(metadata: PhoneMetadata | None) -> _Rules | None:
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    lengths = tuple(general.possible_length or ())
    if not lengths or lengths[0] == -1:
        return None
    prefix = metadata.national_prefix_for_parsing or ""
    national_prefix = re.compile(prefix) if prefix else None
    transform = metadata.national_prefix_transform_rule or ""
    idd = metadata.international_prefix
    pattern = general.national_number_pattern
    return _Rules(
        country_code=str(metadata.country_code),
        national_prefix=national_prefix,
        international_prefix=re.compile(idd) if idd else None,
        number_pattern=re.compile(pattern) if pattern else None,
        possible_lengths=lengths,
        local_only_lengths=tuple(general.possible_length_local_only or ()),
        complex_prefix=bool(transform)
        or (national_prefix is not None and national_prefix.groups > 0),
    )
