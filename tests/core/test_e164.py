"""The quick E.164 path gives exactly what phonenumbers gives, or leaves the number to it."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from leaddesk.core.e164 import quick_e164

REGIONS = (
    "US",
    "CA",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "AT",
    "CH",
    "PL",
    "SE",
    "NO",
    "DK",
    "FI",
    "IE",
    "PT",
    "GR",
    "CZ",
    "HU",
    "RO",
    "RU",
    "UA",
    "TR",
    "IL",
    "AE",
    "SA",
    "IN",
    "CN",
    "JP",
    "KR",
    "AU",
    "NZ",
    "BR",
    "AR",
    "MX",
    "CO",
    "ZA",
    "NG",
    "EG",
    "SG",
    "HK",
    "VA",
    "SM",
)
# Regions whose usual numbers the quick path takes; others (such as Argentina, whose
# national prefix carries a carrier code) are mostly left to phonenumbers.
QUICK_REGIONS = frozenset(("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "IN", "AU"))
ROUNDS_PER_REGION = 200
SEED = 7


def phonenumbers_e164(digits: str, international: bool, region: str | None) -> str | None:
    """What the import's slow path gives: E.164 for a possible number, else None."""
    try:
        parsed = phonenumbers.parse(f"+{digits}" if international else digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def shapes(rng: random.Random, region: str) -> list[tuple[str, bool, str | None]]:
    """Numbers of a region written as managers' files write them, and damaged ones."""
    found = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        # The example with other last digits, one digit more or less now and then.
        keep = rng.randint(1, max(1, len(nsn) - 1))
        tail = "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
        nsn = nsn[:keep] + tail + rng.choice(("", "", "", "5", "55"))
        if rng.random() < 0.1:
            nsn = nsn[:-1]
        code = str(example.country_code)
        prefix = phonenumbers.country_mobile_token(code) if rng.random() < 0.05 else ""
        national_prefix = phonenumbers.ndd_prefix_for_region(region, True) or ""
        other = rng.choice(REGIONS)
        found += [
            (code + nsn, True, region),
            (code + nsn, True, None),
            (code + nsn, True, other),
            (nsn, False, region),
            (national_prefix + nsn, False, region),
            (prefix + national_prefix + nsn, False, region),
            (code + nsn, False, region),
            (code + national_prefix + nsn, True, region),
            (national_prefix + nsn, False, other),
        ]
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 15)))
    found += [(digits, True, region), (digits, False, region), ("0" + digits[:14], False, region)]
    return found


@pytest.mark.parametrize("region", REGIONS)
def test_quick_path_agrees_with_phonenumbers(region: str) -> None:
    rng = random.Random(f"{SEED}-{region}")
    quick_answers = tried = 0
    for _ in range(ROUNDS_PER_REGION):
        for digits, international, where in shapes(rng, region):
            tried += 1
            quick = quick_e164(digits, international, where)
            if quick is None:
                continue
            quick_answers += 1
            assert quick == phonenumbers_e164(digits, international, where), (
                digits,
                international,
                where,
            )
    # The quick path takes many numbers; otherwise it would not be worth having.
    if region in QUICK_REGIONS:
        assert quick_answers > tried // 3
