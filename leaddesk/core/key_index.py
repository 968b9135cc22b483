"""The row where each e-mail or phone was first seen, for millions of rows in little memory.

A dict of strings costs about 150 bytes a key; a file of a million leads has two million
keys. Here a key is two 64-bit words in a flat array with its row number beside it (20 bytes
a slot, open addressing), so de-duplicating a million leads takes tens of megabytes.
"""

from __future__ import annotations

from array import array
from itertools import compress

WORDS_PER_KEY = 2
INITIAL_SLOTS_BITS = 16
# The table doubles when it is two-thirds full, keeping probe sequences short.
GROWTH_BITS = 1
MAX_LOAD_NUMERATOR, MAX_LOAD_DENOMINATOR = 2, 3
_WORD_MASK = (1 << 64) - 1
_SPREAD = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: spreads nearby numbers over the table


def email_words(key: str) -> tuple[int, int]:
    """Two independent 64-bit hashes of an e-mail key: different keys agree on both with a
    chance of about 1 in 2**128, so the index never takes one person for another in practice.
    """
    return hash(key), hash("\x00" + key)


def phone_words(e164: str) -> tuple[int, int]:
    """An E.164 number as the number itself: exact, no hashing."""
    return int(e164[1:]), 0


class KeyIndex:
    """Keys (pairs of 64-bit words) with the row each was first seen in."""

    def __init__(self, slots_bits: int = INITIAL_SLOTS_BITS) -> None:
        self._allocate(slots_bits)
        self.count = 0

    def _allocate(self, slots_bits: int) -> None:
        slots = 1 << slots_bits
        self._shift = 64 - slots_bits
        self._mask = slots - 1
        self._words = array("q", bytes(8 * WORDS_PER_KEY * slots))
        # Row 0 marks an empty slot: rows are numbered from 1.
        self._rows = array("I", bytes(4 * slots))
        self._vacant = 0

    def __len__(self) -> int:
        return self.count

    def row_of(self, high: int, low: int) -> int:
        """The row the key was first seen in, or 0 for a new key."""
        words, rows, mask = self._words, self._rows, self._mask
        slot = (((high ^ (low << 1)) * _SPREAD) & _WORD_MASK) >> self._shift
        while True:
            row = rows[slot]
            if not row:
                self._vacant = slot
                return 0
            if words[2 * slot] == high and words[2 * slot + 1] == low:
                return row
            slot = (slot + 1) & mask

    def add(self, high: int, low: int, row: int) -> None:
        """Remember the key's row, unless the key is known already."""
        if not self.row_of(high, low):
            self.add_new(high, low, row)

    def add_new(self, high: int, low: int, row: int) -> None:
        """Remember the row of a key `row_of` has just found new, in the slot it found."""
        if not row:
            raise ValueError("rows are numbered from 1")
        slot = self._vacant
        self._words[2 * slot] = high
        self._words[2 * slot + 1] = low
        self._rows[slot] = row
        self.count += 1
        if self.count * MAX_LOAD_DENOMINATOR > len(self._rows) * MAX_LOAD_NUMERATOR:
            self._grow()

    def _grow(self) -> None:
        old_words, old_rows = self._words, self._rows
        self._allocate(64 - self._shift + GROWTH_BITS)
        words, rows, mask, shift = self._words, self._rows, self._mask, self._shift
        # Every key is new to the larger table, so each goes to the first free slot it meets.
        for slot in compress(range(len(old_rows)), old_rows):
            high, low = old_words[2 * slot], old_words[2 * slot + 1]
            new = (((high ^ (low << 1)) * _SPREAD) & _WORD_MASK) >> shift
            while rows[new]:
                new = (new + 1) & mask
            words[2 * new] = high
            words[2 * new + 1] = low
            rows[new] = old_rows[slot]
