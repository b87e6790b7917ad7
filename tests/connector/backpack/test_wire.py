"""Backpack payloads <-> typed values: markets, refusals, client ids, orders, fills, positions, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.backpack import wire
from connector.errors import (
    AuthError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    UnknownOrder,
    VenueError,
)
from connector.interface import OrderStatus
from connector.keys import register_secret

ETH = {
    "symbol": "ETH_USDC_PERP", "baseSymbol": "ETH", "quoteSymbol": "USDC", "marketType": "PERP",
    "filters": {"price": {"minPrice": "0.05", "maxPrice": "100000", "tickSize": "0.050"},
                "quantity": {"minQuantity": "0.001", "maxQuantity": "500", "stepSize": "0.0001"}},
    "imfFunction": {"type": "sqrt", "base": "0.02", "factor": "0.00015"},
    "orderBookState": "Open", "visible": True,
}  # fmt: skip
M, LIMITS = wire.parse_market(ETH)  # type: ignore[misc]


def test_decimals_come_from_tick_and_step_and_a_tick_off_the_powers_of_ten_is_kept():
    assert (M.symbol, M.base, M.quote, M.price_decimals, M.size_decimals) == ("ETH_USDC_PERP", "ETH", "USDC", 2, 4)
    assert (M.tick_i, M.step_i, M.min_size_i, M.max_leverage) == (5, 1, 10, 50)
    assert LIMITS == wire.Limits(min_price_i=5, max_price_i=10_000_000, max_size_i=5_000_000, book_state="Open")
    assert M.info is ETH


def test_only_perpetuals_are_markets():
    assert wire.parse_market({**ETH, "marketType": "SPOT"}) is None
    assert wire.decimals("10") == 0 and wire.decimals("0.10") == 1 and wire.decimals("1E-5") == 5


def _venue_refuses(price_i: int, size_i: int) -> bool:
    """The rules as the venue states them, written out plainly."""
    return (
        size_i <= 0 or size_i % M.step_i != 0 or size_i < M.min_size_i or size_i > (LIMITS.max_size_i or size_i)
        or price_i <= 0 or price_i % M.tick_i != 0 or price_i < LIMITS.min_price_i or price_i > (LIMITS.max_price_i or price_i)
    )  # fmt: skip


@given(st.integers(-100, 20_000_000), st.integers(-10, 6_000_000))
def test_a_price_or_size_is_refused_exactly_when_the_venue_would(price_i, size_i):
    try:
        wire.check_order(M, LIMITS, price_i=price_i, size_i=size_i)
    except InvalidOrder as exc:
        assert _venue_refuses(price_i, size_i), exc
        assert "backpack ETH_USDC_PERP" in str(exc)
    else:
        assert not _venue_refuses(price_i, size_i)


@pytest.mark.parametrize(
    ("state", "kind", "ok"),
    [("Open", "market", True), ("LimitOnly", "limit", True), ("LimitOnly", "market", False),
     ("PostOnly", "post_only", True), ("PostOnly", "limit", False), ("CancelOnly", "post_only", False),
     ("Closed", "limit", False)],
)  # fmt: skip
def test_a_book_that_is_not_open_refuses_new_orders_with_its_state(state, kind, ok):
    limits = wire.Limits(1, None, None, state)
    if ok:
        wire.check_book_state("X", limits, kind)
    else:
        with pytest.raises(OrderRejected, match=state):
            wire.check_book_state("X", limits, kind)


@given(st.integers(0, 2**48 - 1), st.integers(-(2**31) + 1, 2**31 - 1))
def test_a_client_index_comes_back_from_its_uint32_client_id(index, drift):
    reference = max(0, index + drift)
    cid = index % wire.CLIENT_ID_MOD
    assert 0 <= cid < 2**32
    if index >= 0 and abs(reference - index) < 2**31:
        assert wire.nearest_index(cid, reference) == index


def test_client_ids_known_this_session_map_back_exactly_and_others_near_the_clock():
    ids = wire.ClientIds()
    now = 1_754_000_000_000
    assert ids.client_id(101) == 101 and ids.index(101, "9", now) == 101
    fresh = wire.ClientIds()
    assert fresh.index((now + 7) % 2**32, "9", now) == now + 7  # after a restart: from the clock
    assert fresh.index(None, "4228978330", now) == -4228978330  # placed without a clientId
    with pytest.raises(InvalidOrder):
        ids.client_id(-1)


def test_an_order_body_is_a_limit_with_a_price_else_a_market_order():
    body = wire.order_body(M, is_ask=False, size_i=5000, price_i=341_005, client_id=42, post_only=True)
    assert body == {"symbol": "ETH_USDC_PERP", "side": "Bid", "orderType": "Limit", "quantity": "0.5000",
                    "clientId": 42, "price": "3410.05", "timeInForce": "GTC", "postOnly": True}  # fmt: skip
    market = wire.order_body(M, is_ask=True, size_i=10, price_i=None, client_id=7, reduce_only=True)
    assert market == {"symbol": "ETH_USDC_PERP", "side": "Ask", "orderType": "Market", "quantity": "0.0010",
                      "clientId": 7, "reduceOnly": True}  # fmt: skip


FILL = {"e": "orderFill", "E": 1754939110175879, "s": "ETH_USDC_PERP", "S": "Bid", "o": "MARKET", "f": "GTC",
        "q": "0.0010", "X": "Filled", "i": "5406825793", "t": 2888471, "l": "0.0010", "L": "4299.15",
        "m": False, "n": "0.000001", "N": "ETH", "z": "0.0010", "Z": "4.299150", "V": "RejectTaker", "r": False,
        "O": "USER", "T": 1754939110174705, "c": 42}  # fmt: skip


def test_an_order_fill_event_gives_the_order_and_its_fill():
    snap = wire.parse_order_update(FILL, M, 42)
    assert (snap.order_id, snap.status, snap.size_i, snap.filled_i, snap.price_i, snap.ts_ms) == (
        "5406825793",
        OrderStatus.FILLED,
        10,
        10,
        0,
        1754939110175,
    )
    fill = wire.parse_fill_update(FILL, M, 42)
    assert (fill.trade_id, fill.price_i, fill.size_i, fill.is_maker, fill.is_ask) == (
        "2888471",
        429915,
        10,
        False,
        False,
    )
    assert fill.fee_q == 4299  # 0.000001 ETH at 4299.15 USDC, in micro-USDC


@pytest.mark.parametrize(
    ("status", "reason", "filled", "expected"),
    [("New", "", 0, OrderStatus.OPEN), ("New", "", 3, OrderStatus.PARTIALLY_FILLED),
     ("Expired", "PostOnlyTaker", 0, OrderStatus.REJECTED), ("Expired", "ImmediateOrCancel", 2, OrderStatus.EXPIRED),
     ("Cancelled", "", 0, OrderStatus.CANCELLED), ("TriggerFailed", "", 0, OrderStatus.REJECTED)],
)  # fmt: skip
def test_statuses_map_and_a_post_only_that_would_take_is_rejected(status, reason, filled, expected):
    assert wire.order_status(status, reason, filled) is expected


def test_rest_orders_and_history_rows_parse_alike():
    rest = {"id": "4228978330", "clientId": 42, "symbol": "ETH_USDC_PERP", "side": "Ask", "orderType": "Limit",
            "price": "3410.050", "quantity": "0.5", "executedQuantity": "0.1", "status": "PartiallyFilled",
            "postOnly": True, "reduceOnly": None, "createdAt": 1753626206762}  # fmt: skip
    snap = wire.parse_order(rest, M, 42)
    assert (snap.price_i, snap.size_i, snap.filled_i, snap.is_ask, snap.post_only, snap.ts_ms) == (
        341_005,
        5000,
        1000,
        True,
        True,
        1753626206762,
    )
    history = {**rest, "status": "Expired", "expiryReason": "ImmediateOrCancel", "createdAt": "2025-07-27T14:23:26.762"}
    old = wire.parse_order(history, M, 42)
    assert (old.status, old.reason, old.ts_ms) == (OrderStatus.EXPIRED, "ImmediateOrCancel", 1753626206762)


def test_positions_parse_from_strings_or_numbers_and_average_prices_round():
    event = {"e": "positionOpened", "E": 1754943862040486, "s": "ETH_USDC_PERP", "b": "4238.479", "B": "4236.365",
             "M": "4235.88650933", "q": "-0.0010", "Q": "0.0010", "n": "4.23588650933", "p": "0", "P": "-0.000473",
             "f": "0.02", "m": "0.0125", "l": "0", "i": 5411399049, "T": 1754943862040487}  # fmt: skip
    p = wire.parse_position_update(event, M)
    assert (p.size_i, p.entry_price_i, p.mark_price_i, p.unrealized_pnl_q, p.ts_ms) == (
        -10,
        423636,
        423589,
        -473,
        1754943862040,
    )
    numbers = wire.parse_position_update({**event, "e": None, "q": 0.002, "B": 4236.36}, M)
    assert (numbers.size_i, numbers.entry_price_i) == (20, 423636)
    assert wire.parse_position_update({**event, "e": "positionClosed"}, M).size_i == 0


def test_margin_reads_the_collateral_summary():
    raw = {"netEquity": "1000.5", "netEquityAvailable": "900", "netEquityLocked": "100.5", "pnlUnrealized": "0.5",
           "netExposureFutures": "2000", "mmf": "0.0125"}  # fmt: skip
    m = wire.parse_margin(raw, 5)
    assert (m.collateral_q, m.equity_q, m.used_q, m.available_q, m.maintenance_q) == (
        1_000_000_000,
        1_000_500_000,
        100_500_000,
        900_000_000,
        25_000_000,
    )


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"code": "INVALID_SIGNATURE", "message": "Invalid signature"}, AuthError),
        (
            400,
            {"code": "INVALID_CLIENT_REQUEST", "message": "Invalid timestamp: must be within 5000ms"},
            wire.RequestExpired,
        ),
        (400, {"code": "INSUFFICIENT_MARGIN", "message": "Insufficient margin"}, InsufficientMargin),
        (400, {"code": "INVALID_ORDER", "message": "Order would immediately match and take."}, PostOnlyWouldCross),
        (400, {"code": "INVALID_CLIENT_REQUEST", "message": "Order not found"}, UnknownOrder),
        (404, {"code": "RESOURCE_NOT_FOUND", "message": "Order not found"}, UnknownOrder),
        (429, {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}, RateLimited),
        (400, {"code": "INVALID_PRICE", "message": "Price decimal too long"}, InvalidOrder),
        (400, {"code": "INVALID_ORDER", "message": "Order with client ID already exists: 42"}, OrderRejected),
        (503, {"code": "MAINTENANCE", "message": "Maintenance"}, VenueError),
    ],
)
def test_errors_map_to_typed_errors_carrying_the_raw_answer(status, body, kind):
    error = wire.error_for(status, body, "orderExecute", retry_after_s=2)
    assert type(error) is kind
    assert error.info == {"status": status, "body": body}
    assert body["message"] in str(error)
    if kind is RateLimited:
        assert error.retry_after_s == 2


def test_an_error_echoing_a_secret_is_masked():
    secret = register_secret("s3cr3t-canary-value").reveal()
    error = wire.error_for(400, {"code": "INVALID_ORDER", "message": f"bad {secret}"}, "orderExecute")
    assert secret not in str(error) and secret not in str(error.info)
