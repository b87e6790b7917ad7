"""Backpack for the conformance suite: the connector against the fake venue on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.backpack.connector import BackpackConnector
from connector.keys import load_key_file
from tests.fakes.backpack import FakeBackpack
from tests.harnesses import LoopbackHarness


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeBackpack(step_s=0.02).start()
    key_file = fake.write_key_file(tmp_path / "backpack.toml")
    connector = BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(key_file, venue="backpack")
    )
    harness = LoopbackHarness(venue="backpack", connector=connector, engine=fake.engine, symbol="BTC_USDC_PERP")
    try:
        await connector.start()
        await connector.subscribe_market_data([harness.symbol])
        await harness.wait_for("book", lambda b: b.symbol == harness.symbol and b.is_snapshot and b.bids)
        yield harness
    finally:
        await connector.stop()
        await fake.stop()
