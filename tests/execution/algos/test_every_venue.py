"""A scale and an IOC TWAP on every venue's fake (the conformance harnesses): the working orders use
nothing a venue's connector does not offer through ``IConnector``."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from functools import partial

import pytest

import tests.harnesses
from connector.clock import RealClock
from execution.algos import AlgoManager
from execution.market import MarketDataService
from execution.orders import OrderService
from execution.tracking import EndReason, TrackingLimitManager

HARNESSES = sorted(m.name for m in pkgutil.iter_modules(tests.harnesses.__path__))


@pytest.fixture(params=HARNESSES)
async def h(request, tmp_path):
    module = importlib.import_module(f"tests.harnesses.{request.param}")
    async with module.open_harness(tmp_path) as harness:
        yield harness


async def until(h, predicate, timeout_s: float = 10.0) -> None:
    deadline = h.now_s() + timeout_s
    while not predicate():
        assert h.now_s() < deadline, "timed out"
        await h.step()


async def drive(h, awaitable, timeout_s: float = 10.0):
    task = asyncio.ensure_future(awaitable)
    await until(h, task.done, timeout_s)
    return await task


async def test_a_scale_and_an_ioc_twap_on_every_venue(h):
    clock = getattr(h, "clock", None) or RealClock()
    venue, conn = h.venue, h.connector
    md = MarketDataService(clock)
    orders = OrderService({venue: conn}, md, clock=clock)
    for kind, fn in (("book", md.on_book), ("trade", md.on_trade), ("order", orders.ingest_update),
                     ("fill", orders.ingest_update)):  # fmt: skip
        conn.add_handler(kind, partial(fn, venue))
    await md.add_venue(venue, conn)
    [symbol] = [s for s in md.symbols(venue) if md.venue_symbol(venue, s) == h.symbol]
    tracking = TrackingLimitManager(orders, md, clock=clock, connectors={venue: conn})
    algos = AlgoManager(tracking)
    await until(h, lambda: None not in md.top_of_book(venue, symbol))
    market = md.market(venue, symbol)
    bid, _ = md.top_of_book(venue, symbol)
    tick, unit = market.tick_i, max(market.min_size_i, market.step_i or 1)

    s = await drive(h, algos.scale(venue, symbol, is_ask=False, size_i=3 * unit, from_price_i=bid * 97 // 100,
                                   to_price_i=bid * 96 // 100, count=3))  # fmt: skip
    assert s.summary == "3 of 3 orders placed" and all(c.price_i % tick == 0 for c in s.children)
    await until(h, lambda: all(c.state.value == "OPEN" for c in s.children))
    await drive(h, algos.cancel(s))
    assert s.end_reason is EndReason.CANCELLED and all(c.state.value == "CANCELLED" for c in s.children)

    w = await algos.twap(venue, symbol, is_ask=False, size_i=2 * unit, duration_s=0.4, slices=2, slice_mode="ioc")
    await drive(h, w.wait_done(), timeout_s=15)
    assert w.end_reason is EndReason.FILLED and w.filled_i == 2 * unit
    assert w.report.children == 2 and w.report.maker_ppm == 0
    await algos.stop()
    await tracking.stop()
