"""Fixed field values a distribution adds, and the payload an offer receives."""

import pytest

from leaddesk.core.data_setting import build_payload, parse_fixed_fields, summarise
from leaddesk.errors import InputError


def test_entries_are_read_one_by_one_or_split_by_commas():
    assert parse_fixed_fields(["language=de", "source = spring, funnel=a=b"]) == {
        "language": "de",
        "source": "spring",
        "funnel": "a=b",
    }
    assert parse_fixed_fields(["", " "]) == {}


@pytest.mark.parametrize("entry", ["language", "=de", "two words=x", "affiliate_id=5"])
def test_unusable_entries_are_refused(entry):
    with pytest.raises(InputError):
        parse_fixed_fields([entry])


def test_summary_names_fields_and_fixed_values():
    assert summarise(["first_name", "email"], {"language": "de"}) == (
        "first_name, email; adds language=de"
    )
    assert summarise(["email"], {}) == "email"


def test_payload_leaves_out_empty_fields_and_names_the_affiliate():
    payload = build_payload(
        {"first_name": "Ana", "phone": "", "email": "ana@example.com"},
        {"language": "de"},
        7,
        "North",
    )
    assert payload == {
        "first_name": "Ana",
        "email": "ana@example.com",
        "language": "de",
        "affiliate_id": 7,
        "affiliate_name": "North",
    }
