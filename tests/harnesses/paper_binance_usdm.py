"""Paper trading over the Binance USDⓈ-M fake, with no key file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fakes.binance_usdm import FakeBinanceUsdm
from tests.harnesses import LoopbackHarness, open_paper


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05).start()
    async with open_paper("binance-usdm", fake, "BTCUSDT", base_url=fake.base_url, ws_url=fake.ws_url) as harness:
        yield harness
