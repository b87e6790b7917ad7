"""The sim venue for the conformance suite: in-process, on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.clock import VirtualClock
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from tests.harnesses import VirtualClockHarness


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[VirtualClockHarness]:
    clock = VirtualClock()
    engine = SimEngine(seed=7, clock=clock)
    connector = SimConnector(engine=engine, clock=clock)
    harness = VirtualClockHarness(
        venue="sim", connector=connector, engine=engine, symbol="BTC-PERP", engine_symbol="BTC-PERP", clock=clock
    )
    await connector.start()
    await connector.subscribe_market_data([harness.symbol])
    try:
        yield harness
    finally:
        await connector.stop()
