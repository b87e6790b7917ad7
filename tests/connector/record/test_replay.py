"""A session recorded against the Hyperliquid fake replays through the venue's own parser into the
same sequence of books (a hash per book) on every run; a replay can be paused and stepped, and traded
on paper."""

from __future__ import annotations

import asyncio

import pytest

from connector.paper import PaperConnector
from connector.record.replay import ReplayConnector
from tests.connector.record.conftest import book_hash, record_session


async def replay(path, symbols=("BTC", "ETH"), **kwargs) -> tuple[list[str], ReplayConnector]:
    conn = ReplayConnector(path, speed=None, **kwargs)
    seen: list[str] = []
    conn.add_handler("book", lambda book: seen.append(book_hash(book)))
    await conn.start()
    await conn.subscribe_market_data(list(symbols))
    try:
        await asyncio.wait_for(conn.finished.wait(), 30)
    finally:
        await conn.stop()
    return seen, conn


async def test_a_recording_replays_into_the_same_books_every_time(recording):
    path, live = recording
    first, conn = await replay(path)
    second, _ = await replay(path)
    assert first == second
    assert first[: len(live)] == live  # the live session's books, in order (it may have read a few more)
    assert conn.malformed == 0 and conn.tap.misses == []
    assert conn.clock.now_ms() >= conn.header["t"]


async def test_a_replay_can_be_paused_and_stepped(recording):
    path, _ = recording
    conn = ReplayConnector(path, speed=None)
    conn.pause()
    await conn.start()
    await conn.subscribe_market_data(["BTC"])
    try:
        await asyncio.sleep(0.1)
        assert conn.played == 0
        conn.step(3)
        for _ in range(200):
            if conn.played == 3:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert conn.played == 3
        conn.resume()
        await asyncio.wait_for(conn.finished.wait(), 30)
    finally:
        await conn.stop()


async def test_paper_trading_against_a_replay(recording):
    path, _ = recording
    replay = ReplayConnector(path, speed=None)
    paper = PaperConnector(replay, clock=replay.clock)
    fills = []
    paper.add_handler("fill", fills.append)
    await paper.start()
    await paper.subscribe_market_data(["BTC"])
    try:
        await asyncio.wait_for(paper.public.finished.wait(), 30)
        m = {m.symbol: m for m in await paper.list_markets()}["BTC"]
        await paper.submit_market_order(symbol="BTC", client_order_index=1, size_i=m.min_size_i, is_ask=False)
        assert fills and fills[0].size_i == m.min_size_i
    finally:
        await paper.stop()


def _fake(venue: str):
    if venue == "backpack":
        from tests.fakes.backpack import FakeBackpack

        return FakeBackpack(step_s=0.01), ("BTC_USDC_PERP",)
    if venue == "lighter":
        from tests.fakes.lighter import FakeLighter

        return FakeLighter(step_s=0.01), ("BTC",)
    from tests.fakes.binance_usdm import FakeBinanceUsdm

    return FakeBinanceUsdm(step_s=0.01, depth_interval_s=0.05), ("BTCUSDT",)


@pytest.mark.parametrize("venue", ["backpack", "lighter", "binance-usdm"])
async def test_every_venue_replays_into_the_books_it_recorded(tmp_path, venue):
    fake, symbols = _fake(venue)
    path = tmp_path / f"{venue}.jsonl.gz"
    live = await record_session(path, venue=venue, fake=fake, symbols=symbols)
    first, conn = await replay(path, symbols)
    second, _ = await replay(path, symbols)
    assert first == second and first[: len(live)] == live
    assert conn.malformed == 0 and conn.tap.misses == []
