"""The trigger engine's native path on Backpack (through its fake on 127.0.0.1): the venue holds
stops and take-profits as trigger orders (``triggerPrice``) and fires them itself; its trailing
stop stays with perpdesk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from connector.backpack.connector import BackpackConnector
from connector.keys import load_key_file
from execution.runtime import Runtime
from execution.triggers import TriggerState
from tests.connector.backpack.test_connector import BTC
from tests.fakes.backpack import FakeBackpack

VENUE = "backpack"


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def _runtime(fake: FakeBackpack, tmp_path) -> Runtime:
    keys = load_key_file(tmp_path / "backpack.toml", venue="backpack")
    conn = BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, reconnect_min_s=0.02, reconnect_max_s=0.1,
        requests_per_s=1000, burst=1000,
    )  # fmt: skip
    runtime = Runtime([conn], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    await _until(lambda: runtime.market_data.mid_i(VENUE, "BTC") is not None)
    return runtime


async def _fake(tmp_path) -> FakeBackpack:
    fake = await FakeBackpack(step_s=0.02).start()
    fake.write_key_file(tmp_path / "backpack.toml")
    return fake


async def _long(runtime: Runtime) -> int:
    size_i = runtime.market_data.to_size_i(VENUE, "BTC", "0.01")
    entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=size_i)
    await entry.wait_final(timeout=5)
    await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == size_i)
    return size_i


async def test_a_stop_backpack_fires_while_the_socket_is_down_is_settled_from_its_record(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        await _long(runtime)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        down = asyncio.Event()
        runtime.connectors[VENUE].add_handler(
            "connection", lambda e: down.set() if e.state.name == "DISCONNECTED" else None
        )
        await fake.drop_sockets()
        fake.engine.set_mid(BTC, fake.engine.mid_i(BTC) * 95 // 100)  # fires with nobody listening
        assert not fake.engine.triggers and fake.engine.account.positions[BTC].size_i == 0
        await asyncio.wait_for(down.wait(), 10)
        await _until(lambda: t.is_done)  # the reconnect reads the venue again: it fired, its child filled
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert t.child is not None and t.child.is_ask
    finally:
        await runtime.stop()
        await fake.stop()
