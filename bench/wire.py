"""Wire to book: raw websocket text to scaled-integer levels applied to an ``L2Book``.

For each venue's depth stream, shaped as the venue sends it (Hyperliquid repeats 20 + 20 levels;
Lighter, Backpack and Binance send the levels that changed, size 0 for one that went), we run the
connector's own path (its orjson parse and the stream code the reader calls) and compare it, in
the same run and interleaved round by round, with the naive way a script would do it: stdlib
``json.loads`` plus ``Decimal`` for every price and size.  Each round ends with a sanity check:
the book must be the one the stream describes and not crossed, or the bench run fails.  The
connector's memo of price and size strings is emptied before each cold round.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from bench.stats import Figure, median, percentile
from connector import scaling
from connector.interface import BookUpdate
from connector.scaling import scaled_to_str
from execution.market import L2Book

FRAMES = 20_000
ROUNDS = 5
CHUNK = 200
"""Frames per timed chunk: the p50/p99 µs per frame are over chunks."""
DEPTH = 20
PD, SD = 1, 5  # BTC on Hyperliquid: szDecimals 5, so 1 price decimal


class BenchInsane(AssertionError):
    """A bench ended somewhere the venue's stream could not have put it: its figure would be a lie."""


class Market:
    """A synthetic book that behaves like a real one: each price keeps its size until someone changes it.

    The mid moves by a tick now and then (the touch moves: the level it crosses empties, one new level
    appears on the other side and one leaves the far end of the 20 shown), and a few levels change size
    each frame.  ``step`` returns what changed in the 20 + 20 shown, size 0 for a level that left them.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.mid = 650_000
        self.sizes: dict[int, int] = {}

    def size(self, price: int) -> int:
        found = self.sizes.get(price)
        if found is None:
            found = self.sizes[price] = self.rng.randint(1, 2_000_000)
        return found

    def shown(self) -> tuple[dict[int, int], dict[int, int]]:
        bids = {self.mid - k - 1: self.size(self.mid - k - 1) for k in range(DEPTH)}
        asks = {self.mid + k + 1: self.size(self.mid + k + 1) for k in range(DEPTH)}
        return bids, asks

    def step(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        before = self.shown()
        if self.rng.random() < 0.1:
            self.sizes.pop(self.mid, None)  # the level the touch crosses was taken out
            self.mid += self.rng.choice((-1, 1))
            self.sizes.pop(self.mid, None)
        for _ in range(self.rng.randint(1, 6)):
            k = self.rng.randint(1, DEPTH)
            price = self.mid + k if self.rng.random() < 0.5 else self.mid - k
            self.sizes[price] = self.rng.randint(1, 2_000_000)
        after = self.shown()
        changes = []
        for old, new in zip(before, after, strict=True):
            changed = [(p, s) for p, s in new.items() if old.get(p) != s]
            changed += [(p, 0) for p in old if p not in new]
            changes.append(sorted(changed))
        return changes[0], changes[1]


def _levels(side: dict[int, int], reverse: bool) -> list[tuple[int, int]]:
    return sorted(side.items(), reverse=reverse)


def _frames(venue: str, n: int, seed: int = 5) -> tuple[list[str], tuple[dict[int, int], dict[int, int]]]:
    """The stream as the venue sends it, and the book it leaves shown (the sanity check's answer).

    Hyperliquid's ``l2Book`` repeats the 20 + 20 levels in every frame; Lighter, Backpack and Binance
    send the levels that changed, size 0 for one that went."""
    market = Market(seed)
    out = []
    for i in range(n):
        if venue == "hyperliquid":
            market.step()
            bids_d, asks_d = market.shown()
            bids, asks = _levels(bids_d, True), _levels(asks_d, False)
        else:
            bids, asks = market.step()
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
    return out, market.shown()


def _start_book(venue: str, seed: int = 5) -> tuple[tuple[int, int], ...]:
    """The diff venues' streams start on a snapshot of the book as it stood before the first frame."""
    bids, asks = Market(seed).shown()
    return tuple(_levels(bids, True)), tuple(_levels(asks, False))


def check_book(book: L2Book, expected: tuple[dict[int, int], dict[int, int]], what: str) -> None:
    """The book a bench built must be the one the stream describes, and not crossed."""
    if book.is_crossed:
        raise BenchInsane(f"{what}: the book ended crossed ({book.best_bid()} / {book.best_ask()})")
    bids, asks = dict(book.bids()), dict(book.asks())
    if (bids, asks) != expected:
        wrong = sum(
            got.get(p) != want.get(p) for got, want in ((bids, expected[0]), (asks, expected[1])) for p in got | want
        )
        raise BenchInsane(f"{what}: the book ended with {wrong} levels unlike the stream's")


def _timed(frames: list[str], handle: Callable[[str], object]) -> list[float]:
    """µs per frame for each chunk of ``CHUNK`` frames, handled in order."""
    chunks = []
    perf = time.perf_counter
    for i in range(0, len(frames), CHUNK):
        part = frames[i : i + CHUNK]
        t0 = perf()
        for text in part:
            handle(text)
        chunks.append((perf() - t0) * 1e6 / len(part))
    return chunks


def _ours_hyperliquid(frames: list[str]) -> tuple[list[float], L2Book]:
    """What the connector runs: the supervisor's orjson parse, then the stream's ``on_frame``."""
    from connector.clock import RealClock
    from connector.hyperliquid.stream import HyperliquidStream, parse_frame
    from connector.interface import MarketInfo

    book = L2Book("BTC")
    stream = HyperliquidStream(
        emit=lambda kind, update: book.apply(update), clock=RealClock(),
        markets={"BTC": MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)}, coi_of_oid={}, user=None,
    )  # fmt: skip
    stream.coins.add("BTC")
    on_frame = stream.on_frame
    return _timed(frames, lambda text: on_frame(parse_frame(text))), book


def _orjson_hyperliquid(frames: list[str]) -> tuple[list[float], L2Book]:
    """The connector's path before issue 18: orjson into dicts, then ``parse_levels`` per level."""
    from connector.clock import RealClock
    from connector.hyperliquid.stream import HyperliquidStream
    from connector.interface import MarketInfo

    book = L2Book("BTC")
    stream = HyperliquidStream(
        emit=lambda kind, update: book.apply(update), clock=RealClock(),
        markets={"BTC": MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)}, coi_of_oid={}, user=None,
    )  # fmt: skip
    stream.coins.add("BTC")
    on_frame, loads = stream.on_frame, orjson.loads
    return _timed(frames, lambda text: on_frame(loads(text))), book


def _ours_lighter(frames: list[str]) -> tuple[list[float], L2Book]:
    """What the connector runs: the supervisor's ``decode_frame``, then the stream's ``on_frame``."""
    from connector.clock import RealClock
    from connector.interface import MarketInfo
    from connector.lighter.stream import BookChain, LighterStream, decode_frame

    book = L2Book("BTC")
    m = MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)
    stream = LighterStream(emit=lambda kind, update: book.apply(update), clock=RealClock(), market=lambda _: m,
                           account_index=0)  # fmt: skip
    chain = stream.chains[1] = BookChain("BTC", PD, SD)
    bids, asks = _start_book("lighter")
    side = lambda levels: [{"price": scaled_to_str(p, PD), "size": scaled_to_str(s, SD)} for p, s in levels]  # noqa: E731
    snapshot = {"channel": "order_book:1", "type": "subscribed/order_book",
                "order_book": {"bids": side(bids), "asks": side(asks), "nonce": 0}}  # fmt: skip
    book.apply(chain.apply(snapshot, snapshot=True))
    on_frame = stream.on_frame

    def handle(text: str) -> None:
        if on_frame(decode_frame(text)) is not None:
            raise BenchInsane("lighter: the bench's chain broke")

    return _timed(frames, handle), book


def _ours_backpack(frames: list[str]) -> tuple[list[float], L2Book]:
    from connector.backpack import wire
    from connector.backpack.stream import BackpackStream, BookSync, parse_frame
    from connector.clock import RealClock
    from connector.interface import MarketInfo

    book = L2Book("BTC")
    m = MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)
    sync = BookSync(m)
    bids, asks = _start_book("backpack")
    side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
    book.apply(sync.on_snapshot({"bids": side(reversed(bids)), "asks": side(asks), "lastUpdateId": "0"}))

    async def never(*_: object) -> dict[str, str]:
        raise AssertionError("the bench's chain never breaks")

    stream = BackpackStream(
        emit=lambda kind, update: book.apply(update), clock=RealClock(), markets={"BTC": m}, ids=wire.ClientIds(),
        fetch_depth=never, signature=lambda: None, recover_fills=never, on_account=lambda: None, spawn=print,
    )  # fmt: skip
    stream.books["BTC"] = sync
    on_frame = stream.on_frame
    return _timed(frames, lambda text: on_frame(parse_frame(text))), book


def _ours_binance(frames: list[str]) -> tuple[list[float], L2Book]:
    """Diff frames through the connector's pu-chained sync (the snapshot is taken before the clock)."""
    from connector.binance_usdm.stream import DepthSync, decode

    book = L2Book("BTC")
    sync = DepthSync("BTCUSDT", PD, SD)
    bids, asks = _start_book("binance-usdm")
    side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
    sync.on_depth(decode(frames[0]))
    first, _ = sync.on_snapshot(sync.gen, {"lastUpdateId": 1, "bids": side(bids), "asks": side(asks)})
    assert first is not None
    book.apply(first)

    def handle(text: str) -> None:
        update, _ = sync.on_depth(decode(text))
        if update is not None:
            book.apply(update)

    return _timed(frames[1:], handle), book


def _naive(frames: list[str], venue: str) -> tuple[list[float], L2Book]:
    """The way a script would do it: stdlib ``json`` and ``Decimal`` for every price and size."""
    book = L2Book("BTC")
    if venue != "hyperliquid":
        bids, asks = _start_book(venue)
        book.apply(BookUpdate("BTC", bids, asks, True, 0))
    ps, ss = Decimal(10) ** PD, Decimal(10) ** SD

    def handle(text: str) -> None:
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

    return _timed(frames, handle), book


def _cold() -> None:
    """Empty the connector's memos of price and size strings, as at start-up."""
    scaling.clear_memos()


def _per_frame(chunks: list[float]) -> float:
    return sum(chunks) / len(chunks)


def run() -> list[Figure]:
    figures = []
    venues = (
        ("hyperliquid", _ours_hyperliquid), ("lighter", _ours_lighter), ("backpack", _ours_backpack),
        ("binance-usdm", _ours_binance),
    )  # fmt: skip
    for venue, ours in venues:
        frames, expected = _frames(venue, FRAMES)
        shape = "20+20 snapshots" if venue == "hyperliquid" else "changed levels"
        cold, warm, base = [], [], []
        for _ in range(ROUNDS):  # interleaved, so a burst of load elsewhere hits both sides alike
            _cold()
            chunks, book = ours(frames)
            check_book(book, expected, f"{venue} (cold)")
            cold.append(chunks)
            chunks, book = ours(frames)
            check_book(book, expected, f"{venue} (warm)")
            warm.append(chunks)
            chunks, book = _naive(frames, venue)
            check_book(book, expected, f"{venue} (baseline)")
            base.append(chunks)
        base_all = [c for r in base for c in r]
        for memo, rounds in (("warm", warm), ("cold", cold)):
            pooled = [c for r in rounds for c in r]
            # the first chunk of a cold round is where the memo fills
            figures.append(
                Figure(
                    "wire",
                    f"{venue} {shape} → book, memo {memo}",
                    median(pooled),
                    "µs/frame",
                    p99=percentile(pooled, 99),
                    baseline=median(base_all),
                    baseline_name="json+Decimal",
                    target="≥ 100k frames/s (≤ 10 µs/frame)" if memo == "warm" else "",
                    note=(
                        f"{1e6 / median([_per_frame(r) for r in rounds]):,.0f} frames/s (median round); "
                        f"baseline p99 {percentile(base_all, 99):.3g} µs/frame; p50/p99 over {len(pooled)} chunks of "
                        f"{CHUNK} frames in {ROUNDS} rounds; the book checked (the stream's, not crossed) after each"
                    ),
                    extra={
                        "frames": FRAMES,
                        "frames_per_s_rounds": [1e6 / _per_frame(r) for r in rounds],
                        "baseline_frames_per_s_rounds": [1e6 / _per_frame(r) for r in base],
                        "first_chunk_us": [r[0] for r in rounds],
                    },
                )
            )
        if venue == "hyperliquid":
            figures.append(_against_orjson(frames, expected, warm))
    return figures


def _against_orjson(frames: list[str], expected: Any, typed_rounds: list[list[float]]) -> Figure:
    """The typed decode against the connector's previous orjson path, same frames, interleaved rounds."""
    typed, plain = [], []
    for _ in range(ROUNDS):
        chunks, book = _ours_hyperliquid(frames)
        check_book(book, expected, "hyperliquid (typed)")
        typed.append(chunks)
        chunks, book = _orjson_hyperliquid(frames)
        check_book(book, expected, "hyperliquid (orjson path)")
        plain.append(chunks)
    t_all, p_all = [c for r in typed for c in r], [c for r in plain for c in r]
    return Figure(
        "wire",
        "hyperliquid 20+20 snapshots → book, typed decode vs the orjson path",
        median(t_all),
        "µs/frame",
        p99=percentile(t_all, 99),
        baseline=median(p_all),
        baseline_name="orjson + parse_levels",
        target="≥ 1.6× the orjson path",
        note=(
            f"msgspec Structs (gc=False) and an inline dict memo; the orjson path p99 {percentile(p_all, 99):.3g} "
            f"µs/frame; memo warm; {ROUNDS} interleaved rounds of {FRAMES:,} frames; the book checked after each"
        ),
        extra={"baseline_p99": percentile(p_all, 99)},
    )
