"""A recorded session against the Hyperliquid fake, for the recorder and replay tests."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from connector.factory import create_connector
from connector.interface import BookUpdate
from connector.record.recorder import Recorder
from connector.transport import tap
from tests.fakes.hyperliquid import FakeHyperliquid

ENGINE_STEP_MS = 10


def book_hash(book: BookUpdate) -> str:
    return hashlib.sha256(repr((book.symbol, book.is_snapshot, book.bids, book.asks)).encode()).hexdigest()[:16]


async def record_session(
    path, *, venue: str = "hyperliquid", fake: Any = None, symbols: tuple[str, ...] = ("BTC", "ETH"), books: int = 25
) -> list[str]:
    """Watch ``symbols`` on a venue's fake (started here; Hyperliquid's by default) for ``books`` book
    events, recording; returns their hashes."""
    fake = fake or FakeHyperliquid(step_s=0.01)
    # the sim steps every 10 ms instead of 100: the books this waits for come ten times as fast
    fake.engine.step_ms = ENGINE_STEP_MS
    fake = await fake.start()
    urls = {"base_url": fake.base_url, "ws_url": getattr(fake, "ws_url", None)}
    recorder = Recorder(path, meta={"venues": {venue: urls}}).install()
    seen: list[str] = []
    enough = asyncio.Event()

    def on_book(book: BookUpdate) -> None:
        seen.append(book_hash(book))
        if len(seen) >= books:
            enough.set()

    conn = create_connector(venue, **urls)
    conn.add_handler("book", on_book)
    try:
        await conn.start()
        await conn.subscribe_market_data(list(symbols))
        await asyncio.wait_for(enough.wait(), 30)
    finally:
        await conn.stop()
        recorder.uninstall()
        await fake.stop()
    return seen


@pytest.fixture
async def recording(tmp_path):
    path = tmp_path / "session.jsonl.gz"
    live = await record_session(path)
    assert tap.current() is None
    return path, live
