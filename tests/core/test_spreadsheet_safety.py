"""Tests for spotting spreadsheet formulas and neutralising them for export."""

from __future__ import annotations

import pytest

from leaddesk.core.spreadsheet_safety import (
    is_formula_attack,
    neutralise_formula,
    runs_as_formula,
)


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1)",
        "=1+1",
        "\t=1+1",
        "\r=1+1",
        "- called back",
        "+ keen",
        "@jane",
        "-",
    ],
)
def test_formulas_get_a_leading_quote(value: str) -> None:
    assert runs_as_formula(value)
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "-5",
        "+49 30 1234567",
        "+49301234567",
        "+1-532-344-1362",
        "-3.5",
        "(030) 123-456",
        "Anna",
        "anna@example.org",
        "",
        "a=b",
        "x+1",
    ],
)
def test_plain_values_and_numbers_are_left_alone(value: str) -> None:
    assert not runs_as_formula(value)
    assert neutralise_formula(value) == value


def test_neutralised_value_is_left_alone_the_second_time() -> None:
    once = neutralise_formula("=1+1")
    assert neutralise_formula(once) == once


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","y")', "=1", " =1", "+cmd|' /C calc'!A0", "@SUM(1)", "-SUM (1)"],
)
def test_attacks_are_told_from_data(value: str) -> None:
    assert is_formula_attack(value)


@pytest.mark.parametrize(
    "value", ["-2+3", "- called back", "+ keen", "@jane", "-5", "+1-532-344-1362", "a=b"]
)
def test_data_that_runs_as_a_formula_is_not_an_attack(value: str) -> None:
    assert not is_formula_attack(value)
