"""A runtime on a fake venue that runs in another process, and what the chaos tests check on it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

from connector.config import VenueSettings
from connector.factory import create_connector
from connector.interface import OrderStatus
from execution.runtime import Runtime

SYMBOL = "BTC"
WAIT_S = 30.0
"""Bounds on event waits only end hangs (2 cores shared with other work)."""


def build_runtime(
    venue: str,
    base_url: str,
    ws_url: str,
    key_file: Path,
    journal: Path,
    venue_options: dict[str, object] | None = None,
    **settings: object,
) -> Runtime:
    """``venue_options`` are the venue's own settings (e.g. Lighter's ``requests_per_min``)."""
    venue_settings = VenueSettings(
        base_url=base_url,
        ws_url=ws_url,
        key_file=key_file,
        reconnect_min_s=0.05,
        reconnect_max_s=0.5,
        **(venue_options or {}),
    )
    connector = create_connector(venue, venue_settings=venue_settings)
    return Runtime({venue: connector}, journal_path=journal, settings=settings)


async def until(predicate: Callable[[], bool], timeout_s: float = WAIT_S, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not met within {timeout_s:.0f} s")
        await asyncio.sleep(0.01)


async def start(runtime: Runtime, venue: str) -> Runtime:
    await asyncio.wait_for(runtime.start(), WAIT_S)
    await until(lambda: runtime.market_data.top_of_book(venue, SYMBOL)[0] is not None, what="a book")
    return runtime


def away_from_touch(runtime: Runtime, venue: str, is_ask: bool, pct: int) -> int:
    """A price ``pct`` percent away from the touch on our side, on the tick."""
    md = runtime.market_data
    bid, ask = md.top_of_book(venue, SYMBOL)
    tick = md.market(venue, SYMBOL).tick_i or 1
    ref = ask if is_ask else bid
    assert ref is not None
    price = ref * (100 + pct) // 100 if is_ask else ref * (100 - pct) // 100
    return price - price % tick


def integrity(journal: Path) -> str:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def journaled_indices(journal: Path, venue: str) -> list[int]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return [int(r[0]) for r in db.execute("SELECT client_order_index FROM orders WHERE venue = ?", (venue,))]


RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
