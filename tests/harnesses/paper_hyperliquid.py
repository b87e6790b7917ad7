"""Paper trading over the Hyperliquid fake, with no key file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fakes.hyperliquid import FakeHyperliquid
from tests.harnesses import LoopbackHarness, open_paper


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeHyperliquid(step_s=0.02).start()
    async with open_paper("hyperliquid", fake, "BTC", base_url=fake.base_url) as harness:
        yield harness
