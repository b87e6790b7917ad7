"""A runtime on the quiet sim market in virtual time, with helpers to open positions and move the mark."""

from __future__ import annotations

import asyncio
from typing import Any

from connector.clock import VirtualClock
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.runtime import Runtime
from tests.execution.tracking.harness import QUIET_BTC

SYMBOL = "BTC"
VENUE_SYMBOL = "BTC-PERP"
TICK = 1
SIZE = 100  # 0.0100 BTC


class TriggerDesk:
    def __init__(self, clock: VirtualClock, tmp_path: Any, *, emulate: bool = True, engine: SimEngine | None = None,
                 journal_name: str = "j.sqlite3", latency_ms: float = 0) -> None:  # fmt: skip
        self.clock = clock
        self.engine = engine or SimEngine(7, clock=clock, markets=[QUIET_BTC])
        self.sim = SimConnector(engine=self.engine, clock=clock, latency_ms=latency_ms)
        self.journal_path = tmp_path / journal_name
        self.runtime = Runtime(
            [self.sim], clock=clock, journal_path=self.journal_path,
            settings={"triggers": {"force_emulation": emulate}},
        )  # fmt: skip
        self.triggers = self.runtime.triggers

    async def start(self) -> TriggerDesk:
        await self.drive(self.runtime.start())
        await self.clock.advance(0.5)
        return self

    async def stop(self) -> None:
        await self.drive(self.runtime.stop())

    async def drive(self, awaitable: Any, max_s: float = 60) -> Any:
        """Await something that may sleep on the virtual clock (requests with latency), moving the clock."""
        task = asyncio.ensure_future(awaitable)
        waited = 0.0
        while not task.done() and waited < max_s:
            await asyncio.sleep(0)
            if task.done():
                break
            await self.clock.advance(0.01)
            waited += 0.01
        return await task

    def mid(self) -> int:
        mid = self.runtime.market_data.mid_i("sim", SYMBOL)
        assert mid is not None
        return mid

    def position(self) -> int:
        return self.runtime.positions.size_i("sim", SYMBOL)

    def venue_position(self) -> int:
        return self.engine.account.positions[VENUE_SYMBOL].size_i

    async def open(self, size_i: int = SIZE, *, is_ask: bool = False) -> None:
        order = await self.drive(self.runtime.orders.submit_market("sim", SYMBOL, is_ask=is_ask, size_i=size_i))
        await self.settle()
        assert order.filled_i == size_i, order

    async def move(self, price_i: int) -> None:
        """Move the venue's market; the next steps deliver the book (and whatever fires)."""
        self.engine.set_mid(VENUE_SYMBOL, price_i)
        await self.settle()

    async def settle(self, seconds: float = 0.5) -> None:
        for _ in range(int(seconds / 0.05)):
            await self.clock.advance(0.05)
            await asyncio.sleep(0)

    async def until(self, cond: Any, max_s: float = 30) -> bool:
        waited = 0.0
        while not cond() and waited < max_s:
            await self.clock.advance(0.05)
            await asyncio.sleep(0)
            waited += 0.05
        return bool(cond())
