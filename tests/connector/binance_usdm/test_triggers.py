"""Binance USDⓈ-M conditional orders (``native_triggers``) against the fake venue: the algo-order
wire, the listing, the cancel, and the venue firing them on its mark while the connector hears the
child under the trigger's own client index."""

from __future__ import annotations

import pytest

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.binance_usdm.rest import SIGNED
from connector.errors import InvalidOrder, OrderRejected, UnknownOrder, VenueError
from connector.interface import TRIGGER_KINDS, ChecksTriggers, OrderStatus, SupportsTriggers
from tests.connector.binance_usdm.test_connector import _open, until

SIZE = 100  # 0.1 BTC


@pytest.fixture
async def binance(fake, keys):
    conn, rec = await _open(fake, keys)
    yield conn, rec
    await conn.stop()


async def _long(conn, rec, fake, coi: int = 1) -> int:
    await conn.submit_market_order(symbol="BTCUSDT", client_order_index=coi, size_i=SIZE, is_ask=False)
    await until(lambda: [f for f in rec.events["fill"] if f.client_order_index == coi])
    return fake.engine.mark_i("BTCUSDT")


def _algo_posts(fake) -> list[dict[str, str]]:
    return [p for m, path, p in fake.requests if m == "POST" and path == "/fapi/v1/algoOrder"]


def test_the_connector_declares_every_kind_on_mark_or_last_and_a_trailing_stop_only_as_a_sized_rate():
    assert "native_triggers" in BinanceUsdmConnector.capabilities
    assert BinanceUsdmConnector.trigger_kinds == frozenset(TRIGGER_KINDS)
    assert BinanceUsdmConnector.trigger_sources == frozenset({"mark", "last"})
    conn = BinanceUsdmConnector.__new__(BinanceUsdmConnector)
    assert isinstance(conn, ChecksTriggers)

    def ok(**kw) -> bool:
        args = {"kind": "trailing_stop", "size_i": SIZE, "trigger_on": "mark", "trail_i": None, "trail_ppm": 10_000}
        return conn.supports_trigger(**{**args, **kw})

    assert ok() and ok(trail_ppm=1_000) and ok(trail_ppm=50_000) and ok(trigger_on="last")
    assert not ok(trail_ppm=900) and not ok(trail_ppm=51_000) and not ok(trail_ppm=12_345)  # 0.1 % steps, 0.1..5 %
    assert not ok(trail_ppm=None, trail_i=50)  # a trail in price units: no such form
    assert not ok(size_i=None)  # closePosition goes with STOP_MARKET / TAKE_PROFIT_MARKET only
    assert not ok(trigger_on="mid")
    assert ok(kind="stop_market", size_i=None, trail_ppm=None)
    assert ok(kind="take_profit_limit", size_i=SIZE, trail_ppm=None)
    assert not ok(kind="stop_limit", size_i=None, trail_ppm=None)  # closePosition: the market kinds only


async def test_a_sized_trailing_stop_is_a_callback_rate_that_trails_the_best_mark_and_fires_on_the_pullback(
    fake, binance
):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(
        symbol="BTCUSDT", client_order_index=13, kind="trailing_stop", is_ask=True, trigger_price=None,
        size_i=SIZE, trail_ppm=10_000,
    )  # fmt: skip
    sent = _algo_posts(fake)[-1]
    assert sent["type"] == "TRAILING_STOP_MARKET" and sent["callbackRate"] == "1.0" and sent["reduceOnly"] == "true"
    assert "triggerPrice" not in sent and "activatePrice" not in sent and "closePosition" not in sent
    (t,) = await conn.get_trigger_orders()
    assert (t.kind, t.size_i) == ("trailing_stop", SIZE)
    fake.engine.set_mid("BTCUSDT", mark * 103 // 100)  # the best mark rises 3 %: the trigger follows it
    fake.engine.advance_to(fake.clock.now_ms() + 100)
    fake.engine.set_mid("BTCUSDT", mark * 1025 // 1000)  # half a percent back: within the callback
    fake.engine.advance_to(fake.clock.now_ms() + 200)
    assert fake.engine.triggers and fake.engine.account.positions["BTCUSDT"].size_i == SIZE
    fake.engine.set_mid("BTCUSDT", mark * 1015 // 1000)  # 1.5 % below the best: fires, though above the entry
    fake.engine.advance_to(fake.clock.now_ms() + 300)
    await until(lambda: [o for o in rec.orders(13) if o.status is OrderStatus.FILLED])
    assert fake.engine.account.positions["BTCUSDT"].size_i == 0 and not fake.engine.triggers


async def test_a_callback_rate_the_venue_cannot_take_is_refused_there_too(fake, binance):
    conn, rec = binance
    await _long(conn, rec, fake)
    with pytest.raises(InvalidOrder):  # before sending
        await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=14, kind="trailing_stop", is_ask=True,
                                        trigger_price=None, size_i=None, trail_ppm=10_000)  # fmt: skip
    with pytest.raises(VenueError):  # the fake refuses it as the venue would
        await conn._need_rest().request(
            "POST", "/fapi/v1/algoOrder", {"algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL",
            "type": "TRAILING_STOP_MARKET", "quantity": "0.100", "reduceOnly": "true", "callbackRate": "7.5",
            "clientAlgoId": "pd-14"}, security=SIGNED, weight=0, orders=1,
        )  # fmt: skip
    assert not fake.engine.triggers


async def test_a_stop_market_goes_to_the_algo_endpoint_reduce_only_and_is_listed_apart_from_orders(fake, binance):
    conn, rec = binance
    assert isinstance(conn, SupportsTriggers)
    mark = await _long(conn, rec, fake)
    algo_id = await conn.submit_trigger_order(
        symbol="BTCUSDT", client_order_index=7, kind="stop_market", is_ask=True, trigger_price=mark * 98 // 100,
        size_i=SIZE,
    )  # fmt: skip
    assert algo_id.isdigit()
    sent = _algo_posts(fake)[-1]
    assert sent["algoType"] == "CONDITIONAL" and sent["type"] == "STOP_MARKET" and sent["side"] == "SELL"
    assert sent["reduceOnly"] == "true" and sent["quantity"] == "0.100" and sent["workingType"] == "MARK_PRICE"
    assert sent["clientAlgoId"] == "pd-7" and "closePosition" not in sent
    (t,) = await conn.get_trigger_orders("BTCUSDT")
    assert (t.client_order_index, t.kind, t.is_ask, t.size_i, t.trigger_on, t.reduce_only) == (
        7, "stop_market", True, SIZE, "mark", True,
    )  # fmt: skip
    assert t.trigger_price_i == mark * 98 // 100
    assert all(o.client_order_index != 7 for o in await conn.get_open_orders("BTCUSDT"))


async def test_a_whole_position_take_profit_limit_is_close_position_with_its_limit_on_last(fake, binance):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(
        symbol="BTCUSDT", client_order_index=8, kind="take_profit_limit", is_ask=True,
        trigger_price=mark * 102 // 100, size_i=None, limit_price=mark * 101 // 100, trigger_on="last",
    )  # fmt: skip
    sent = _algo_posts(fake)[-1]
    assert sent["type"] == "TAKE_PROFIT" and sent["closePosition"] == "true" and sent["workingType"] == "CONTRACT_PRICE"
    assert "quantity" not in sent and "reduceOnly" not in sent and sent["timeInForce"] == "GTC"
    (t,) = await conn.get_trigger_orders()
    assert (t.kind, t.size_i, t.limit_price_i, t.trigger_on) == ("take_profit_limit", None, mark * 101 // 100, "last")


async def test_what_the_venue_cannot_take_is_refused_before_sending(fake, binance):
    conn, _ = binance
    before = len(_algo_posts(fake))
    with pytest.raises(InvalidOrder):
        await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=9, kind="stop_market", is_ask=True,
                                        trigger_price=600_000, size_i=SIZE, trigger_on="mid")  # fmt: skip
    with pytest.raises(InvalidOrder):
        await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=9, kind="stop_limit", is_ask=True,
                                        trigger_price=600_000, size_i=SIZE)  # fmt: skip
    with pytest.raises(InvalidOrder):
        await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=9, kind="trailing_stop", is_ask=True,
                                        trigger_price=None, size_i=SIZE, trail_ppm=1_500)  # fmt: skip
    assert len(_algo_posts(fake)) == before


async def test_a_trigger_the_mark_has_passed_is_refused_by_the_venue(fake, binance):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    with pytest.raises((OrderRejected, VenueError)):
        await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=10, kind="stop_market", is_ask=True,
                                        trigger_price=mark * 101 // 100, size_i=SIZE)  # fmt: skip
    assert fake.refused[-1][0] == -2021


async def test_cancel_disarms_it_and_a_second_cancel_is_unknown(fake, binance):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=11, kind="stop_market", is_ask=True,
                                    trigger_price=mark * 97 // 100, size_i=None)  # fmt: skip
    await conn.cancel_trigger_order("BTCUSDT", 11)
    assert not fake.engine.triggers and await conn.get_trigger_orders() == []
    with pytest.raises(UnknownOrder):
        await conn.cancel_trigger_order("BTCUSDT", 11)


async def test_the_venue_fires_on_its_mark_and_the_child_comes_back_under_the_triggers_client_id(fake, binance):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=12, kind="stop_market", is_ask=True,
                                    trigger_price=mark * 97 // 100, size_i=None)  # fmt: skip
    fake.engine.set_mid("BTCUSDT", mark * 95 // 100)
    fake.engine.advance_to(fake.clock.now_ms() + 100)
    await until(lambda: [o for o in rec.orders(12) if o.status is OrderStatus.FILLED])
    assert [f.size_i for f in rec.events["fill"] if f.client_order_index == 12] == [SIZE]
    assert fake.engine.account.positions["BTCUSDT"].size_i == 0
    assert await conn.get_trigger_orders() == []
    row, status = fake.algo_ends[12]
    assert status == "TRIGGERED" and row["actualOrderId"]


async def test_a_conditional_type_on_the_order_endpoint_is_refused_as_the_venue_does_now(fake, binance):
    conn, _ = binance
    rest = conn._need_rest()
    with pytest.raises(VenueError):
        await rest.request("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                                                      "stopPrice": "60000.0", "closePosition": "true"},
                           security="SIGNED", weight=0, orders=1)  # fmt: skip
    assert fake.refused[-1][0] == -4120


async def test_after_a_restart_the_connector_lists_the_armed_triggers_and_can_cancel_them(fake, binance, keys):
    conn, rec = binance
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(symbol="BTCUSDT", client_order_index=13, kind="take_profit_market", is_ask=True,
                                    trigger_price=mark * 103 // 100, size_i=SIZE)  # fmt: skip
    await conn.stop()
    again, _ = await _open(fake, keys)
    try:
        (t,) = await again.get_trigger_orders("BTCUSDT")
        assert (t.client_order_index, t.kind) == (13, "take_profit_market")
        await again.cancel_trigger_order("BTCUSDT", 13)
        assert not fake.engine.triggers
    finally:
        await again.stop()
