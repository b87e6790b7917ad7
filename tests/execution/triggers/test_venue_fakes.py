"""Emulated triggers on real venues' connectors (Hyperliquid and Lighter, through their fakes on 127.0.0.1):
both venues' native triggers are set aside (``force_emulation``), so perpdesk holds the bracket and fires
a reduce-only market order.  The native paths: ``test_hyperliquid_native``, ``test_lighter_native``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from connector.hyperliquid.connector import HyperliquidConnector
from connector.keys import load_key_file
from connector.lighter.connector import LighterConnector
from execution.runtime import Runtime
from execution.triggers import TriggerState
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.lighter import FakeLighter, write_key_file


async def _hyperliquid(tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "hl.toml"), venue="hyperliquid")
    return fake, HyperliquidConnector(base_url=fake.base_url, keys=keys), "BTC", {"triggers": {"force_emulation": True}}


async def _lighter(tmp_path):
    fake = await FakeLighter(step_s=0.02).start()
    key_file = tmp_path / "lighter.toml"
    write_key_file(key_file, account_index=fake.account_index, api_key_index=fake.api_key_index)
    connector = LighterConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(key_file))
    return fake, connector, "BTC-PERP", {"triggers": {"force_emulation": True}}


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("make", [_hyperliquid, _lighter], ids=["hyperliquid", "lighter"])
async def test_a_bracket_is_emulated_on_the_venue_and_the_stop_closes_the_position(tmp_path, make):
    fake, connector, engine_symbol, settings = await make(tmp_path)
    venue = connector.venue
    runtime = Runtime([connector], journal_path=tmp_path / "journal.sqlite", settings=settings)
    await runtime.start()
    try:
        md = runtime.market_data
        await _until(lambda: md.mid_i(venue, "BTC") is not None)
        size_i = md.to_size_i(venue, "BTC", "0.01")
        entry = await runtime.orders.submit_market(venue, "BTC", is_ask=False, size_i=size_i)
        await entry.wait_final(timeout=5)
        await _until(lambda: fake.engine.account.positions[engine_symbol].size_i > 0)
        await _until(lambda: runtime.positions.size_i(venue, "BTC") == size_i)
        mid = md.mid_i(venue, "BTC")
        b = await runtime.triggers.bracket(venue, "BTC", stop_price_i=mid * 98 // 100, take_profit_price_i=mid * 102 // 100)
        assert not b.stop.native and not b.take_profit.native
        engine_mid = fake.engine.mid_i(engine_symbol)
        fake.engine.set_mid(engine_symbol, engine_mid * 95 // 100)  # 5% down, through the stop
        await _until(lambda: b.is_done)
        assert b.stop.state is TriggerState.DONE and b.stop.end_reason == "filled", b.stop.events
        assert b.stop.child.reduce_only and b.stop.child.is_ask
        assert b.take_profit.state is TriggerState.CANCELLED
        assert fake.engine.account.positions[engine_symbol].size_i == 0
    finally:
        await runtime.stop()
        await fake.stop()
