"""The trigger engine's native path on a real venue's connector: Hyperliquid (through its fake on
127.0.0.1) holds stops and take-profits itself; its trailing stop stays with perpdesk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from connector.hyperliquid.connector import HyperliquidConnector
from connector.keys import load_key_file
from execution.runtime import Runtime
from execution.triggers import TriggerState
from tests.fakes.hyperliquid import FakeHyperliquid

VENUE = "hyperliquid"


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def _runtime(fake: FakeHyperliquid, tmp_path) -> Runtime:
    keys = load_key_file(tmp_path / "hl.toml", venue="hyperliquid")
    runtime = Runtime([HyperliquidConnector(base_url=fake.base_url, keys=keys)], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    await _until(lambda: runtime.market_data.mid_i(VENUE, "BTC") is not None)
    return runtime


async def _long(runtime: Runtime, fake: FakeHyperliquid) -> int:
    size_i = runtime.market_data.to_size_i(VENUE, "BTC", "0.01")
    entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=size_i)
    await entry.wait_final(timeout=5)
    await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == size_i)
    return size_i


async def test_a_stop_the_venue_fires_while_the_socket_is_down_is_settled_from_its_record(tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    fake.write_key_file(tmp_path / "hl.toml")
    runtime = await _runtime(fake, tmp_path)
    try:
        await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        down = asyncio.Event()
        runtime.connectors[VENUE].add_handler(
            "connection", lambda e: down.set() if e.state.name == "DISCONNECTED" else None
        )
        await fake.drop_sockets()
        fake.engine.set_mid("BTC", fake.engine.mid_i("BTC") * 95 // 100)  # fires with nobody listening
        fake.engine.advance_to(fake.clock.now_ms())
        assert not fake.engine.triggers and fake.engine.account.positions["BTC"].size_i == 0
        await asyncio.wait_for(down.wait(), 10)
        await _until(lambda: t.is_done)  # the reconnect reads the venue again: it fired, its child filled
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert t.child is not None and t.child.is_ask
    finally:
        await runtime.stop()
        await fake.stop()


async def test_moving_a_native_stop_replaces_it_at_the_venue_and_breakeven_moves_it_to_the_entry(tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    fake.write_key_file(tmp_path / "hl.toml")
    runtime = await _runtime(fake, tmp_path)
    try:
        await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        mid -= mid % 10  # on the venue's grid (whole dollars here): the venue holds the price asked
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 97 // 100)
        first = t.venue_ref
        await runtime.triggers.move(t, mid * 98 // 100 // 10 * 10)  # on the grid too (five significant figures)
        await asyncio.sleep(0.2)  # the venue's "canceled" update of the first one: no news for the trigger
        (held,) = fake.engine.triggers.snapshots()
        assert held.client_order_index == t.venue_ref != first and held.trigger_price_i == t.trigger_price_i
        assert t.state is TriggerState.ARMED and t.native
        fake.engine.set_mid("BTC", fake.engine.mid_i("BTC") * 102 // 100)  # in profit: breakeven is below
        await _until(lambda: runtime.market_data.mid_i(VENUE, "BTC") > mid * 101 // 100)
        be = await runtime.triggers.breakeven(VENUE, "BTC")
        (held,) = fake.engine.triggers.snapshots()
        # breakeven is entry + fees, off the grid: the venue holds it rounded up (a sell stop fires no later)
        assert be is t and 0 <= held.trigger_price_i - t.trigger_price_i < 10 and t.trigger_price_i > mid * 98 // 100
        await runtime.triggers.cancel(t)
        assert t.state is TriggerState.CANCELLED and not fake.engine.triggers
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_position_tpsl_stop_follows_the_position_without_being_re_armed(tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    fake.write_key_file(tmp_path / "hl.toml")
    runtime = await _runtime(fake, tmp_path)
    try:
        size = await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        ref = t.venue_ref
        more = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=size)
        await more.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == 2 * size)
        await asyncio.sleep(1.0)  # longer than a re-arm would wait: positionTpsl needs none
        assert t.venue_ref == ref and [s.client_order_index for s in fake.engine.triggers.snapshots()] == [ref]
        fake.engine.set_mid("BTC", fake.engine.mid_i("BTC") * 95 // 100)
        await _until(lambda: t.is_done)
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert fake.engine.account.positions["BTC"].size_i == 0  # the whole grown position
    finally:
        await runtime.stop()
        await fake.stop()
