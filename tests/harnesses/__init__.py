"""Harnesses let one conformance suite drive every venue's connector.

Each module ``tests/harnesses/<venue>.py`` provides ``open_harness(tmp_path)``, an async
context manager yielding a started ``Harness``.  The suite talks to the venue only through
``IConnector`` and moves the market only through the ``SimEngine`` behind it, so the same
test runs on a virtual clock (sim) and against loopback fake servers (real sockets).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from connector.interface import EVENT_KINDS, IConnector
from connector.scaling import rescale
from connector.sim.engine import SimEngine


class Harness:
    """A started connector, the engine behind it and a way to let time pass.

    ``symbol`` is the venue's name for the BTC market, ``engine_symbol`` the engine's name for
    the same market (they differ behind fakes whose venue names differ from the sim's).
    Every event the connector delivers is recorded in ``events[kind]`` from the start.
    """

    def __init__(
        self, *, venue: str, connector: IConnector, engine: SimEngine, symbol: str, engine_symbol: str | None = None
    ) -> None:
        self.venue = venue
        self.connector = connector
        self.engine = engine
        self.symbol = symbol
        self.engine_symbol = engine_symbol or symbol
        self.events: dict[str, list[Any]] = {k: [] for k in EVENT_KINDS}
        for kind in EVENT_KINDS:
            connector.add_handler(kind, self.events[kind].append)

    async def step(self) -> None:
        """Let a little time pass (a market step, or a few ms of real time)."""
        raise NotImplementedError

    def now_s(self) -> float:
        raise NotImplementedError

    async def wait_for(self, kind: str, predicate: Callable[[Any], bool] = lambda e: True, timeout: float = 2.0) -> Any:
        """The first event of ``kind`` (delivered since the harness opened) matching ``predicate``."""
        deadline = self.now_s() + timeout
        seen = 0
        while True:
            events = self.events[kind]
            for event in events[seen:]:
                if predicate(event):
                    return event
            seen = len(events)
            if self.now_s() >= deadline:
                raise AssertionError(f"no matching {kind} event within {timeout}s; last ones: {events[-3:]!r}")
            await self.step()

    async def engine_price(self, price_i: int) -> int:
        """A venue-scaled price in the engine's scale."""
        pd, _ = await self.connector.get_price_size_decimals(self.symbol)
        return rescale(price_i, pd, self.engine.markets[self.engine_symbol].price_decimals)

    async def engine_size(self, size_i: int) -> int:
        _, sd = await self.connector.get_price_size_decimals(self.symbol)
        return rescale(size_i, sd, self.engine.markets[self.engine_symbol].size_decimals)


class VirtualClockHarness(Harness):
    """Time is a ``VirtualClock``: a step advances it by one engine step."""

    def __init__(self, *, clock: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    async def step(self) -> None:
        await self.clock.advance(self.engine.step_ms / 1000)

    def now_s(self) -> float:
        return self.clock.now_ms() / 1000


class LoopbackHarness(Harness):
    """Real sockets on 127.0.0.1: a step yields to the loop for a few milliseconds."""

    def __init__(self, *, step_s: float = 0.005, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step_s = step_s

    async def step(self) -> None:
        await asyncio.sleep(self.step_s)

    def now_s(self) -> float:
        return asyncio.get_running_loop().time()


class PublicTape:
    """A venue fake's engine as the suite uses it, for paper harnesses: the paper account lives in the
    connector, not at the venue, so ``trade_through`` (which fills the venue's own user orders) becomes
    a public trade printed one tick through the price: what a paper account sees of a market that
    trades through its order."""

    def __init__(self, engine: SimEngine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def trade_through(self, symbol: str, *, is_ask: bool, price_i: int, size_i: int) -> list:
        tick = self._engine.markets[symbol].tick_i
        through = price_i - tick if is_ask else price_i + tick
        self._engine.print_trade(symbol, is_ask=is_ask, price_i=through, size_i=size_i)
        return []


@asynccontextmanager
async def open_paper(
    venue: str, fake: Any, symbol: str, engine_symbol: str | None = None, **urls: str
) -> AsyncIterator[LoopbackHarness]:
    """``create_connector(venue, paper=True, **urls)`` over a started ``fake``, no key file anywhere;
    the harness keeps the fake as ``harness.fake`` (its request log)."""
    from connector.factory import create_connector

    connector = create_connector(venue, paper=True, **urls)
    harness = LoopbackHarness(
        venue=venue, connector=connector, engine=PublicTape(fake.engine), symbol=symbol, engine_symbol=engine_symbol
    )
    harness.fake = fake  # type: ignore[attr-defined]
    try:
        await connector.start()
        await connector.subscribe_market_data([symbol])
        await harness.wait_for("book", lambda b: b.symbol == symbol and b.is_snapshot and b.bids)
        yield harness
    finally:
        await connector.stop()
        await fake.stop()
