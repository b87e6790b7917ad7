"""Wire to book: raw websocket text to scaled-integer levels applied to an ``L2Book``.

For each venue's depth message (20 + 20 levels) we run the connector's own parsing path
(the same functions the stream reader calls) and compare it with the naive way a script
would do it: ``json.loads`` plus ``Decimal`` for every price and size.
"""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal

from bench.stats import Figure, median
from connector.interface import BookUpdate
from connector.scaling import scaled_to_str
from execution.market import L2Book

FRAMES = 20_000
ROUNDS = 5
PD, SD = 1, 5  # BTC on Hyperliquid: szDecimals 5, so 1 price decimal


def _frames(venue: str, n: int, seed: int = 5) -> list[str]:
    """A live-looking stream: the mid drifts, and each frame changes a few levels' sizes."""
    rng = random.Random(seed)
    mid = 650_000
    sizes = {k: rng.randint(1, 2_000_000) for k in range(-25, 26)}
    out = []
    for i in range(n):
        if rng.random() < 0.1:
            mid += rng.choice((-1, 1))
        for _ in range(rng.randint(1, 6)):
            sizes[rng.randint(-25, 25)] = rng.randint(1, 2_000_000)
        bids = [(mid - k - 1, sizes[-k - 1]) for k in range(20)]
        asks = [(mid + k + 1, sizes[k + 1]) for k in range(20)]
        if venue == "hyperliquid":
            lv = [
                [{"px": scaled_to_str(p, PD), "sz": scaled_to_str(s, SD), "n": 3} for p, s in side]
                for side in (bids, asks)
            ]
            msg = {"channel": "l2Book", "data": {"coin": "BTC", "time": 1_700_000_000_000 + i, "levels": lv}}
        elif venue == "backpack":
            side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
            stamp = (1_700_000_000_000 + i) * 1000
            data = {
                "e": "depth",
                "E": stamp,
                "s": "BTC",
                "a": side(asks),
                "b": side(bids),
                "U": i + 1,
                "u": i + 1,
                "T": stamp,
            }
            msg = {"stream": "depth.BTC", "data": data}
        elif venue == "binance-usdm":
            side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
            msg = {"e": "depthUpdate", "E": 1_700_000_000_000 + i, "T": 1_700_000_000_000 + i, "s": "BTCUSDT",
                   "U": i + 1, "u": i + 1, "pu": i, "b": side(bids), "a": side(asks)}  # fmt: skip
        else:
            side = lambda levels: [{"price": scaled_to_str(p, PD), "size": scaled_to_str(s, SD)} for p, s in levels]  # noqa: E731
            msg = {
                "channel": "order_book:1",
                "type": "update/order_book",
                "timestamp": 1_700_000_000_000 + i,
                "order_book": {"asks": side(asks), "bids": side(bids), "nonce": i + 1, "begin_nonce": i, "offset": i},
            }
        out.append(json.dumps(msg))
    return out


def _ours_hyperliquid(frames: list[str]) -> float:
    from connector.hyperliquid.wire import parse_levels

    book = L2Book("BTC")
    start = time.perf_counter()
    for text in frames:
        data = json.loads(text)["data"]
        bids, asks = data["levels"]
        book.apply(BookUpdate("BTC", parse_levels(bids, PD, SD), parse_levels(asks, PD, SD), True, data["time"]))
    return len(frames) / (time.perf_counter() - start)


def _ours_lighter(frames: list[str]) -> float:
    from connector.lighter.stream import BookChain, decode_frame

    book = L2Book("BTC")
    chain = BookChain("BTC", PD, SD)
    chain.nonce = 0
    start = time.perf_counter()
    for text in frames:
        update = chain.apply(decode_frame(text), snapshot=False)
        if update is not None:
            book.apply(update)
    return len(frames) / (time.perf_counter() - start)


def _ours_backpack(frames: list[str]) -> float:
    from connector.backpack import wire
    from connector.backpack.stream import BackpackStream, BookSync, parse_frame
    from connector.clock import RealClock
    from connector.interface import MarketInfo

    book = L2Book("BTC")
    m = MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)
    sync = BookSync(m)
    sync.on_snapshot({"bids": [], "asks": [], "lastUpdateId": "0"})

    async def never(*_: object) -> dict[str, str]:
        raise AssertionError("the bench's chain never breaks")

    stream = BackpackStream(
        emit=lambda kind, update: book.apply(update), clock=RealClock(), markets={"BTC": m}, ids=wire.ClientIds(),
        fetch_depth=never, signature=lambda: None, recover_fills=never, on_account=lambda: None, spawn=print,
    )  # fmt: skip
    stream.books["BTC"] = sync
    start = time.perf_counter()
    for text in frames:
        stream.on_frame(parse_frame(text))
    return len(frames) / (time.perf_counter() - start)


def _ours_binance(frames: list[str]) -> float:
    """Diff frames through the connector's pu-chained sync (the snapshot is taken before the clock)."""
    from connector.binance_usdm.stream import DepthSync, decode

    book = L2Book("BTC")
    sync = DepthSync("BTCUSDT", PD, SD)
    sync.on_depth(decode(frames[0]))
    sync.on_snapshot(sync.gen, {"lastUpdateId": 1, "bids": [], "asks": []})
    start = time.perf_counter()
    for text in frames[1:]:
        update, _ = sync.on_depth(decode(text))
        if update is not None:
            book.apply(update)
    return (len(frames) - 1) / (time.perf_counter() - start)


def _naive(frames: list[str], venue: str) -> float:
    book = L2Book("BTC")
    ps, ss = Decimal(10) ** PD, Decimal(10) ** SD
    start = time.perf_counter()
    for text in frames:
        msg = json.loads(text)
        if venue == "hyperliquid":
            raw_bids, raw_asks = msg["data"]["levels"]
            pk, sk = "px", "sz"
        elif venue == "backpack":
            raw_bids, raw_asks = msg["data"]["b"], msg["data"]["a"]
            pk, sk = 0, 1
        elif venue == "binance-usdm":
            raw_bids, raw_asks = msg["b"], msg["a"]
            pk, sk = 0, 1
        else:
            raw_bids, raw_asks = msg["order_book"]["bids"], msg["order_book"]["asks"]
            pk, sk = "price", "size"
        bids = tuple((int(Decimal(lv[pk]) * ps), int(Decimal(lv[sk]) * ss)) for lv in raw_bids)
        asks = tuple((int(Decimal(lv[pk]) * ps), int(Decimal(lv[sk]) * ss)) for lv in raw_asks)
        book.apply(BookUpdate("BTC", bids, asks, venue == "hyperliquid", 0))
    return len(frames) / (time.perf_counter() - start)


def run() -> list[Figure]:
    figures = []
    venues = (
        ("hyperliquid", _ours_hyperliquid), ("lighter", _ours_lighter), ("backpack", _ours_backpack),
        ("binance-usdm", _ours_binance),
    )  # fmt: skip
    for venue, ours in venues:
        frames = _frames(venue, FRAMES)
        mine = [ours(frames) for _ in range(ROUNDS)]
        base = [_naive(frames, venue) for _ in range(ROUNDS)]
        figures.append(
            Figure(
                "wire",
                f"{venue} depth 20+20 → book",
                median(mine),
                "frames/s",
                baseline=median(base),
                baseline_name="json+Decimal",
                target="≥ 100k frames/s",
                extra={"rounds": mine, "baseline_rounds": base, "frames": FRAMES},
            )
        )
    return figures
