"""Paper trading over the Lighter fake, with no key file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fakes.lighter import FakeLighter
from tests.harnesses import LoopbackHarness, open_paper


@asynccontextmanager
async def open_harness(tmp_path) -> AsyncIterator[LoopbackHarness]:
    fake = await FakeLighter(step_s=0.02).start()
    async with open_paper("lighter", fake, "BTC", "BTC-PERP", base_url=fake.base_url, ws_url=fake.ws_url) as harness:
        yield harness
