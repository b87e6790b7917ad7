"""Book engine: our ``L2Book`` against ccxt's own Python websocket order book.

Both apply the same seeded stream of 1,000,000 single-level deltas (adds, changes and
removals, concentrated near the touch as real books are) to a shallow (~700 levels a
side) and a deep (~7,000) book, with and without reading the best bid/ask after each
delta.  ccxt works in floats, we in scaled integers; each gets its native input,
prepared before the clock starts.
"""

from __future__ import annotations

import random
import time

from bench.stats import Figure, median
from connector.interface import BookUpdate
from execution.market import L2Book

DELTAS = 1_000_000
ROUNDS = 3


def _stream(depth: int, n: int, seed: int = 11) -> tuple[list[tuple[bool, int, int]], list[tuple[int, int]]]:
    """``(is_ask, price_i, size_i)`` deltas; size 0 removes.  Prices stay on their side of a fixed mid."""
    rng = random.Random(seed)
    mid = 10_000_000
    initial = [(i, rng.randint(1, 5000)) for i in range(1, depth + 1)]
    deltas = []
    for _ in range(n):
        is_ask = rng.random() < 0.5
        # near the touch most of the time, anywhere in the book sometimes
        offset = int(rng.expovariate(1 / (depth / 20))) + 1 if rng.random() < 0.9 else rng.randint(1, depth)
        offset = min(offset, depth)
        size = 0 if rng.random() < 0.25 else rng.randint(1, 5000)
        price = mid + offset if is_ask else mid - offset
        deltas.append((is_ask, price, size))
    return deltas, initial


def _ours(deltas, initial, read_top: bool) -> float:
    mid = 10_000_000
    book = L2Book("X")
    book.apply(
        BookUpdate("X", tuple((mid - o, s) for o, s in initial), tuple((mid + o, s) for o, s in initial), True, 0)
    )
    updates = [
        BookUpdate("X", (), ((p, s),), False, 0) if a else BookUpdate("X", ((p, s),), (), False, 0)
        for a, p, s in deltas
    ]
    apply = book.apply
    start = time.perf_counter()
    if read_top:
        best_bid, best_ask = book.best_bid, book.best_ask
        for u in updates:
            apply(u)
            best_bid()
            best_ask()
    else:
        for u in updates:
            apply(u)
    return len(updates) / (time.perf_counter() - start)


def _ccxt(deltas, initial, read_top: bool) -> float:
    from ccxt.async_support.base.ws.order_book import OrderBook

    mid = 10_000_000.0
    book = OrderBook({"bids": [[(mid - o) / 10, float(s)] for o, s in initial], "asks": [[(mid + o) / 10, float(s)] for o, s in initial]})
    bids, asks = book["bids"], book["asks"]
    ops = [((asks if a else bids).storeArray, [p / 10, float(s)]) for a, p, s in deltas]
    start = time.perf_counter()
    if read_top:
        for store, delta in ops:
            store(delta)
            bids[0] if bids else None
            asks[0] if asks else None
    else:
        for store, delta in ops:
            store(delta)
    return len(ops) / (time.perf_counter() - start)


def run() -> list[Figure]:
    try:
        import ccxt  # noqa: F401
    except ImportError:
        ccxt_missing = "ccxt is not installed (pip install -e '.[bench]'): no comparison"
    else:
        ccxt_missing = ""
    figures = []
    for label, depth in (("shallow ~700/side", 700), ("deep ~7,000/side", 7000)):
        deltas, initial = _stream(depth, DELTAS)
        for read_top in (False, True):
            name = f"{label}{' + best bid/ask read' if read_top else ''}"
            ours = [_ours(deltas, initial, read_top) for _ in range(ROUNDS)]
            theirs = [_ccxt(deltas, initial, read_top) for _ in range(ROUNDS)] if not ccxt_missing else []
            figures.append(
                Figure(
                    "book",
                    name,
                    median(ours),
                    "deltas/s",
                    baseline=median(theirs) if theirs else None,
                    baseline_name="ccxt",
                    target="≥ 2× ccxt",
                    note=ccxt_missing,
                    extra={"rounds_ours": ours, "rounds_ccxt": theirs, "deltas": DELTAS},
                )
            )
    return figures
