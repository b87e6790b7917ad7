"""The runtime on Hyperliquid through the fake: what the streams missed while down is recovered after
the reconnect, and a tracking limit chases the touch by amending in place."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from connector.hyperliquid import wire
from connector.hyperliquid.connector import HyperliquidConnector
from connector.interface import OrderStatus
from connector.keys import load_key_file
from execution.runtime import Runtime
from execution.tracking import TrackingLimitManager
from tests.fakes.hyperliquid import FakeHyperliquid

VENUE = "hyperliquid"


async def _until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def live(tmp_path):
    fake = await FakeHyperliquid(step_s=None).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "hl.toml"), venue=VENUE)
    connector = HyperliquidConnector(base_url=fake.base_url, keys=keys, reconnect_min_s=0.02, reconnect_max_s=0.1)
    runtime = Runtime([connector], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    await _until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
    try:
        yield fake, runtime
    finally:
        await runtime.stop()
        await fake.stop()


async def _resting_bid(runtime: Runtime, pct: int = 2):
    bid, _ = runtime.market_data.top_of_book(VENUE, "BTC")
    price = wire.round_price(bid * (100 - pct) // 100, 1, up=False)
    order = await runtime.orders.submit_limit(VENUE, "BTC", is_ask=False, size_i=100, price_i=price, post_only=True)
    assert order.state is OrderStatus.OPEN
    return order


async def test_a_fill_missed_while_the_stream_was_stalled_arrives_after_the_reconnect(live):
    fake, runtime = live
    order = await _resting_bid(runtime)
    fake.stall(30)  # the socket stays up but says nothing: the fill below never reaches us on it
    fake.engine.trade_through("BTC", is_ask=True, price_i=order.price_i, size_i=100)
    await asyncio.sleep(0.05)
    assert order.state is OrderStatus.OPEN and order.filled_i == 0
    await fake.drop_sockets()
    await _until(lambda: order.state is OrderStatus.FILLED)
    assert order.filled_i == 100 and len(order.fills) == 1


async def test_a_cancel_at_the_venue_during_an_outage_is_reconciled_from_rest(live):
    fake, runtime = live
    order = await _resting_bid(runtime)
    fake.stall(30)
    fake.engine.cancel_all()  # e.g. the dead-man switch fired: orderUpdates are never replayed
    await fake.drop_sockets()
    await _until(lambda: order.state is OrderStatus.CANCELLED)
    assert any("reconnect" in r.reason for r in runtime.reconciler.log)


async def test_a_tracking_limit_chases_the_touch_by_amending_and_fills(live):
    fake, runtime = live
    tracking = TrackingLimitManager(
        runtime.orders, runtime.market_data, clock=runtime.clock, connectors=runtime.connectors, amend="always"
    )
    chase = await tracking.start(VENUE, "BTC", is_ask=False, size_i=100, offset_ticks=0, min_reprice_interval_ms=0)
    await _until(lambda: any(o.is_live and o.state is OrderStatus.OPEN for o in runtime.orders.open_orders(VENUE)))
    (child,) = runtime.orders.open_orders(VENUE)
    first_price = child.price_i
    fake.engine.set_mid("BTC", fake.engine.mid_i("BTC") + 200)
    await _until(lambda: any(a["type"] == "batchModify" for a in fake.actions))
    await _until(lambda: child.price_i > first_price)
    assert runtime.orders.open_orders(VENUE) == [child]  # amended in place, not replaced
    fake.engine.trade_through("BTC", is_ask=True, price_i=child.price_i, size_i=100)
    await chase.wait_done(timeout=30)
    assert chase.filled_i == 100
    assert not [a for a in fake.actions if a["type"] in ("cancel", "cancelByCloid")]


async def test_the_runtime_chase_cancels_and_replaces_because_modify_is_not_fill_safe(live):
    fake, runtime = live
    assert "amend_fill_safe" not in runtime.connectors[VENUE].capabilities
    chase = await runtime.tracking.start(VENUE, "BTC", is_ask=False, size_i=100, min_reprice_interval_ms=0)
    # resting at the venue before the market moves: moved while the order was still on its way, the
    # chase's cancel could meet it in flight (it ended REJECTED once, on a loaded box, under xdist)
    await _until(lambda: any(o.is_live and o.state is OrderStatus.OPEN for o in runtime.orders.open_orders(VENUE)))
    (first,) = runtime.orders.open_orders(VENUE)
    fake.engine.set_mid("BTC", fake.engine.mid_i("BTC") + 200)
    await _until(lambda: first.is_final and len(runtime.orders.open_orders(VENUE)) == 1)
    (second,) = runtime.orders.open_orders(VENUE)
    assert second.price_i > first.price_i and first.state is OrderStatus.CANCELLED
    assert not any(a["type"] == "batchModify" for a in fake.actions)
    # the replacement may still be on its way (open here, not yet booked there): a trade-through now would miss it
    await _until(lambda: second.state is OrderStatus.OPEN)
    fake.engine.trade_through("BTC", is_ask=True, price_i=second.price_i, size_i=100)
    await chase.wait_done(timeout=30)
    assert chase.filled_i == 100
