"""Tick-to-reprice: from the book event that moves the touch to the re-price request leaving the connector.

The chase runs in-process on the sim venue (virtual clock, no request latency, so the figure
is our own code path: connector handler → MarketDataService → chase wake-up → pricing →
OrderService → connector).  Measured twice: amending in place, and cancel-then-replace (the
figure there is to the cancel, the first request that leaves).  The baseline is a chase that
polls the book every 10 s, as the framework this console descends from did, driven by the
same touch moves at random times on the same virtual clock.  Where a loopback fake venue exists
(Hyperliquid's, in ``tests/fakes``) the same figure is taken through it over real sockets.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.stats import Figure, median, percentile
from connector.clock import VirtualClock
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine, SimMarketSpec
from execution.market import MarketDataService
from execution.orders import OrderService
from execution.tracking import TrackingLimitManager

SAMPLES = 2_000
POLL_S = 10.0
POLL_MOVES = 2_000
LOOPBACK_SAMPLES = 200
_QUIET = SimMarketSpec(
    "BTC-PERP", "BTC", 1, 4, min_size_i=10, start_price_i=650_000, max_leverage=20,
    level_size_i=5_000, trade_size_i=1_000, spread_ticks=10, level_gap_ticks=10, vol_ticks=1.0,
    move_prob=0.0, trade_prob=0.0, jumps=0,
)  # fmt: skip


async def _desk(amend: str):
    clock = VirtualClock()
    engine = SimEngine(7, clock=clock, markets=[_QUIET], collateral_q=10**15)
    conn = SimConnector(engine=engine, clock=clock)
    md = MarketDataService(clock)
    orders = OrderService({"sim": conn}, md, clock=clock)
    stamps: dict[str, int] = {}

    def book_arrived(_event) -> None:
        stamps.setdefault("book", time.perf_counter_ns())

    conn.add_handler("book", book_arrived)  # first handler: the moment the venue's event reaches us
    conn.add_handler("book", partial(md.on_book, "sim"))
    conn.add_handler("order", partial(orders.ingest_update, "sim"))
    conn.add_handler("fill", partial(orders.ingest_update, "sim"))
    for name in ("modify_order", "cancel_by_client_id"):
        original = getattr(conn, name)

        def wrap(original=original):
            async def leaving(*args, **kw):
                stamps.setdefault("sent", time.perf_counter_ns())
                return await original(*args, **kw)

            return leaving

        setattr(conn, name, wrap())
    await conn.start()
    await md.add_venue("sim", conn)
    await conn.subscribe_market_data(["BTC-PERP"])
    await clock.advance(0.3)
    tracking = TrackingLimitManager(
        orders, md, clock=clock, connectors={"sim": conn}, actions_per_s=1_000_000, amend=amend,
        min_reprice_interval_ms=0,
    )
    return clock, engine, conn, tracking, stamps


async def _event_driven(amend: str, samples: int) -> list[float]:
    """Microseconds from the book event to the re-price request, one sample per touch move."""
    clock, engine, conn, tracking, stamps = await _desk(amend)
    chase = await tracking.start("sim", "BTC", is_ask=False, size_i=10 * 10_000, min_reprice_interval_ms=0)
    await clock.advance(0.2)
    out: list[float] = []
    mid = engine.mid_i("BTC-PERP")
    for _ in range(samples):
        mid += 2  # the bid rises away from our buy every time: each move needs a re-price
        stamps.clear()
        engine.set_mid("BTC-PERP", mid)
        await clock.advance(0)
        if "sent" in stamps and "book" in stamps:
            out.append((stamps["sent"] - stamps["book"]) / 1000)
        await clock.advance(0.05)  # let a cancel/replace finish before the next move
    await chase.cancel()
    await conn.stop()
    return out


async def _polling(moves: int, poll_s: float) -> list[float]:
    """Milliseconds (virtual) from a touch move to a 10 s polling chase noticing it and re-pricing."""
    rng = random.Random(7)
    clock = VirtualClock()
    t0 = clock.now_ms()
    move_times: list[int] = []
    t = 0.0
    for _ in range(moves):
        t += rng.expovariate(1 / 7.0)  # a touch move every ~7 s on average
        move_times.append(t0 + int(t * 1000))
    latencies: list[float] = []
    next_move = 0
    pending: list[int] = []
    now = t0
    while next_move < len(move_times) or pending:
        now += int(poll_s * 1000)
        while next_move < len(move_times) and move_times[next_move] <= now:
            pending.append(move_times[next_move])
            next_move += 1
        if pending:
            # one poll sees the latest touch and re-prices once: every move since the last poll waited
            latencies.extend(float(now - m) for m in pending)
            pending.clear()
    return latencies


async def _loopback(samples: int) -> list[float]:
    """Microseconds from the fake Hyperliquid pushing a book that moves the touch (real sockets on
    127.0.0.1, real clock) to the chase's re-price request entering the connector."""
    from connector.hyperliquid.connector import HyperliquidConnector
    from connector.keys import load_key_file
    from execution.runtime import Runtime
    from tests.fakes.hyperliquid import FakeHyperliquid

    out: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        fake = await FakeHyperliquid(step_s=None).start()
        keys = load_key_file(fake.write_key_file(Path(tmp) / "hl.toml"), venue="hyperliquid")
        conn = HyperliquidConnector(base_url=fake.base_url, keys=keys)
        sent = asyncio.Event()
        stamp: dict[str, int] = {}
        for name in ("modify_order", "cancel_by_client_id", "cancel_by_order_id"):
            original = getattr(conn, name)

            def wrap(original=original):
                async def leaving(*args, **kw):
                    stamp.setdefault("sent", time.perf_counter_ns())
                    sent.set()
                    return await original(*args, **kw)

                return leaving

            setattr(conn, name, wrap())
        rt = Runtime([conn], journal_path=Path(tmp) / "journal.sqlite3",
                     settings={"tracking": {"actions_per_s": 10_000, "min_reprice_interval_ms": 0}})
        try:
            await rt.start()
            for _ in range(500):
                if rt.market_data.top_of_book("hyperliquid", "BTC")[0] is not None:
                    break
                await asyncio.sleep(0.01)
            size = rt.market_data.min_size_i("hyperliquid", "BTC") * 10
            chase = await rt.tracking.start("hyperliquid", "BTC", is_ask=False, size_i=size)
            tick = rt.market_data.market("hyperliquid", "BTC").tick_i
            for _ in range(samples):
                if chase.is_done:
                    chase = await rt.tracking.start("hyperliquid", "BTC", is_ask=False, size_i=size)
                await _settled(chase)
                sent.clear()
                stamp.clear()
                mid = fake.engine.mid_i("BTC")
                t0 = time.perf_counter_ns()
                fake.engine.set_mid("BTC", mid + 3 * tick)  # the bid rises away from our buy: re-price
                try:
                    await asyncio.wait_for(sent.wait(), 2)
                except TimeoutError:
                    continue
                out.append((stamp["sent"] - t0) / 1000)
            await chase.cancel()
        finally:
            await rt.stop()
            await fake.stop()
    return out


async def _settled(chase, timeout_s: float = 2.0) -> None:
    """Until the chase has one resting child and nothing in flight."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        child = chase.child
        if child is not None and child.state.value in ("OPEN", "PARTIALLY_FILLED") and not child.request_inflight:
            return
        await asyncio.sleep(0.002)


def run() -> list[Figure]:
    amend = asyncio.run(_event_driven("always", SAMPLES))
    cancel = asyncio.run(_event_driven("never", SAMPLES))
    poll_ms = asyncio.run(_polling(POLL_MOVES, POLL_S))
    poll_p50_us = median(poll_ms) * 1000
    figures = [
        Figure(
            "tracking", "tick→reprice, amend (p50)", median(amend), "µs", p99=percentile(amend, 99),
            baseline=poll_p50_us, baseline_name="10 s poll", target="event-driven, < 1 ms",
            note=f"{len(amend)} touch moves, sim in-process, virtual clock, no request latency",
        ),
        Figure(
            "tracking", "tick→reprice, cancel/replace (p50)", median(cancel), "µs", p99=percentile(cancel, 99),
            baseline=poll_p50_us, baseline_name="10 s poll", target="event-driven, < 1 ms",
            note="to the cancel request; the replacement follows the venue's confirmation",
        ),
        Figure(
            "tracking", "tick→reprice, 10 s polling chase (p50)", median(poll_ms), "ms",
            p99=percentile(poll_ms, 99), note=f"{len(poll_ms)} touch moves at random times (virtual)",
        ),
    ]  # fmt: skip
    try:
        wire = asyncio.run(_loopback(LOOPBACK_SAMPLES))
    except Exception as exc:  # no fake or no crypto extra here: report, do not fail the others
        figures.append(Figure("tracking", "tick→reprice, loopback", float("nan"), "µs", note=f"skipped: {exc}"))
    else:
        figures.append(
            Figure(
                "tracking", "tick→reprice, loopback Hyperliquid fake (p50)", median(wire), "µs",
                p99=percentile(wire, 99), baseline=poll_p50_us, baseline_name="10 s poll",
                note=f"{len(wire)} moves: the fake's book push over a 127.0.0.1 websocket to the cancel request "
                "(modify is not fill-safe there)",
            )
        )  # fmt: skip
    return figures


def figures() -> dict[str, float]:
    """The same figures as a flat dict (p50 and p99 per measurement)."""
    out: dict[str, float] = {}
    for f in run():
        out[f"{f.name} [{f.unit}]"] = f.value
        if f.p99 is not None:
            out[f"{f.name.replace('(p50)', '(p99)')} [{f.unit}]"] = f.p99
    return out


if __name__ == "__main__":
    for key, value in figures().items():
        print(f"{key}: {value:,.1f}")
