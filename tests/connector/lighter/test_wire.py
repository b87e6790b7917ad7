"""Lighter payload rules without a socket: markets, orders, fills, positions, errors."""

from __future__ import annotations

import pytest

from connector.errors import AuthError, OrderRejected, RateLimited, VenueError
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
