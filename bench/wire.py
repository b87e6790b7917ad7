"""Wire to book: raw websocket text to scaled-integer levels applied to an ``L2Book``.

For each venue's depth stream, shaped as the venue sends it (Hyperliquid repeats 20 + 20 levels;
Lighter, Backpack and Binance send the levels that changed, size 0 for one that went), we run what
the connector runs (the supervisor's parse function, typed msgspec decode for book frames, then the
stream code the reader calls) and compare it with the naive way a script would do it: stdlib
``json.loads`` plus ``Decimal`` for every price and size.  Hyperliquid is also compared with the
orjson-into-dicts path it had before issue 18.

Method: the two paths take turns chunk by chunk (``CHUNK`` frames each, the order alternating), so
a burst of load elsewhere hits both alike; each chunk is timed in the thread's CPU time
(``time.thread_time``), because on a shared 2-core box the wall clock of a 1-2 ms chunk mostly
measures the scheduler.  µs per frame p50/p99 are over the pooled chunks of ``ROUNDS`` rounds;
each figure's note also gives the median of the per-chunk ratios (each pair timed back to back).
Memo cold: the memos of venue numbers emptied before the round; warm: the round after it, on the
same frames.  Every round ends with a sanity check: each book must be the one the stream describes
and not crossed, or the bench run fails (``BenchInsane``).  ``WHERE`` says where a frame's time
goes, from ``python -m bench.wire_profile`` (a stage-by-stage profile of the same paths).  The
baselines are the old paths, unchanged: they share ``BookUpdate`` and ``L2Book.apply`` with ours,
so making those cheaper speeds the baselines up too.  Bounded: about 35 s of CPU (2-3 minutes of wall time on a
loaded 2-core box); nothing is started that outlives it.
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


Handle = Callable[[str], object]
Sink = Callable[[BookUpdate], object]
"""Where a path's updates go: ``L2Book.apply`` by default (the stage profile passes a no-op)."""
Path = tuple[Handle, L2Book, list[str]]
"""How to handle one frame, the book it builds, and the frames it runs (untimed set-up done)."""


def _interleaved(paths: list[tuple[Handle, list[str]]]) -> list[list[float]]:
    """µs per frame of each chunk of ``CHUNK`` frames, per path, the paths taking turns chunk by chunk
    (the order alternating), so a burst of load elsewhere hits every path alike."""
    out: list[list[float]] = [[] for _ in paths]
    perf = time.thread_time
    for k, i in enumerate(range(0, max(len(frames) for _, frames in paths), CHUNK)):
        for j in range(len(paths)) if k % 2 == 0 else reversed(range(len(paths))):
            handle, frames = paths[j]
            part = frames[i : i + CHUNK]
            if not part:
                continue
            t0 = perf()
            for text in part:
                handle(text)
            out[j].append((perf() - t0) * 1e6 / len(part))
    return out


def run_path(path: Path) -> L2Book:
    """Every frame through a path, untimed (the tests' way to check what it builds)."""
    handle, book, frames = path
    for text in frames:
        handle(text)
    return book


def _market() -> Any:
    from connector.interface import MarketInfo

    return MarketInfo("BTC", "BTC", "USDC", PD, SD, 1)


def _hyperliquid_stream(sink: Callable[[BookUpdate], object]) -> Any:
    from connector.clock import RealClock
    from connector.hyperliquid.stream import HyperliquidStream

    stream = HyperliquidStream(
        emit=lambda kind, update: sink(update), clock=RealClock(), markets={"BTC": _market()}, coi_of_oid={},
        user=None,
    )  # fmt: skip
    stream.coins.add("BTC")
    return stream


def _ours_hyperliquid(frames: list[str], sink: Sink | None = None) -> Path:
    """What the connector runs: the supervisor's ``parse_frame`` (typed decode), then the stream's ``on_frame``."""
    from connector.hyperliquid.stream import parse_frame

    book = L2Book("BTC")
    on_frame = _hyperliquid_stream(sink or book.apply).on_frame
    return (lambda text: on_frame(parse_frame(text))), book, frames


def _orjson_hyperliquid(frames: list[str]) -> Path:
    """The connector's path before issue 18: orjson into dicts, then ``parse_levels`` per level."""
    book = L2Book("BTC")
    on_frame, loads = _hyperliquid_stream(book.apply).on_frame, orjson.loads
    return (lambda text: on_frame(loads(text))), book, frames


def _ours_lighter(frames: list[str], sink: Sink | None = None) -> Path:
    """What the connector runs: the supervisor's ``decode_frame``, then the stream's ``on_frame``."""
    from connector.clock import RealClock
    from connector.lighter.stream import BookChain, LighterStream, decode_frame

    book = L2Book("BTC")
    m = _market()
    stream = LighterStream(emit=lambda kind, update: apply(update), clock=RealClock(), market=lambda _: m,
                           account_index=0)  # fmt: skip
    chain = stream.chains[1] = BookChain("BTC", PD, SD)
    bids, asks = _start_book("lighter")
    side = lambda levels: [{"price": scaled_to_str(p, PD), "size": scaled_to_str(s, SD)} for p, s in levels]  # noqa: E731
    snapshot = {"channel": "order_book:1", "type": "subscribed/order_book",
                "order_book": {"bids": side(bids), "asks": side(asks), "nonce": 0}}  # fmt: skip
    book.apply(chain.apply(snapshot, snapshot=True))
    on_frame, apply = stream.on_frame, sink or book.apply

    def handle(text: str) -> None:
        if on_frame(decode_frame(text)) is not None:
            raise BenchInsane("lighter: the bench's chain broke")

    return handle, book, frames


def _ours_backpack(frames: list[str], sink: Sink | None = None) -> Path:
    """What the connector runs: the supervisor's ``parse_frame``, then the stream's ``on_frame``."""
    from connector.backpack import wire
    from connector.backpack.stream import BackpackStream, BookSync, parse_frame
    from connector.clock import RealClock

    book = L2Book("BTC")
    m = _market()
    sync = BookSync(m)
    bids, asks = _start_book("backpack")
    side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
    book.apply(sync.on_snapshot({"bids": side(reversed(bids)), "asks": side(asks), "lastUpdateId": "0"}))
    apply = sink or book.apply

    async def never(*_: object) -> dict[str, str]:
        raise AssertionError("the bench's chain never breaks")

    stream = BackpackStream(
        emit=lambda kind, update: apply(update), clock=RealClock(), markets={"BTC": m}, ids=wire.ClientIds(),
        fetch_depth=never, signature=lambda: None, recover_fills=never, on_account=lambda: None, spawn=print,
    )  # fmt: skip
    stream.books["BTC"] = sync
    on_frame = stream.on_frame
    return (lambda text: on_frame(parse_frame(text))), book, frames


def _ours_binance(frames: list[str], sink: Sink | None = None) -> Path:
    """Diff frames through the supervisor's ``decode`` and the connector's pu-chained sync (the first
    frame and the snapshot are taken before the clock)."""
    from connector.binance_usdm.stream import DepthSync, decode

    book = L2Book("BTC")
    sync = DepthSync("BTCUSDT", PD, SD)
    bids, asks = _start_book("binance-usdm")
    side = lambda levels: [[scaled_to_str(p, PD), scaled_to_str(s, SD)] for p, s in levels]  # noqa: E731
    sync.on_depth(decode(frames[0]))
    first, _ = sync.on_snapshot(sync.gen, {"lastUpdateId": 1, "bids": side(bids), "asks": side(asks)})
    assert first is not None
    book.apply(first)
    on_depth, apply = sync.on_depth, sink or book.apply

    def handle(text: str) -> None:
        update, _ = on_depth(decode(text))
        if update is not None:
            apply(update)

    return handle, book, frames[1:]


def _naive(frames: list[str], venue: str) -> Path:
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

    return handle, book, frames


def _cold() -> None:
    """Empty the connector's memos of price and size strings, as at start-up."""
    scaling.clear_memos()


def _pooled(rounds: list[list[float]]) -> list[float]:
    return [c for r in rounds for c in r]


def _paired_ratio(ours: list[list[float]], base: list[list[float]]) -> float:
    """Median over chunks of baseline µs / ours µs, each pair timed back to back."""
    return median([b / o for r_o, r_b in zip(ours, base, strict=True) for o, b in zip(r_o, r_b, strict=False)])


OURS = {"hyperliquid": _ours_hyperliquid, "lighter": _ours_lighter, "backpack": _ours_backpack,
        "binance-usdm": _ours_binance}  # fmt: skip
WHERE = {
    "hyperliquid": "where the time goes (python -m bench.wire_profile, thread CPU, 2026-12-03, loaded box): typed "
    "decode of the 40 levels 3.7-3.9 µs, the levels' pairs (the last frame's where unchanged, else the memos) 4.5-5.3, "
    "the stream's own handling 1.5-1.9 (BookUpdate 0.35-0.5), L2Book's snapshot replace 3.2-3.6; the real fan-out "
    "adds ~0.9 µs",
    "lighter": "where the time goes (python -m bench.wire_profile): typed decode 0.8 µs, prices (memo) and sizes "
    "(inline) 1.8, nonce check + the chain's own copy + BookUpdate (0.35) + dispatch 1.0, L2Book.apply 0.35-0.5; "
    "the real fan-out adds ~0.6 µs",
    "backpack": "where the time goes (python -m bench.wire_profile): typed decode 0.7 µs, prices (memo) and sizes "
    "(inline) 2.0, U/u check + the sync's own copy + BookUpdate (0.35) 0.9, L2Book.apply 0.35-0.4; the real fan-out "
    "adds ~0.7 µs",
    "binance-usdm": "where the time goes (python -m bench.wire_profile): typed decode 0.7 µs, prices (memo) and "
    "sizes (inline) 1.9-2.0, pu check + the sorted sides the bookTicker overlay needs + BookUpdate (0.3) 0.8, "
    "L2Book.apply 0.3",
}
"""Where a frame's time goes on each path, from ``bench/wire_profile.py``'s stage-by-stage profile (decode;
numbers; the stream's own handling with a no-op sink; ``L2Book.apply``), thread CPU time, the minimum of 7
passes; the fan-out figure from an earlier profile of the runtime's."""


def run() -> list[Figure]:
    figures = []
    for venue, ours in OURS.items():
        frames, expected = _frames(venue, FRAMES)
        shape = "20+20 snapshots" if venue == "hyperliquid" else "changed levels"
        got: dict[str, list[list[float]]] = {"cold": [], "warm": [], "base cold": [], "base warm": []}
        hits = []
        for _ in range(ROUNDS):
            for memo in ("cold", "warm"):  # the warm round replays the frames the cold one put in the memo
                if memo == "cold":
                    _cold()
                path, base = ours(frames), _naive(frames, venue)
                chunks, base_chunks = _interleaved([(path[0], path[2]), (base[0], base[2])])
                check_book(path[1], expected, f"{venue} (memo {memo})")
                check_book(base[1], expected, f"{venue} (baseline)")
                got[memo].append(chunks)
                got[f"base {memo}"].append(base_chunks)
            hits.append(sum(len(m) for m in scaling._MEMOS.values()))
        base_all = _pooled(got["base cold"] + got["base warm"])
        for memo in ("warm", "cold"):
            pooled, base_pooled = _pooled(got[memo]), _pooled(got[f"base {memo}"])
            figures.append(
                Figure(
                    "wire",
                    f"{venue} {shape} → book, memo {memo}",
                    median(pooled),
                    "µs/frame",
                    p99=percentile(pooled, 99),
                    baseline=median(base_pooled),
                    baseline_name="json+Decimal",
                    target="≥ 1.4× json+Decimal (≤ 10 µs/frame stretch)" if venue != "hyperliquid" else "",
                    note=(
                        f"{WHERE[venue]}; paired-chunk ratio {_paired_ratio(got[memo], got[f'base {memo}']):.2f}×; "
                        f"baseline p99 {percentile(base_all, 99):.3g} µs/frame; p50/p99 over {len(pooled)} chunks of "
                        f"{CHUNK} frames in {ROUNDS} rounds, ours and the baseline taking turns chunk by chunk; "
                        f"{len(expected[0]) + len(expected[1])} levels shown; the book checked after each round"
                    ),
                    extra={
                        "frames": FRAMES,
                        "paired_ratio": _paired_ratio(got[memo], got[f"base {memo}"]),
                        "baseline_p99": percentile(base_pooled, 99),
                        "first_chunk_us": [r[0] for r in got[memo]],
                        "memo_entries_after_round": hits,
                    },
                )
            )
        if venue == "hyperliquid":
            figures.append(_against_orjson(frames, expected))
    return figures


def _against_orjson(frames: list[str], expected: Any) -> Figure:
    """The typed decode against the connector's previous orjson path, same frames, chunks interleaved."""
    typed, plain = [], []
    for _ in range(ROUNDS):
        ours, before = _ours_hyperliquid(frames), _orjson_hyperliquid(frames)
        t_chunks, p_chunks = _interleaved([(ours[0], ours[2]), (before[0], before[2])])
        check_book(ours[1], expected, "hyperliquid (typed)")
        check_book(before[1], expected, "hyperliquid (orjson path)")
        typed.append(t_chunks)
        plain.append(p_chunks)
    t_all, p_all = _pooled(typed), _pooled(plain)
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
            f"msgspec Structs (gc=False), the last frame's pair for a level unchanged, the memos for the rest; the "
            f"two share BookUpdate and L2Book's snapshot replace (~5 µs); paired-chunk ratio "
            f"{_paired_ratio(typed, plain):.2f}×; "
            f"the orjson path p99 {percentile(p_all, 99):.3g} µs/frame; memo warm; {ROUNDS} rounds of {FRAMES:,} "
            "frames, the two paths taking turns chunk by chunk; the book checked after each"
        ),
        extra={"baseline_p99": percentile(p_all, 99), "paired_ratio": _paired_ratio(typed, plain)},
    )
