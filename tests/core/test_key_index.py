"""The compact index of e-mails and phones already seen in a file."""

from __future__ import annotations

import random

import pytest

from leaddesk.core.key_index import KeyIndex, email_words, phone_words


def test_it_keeps_the_first_row_of_each_key_across_growth() -> None:
    rng = random.Random(3)
    index = KeyIndex(slots_bits=4)
    expected: dict[str, int] = {}
    for row in range(2, 60_002):
        key = f"lead{rng.randrange(40_000)}@example.com"
        words = email_words(key)
        assert index.row_of(*words) == expected.get(key, 0)
        index.add(*words, row)
        expected.setdefault(key, row)
    assert len(index) == len(expected)
    assert all(index.row_of(*email_words(key)) == row for key, row in expected.items())
    assert index.row_of(*email_words("nobody@example.com")) == 0


def test_phones_are_kept_exactly() -> None:
    index = KeyIndex()
    index.add(*phone_words("+4917012345678"), 2)
    assert index.row_of(*phone_words("+4917012345678")) == 2
    assert index.row_of(*phone_words("+4917012345679")) == 0
    assert phone_words("+4917012345678") != phone_words("+494917012345678")


def test_row_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="numbered from 1"):
        KeyIndex().add(1, 2, 0)
