"""Binance USDⓈ-M payloads and signing, without a socket: the notes' vectors, ticks, filters, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.binance_usdm import codes, wire
from connector.binance_usdm.signing import ServerTime, Signer, encode_params, signature
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

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
QUERY = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.002&price=60000.0"
    "&newClientOrderId=tui-000001&recvWindow=5000&timestamp=1700000000000"
)


def test_signature_matches_the_notes_vector():
    assert signature(SECRET.encode(), QUERY) == "bd4b5812cef5d6de8eec7bd0f9a69efcb8a8941ad2feb3c43635b409fde61caf"
    assert (
        Signer(SECRET).sign(QUERY)
        == QUERY + "&signature=bd4b5812cef5d6de8eec7bd0f9a69efcb8a8941ad2feb3c43635b409fde61caf"
    )


def test_the_signature_covers_query_then_body_with_nothing_between():
    body = "quantity=1&price=9000"
    assert Signer(SECRET).sign("symbol=LTCBTC", body).endswith(signature(SECRET.encode(), "symbol=LTCBTC" + body))


def test_params_keep_their_order_and_encode_like_the_venue():
    params = {"symbol": "BTCUSDT", "reduceOnly": True, "skip": None, "newClientOrderId": "a b/c"}
    assert encode_params(params) == "symbol=BTCUSDT&reduceOnly=true&newClientOrderId=a%20b%2Fc"
    with pytest.raises(TypeError, match="inexact"):
        encode_params({"price": 0.1})


def test_the_signer_never_shows_its_secret():
    signer = Signer(SECRET)
    assert SECRET not in repr(signer) and SECRET not in str(signer)


def test_server_time_offset_is_measured_at_the_middle_of_the_round_trip():
    t = ServerTime(safety_ms=0)
    assert t.observe(sent_ms=1_000, server_ms=6_050, received_ms=1_100) == 5_000
    assert t.timestamp(2_000) == 7_000
    assert ServerTime(safety_ms=200).timestamp(0) == -200  # a little behind: "ahead by 1000 ms" is refused


def symbol_entry(tick: str = "0.10", step: str = "0.001", notional: str = "100", **extra) -> dict:
    return {
        "symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "status": "TRADING",
        "baseAsset": "BTC", "quoteAsset": "USDT", "pricePrecision": 2, "quantityPrecision": 3,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "4529764", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "1000", "stepSize": step},
            {"filterType": "MARKET_LOT_SIZE", "minQty": step, "maxQty": "120", "stepSize": step},
            {"filterType": "MIN_NOTIONAL", "notional": notional},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
        ],
        **extra,
    }  # fmt: skip


def test_price_decimals_come_from_the_tick_never_from_price_precision():
    info, f = wire.parse_symbol(symbol_entry())
    assert (info.price_decimals, info.tick_i, info.size_decimals, info.step_i) == (1, 1, 3, 1)
    assert (info.base, info.quote, info.min_size_i, info.min_notional_q) == ("BTC", "USDT", 1, 100_000_000)
    assert (f.band_up, f.band_down) == (Decimal("1.0500"), Decimal("0.9500"))


@pytest.mark.parametrize(
    ("tick", "pd", "tick_i"), [("0.10", 1, 1), ("0.0005", 4, 5), ("0.50", 1, 5), ("10", 0, 10), ("0.0100", 2, 1)]
)
def test_a_tick_that_is_not_a_power_of_ten_is_carried_as_tick_i(tick, pd, tick_i):
    info, _ = wire.parse_symbol(symbol_entry(tick=tick))
    assert (info.price_decimals, info.tick_i) == (pd, tick_i)


def test_only_trading_perpetuals_are_listed():
    body = {
        "symbols": [
            symbol_entry(),
            symbol_entry(symbol="BTCUSDT_261225", contractType="CURRENT_QUARTER"),
            symbol_entry(symbol="OLDUSDT", status="SETTLING"),
        ],
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
    }
    assert [info.symbol for info, _ in wire.parse_exchange_info(body)] == ["BTCUSDT"]
    assert wire.parse_rate_limits(body) == {"REQUEST_WEIGHT:1M": 2400, "ORDERS:10S": 300}


HALF_TICK = wire.parse_symbol(symbol_entry(tick="0.50", notional="5"))[1]
MARK = 600_000  # 60000.0 with one price decimal


@settings(max_examples=300, deadline=None)
@given(price=st.integers(1, 2 * MARK), size=st.integers(1, 200))
def test_a_price_off_the_tick_outside_the_band_or_too_small_is_refused_before_sending(price, size):
    f = HALF_TICK
    on_tick = price % f.tick_i == 0
    low, high = wire.band(f, MARK)
    in_band = low <= price <= high
    notional_ok = price * size * 10**6 // 10**4 >= f.min_notional_q
    try:
        wire.check_order(f, price_i=price, size_i=size, mark_i=MARK)
    except InvalidOrder as exc:
        text = str(exc)
        assert not (on_tick and in_band and notional_ok)
        if not on_tick:
            assert "tick 0.5" in text
        elif not notional_ok:
            assert "notional" in text
        else:
            assert "band" in text and wire.to_wire(low, 1) in text and wire.to_wire(high, 1) in text
    else:
        assert on_tick and in_band and notional_ok


@given(price=st.integers(1, 10**7))
def test_reduce_only_is_exempt_from_the_minimum_notional(price):
    f = HALF_TICK
    price -= price % f.tick_i
    if price:
        wire.check_order(f, price_i=price, size_i=1, reduce_only=True)


def test_the_band_is_on_the_tick_and_inside_the_multipliers():
    low, high = wire.band(HALF_TICK, 600_001)
    assert low % 5 == 0 and high % 5 == 0
    assert Decimal(low) >= Decimal("0.95") * 600_001 and Decimal(high) <= Decimal("1.05") * 600_001


def test_size_rules_use_the_market_lot_for_market_orders():
    _, f = wire.parse_symbol(symbol_entry())
    with pytest.raises(InvalidOrder, match="above the maximum 120"):
        wire.check_order(f, price_i=0, size_i=121_000, is_market=True)
    wire.check_order(f, price_i=0, size_i=119_000, is_market=True)


def test_client_ids_carry_the_index_and_foreign_orders_get_a_negative_one():
    assert wire.client_id(42) == "pd-42"
    assert wire.coi_of("pd-42", 7) == 42
    assert wire.coi_of("web_AbC123", 987) == -987
    assert wire.coi_of("autoclose-1700000000", 5) == -5


UPDATE = {
    "e": "ORDER_TRADE_UPDATE", "E": 1568879465651, "T": 1568879465650,
    "o": {"s": "BTCUSDT", "c": "pd-1", "S": "BUY", "o": "LIMIT", "f": "GTX", "q": "0.002", "p": "60000", "ap": "60000",
          "sp": "0", "x": "TRADE", "X": "FILLED", "i": 8886774, "l": "0.002", "z": "0.002", "L": "60000", "N": "USDT",
          "n": "0.024", "T": 1568879465650, "t": 112, "m": True, "R": False, "ps": "BOTH", "rp": "0",
          "V": "EXPIRE_MAKER", "er": "0"},
}  # fmt: skip


def test_an_order_trade_update_is_an_order_state_and_a_fill():
    _, f = wire.parse_symbol(symbol_entry())
    snap, fill = wire.parse_order_update(UPDATE, f)
    assert (snap.client_order_index, snap.order_id, snap.status, snap.post_only) == (
        1,
        "8886774",
        OrderStatus.FILLED,
        True,
    )
    assert (snap.price_i, snap.size_i, snap.filled_i) == (600_000, 2, 2)
    assert fill is not None
    assert (fill.trade_id, fill.price_i, fill.size_i, fill.fee_q, fill.is_maker) == (
        "BTCUSDT:112",
        600_000,
        2,
        24_000,
        True,
    )


def test_a_fee_in_another_asset_is_not_counted_as_quote():
    _, f = wire.parse_symbol(symbol_entry())
    msg = {**UPDATE, "o": {**UPDATE["o"], "N": "BNB", "n": "0.0001"}}
    assert wire.parse_order_update(msg, f)[1].fee_q == 0


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [("NEW", 0, OrderStatus.OPEN), ("NEW", 1, OrderStatus.PARTIALLY_FILLED), ("CANCELED", 0, OrderStatus.CANCELLED),
     ("EXPIRED", 0, OrderStatus.EXPIRED), ("EXPIRED_IN_MATCH", 0, OrderStatus.EXPIRED), ("WHAT", 0, OrderStatus.UNKNOWN)],
)  # fmt: skip
def test_statuses_map_to_ours(status, filled, expected):
    assert wire.map_status(status, filled) is expected


def test_account_money_is_rounded_to_quote_units():
    margin = wire.parse_account(
        {"totalWalletBalance": "122624.12345678", "totalMarginBalance": "122625.1234565", "totalInitialMargin": "10",
         "totalMaintMargin": "1.5", "availableBalance": "122615.12345650", "positions": [{"x": 1}]}, 5,
    )  # fmt: skip
    assert (margin.collateral_q, margin.equity_q, margin.used_q) == (122624_123457, 122625_123456, 10_000_000)
    assert "positions" not in margin.info


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(400, -5022, PostOnlyWouldCross), (400, -2019, InsufficientMargin), (400, -2011, UnknownOrder),
     (400, -2013, UnknownOrder), (401, -2015, AuthError), (400, -1022, AuthError), (400, -4014, InvalidOrder),
     (400, -4164, OrderRejected), (400, -2022, OrderRejected), (429, -1003, RateLimited),
     (400, -1021, codes.ClockSkew), (400, -1125, codes.ListenKeyMissing), (503, -1007, VenueError)],
)  # fmt: skip
def test_error_bodies_map_to_typed_errors_with_info(status, code, kind):
    err = codes.error_for("POST /fapi/v1/order", status, {"code": code, "msg": "venue text"})
    assert isinstance(err, kind)
    assert err.info["code"] == code and "venue text" in str(err)


def test_hedge_mode_and_auth_errors_say_what_to_do():
    hedge = codes.error_for("POST /fapi/v1/order", 400, {"code": -4061, "msg": "Order's position side does not match"})
    assert isinstance(hedge, OrderRejected) and "One-way" in str(hedge)
    auth = codes.error_for("GET /fapi/v3/account", 401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions"})
    assert "whitelist" in str(auth) and "Enable Futures" in str(auth)
