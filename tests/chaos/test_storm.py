"""Disconnect storm, malformed frames and 429s against the fake Hyperliquid in its own process, under
live chases.  Every wait is on an event or a condition; its bound only ends a hang."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from connector.interface import ConnectionState
from connector.keys import load_key_file
from execution.runtime import Runtime
from tests.chaos.desk import RESTING, SYMBOL, WAIT_S, away_from_touch, build_runtime, start, until
from tests.chaos.procs import FakeProcess, start_fake

VENUE = "hyperliquid"


@dataclass
class StormFigures:
    drops: int = 0
    reconnects: int = 0
    fills_venue: int = 0
    missed_fills: list[str] = field(default_factory=list)
    extra_fills: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    book_mismatch: list[str] = field(default_factory=list)
    consistent_after_s: float = 0.0
    """From the last reconnect to our book equal to the venue's."""


async def venue_fills(fake: FakeProcess) -> set[str]:
    user = str(load_key_file(fake.key_file, venue=VENUE)["account_address"])
    async with httpx.AsyncClient(base_url=fake.base_url, timeout=WAIT_S) as client:
        answer = await client.post("/info", json={"type": "userFills", "user": user})
    answer.raise_for_status()
    return {str(f["tid"]) for f in answer.json()}


def our_fills(runtime: Runtime) -> list[str]:
    return [f.trade_id for o in runtime.orders.orders for f in o.fills]


async def book_difference(runtime: Runtime) -> list[str]:
    """Our resting orders against the venue's open orders, by client order index, size and filled."""
    venue = {s.client_order_index: (s.size_i, s.filled_i) for s in await runtime.connectors[VENUE].get_open_orders()}
    ours = {o.client_order_index: (o.size_i, o.filled_i) for o in runtime.orders.orders if o.state in RESTING}
    return [
        f"{i}: ours {ours.get(i)} venue {venue.get(i)}"
        for i in sorted(set(venue) | set(ours))
        if venue.get(i) != ours.get(i)
    ]


async def run_storm(workdir: Path, storm_s: float = 8.0, seed: int = 5) -> StormFigures:
    fake = start_fake(VENUE, workdir, seed=seed, drop_every=1.0, fill_on_drop=True, held=True)
    figures = StormFigures()
    try:
        runtime = build_runtime(VENUE, fake.base_url, fake.ws_url, fake.key_file, workdir / "storm.sqlite3")
        reconnected: list[float] = []
        runtime.add_connection_listener(
            lambda e: reconnected.append(time.monotonic()) if e.state is ConnectionState.CONNECTED else None
        )
        await start(runtime, VENUE)
        size = runtime.market_data.market(VENUE, SYMBOL).min_size_i * 20
        chases = [
            await runtime.tracking.start(VENUE, SYMBOL, is_ask=is_ask, size_i=size * 40, allow_disconnected=True)
            for is_ask in (False, True, False, True)
        ]
        fake.unleash()
        for is_ask in (False, True):  # resting orders the storm must not lose either
            price = away_from_touch(runtime, VENUE, is_ask, 3)
            await runtime.orders.submit_limit(
                VENUE, SYMBOL, is_ask=is_ask, size_i=size, price_i=price, post_only=True, allow_disconnected=True
            )
        await asyncio.sleep(storm_s)
        fake.calm()
        await asyncio.sleep(1.5)  # the last scheduled drop, if one was due
        for chase in chases:
            await chase.cancel()
        await until(lambda: runtime.connection_state(VENUE) is ConnectionState.CONNECTED, what="reconnected")
        last = reconnected[-1] if reconnected else time.monotonic()
        await runtime.reconciler.wait_idle()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while (diff := await book_difference(runtime)) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        figures.consistent_after_s = time.monotonic() - last
        figures.book_mismatch = diff
        figures.reconnects = len(reconnected)
        theirs = await venue_fills(fake)
        deadline = loop.time() + WAIT_S
        while not theirs <= set(our_fills(runtime)) and loop.time() < deadline:
            await runtime.reconciler.reconcile(VENUE, why="check")
            await asyncio.sleep(0.2)
        mine = our_fills(runtime)
        figures.fills_venue = len(theirs)
        figures.missed_fills = sorted(theirs - set(mine))
        figures.extra_fills = sorted(set(mine) - theirs)
        figures.duplicate_ids = len(mine) - len(set(mine))
        indices = [o.client_order_index for o in runtime.orders.orders]
        figures.duplicate_ids += len(indices) - len(set(indices))
        await runtime.stop()
    finally:
        stats = fake.stop()
    figures.drops = int(stats.get("drops", 0))
    figures.duplicate_ids += int(stats.get("duplicate_indices", 0))
    return figures


async def test_a_disconnect_storm_under_live_chases_loses_no_fill_and_ends_with_the_venues_book(tmp_path):
    figures = await run_storm(tmp_path)
    assert figures.drops >= 5 and figures.reconnects >= 5
    assert figures.fills_venue > 0  # fills landed, some while the socket was down
    assert figures.book_mismatch == []
    assert figures.missed_fills == [] and figures.extra_fills == []
    assert figures.duplicate_ids == 0


@dataclass
class FloodFigures:
    malformed_counted: int = 0
    rate_limited_made: int = 0
    rate_limited_seen: int = 0
    orders: int = 0
    duplicate_ids: int = 0
    crashed: str = ""


async def run_flood(workdir: Path, seconds: float = 5.0, seed: int = 9) -> FloodFigures:
    fake = start_fake(VENUE, workdir, seed=seed, malformed_every=0.2, rate_limit_every=0.5, held=True)
    figures = FloodFigures()
    try:
        runtime = build_runtime(VENUE, fake.base_url, fake.ws_url, fake.key_file, workdir / "flood.sqlite3")
        await start(runtime, VENUE)
        size = runtime.market_data.market(VENUE, SYMBOL).min_size_i * 20
        chase = await runtime.tracking.start(VENUE, SYMBOL, is_ask=False, size_i=size * 40, allow_disconnected=True)
        fake.unleash()
        loop = asyncio.get_running_loop()
        end_at = loop.time() + seconds
        placed = []
        while loop.time() < end_at:
            price = away_from_touch(runtime, VENUE, bool(len(placed) % 2), 3)
            try:
                order = await runtime.orders.submit_limit(
                    VENUE,
                    SYMBOL,
                    is_ask=bool(len(placed) % 2),
                    size_i=size,
                    price_i=price,
                    post_only=True,
                    allow_disconnected=True,
                )
            except Exception as exc:  # a refusal is fine; a crash of the desk is not
                figures.crashed = f"{type(exc).__name__}: {exc}"
                break
            placed.append(order)
            if len(placed) % 3 == 0:
                await runtime.orders.cancel(placed[-2])
            await asyncio.sleep(0.1)
        await chase.cancel()
        fake.calm()
        await runtime.reconciler.reconcile(VENUE, why="check")
        conn = runtime.connectors[VENUE]
        figures.malformed_counted = conn.malformed_frames
        figures.rate_limited_seen = sum("429" in o.reason or "rate" in o.reason.lower() for o in runtime.orders.orders)
        figures.rate_limited_seen += sum(c.retries for c in getattr(conn, "_http_clients", []))
        figures.orders = len(runtime.orders.orders)
        indices = [o.client_order_index for o in runtime.orders.orders]
        figures.duplicate_ids = len(indices) - len(set(indices))
        await runtime.orders.cancel_all(VENUE)
        await runtime.stop()
    finally:
        stats = fake.stop()
    figures.rate_limited_made = int(stats.get("rate_limits", 0))
    figures.duplicate_ids += int(stats.get("duplicate_indices", 0))
    return figures


async def test_malformed_frames_and_429s_are_counted_never_crash_and_never_duplicate_an_order(tmp_path):
    figures = await run_flood(tmp_path)
    assert figures.crashed == ""
    assert figures.malformed_counted > 0
    assert figures.rate_limited_made > 0 and figures.rate_limited_seen > 0
    assert figures.orders > 10
    assert figures.duplicate_ids == 0
