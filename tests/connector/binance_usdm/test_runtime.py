"""The runtime on Binance USDⓈ-M through the fake: orders and positions, what the user-data stream
missed while it was down (a dropped socket, an expired listenKey) recovered from REST, and the
tracking limit re-pricing in place with ``PUT /fapi/v1/order``."""

from __future__ import annotations

import asyncio

import pytest

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.interface import OrderStatus
from connector.keys import load_key_file
from execution.runtime import Runtime
from tests.connector.binance_usdm.test_connector import FAST, until
from tests.fakes.binance_usdm import FakeBinanceUsdm

VENUE = "binance-usdm"


@pytest.fixture
async def live(tmp_path):
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue=VENUE)
    connector = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **FAST)
    runtime = Runtime([connector], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    await until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
    try:
        yield fake, runtime
    finally:
        await runtime.stop()
        await fake.stop()


async def _resting_bid(runtime: Runtime, size_i: int = 3, pct: int = 1):
    bid, _ = runtime.market_data.top_of_book(VENUE, "BTC")
    order = await runtime.orders.submit_limit(
        VENUE, "BTC", is_ask=False, size_i=size_i, price_i=bid * (100 - pct) // 100, post_only=True
    )
    assert order.state is OrderStatus.OPEN
    return order


async def test_an_order_rests_fills_and_moves_the_position(live):
    fake, runtime = live
    order = await _resting_bid(runtime)
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=order.price_i, size_i=3)
    await order.wait_final(timeout=30)
    assert (order.state, order.filled_i, len(order.fills)) == (OrderStatus.FILLED, 3, 1)
    await until(lambda: runtime.positions.position(VENUE, "BTC").size_i == 3)


async def test_a_post_only_that_would_cross_ends_rejected_with_the_venues_reason(live):
    _, runtime = live
    _, ask = runtime.market_data.top_of_book(VENUE, "BTC")
    order = await runtime.orders.submit_limit(VENUE, "BTC", is_ask=False, size_i=3, price_i=ask + 10, post_only=True)
    assert order.state is OrderStatus.REJECTED and "-5022" in order.reason


async def test_a_fill_missed_while_the_private_stream_was_down_is_found_by_the_reconciler(live):
    fake, runtime = live
    order = await _resting_bid(runtime)
    conn = runtime.connectors[VENUE]
    fake.listen_key, key = None, fake.listen_key  # the venue stops pushing to us for a moment
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=order.price_i, size_i=3)
    await asyncio.sleep(0.05)
    assert order.state is OrderStatus.OPEN
    fake.listen_key = key
    await fake.drop_sockets("private")
    await until(lambda: conn.streams["private"].connects == 2)
    await order.wait_final(timeout=30)
    await runtime.reconciler.wait_idle()
    assert (order.state, order.filled_i) == (OrderStatus.FILLED, 3)
    # the fill itself, read back from userTrades after the reconnect (or the reconciler got there first)
    await until(lambda: any(f.size_i == 3 for f in order.fills))
    assert any(f.price_i == order.price_i for f in order.fills)


async def test_listen_key_expiry_mid_session_is_recovered_and_reconciled(live):
    fake, runtime = live
    order = await _resting_bid(runtime)
    conn = runtime.connectors[VENUE]
    fake.expire_listen_key(notify=True)
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=order.price_i, size_i=3)  # nobody hears it
    await until(lambda: conn.listen_key.renewals == 1 and conn.streams["private"].connects == 2)
    await order.wait_final(timeout=30)
    assert (order.state, order.filled_i) == (OrderStatus.FILLED, 3)
    later = await _resting_bid(runtime, pct=2)  # and the new key streams again
    await runtime.orders.cancel(later)
    await later.wait_final(timeout=30)
    assert later.state is OrderStatus.CANCELLED


async def test_the_runtimes_tracking_limit_amends_in_place_and_fills(live):
    fake, runtime = live
    assert {"amend", "amend_fill_safe"} <= runtime.connectors[VENUE].capabilities
    live_children: list[int] = []
    runtime.orders.add_listener(
        lambda o: live_children.append(sum(1 for c in runtime.orders.open_orders(VENUE) if c.parent_id))
    )
    chase = await runtime.tracking.start(VENUE, "BTC", is_ask=False, size_i=5, min_reprice_interval_ms=0)
    await until(lambda: len(runtime.orders.open_orders(VENUE)) == 1 and runtime.orders.open_orders(VENUE)[0].order_id)
    (child,) = runtime.orders.open_orders(VENUE)
    first_price = child.price_i
    fake.engine.set_mid("BTCUSDT", fake.engine.mid_i("BTCUSDT") + 200)  # the bid runs 20 dollars away
    await until(lambda: any(m == "PUT" and p == "/fapi/v1/order" for m, p, _ in fake.requests))
    await until(lambda: child.price_i > first_price)
    assert runtime.orders.open_orders(VENUE) == [child]  # re-priced in place, not replaced
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=child.price_i, size_i=5)
    await chase.wait_done(timeout=30)
    assert chase.filled_i == 5
    assert not [1 for m, p, _ in fake.requests if m == "DELETE" and p == "/fapi/v1/order"]
    assert max(live_children) <= 1


async def test_an_order_whose_post_timed_out_while_the_stream_was_down_gets_its_fill_and_nothing_is_parked(tmp_path):
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue=VENUE)
    connector = BinanceUsdmConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **{**FAST, "request_timeout_s": 0.5}
    )
    runtime = Runtime([connector], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    try:
        await until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
        await _resting_bid(runtime, pct=3)  # the stream has spoken since it connected
        fake.listen_key, key = None, fake.listen_key
        fake.hold_answers("/fapi/v1/order", 2.0)  # placed, answered after our timeout
        bid, _ = runtime.market_data.top_of_book(VENUE, "BTC")
        order = await runtime.orders.submit_limit(VENUE, "BTC", is_ask=False, size_i=3, price_i=bid * 99 // 100)
        assert order.order_id is None
        fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=order.price_i, size_i=3)
        await until(lambda: fake.user_trades.get("BTCUSDT"))
        fake.listen_key = key
        await fake.drop_sockets("private")
        await until(lambda: any(f.size_i == 3 for f in order.fills))
        await runtime.reconciler.wait_idle()
        assert (order.state, order.filled_i, len(order.fills)) == (OrderStatus.FILLED, 3, 1)
        assert runtime.orders.store._orphan_fills == {}
    finally:
        await runtime.stop()
        await fake.stop()
