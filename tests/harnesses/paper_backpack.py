"""Paper trading over the Backpack fake, with no key file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fakes.backpack import FakeBackpack
from tests.harnesses import LoopbackHarness, open_paper


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeBackpack(step_s=0.02).start()
    async with open_paper("backpack", fake, "BTC_USDC_PERP", base_url=fake.base_url, ws_url=fake.ws_url) as harness:
        yield harness
