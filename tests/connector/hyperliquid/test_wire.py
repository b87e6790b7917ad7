"""Hyperliquid wire format: number text, the 5-figure tick, cloids, actions, payloads, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import (
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    UnknownOrder,
)
from connector.hyperliquid import wire


def test_order_wire_keys_are_in_the_venue_order():
    order = wire.order_wire(0, False, "1", "2", True, "Alo", "0x" + "0" * 32)
    assert list(order) == ["a", "b", "p", "s", "r", "t", "c"]
    assert "c" not in wire.order_wire(0, False, "1", "2", True, "Alo", None)


def _sdk_float_to_wire(value_i: int, decimals: int) -> str:
    """The SDK's ``float_to_wire`` applied to the exact decimal (``f"{x:.8f}"`` then normalize)."""
    rounded = f"{Decimal(value_i).scaleb(-decimals):.8f}"
    normalized = Decimal(rounded).normalize()
    return f"{normalized:f}" if normalized else "0"


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=6))
def test_wire_numbers_match_the_sdk_text(value_i, decimals):
    assert wire.to_wire(value_i, decimals) == _sdk_float_to_wire(value_i, decimals)


def test_wire_numbers_have_no_trailing_zeros():
    assert wire.to_wire(1000, 1) == "100"
    assert wire.to_wire(16701, 1) == "1670.1"
    assert wire.to_wire(147, 4) == "0.0147"
    assert wire.to_wire(0, 3) == "0"


@pytest.mark.parametrize(
    ("price_i", "pd", "valid"),
    [
        (12345, 1, True),  # 1234.5
        (123456, 2, False),  # 1234.56: six figures
        (1173655, 1, False),  # 117365.5: seven figures, not an integer
        (1173650, 1, True),  # 117365: integers always pass
        (1234, 5, True),  # 0.01234 with szDecimals 1
        (12345, 6, True),  # 0.012345 has 5 figures but 6 decimals is the price scale here
    ],
)
def test_price_validity_follows_five_figures_and_integers(price_i, pd, valid):
    assert wire.is_valid_price(price_i, pd) is valid


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=6), st.booleans())
def test_rounding_gives_the_nearest_valid_price_on_the_traders_side(price_i, pd, up):
    out = wire.round_price(price_i, pd, up=up)
    assert wire.is_valid_price(out, pd)
    assert (out >= price_i) if up else (out <= price_i)
    lo, hi = sorted((price_i, out))
    # nothing valid strictly between the asked price and the rounded one (checked near both ends)
    for p in {*range(lo + 1, min(hi, lo + 50)), *range(max(lo + 1, hi - 50), hi)}:
        assert not wire.is_valid_price(p, pd)


@settings(max_examples=100)
@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=6))
def test_a_valid_price_is_never_moved(price_i, pd):
    valid = wire.round_price(price_i, pd, up=False)
    assert wire.round_price(valid, pd, up=True) == valid


def test_a_price_that_cannot_be_expressed_is_refused():
    with pytest.raises(InvalidOrder):
        wire.round_price(0, 1, up=False)
    with pytest.raises(InvalidOrder):
        wire.round_price(-5, 1, up=True)


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_cloid_round_trips_the_client_order_index(index):
    cloid = wire.cloid_from_index(index)
    assert len(cloid) == 34 and cloid.startswith("0x")
    assert wire.index_from_cloid(cloid) == index


def test_an_index_beyond_128_bits_has_no_cloid():
    with pytest.raises(InvalidOrder):
        wire.cloid_from_index(2**128)


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("Post only order would have immediately matched, bbo was 1@2. asset=0", PostOnlyWouldCross),
        ("Insufficient margin to place order. asset=3", InsufficientMargin),
        ("Order was never placed, already canceled, or filled. asset=0", UnknownOrder),
        ("Order must have minimum value of $10. asset=0", OrderRejected),
        ("Reduce only order would increase position. asset=0", OrderRejected),
    ],
)
def test_per_order_errors_map_to_connector_errors(message, cls):
    error = wire.status_error({"error": message}, "order")
    assert type(error) is cls
    assert str(error) == message


def test_success_statuses_are_not_errors():
    assert wire.status_error({"resting": {"oid": 1}}, "order") is None
    assert wire.status_error({"filled": {"oid": 1, "totalSz": "1", "avgPx": "2"}}, "order") is None
    assert wire.status_error("success", "cancel") is None


def test_meta_gives_asset_ids_decimals_and_the_tick_at_the_mark():
    meta = {
        "universe": [
            {"name": "BTC", "szDecimals": 5, "maxLeverage": 50},
            {"name": "LOOM", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True},
            {"name": "SOL", "szDecimals": 2, "maxLeverage": 20},
        ]
    }
    ctxs = [{"markPx": "65000.0"}, {"markPx": "0.1"}, {"markPx": "150.12"}]
    markets = {info.symbol: (asset, info) for asset, info in wire.parse_meta(meta, ctxs)}
    assert set(markets) == {"BTC", "SOL"}
    asset, btc = markets["BTC"]
    assert (asset, btc.price_decimals, btc.size_decimals, btc.tick_i) == (0, 1, 5, 10)
    assert markets["SOL"][0] == 2 and markets["SOL"][1].tick_i == 100
    # the minimum size is worth $10 even 20% below the mark
    assert btc.min_size_i * 65000 * 8 // 10 >= 10 * 10**5
