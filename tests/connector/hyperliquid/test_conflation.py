"""Hyperliquid's stream over a real socket with a backlog: queued ``l2Book`` snapshots of a coin collapse to
the newest, and nothing else is lost or reordered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from connector.clock import RealClock
from connector.hyperliquid import wire
from connector.hyperliquid.stream import HyperliquidStream, conflation_key, parse_frame
from connector.transport.ws import WsSupervisor

MARKETS = {m.symbol: m for _, m in wire.parse_meta({"universe": [
    {"name": "BTC", "szDecimals": 5, "maxLeverage": 40}, {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
]})}  # fmt: skip
"""BTC prices with 1 decimal and sizes with 5; ETH 2 and 4."""


def _book(coin: str, bid: str, t: int) -> str:
    levels = [[{"px": bid, "sz": "1", "n": 1}], [{"px": str(int(bid) + 1), "sz": "2", "n": 1}]]
    return json.dumps({"channel": "l2Book", "data": {"coin": coin, "time": t, "levels": levels}})


def _trade(coin: str, tid: int) -> str:
    trade = {"coin": coin, "side": "B", "px": "100", "sz": "1", "time": tid, "tid": tid}
    return json.dumps({"channel": "trades", "data": [trade]})


def _bbo(coin: str, bid: str) -> str:
    return json.dumps(
        {"channel": "bbo", "data": {"coin": coin, "time": 1, "bbo": [{"px": bid, "sz": "3", "n": 1}, None]}}
    )


FRAMES = [
    _trade("BTC", 1),  # handled alone; the rest queue up behind it
    _book("BTC", "60000", 2),
    _trade("BTC", 3),
    _book("ETH", "3000", 4),
    _bbo("BTC", "60001"),
    _book("BTC", "60005", 6),
    _trade("ETH", 7),
    _book("ETH", "3005", 8),
    _bbo("BTC", "60006"),
]


async def test_queued_snapshots_collapse_to_the_newest_and_trades_keep_their_place():
    async def venue(conn: ServerConnection) -> None:
        for frame in FRAMES:
            await conn.send(frame)
        await conn.wait_closed()

    events: list[tuple[str, Any]] = []
    stream = HyperliquidStream(emit=lambda kind, e: events.append((kind, e)), clock=RealClock(), markets=MARKETS,
                               coi_of_oid={}, user=None)  # fmt: skip
    stream.coins.update(MARKETS)
    supervisor: WsSupervisor

    async def on_message(msg: Any) -> None:
        if not events:  # the first frame: wait until every other one is queued in the library (or taken with it)

            async def queued() -> None:
                while supervisor.received + len(supervisor._ws.recv_messages.frames) < len(FRAMES):  # type: ignore
                    await asyncio.sleep(0.005)

            await asyncio.wait_for(queued(), 30)
        stream.on_frame(msg)

    async with serve(venue, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        supervisor = WsSupervisor(f"ws://127.0.0.1:{port}", on_message=on_message, parse=parse_frame,
                                  conflate=conflation_key, ping_interval_s=None)  # fmt: skip
        stream.ws = supervisor
        await supervisor.start()
        try:

            async def all_read() -> None:
                while supervisor.messages + supervisor.conflated < len(FRAMES):
                    await asyncio.sleep(0.005)

            await asyncio.wait_for(all_read(), 30)
        finally:
            await supervisor.stop()

    said = [(kind, e.symbol, e.trade_id if kind == "trade" else (e.bids[0][0], e.asks[:1])) for kind, e in events]
    assert said == [
        ("trade", "BTC", "1"),
        ("trade", "BTC", "3"),
        ("book", "BTC", (600050, ((600060, 200000),))),
        ("trade", "ETH", "7"),
        ("book", "ETH", (300500, ((300600, 20000),))),
        ("book", "BTC", (600060, ((600060, 200000),))),  # the bbo after the newest snapshot still counts
    ]
    assert (supervisor.conflated, supervisor.messages, supervisor.received) == (3, 6, 9)
    assert stream.books["ETH"][0] == ((300500, 10000),)
