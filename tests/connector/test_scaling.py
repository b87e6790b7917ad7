from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.scaling import (
    ScaledMemo,
    clear_memos,
    decimal_to_scaled,
    money_text,
    rescale,
    scaled_memo,
    scaled_pairs,
    scaled_to_decimal,
    scaled_to_str,
    str_to_scaled,
)


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=0, max_value=12))
def test_round_trip_through_text_is_exact(value_i, decimals):
    text = scaled_to_str(value_i, decimals)
    assert str_to_scaled(text, decimals) == value_i
    assert decimal_to_scaled(Decimal(text), decimals) == value_i
    assert scaled_to_decimal(value_i, decimals) == Decimal(text)


@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [("64950.5", 1, 649505), ("-0.5", 2, -50), ("100", 3, 100000), ("0.0100", 2, 1), ("1e-5", 6, 10), (".5", 1, 5)],
)
def test_venue_strings(text, decimals, expected):
    assert str_to_scaled(text, decimals) == expected


def test_too_many_decimals_is_refused_not_rounded():
    with pytest.raises(ValueError, match="more than 2 decimals"):
        str_to_scaled("0.123", 2)
    with pytest.raises(ValueError, match="more than 1 decimals"):
        decimal_to_scaled(Decimal("1.25"), 1)


def test_rescale_truncates_toward_zero():
    assert rescale(12345, 3, 1) == 123
    assert rescale(-12345, 3, 1) == -123
    assert rescale(5, 1, 3) == 500


@pytest.mark.parametrize("text", [".", "-.", "1.2.3", "abc", "1.5x", ""])
def test_garbage_is_a_value_error(text):
    with pytest.raises(ValueError):
        str_to_scaled(text, 4)


def test_cached_scaler_agrees_with_the_plain_conversion_and_stays_bounded():
    from connector.scaling import CachedScaler

    scale = CachedScaler(3, max_entries=4)
    for text in ["1.5", "2.25", "1.5", "0.001", "7", "8.125", "1.5"]:
        assert scale(text) == str_to_scaled(text, 3)
    assert len(scale._cache) <= 4
    with pytest.raises(ValueError):
        scale("0.0001")


@pytest.mark.parametrize(
    ("value_q", "decimals", "text"),
    [
        (1_005_000, 6, "1.01"),
        (-2_345_678, 6, "-2.35"),
        (1_004_999, 6, "1.00"),
        (1_298_000_000, 6, "1,298.00"),
        (0, 6, "0.00"),
        (12_345, 2, "123.45"),
        (7, 0, "7.00"),
        (15, 3, "0.02"),
    ],
)
def test_money_text_rounds_half_a_cent_away_from_zero_with_separators(value_q, decimals, text):
    assert money_text(value_q, decimals) == text


_NUMBERISH = st.text(alphabet="0123456789.-+e_ ", min_size=1, max_size=12)


@settings(deadline=None)
@given(st.one_of(_NUMBERISH, st.builds(scaled_to_str, st.integers(-(10**12), 10**12), st.integers(0, 8))),
       st.integers(0, 8))  # fmt: skip
def test_the_memo_reads_every_text_as_str_to_scaled_does(text, decimals):
    """Same value, or the same refusal (ValueError), whether the text is a venue's or garbage."""
    memo = ScaledMemo(decimals)
    try:
        expected: int | type[ValueError] = str_to_scaled(text, decimals)
    except ValueError:
        expected = ValueError
    try:
        got: int | type[ValueError] = memo[text]
    except ValueError:
        got = ValueError
    assert got == expected and (text in memo) == (expected is not ValueError)
    if expected is not ValueError:
        assert memo[text] == expected and type(memo[text]) is int


def test_the_memo_is_bounded_and_shared_per_scale():
    memo = ScaledMemo(2, max_entries=3)
    for i in range(10):
        assert memo[f"{i}.05"] == i * 100 + 5
        assert len(memo) <= 3
    assert scaled_memo(4) is scaled_memo(4) and scaled_memo(4).decimals == 4
    scaled_memo(4)["1.0000"]
    clear_memos()
    assert not scaled_memo(4)


@given(st.lists(st.tuples(st.one_of(_NUMBERISH, st.builds(scaled_to_str, st.integers(0, 10**9), st.integers(0, 3))),
                          st.one_of(_NUMBERISH, st.builds(scaled_to_str, st.integers(0, 10**9), st.integers(0, 6)))),
                max_size=4),
       st.integers(0, 3), st.integers(0, 6))  # fmt: skip
@settings(deadline=None)
def test_scaled_pairs_read_each_size_as_the_memo_does(levels, pd, sd):
    """The inline reading of sizes gives the memo's values, or the same refusal, level by level."""
    px, sz = ScaledMemo(pd), ScaledMemo(sd)
    try:
        expected: object = tuple((str_to_scaled(p, pd), str_to_scaled(q, sd)) for p, q in levels)
    except ValueError:
        expected = ValueError
    try:
        got: object = scaled_pairs(tuple(levels), px, sz)
    except ValueError:
        got = ValueError
    assert got == expected


@pytest.mark.parametrize("text", ["709e739682", "1e61", "-5E+100"])
def test_a_huge_exponent_is_refused_not_built(text):
    """Before, "709e739682" took a minute building a 739-million-digit int (or raised decimal.Overflow)."""
    with pytest.raises(ValueError, match="out of range"):
        str_to_scaled(text, 2)
    with pytest.raises(ValueError, match="out of range"):
        ScaledMemo(2)[text]
