"""Binance USDⓈ-M for the conformance suite: the connector against the fake venue on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.keys import load_key_file
from tests.fakes.binance_usdm import FakeBinanceUsdm
from tests.harnesses import LoopbackHarness


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05).start()
    key_file = fake.write_key_file(tmp_path / "binance-usdm.toml")
    connector = BinanceUsdmConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(key_file, venue="binance-usdm")
    )
    harness = LoopbackHarness(
        venue="binance-usdm", connector=connector, engine=fake.engine, symbol="BTCUSDT", engine_symbol="BTCUSDT"
    )
    try:
        await connector.start()
        await connector.subscribe_market_data([harness.symbol])
        await harness.wait_for("book", lambda b: b.symbol == harness.symbol and b.is_snapshot and b.bids)
        yield harness
    finally:
        await connector.stop()
        await fake.stop()
