"""Disconnect storm, malformed frames and 429s against each venue's fake in its own process, under
live chases.  Every wait is on an event or a condition; its bound only ends a hang."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from connector.interface import ConnectionState
from execution.runtime import Runtime
from tests.chaos.desk import RESTING, SYMBOL, WAIT_S, away_from_touch, build_runtime, start, until
from tests.chaos.procs import start_fake

VENUES = ["hyperliquid", "backpack", "binance-usdm", "lighter"]
STORM_S = 8.0
FLOOD_S = 4.0
FILLS_WAIT_S = 10.0
"""Reconcile passes after the storm until every venue fill is ours (one pass is enough when it works)."""
OPTIONS: dict[str, dict[str, object]] = {"lighter": {"requests_per_min": 1200}}
"""Lighter's standard tier (60 requests a minute) cannot carry four chases, twenty orders and a
reconcile after every drop in a few seconds whatever the faults; these runs use a premium account's
budget, as a desk trading like this would have.  The kill -9 runs keep the standard tier."""


@dataclass
class StormFigures:
    drops: int = 0
    reconnects: int = 0
    fills_venue: int = 0
    filled_venue_i: int = 0
    filled_ours_i: int = 0
    """Sizes filled in all, by the venue's fills and by our orders (trade ids aside)."""
    missed_fills: list[str] = field(default_factory=list)
    extra_fills: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    book_mismatch: list[str] = field(default_factory=list)
    consistent_after_s: float = 0.0
    """From the last reconnect to our book equal to the venue's."""


def venue_fills(fills_file: Path) -> dict[str, int]:
    """The account's fills as the venue booked them, trade id to size (its fake writes each one)."""
    lines = fills_file.read_text(encoding="utf-8").splitlines() if fills_file.exists() else []
    return {trade_id: int(size) for trade_id, size in (line.split() for line in lines)}


def our_fills(runtime: Runtime) -> list[str]:
    """Our trade ids as the venue numbers them (Binance's connector prefixes its per-symbol ids with
    the symbol; one symbol here, so the bare id is unique)."""
    return [f.trade_id.rsplit(":", 1)[-1] for o in runtime.orders.orders for f in o.fills]


async def book_difference(runtime: Runtime, venue_name: str) -> list[str]:
    """Our resting orders against the venue's open orders, by client order index, size and filled."""
    listed = await runtime.connectors[venue_name].get_open_orders(runtime.market_data.venue_symbol(venue_name, SYMBOL))
    venue = {s.client_order_index: (s.size_i, s.filled_i) for s in listed}
    ours = {o.client_order_index: (o.size_i, o.filled_i) for o in runtime.orders.orders if o.state in RESTING}
    return [
        f"{i}: ours {ours.get(i)} venue {venue.get(i)}"
        for i in sorted(set(venue) | set(ours))
        if venue.get(i) != ours.get(i)
    ]


async def run_storm(venue: str, workdir: Path, storm_s: float = STORM_S, seed: int = 5) -> StormFigures:
    fills_file = workdir / f"{venue}-fills.txt"
    fake = start_fake(venue, workdir, seed=seed, drop_every=1.0, fill_on_drop=True, held=True, fills_file=fills_file)
    figures = StormFigures()
    try:
        runtime = build_runtime(
            venue, fake.base_url, fake.ws_url, fake.key_file, workdir / "storm.sqlite3", OPTIONS.get(venue)
        )
        reconnected: list[float] = []
        runtime.add_connection_listener(
            lambda e: reconnected.append(time.monotonic()) if e.state is ConnectionState.CONNECTED else None
        )
        await start(runtime, venue)
        size = runtime.market_data.market(venue, SYMBOL).min_size_i * 20
        chases = [
            await runtime.tracking.start(venue, SYMBOL, is_ask=is_ask, size_i=size * 40, allow_disconnected=True)
            for is_ask in (False, True, False, True)
        ]
        fake.unleash()
        for is_ask in (False, True):  # resting orders the storm must not lose either
            price = away_from_touch(runtime, venue, is_ask, 3)
            await runtime.orders.submit_limit(
                venue, SYMBOL, is_ask=is_ask, size_i=size, price_i=price, post_only=True, allow_disconnected=True
            )
        await asyncio.sleep(storm_s)
        await fake.calmed()  # a drop that was due has happened or never will
        for chase in chases:
            await chase.cancel()
        await until(lambda: runtime.connection_state(venue) is ConnectionState.CONNECTED, what="reconnected")
        last = reconnected[-1] if reconnected else time.monotonic()
        await runtime.reconciler.wait_idle()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while (diff := await book_difference(runtime, venue)) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        figures.consistent_after_s = time.monotonic() - last
        figures.book_mismatch = diff
        figures.reconnects = len(reconnected)
        theirs = venue_fills(fills_file)
        deadline = loop.time() + FILLS_WAIT_S
        while not theirs.keys() <= set(our_fills(runtime)) and loop.time() < deadline:
            await runtime.reconciler.reconcile(venue, why="check")
            await asyncio.sleep(0.2)
        mine = our_fills(runtime)
        figures.fills_venue = len(theirs)
        figures.filled_venue_i = sum(theirs.values())
        figures.filled_ours_i = sum(o.filled_i for o in runtime.orders.orders)
        figures.missed_fills = sorted(theirs.keys() - set(mine))
        figures.extra_fills = sorted(set(mine) - theirs.keys())
        figures.duplicate_ids = len(mine) - len(set(mine))
        indices = [o.client_order_index for o in runtime.orders.orders]
        figures.duplicate_ids += len(indices) - len(set(indices))
        await runtime.stop()
    finally:
        stats = fake.stop()
    figures.drops = int(stats.get("drops", 0))
    figures.duplicate_ids += int(stats.get("duplicate_indices", 0))
    return figures


@pytest.mark.parametrize("venue", VENUES)
async def test_a_disconnect_storm_under_live_chases_loses_no_fill_and_ends_with_the_venues_book(venue, tmp_path):
    figures = await run_storm(venue, tmp_path)
    assert figures.drops >= 5 and figures.reconnects >= 5
    assert figures.fills_venue > 0  # fills landed, some while the socket was down
    assert figures.book_mismatch == []
    assert figures.filled_ours_i == figures.filled_venue_i
    assert figures.extra_fills == []
    assert figures.missed_fills == []
    assert figures.duplicate_ids == 0


@dataclass
class FloodFigures:
    malformed_counted: int = 0
    rate_limited_made: int = 0
    rate_limited_seen: int = 0
    orders: int = 0
    duplicate_ids: int = 0
    crashed: str = ""


async def run_flood(venue: str, workdir: Path, seconds: float = FLOOD_S, seed: int = 9) -> FloodFigures:
    fake = start_fake(venue, workdir, seed=seed, malformed_every=0.2, rate_limit_every=0.5, held=True)
    figures = FloodFigures()
    try:
        runtime = build_runtime(
            venue, fake.base_url, fake.ws_url, fake.key_file, workdir / "flood.sqlite3", OPTIONS.get(venue)
        )
        await start(runtime, venue)
        size = runtime.market_data.market(venue, SYMBOL).min_size_i * 20
        chase = await runtime.tracking.start(venue, SYMBOL, is_ask=False, size_i=size * 40, allow_disconnected=True)
        fake.unleash()
        loop = asyncio.get_running_loop()
        end_at = loop.time() + seconds
        placed = []
        while loop.time() < end_at:
            price = away_from_touch(runtime, venue, bool(len(placed) % 2), 3)
            try:
                order = await runtime.orders.submit_limit(
                    venue,
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
        await runtime.reconciler.reconcile(venue, why="check")
        conn = runtime.connectors[venue]
        figures.malformed_counted = conn.malformed_frames
        figures.rate_limited_seen = sum("429" in o.reason or "rate" in o.reason.lower() for o in runtime.orders.orders)
        figures.rate_limited_seen += sum(c.retries for c in getattr(conn, "_http_clients", []))
        figures.orders = len(runtime.orders.orders)
        indices = [o.client_order_index for o in runtime.orders.orders]
        figures.duplicate_ids = len(indices) - len(set(indices))
        await runtime.orders.cancel_all(venue)
        await runtime.stop()
    finally:
        stats = fake.stop()
    figures.rate_limited_made = int(stats.get("rate_limits", 0))
    figures.duplicate_ids += int(stats.get("duplicate_indices", 0))
    return figures


@pytest.mark.parametrize("venue", VENUES)
async def test_malformed_frames_and_429s_are_counted_never_crash_and_never_duplicate_an_order(venue, tmp_path):
    figures = await run_flood(venue, tmp_path)
    assert figures.crashed == ""
    assert figures.malformed_counted > 0
    assert figures.rate_limited_made > 0 and figures.rate_limited_seen > 0
    assert figures.orders > 10
    assert figures.duplicate_ids == 0
