"""Hyperliquid for the conformance suite: the connector against the fake venue on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.hyperliquid.connector import HyperliquidConnector
from connector.keys import load_key_file
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.harnesses import LoopbackHarness


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeHyperliquid(step_s=0.02).start()
    key_file = fake.write_key_file(tmp_path / "hyperliquid.toml")
    connector = HyperliquidConnector(base_url=fake.base_url, keys=load_key_file(key_file, venue="hyperliquid"))
    harness = LoopbackHarness(venue="hyperliquid", connector=connector, engine=fake.engine, symbol="BTC")
    try:
        await connector.start()
        await connector.subscribe_market_data([harness.symbol])
        await harness.wait_for("book", lambda b: b.symbol == harness.symbol and b.is_snapshot and b.bids)
        yield harness
    finally:
        await connector.stop()
        await fake.stop()
