"""One venue's L2 order book for one market, kept from snapshots and deltas.

Each side is a dict ``price_i -> size_i`` (O(1) size updates, the common case) plus
a sorted list of its prices kept with ``bisect``.  The list is ordered so the best
price sits at its *end*: bids ascending, asks as negated prices ascending.  Reading
the touch is then O(1), and the levels that churn most (near the touch) insert and
delete near the end of the list, where ``list.insert``/``del`` move almost nothing.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from operator import neg

from connector.interface import BookUpdate


class L2Book:
    """Levels are ``(price_i, size_i)``; a delta with size 0 removes the level."""

    __slots__ = ("_ask_keys", "_asks", "_bid_keys", "_bids", "seq", "symbol", "ts_ms", "updates")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_keys: list[int] = []
        """Bid prices ascending: best bid is ``[-1]``."""
        self._ask_keys: list[int] = []
        """Negated ask prices ascending: best ask is ``-[-1]``."""
        self.ts_ms = 0
        """Venue timestamp of the last update applied."""
        self.seq: int | None = None
        """Venue sequence number of the last update that carried one."""
        self.updates = 0
        """Updates applied since creation (a cheap change counter for watchers)."""

    def apply(self, update: BookUpdate) -> None:
        """Apply a snapshot (replaces both sides) or a delta (size 0 removes a level)."""
        if update.is_snapshot:
            self._replace(update.bids, update.asks)
        else:
            if update.bids:
                levels = self._bids
                keys = self._bid_keys
                for price, size in update.bids:
                    if size:
                        if price not in levels:
                            insort(keys, price)
                        levels[price] = size
                    elif levels.pop(price, None) is not None:
                        del keys[bisect_left(keys, price)]
            if update.asks:
                levels = self._asks
                keys = self._ask_keys
                for price, size in update.asks:
                    if size:
                        if price not in levels:
                            insort(keys, -price)
                        levels[price] = size
                    elif levels.pop(price, None) is not None:
                        del keys[bisect_left(keys, -price)]
        self.ts_ms = update.ts_ms
        if update.seq is not None:
            self.seq = update.seq
        self.updates += 1

    def _replace(self, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...]) -> None:
        # the last entry for a price wins, as in a delta; zero sizes are no level.  Built in C (a
        # snapshot rarely holds a zero: filtered only when one is there); a venue's sides come sorted,
        # so each sort is one pass
        self._bids = levels = dict(bids)
        if 0 in levels.values():
            self._bids = levels = {p: s for p, s in levels.items() if s}
        self._bid_keys = sorted(levels)
        self._asks = levels = dict(asks)
        if 0 in levels.values():
            self._asks = levels = {p: s for p, s in levels.items() if s}
        self._ask_keys = sorted(map(neg, levels))

    def best_bid(self) -> tuple[int, int] | None:
        keys = self._bid_keys
        if not keys:
            return None
        price = keys[-1]
        return price, self._bids[price]

    def best_ask(self) -> tuple[int, int] | None:
        keys = self._ask_keys
        if not keys:
            return None
        price = -keys[-1]
        return price, self._asks[price]

    def best_bid_i(self) -> int | None:
        keys = self._bid_keys
        return keys[-1] if keys else None

    def best_ask_i(self) -> int | None:
        keys = self._ask_keys
        return -keys[-1] if keys else None

    def bids(self, n: int | None = None) -> list[tuple[int, int]]:
        """Best ``n`` bid levels (all when ``n`` is None), best first."""
        keys = self._bid_keys if n is None else self._bid_keys[-n:] if n > 0 else []
        levels = self._bids
        return [(p, levels[p]) for p in reversed(keys)]

    def asks(self, n: int | None = None) -> list[tuple[int, int]]:
        """Best ``n`` ask levels (all when ``n`` is None), best first."""
        keys = self._ask_keys if n is None else self._ask_keys[-n:] if n > 0 else []
        levels = self._asks
        return [(-k, levels[-k]) for k in reversed(keys)]

    def bid_size(self, price_i: int) -> int:
        return self._bids.get(price_i, 0)

    def ask_size(self, price_i: int) -> int:
        return self._asks.get(price_i, 0)

    @property
    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bid_keys), len(self._ask_keys)

    @property
    def is_crossed(self) -> bool:
        """Best bid at or above best ask: the book has missed an update and needs a snapshot."""
        return bool(self._bid_keys and self._ask_keys and self._bid_keys[-1] >= -self._ask_keys[-1])

    def clear(self) -> None:
        """Forget every level (e.g. on disconnect, until the next snapshot)."""
        self._bids = {}
        self._asks = {}
        self._bid_keys = []
        self._ask_keys = []
        self.seq = None
        self.updates += 1

    def __repr__(self) -> str:
        return f"<L2Book {self.symbol} bid={self.best_bid()} ask={self.best_ask()} depth={self.depth}>"
