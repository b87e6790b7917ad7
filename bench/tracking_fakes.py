"""Tick-to-reprice through the Lighter fake venue (``bench/tracking.py`` covers the sim and Hyperliquid).

The fake Lighter runs on 127.0.0.1 with a quiet market (no random moves or trades, so every
re-price is caused by our move); the runtime (real ``LighterConnector``, real clock) runs a tracking
limit buy.  Each sample moves the engine's mid up three ticks, which the fake pushes as an
``order_book`` update over the websocket; the figure is the time from that move to the chase's
re-price request (amend or cancel) entering the connector, and the part of it from the book
update's arrival at the connector.  The connector's request budget is lifted: it would be measured
instead of the path.
"""

from __future__ import annotations

import asyncio
import inspect
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import Figure, median, percentile

SAMPLES = 150
STEP_S = 0.02
QUIET = dict(move_prob=0.0, trade_prob=0.0, jumps=0)


async def _settled(chase: Any, timeout_s: float = 2.0) -> bool:
    """Until the chase has one resting child and nothing in flight."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        child = chase.child
        if child is not None and child.state.value in ("OPEN", "PARTIALLY_FILLED") and not child.request_inflight:
            return True
        await asyncio.sleep(0.002)
    return False


async def _lighter(samples: int) -> tuple[list[float], list[float], int]:
    from dataclasses import replace

    from connector.clock import RealClock
    from connector.keys import load_key_file
    from connector.lighter.connector import LighterConnector
    from connector.sim.engine import SimEngine
    from connector.sim.market import DEFAULT_MARKETS
    from execution.runtime import Runtime
    from tests.fakes.lighter import FakeLighter, write_key_file

    clock = RealClock()
    spec = replace(next(m for m in DEFAULT_MARKETS if m.symbol == "BTC-PERP"), **QUIET)
    fake = await FakeLighter(SimEngine(7, clock=clock, markets=[spec]), step_s=STEP_S).start()
    total, from_arrival, missed = [], [], 0
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        key_file = Path(tmp) / "lighter.toml"
        write_key_file(key_file, account_index=fake.account_index, api_key_index=fake.api_key_index)
        options: dict[str, Any] = {"base_url": fake.base_url, "ws_url": fake.ws_url, "keys": load_key_file(key_file)}
        if "requests_per_min" in inspect.signature(LighterConnector).parameters:
            options["requests_per_min"] = 1_000_000
        conn = LighterConnector(**options)
        stamp: dict[str, float] = {}
        sent = asyncio.Event()
        above = {"bid": 1 << 62}

        def arrived(update: Any) -> None:
            """The first update carrying a bid above the one before the move is the move."""
            if any(price > above["bid"] for price, size in update.bids if size):
                stamp.setdefault("book", time.perf_counter())

        conn.add_handler("book", arrived)
        for name in ("modify_order", "cancel_by_client_id", "cancel_by_order_id"):
            original = getattr(conn, name)

            def wrap(original: Any = original) -> Any:
                async def leaving(*args: Any, **kwargs: Any) -> Any:
                    stamp.setdefault("sent", time.perf_counter())
                    sent.set()
                    return await original(*args, **kwargs)

                return leaving

            setattr(conn, name, wrap())
        settings = {"tracking": {"actions_per_s": 10_000, "min_reprice_interval_ms": 0}}
        rt = Runtime([conn], journal_path=Path(tmp) / "journal.sqlite", settings=settings)
        try:
            await rt.start()
            for _ in range(500):
                if rt.market_data.top_of_book("lighter", "BTC")[0] is not None:
                    break
                await asyncio.sleep(0.01)
            size = rt.market_data.min_size_i("lighter", "BTC") * 10
            chase = await rt.tracking.start("lighter", "BTC", is_ask=False, size_i=size)
            for _ in range(samples):
                if chase.is_done:
                    chase = await rt.tracking.start("lighter", "BTC", is_ask=False, size_i=size)
                if not await _settled(chase):
                    missed += 1
                    continue
                sent.clear()
                stamp.clear()
                above["bid"] = rt.market_data.top_of_book("lighter", "BTC")[0] or 0
                t0 = time.perf_counter()
                fake.engine.set_mid("BTC-PERP", fake.engine.mid_i("BTC-PERP") + 3 * spec.tick_i)
                try:
                    await asyncio.wait_for(sent.wait(), 2)
                except TimeoutError:
                    missed += 1
                    continue
                total.append((stamp["sent"] - t0) * 1e6)
                if "book" in stamp:
                    from_arrival.append((stamp["sent"] - stamp["book"]) * 1e6)
            await chase.cancel()
        finally:
            await rt.stop()
            await fake.stop()
    return total, from_arrival, missed


def run() -> list[Figure]:
    total, from_arrival, missed = asyncio.run(asyncio.wait_for(_lighter(SAMPLES), 180))
    note = (
        f"{len(total)} moves: the fake's order_book push over a 127.0.0.1 websocket to the re-price request; "
        f"from the update's arrival at the connector p50 {median(from_arrival):,.0f} µs, "
        f"p99 {percentile(from_arrival, 99):,.0f} µs (the rest is the fake, which pushes book updates on its "
        f"{STEP_S * 1000:.0f} ms step); request budget lifted"
    )
    if missed:
        note += f"; {missed} moves without a re-price within 2 s"
    return [
        Figure(
            "tracking",
            "tick→reprice, loopback Lighter fake (p50)",
            median(total),
            "µs",
            p99=percentile(total, 99),
            note=note,
            extra={"samples": total, "from_arrival_us": from_arrival},
        )
    ]


if __name__ == "__main__":
    for f in run():
        print(f"{f.name}: {f.value:,.0f} µs, p99 {f.p99:,.0f} — {f.note}")
