"""The one number parser: what a trader may type, and the exact scaled integers it becomes."""

from decimal import Decimal

import pytest

from console.parsing.numbers import not_a_number, parse_decimal, parse_int, to_scaled


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("64950.5", Decimal("64950.5")),
        (" 64,950.5 ", Decimal("64950.5")),
        ("1_000", Decimal("1000")),
        ("-1", Decimal("-1")),
    ],
)
def test_numbers_as_a_trader_types_them(text, value):
    assert parse_decimal(text) == value


@pytest.mark.parametrize(
    "text", ["", "  ", "abc", "1.2.3", "inf", "-Infinity", "nan", "sNaN", "$5", "1e3", "1E3", "2.5e-2", "1e+3"]
)
def test_what_is_not_a_finite_number_is_refused(text):
    assert parse_decimal(text) is None


def test_scaling_is_exact_or_refused_never_rounded():
    assert to_scaled(Decimal("64950.5"), 1) == 649_505
    assert to_scaled(Decimal("0.01"), 4) == 100
    assert to_scaled(Decimal("1E+3"), 2) == 100_000
    assert to_scaled(Decimal("64950.55"), 1) is None
    assert to_scaled(Decimal("0.00001"), 4) is None


def test_whole_numbers_only_for_ticks():
    assert (parse_int("1"), parse_int(" -1 "), parse_int("0")) == (1, -1, 0)
    assert parse_int("1.5") is None and parse_int("one") is None and parse_int("") is None


def test_exponent_notation_gets_its_own_inline_message():
    assert "exponent notation (1e3) is not accepted" in not_a_number(" 1e3 ")
    assert "exponent notation" in not_a_number("2.5E-2")
    assert not_a_number("abc") == "'abc' is not a number"
    assert not_a_number("eleven") == "'eleven' is not a number"
