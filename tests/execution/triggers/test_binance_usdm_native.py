"""The trigger engine's native path on Binance USDⓈ-M (through its fake on 127.0.0.1): the venue holds
stops, take-profits and sized trailing stops (a callback rate it can express) as conditional (algo)
orders and fires them itself; any other trail stays with perpdesk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.keys import load_key_file
from execution.runtime import Runtime
from execution.triggers import TriggerState
from tests.fakes.binance_usdm import FakeBinanceUsdm

VENUE = "binance-usdm"
SYMBOL = "BTC"  # perpdesk's name for it
VENUE_SYMBOL = "BTCUSDT"


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def _runtime(fake: FakeBinanceUsdm, tmp_path) -> Runtime:
    keys = load_key_file(tmp_path / "binance-usdm.toml", venue=VENUE)
    connector = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, account_refresh_s=0.05)
    runtime = Runtime([connector], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    await _until(lambda: runtime.market_data.mid_i(VENUE, SYMBOL) is not None)
    return runtime


async def _long(runtime: Runtime) -> int:
    size_i = runtime.market_data.to_size_i(VENUE, SYMBOL, "0.1")
    entry = await runtime.orders.submit_market(VENUE, SYMBOL, is_ask=False, size_i=size_i)
    await entry.wait_final(timeout=5)
    await _until(lambda: runtime.positions.size_i(VENUE, SYMBOL) == size_i)
    return size_i


async def _fake(tmp_path) -> FakeBinanceUsdm:
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    fake.write_key_file(tmp_path / "binance-usdm.toml")
    return fake


async def test_a_trail_the_venue_cannot_express_stays_emulated_on_binance(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        size = await _long(runtime)
        for kw in ({"trail_ppm": 10_000}, {"trail_ppm": 12_345, "size_i": size}, {"trail_ticks": 50, "size_i": size},
                   {"trail_ppm": 60_000, "size_i": size}):  # fmt: skip
            t = await runtime.triggers.place(VENUE, SYMBOL, kind="trailing_stop", is_ask=True, **kw)
            assert not t.native and not fake.engine.triggers, kw
            await runtime.triggers.cancel(t)
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_sized_trailing_stop_is_held_by_binance_and_fires_there_on_the_pullback_from_the_best(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        size = await _long(runtime)
        t = await runtime.triggers.place(VENUE, SYMBOL, kind="trailing_stop", is_ask=True, trail_ppm=10_000, size_i=size)
        assert t.native and t.state is TriggerState.ARMED
        (row,) = fake.algos.values()
        assert row["orderType"] == "TRAILING_STOP_MARKET" and row["callbackRate"] == "1.0"
        start = fake.engine.mid_i(VENUE_SYMBOL)
        fake.engine.set_mid(VENUE_SYMBOL, start * 104 // 100)  # a new best: the venue's trigger follows it up
        await _until(lambda: t.best_i is not None and t.best_i >= start * 103 // 100)  # and so does ours, on screen
        fake.engine.set_mid(VENUE_SYMBOL, start * 1035 // 1000)  # half a percent back: inside the callback
        await asyncio.sleep(0.3)
        assert t.state is TriggerState.ARMED and fake.engine.account.positions[VENUE_SYMBOL].size_i == size
        fake.engine.set_mid(VENUE_SYMBOL, start * 1025 // 1000)  # 1.5 % off the best: the venue fires it
        await _until(lambda: t.is_done)
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert fake.engine.account.positions[VENUE_SYMBOL].size_i == 0
        await _until(lambda: not fake.engine.triggers and not fake.algos)
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_stop_the_venue_fires_while_the_sockets_are_down_is_settled_after_the_reconnect(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        await _long(runtime)
        mid = runtime.market_data.mid_i(VENUE, SYMBOL)
        t = await runtime.triggers.place(
            VENUE, SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100
        )
        down = asyncio.Event()
        runtime.connectors[VENUE].add_handler(
            "connection", lambda e: down.set() if e.state.name == "DISCONNECTED" else None
        )
        key, fake.listen_key = fake.listen_key, None  # the venue pushes nothing to us for a moment
        fake.engine.set_mid(VENUE_SYMBOL, fake.engine.mid_i(VENUE_SYMBOL) * 95 // 100)  # fires unheard
        fake.engine.advance_to(fake.clock.now_ms())
        assert not fake.engine.triggers and fake.engine.account.positions[VENUE_SYMBOL].size_i == 0
        fake.listen_key = key
        await fake.drop_sockets()
        await asyncio.wait_for(down.wait(), 10)
        await _until(lambda: t.is_done)  # the reconnect reads the venue again: it fired, its child filled
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert t.child is not None and t.child.is_ask
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_close_position_stop_follows_the_position_without_being_re_armed(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        size = await _long(runtime)
        mid = runtime.market_data.mid_i(VENUE, SYMBOL)
        t = await runtime.triggers.place(VENUE, SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        ref = t.venue_ref
        more = await runtime.orders.submit_market(VENUE, SYMBOL, is_ask=False, size_i=size)
        await more.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, SYMBOL) == 2 * size)
        await asyncio.sleep(1.0)  # longer than a re-arm would wait: closePosition needs none
        assert t.venue_ref == ref and [s.client_order_index for s in fake.engine.triggers.snapshots()] == [ref]
        fake.engine.set_mid(VENUE_SYMBOL, fake.engine.mid_i(VENUE_SYMBOL) * 95 // 100)
        await _until(lambda: t.is_done)
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert fake.engine.account.positions[VENUE_SYMBOL].size_i == 0  # the whole grown position
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_limit_trigger_rests_at_binance_only_sized_a_whole_position_one_is_emulated(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        size = await _long(runtime)
        mid = runtime.market_data.mid_i(VENUE, SYMBOL)
        kw = {"kind": "stop_limit", "is_ask": True, "trigger_price_i": mid * 98 // 100, "limit_price_i": mid * 97 // 100}
        whole = await runtime.triggers.place(VENUE, SYMBOL, **kw)
        assert not whole.native and not fake.algos  # closePosition goes with the market kinds only
        sized = await runtime.triggers.place(VENUE, SYMBOL, size_i=size, **kw)
        assert sized.native and [r["orderType"] for r in fake.algos.values()] == ["STOP"]
        for t in (whole, sized):
            await runtime.triggers.cancel(t)
    finally:
        await runtime.stop()
        await fake.stop()
