"""Lighter payload rules without a socket: markets, the book's nonce chain, orders, fills, errors, signing."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import AuthError, ConfigError, InvalidOrder, OrderRejected, RateLimited, VenueError
from connector.interface import OrderStatus
from connector.lighter import wire
from connector.lighter.nonces import InvalidNonce

ETH = {
    "symbol": "ETH",
    "market_id": 0,
    "market_type": "perp",
    "status": "active",
    "min_base_amount": "0.0050",
    "min_quote_amount": "10.000000",
    "supported_size_decimals": 4,
    "supported_price_decimals": 2,
    "supported_quote_decimals": 6,
    "size_decimals": 4,
    "price_decimals": 2,
    "default_initial_margin_fraction": 500,
}


def test_market_decimals_and_minimums_come_from_the_supported_fields():
    market_id, info = wire.parse_market(ETH)
    assert market_id == 0
    assert (info.symbol, info.base, info.price_decimals, info.size_decimals) == ("ETH", "ETH", 2, 4)
    assert info.min_size_i == 50
    assert info.min_notional_q == 10_000_000
    assert info.max_leverage == 20


def test_min_size_rounds_up_to_the_size_step():
    _, info = wire.parse_market({**ETH, "min_base_amount": "0.00505"})
    assert info.min_size_i == 51


def _book(kind: str, begin: int, nonce: int, bids=(), asks=()) -> dict:
    return {
        "channel": "order_book:0",
        "type": kind,
        "timestamp": 1,
        "order_book": {
            "code": 0,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "offset": 99,
            "nonce": nonce,
            "begin_nonce": begin,
        },
    }


def test_book_updates_chain_on_begin_nonce():
    chain = wire.BookChain("ETH", 2, 4)
    snap = chain.apply(_book("subscribed/order_book", 0, 100, bids=[("2064.30", "1.0392")]), snapshot=True)
    assert snap.is_snapshot and snap.bids == ((206430, 10392),) and snap.seq == 100
    upd = chain.apply(_book("update/order_book", 100, 107, asks=[("2064.54", "0")]), snapshot=False)
    assert not upd.is_snapshot and upd.asks == ((206454, 0),) and chain.nonce == 107


def test_book_gap_raises_and_forgets_the_chain():
    chain = wire.BookChain("ETH", 2, 4)
    chain.apply(_book("subscribed/order_book", 0, 100), snapshot=True)
    with pytest.raises(wire.BookGap):
        chain.apply(_book("update/order_book", 101, 105), snapshot=False)
    assert chain.nonce is None
    assert chain.apply(_book("update/order_book", 105, 106), snapshot=False) is None


def test_update_before_snapshot_is_ignored():
    chain = wire.BookChain("ETH", 2, 4)
    assert chain.apply(_book("update/order_book", 5, 6), snapshot=False) is None


ORDER = {
    "order_index": 281476929510110,
    "client_order_index": 42,
    "market_index": 0,
    "initial_base_amount": "0.0050",
    "remaining_base_amount": "0.0030",
    "filled_base_amount": "0.0020",
    "price": "2352.74",
    "is_ask": True,
    "time_in_force": "post-only",
    "reduce_only": False,
    "status": "open",
    "timestamp": 1777941383576,
}


def test_order_payload_becomes_a_snapshot():
    snap = wire.parse_order(ORDER, "ETH", 2, 4)
    assert snap.order_id == "281476929510110" and snap.client_order_index == 42
    assert (snap.price_i, snap.size_i, snap.filled_i) == (235274, 50, 20)
    assert snap.status == OrderStatus.PARTIALLY_FILLED and snap.post_only and snap.is_ask


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("in-progress", 0, OrderStatus.SUBMITTING),
        ("pending", 0, OrderStatus.SUBMITTING),
        ("open", 0, OrderStatus.OPEN),
        ("filled", 5, OrderStatus.FILLED),
        ("canceled", 0, OrderStatus.CANCELLED),
        ("canceled-post-only", 0, OrderStatus.REJECTED),
        ("canceled-margin-not-allowed", 0, OrderStatus.REJECTED),
        ("canceled-reduce-only", 3, OrderStatus.CANCELLED),
        ("canceled-too-much-slippage", 0, OrderStatus.CANCELLED),
        ("canceled-expired", 0, OrderStatus.EXPIRED),
    ],
)
def test_venue_statuses_map_to_our_states(status, filled, expected):
    assert wire.map_status(status, filled) == expected


def test_a_trade_is_a_fill_on_our_side_with_our_client_id_and_ppm_fee():
    trade = {
        "trade_id": 19209006902,
        "market_id": 0,
        "size": "0.1000",
        "price": "2000.00",
        "ask_id": 1,
        "bid_id": 2,
        "ask_client_id": 0,
        "bid_client_id": 7001,
        "ask_account_id": 91249,
        "bid_account_id": 1234,
        "is_maker_ask": True,
        "timestamp": 5,
        "taker_fee": 200,
        "maker_fee": 20,
    }
    (fill,) = wire.parse_fills(trade, 1234, "ETH", 2, 4)
    assert (fill.client_order_index, fill.order_id, fill.trade_id) == (7001, "2", "19209006902")
    assert not fill.is_ask and not fill.is_maker
    assert (fill.price_i, fill.size_i) == (200000, 1000)
    assert fill.fee_q == 40_000  # 200 notional * 200 ppm
    assert wire.parse_fills(trade, 555, "ETH", 2, 4) == []


def test_position_is_signed_and_marked_from_its_value():
    raw = {
        "market_id": 0,
        "sign": -1,
        "position": "0.5000",
        "avg_entry_price": "2000.00",
        "position_value": "1010.000000",
        "unrealized_pnl": "-10.000000",
        "realized_pnl": "1.5",
        "liquidation_price": "0",
    }
    pos = wire.parse_position(raw, "ETH", 2, 4, 7)
    assert pos.size_i == -5000 and pos.entry_price_i == 200000 and pos.mark_price_i == 202000
    assert pos.unrealized_pnl_q == -10_000_000 and pos.realized_pnl_q == 1_500_000
    assert pos.liquidation_price_i is None


def test_errors_are_told_apart():
    assert isinstance(wire.error_for("sendTx", 400, {"code": 21104, "message": "invalid nonce"}, None), InvalidNonce)
    assert isinstance(wire.error_for("sendTx", 400, {"code": 21120, "message": "invalid signature"}, None), AuthError)
    assert type(wire.error_for("sendTx", 400, {"code": 21733, "message": "accidental price"}, None)) is OrderRejected
    limited = wire.error_for("account", 429, None, "3")
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 3
    assert type(wire.error_for("account", 502, {}, None)) is VenueError
    region = wire.error_for("orderBookDetails", 403, {"code": 403, "message": "<html>Forbidden"}, None)
    assert isinstance(region, AuthError) and "restricted regions" in str(region)


class Secret:
    def __init__(self, value: str) -> None:
        self._v = value

    def reveal(self) -> str:
        return self._v

    def __repr__(self) -> str:
        return "Secret('***')"


def test_key_file_values_are_checked_and_the_secret_revealed_only_to_the_signer():
    assert wire.parse_keys({"api_private_key": Secret("0xab"), "account_index": "7", "api_key_index": 4}) == (
        7,
        4,
        "0xab",
    )
    with pytest.raises(ConfigError, match="api_key_index"):
        wire.parse_keys({"api_private_key": "x", "account_index": 1})
    with pytest.raises(ConfigError, match=r"0\.\.254"):
        wire.parse_keys({"api_private_key": "x", "account_index": 1, "api_key_index": 255})


def test_missing_sdk_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "lighter", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[lighter\]'"):
        wire.load_sdk()


async def test_signer_makes_tx_info_with_our_nonce_and_key_and_checks_ranges():
    lighter = pytest.importorskip("lighter")
    priv, _pub, _err = lighter.signer_client.create_api_key()
    signer = wire.LighterSigner("http://127.0.0.1:9", 123, 4, priv, wire.TESTNET_CHAIN_ID)
    try:
        tx = signer.create_order(
            market_id=0,
            client_order_index=42,
            base_amount=1000,
            price=300000,
            is_ask=False,
            order_type=wire.ORDER_LIMIT,
            time_in_force=wire.TIF_POST_ONLY,
            reduce_only=False,
            order_expiry=wire.EXPIRY_28_DAYS,
            nonce=7,
        )
        info = json.loads(tx.tx_info)
        assert tx.tx_type == wire.TX_CREATE_ORDER
        assert (info["Nonce"], info["ApiKeyIndex"], info["AccountIndex"]) == (7, 4, 123)
        assert (info["ClientOrderIndex"], info["TimeInForce"], info["IsAsk"]) == (42, 2, 0)
        with pytest.raises(InvalidOrder, match="client_order_index"):
            signer.create_order(
                market_id=0,
                client_order_index=2**48,
                base_amount=1,
                price=1,
                is_ask=False,
                order_type=0,
                time_in_force=1,
                reduce_only=False,
                order_expiry=-1,
                nonce=8,
            )
        with pytest.raises(InvalidOrder, match="price"):
            signer.modify_order(market_id=0, order_index=42, base_amount=1, price=2**32, nonce=8)
        token = signer.auth_token(now_s=1_700_000_000, ttl_s=600)
        assert token.startswith("1700000600:123:4:")
        assert priv[2:] not in repr(signer)
    finally:
        await signer.close()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.integers(1, 30), st.integers(0, 4), max_size=6),
            st.integers(1, 5),
            st.sampled_from(["chain", "chain", "chain", "gap", "snapshot"]),
        ),
        max_size=40,
    )
)
def test_the_chain_mirrors_the_venue_book_and_never_applies_across_a_gap(steps):
    """A reference book driven by random updates; the chain must equal it whenever it claims a nonce."""
    chain = wire.BookChain("ETH", 2, 4)
    venue: dict[int, int] = {}
    nonce = 100
    chain.apply(_book("subscribed/order_book", 0, nonce), snapshot=True)
    for changes, step, kind in steps:
        for price, size in changes.items():
            if size:
                venue[price] = size
            else:
                venue.pop(price, None)
        begin, nonce = nonce, nonce + step
        levels = [(f"{p / 100:.2f}", f"{s / 10_000:.4f}") for p, s in changes.items()]
        if kind == "snapshot":
            full = [(f"{p / 100:.2f}", f"{s / 10_000:.4f}") for p, s in venue.items()]
            chain.apply(_book("subscribed/order_book", 0, nonce, bids=full), snapshot=True)
        elif kind == "gap":
            was_live = chain.nonce is not None
            try:
                result = chain.apply(_book("update/order_book", begin + 1, nonce, bids=levels), snapshot=False)
            except wire.BookGap:
                assert was_live
            else:
                assert not was_live and result is None
        else:
            expected_live = chain.nonce == begin
            result = chain.apply(_book("update/order_book", begin, nonce, bids=levels), snapshot=False)
            assert (result is not None) == expected_live
        if chain.nonce is not None:
            assert chain.bids == venue
        else:
            assert chain.bids == {} and chain.top() == (None, None)
