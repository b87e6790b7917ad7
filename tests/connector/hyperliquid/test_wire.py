"""Hyperliquid wire format: the SDK's signing vectors, number text, the 5-figure tick, cloids, nonces."""

from __future__ import annotations

import sys
import threading
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import (
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    UnknownOrder,
)
from connector.hyperliquid import wire

SDK_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
SDK_ORDER = {
    "type": "order",
    "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}],
    "grouping": "na",
}


@pytest.fixture
def sdk_wallet():
    return wire.crypto().Account.from_key(SDK_KEY)


def test_sdk_order_vector_signs_identically_on_mainnet(sdk_wallet):
    sig = wire.sign_l1_action(sdk_wallet, SDK_ORDER, 0, is_mainnet=True)
    assert sig == {
        "r": "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        "s": "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        "v": 28,
    }


def test_sdk_order_vector_on_testnet_is_a_different_signature(sdk_wallet):
    sig = wire.sign_l1_action(sdk_wallet, SDK_ORDER, 0, is_mainnet=False)
    assert sig["v"] == 27
    assert sig["r"] != "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e"


def test_sdk_cloid_vector_keeps_the_r_without_its_leading_zero(sdk_wallet):
    action = {**SDK_ORDER, "orders": [{**SDK_ORDER["orders"][0], "c": wire.cloid_from_index(1)}]}
    assert action["orders"][0]["c"] == "0x00000000000000000000000000000001"
    sig = wire.sign_l1_action(sdk_wallet, action, 0, is_mainnet=True)
    assert sig == {
        "r": "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
        "s": "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
        "v": 27,
    }


def test_sdk_action_hash_vector():
    order = wire.order_wire(4, True, wire.to_wire(16701, 1), wire.to_wire(147, 4), False, "Ioc", None)
    digest = wire.action_hash(wire.order_action([order]), None, 1677777606040, None)
    assert digest.hex() == "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"


def test_signer_is_recovered_from_a_signature(sdk_wallet):
    sig = wire.sign_l1_action(sdk_wallet, SDK_ORDER, 1_700_000_000_000, is_mainnet=False)
    assert wire.recover_l1_signer(SDK_ORDER, 1_700_000_000_000, sig, is_mainnet=False) == sdk_wallet.address
    # the same signature read on the other network, or over another nonce, names someone else
    assert wire.recover_l1_signer(SDK_ORDER, 1_700_000_000_000, sig, is_mainnet=True) != sdk_wallet.address
    assert wire.recover_l1_signer(SDK_ORDER, 1_700_000_000_001, sig, is_mainnet=False) != sdk_wallet.address


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


def test_nonces_increase_strictly_within_one_millisecond_and_across_threads():
    counter = wire.NonceCounter()
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        got = [counter.next(1_700_000_000_000) for _ in range(500)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2000
    assert counter.next(1) > max(seen)  # a clock that steps back never reuses a nonce


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


def test_without_the_extra_the_venue_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "msgpack", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[hyperliquid\]'"):
        wire.crypto()
