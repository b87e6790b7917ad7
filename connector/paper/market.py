"""One paper market: the venue's own order book as the venue's stream shows it, in the shape the sim's
matching routines (``connector.sim.matching.Matching``) walk.

The book is the venue's, never synthetic: levels come from the venue's snapshots and deltas.  What a
paper taker takes is remembered as depleted until the venue's next book update (the venue never saw our
order, so its book cannot show the take; the next update is the venue's word again).
"""

from __future__ import annotations

from collections.abc import Iterator

from connector.interface import BookUpdate, MarketInfo


class PaperMarket:
    """Duck-types ``connector.sim.market.MarketState`` for ``Matching``: ``info``, ``spec.symbol``,
    ``bids``/``asks`` (the user's resting orders), ``dirty``, the walk (``level_prices``, ``level_size``,
    ``consume``, ``synthetic_touch``) and the touch and mid."""

    def __init__(self, info: MarketInfo) -> None:
        self.info = info
        self.symbol = info.symbol
        self.spec = self
        self.book_bids: dict[int, int] = {}
        self.book_asks: dict[int, int] = {}
        self.has_book = False
        self.depleted: dict[int, int] = {}
        self.last_trade_i = 0
        self.bids: list = []
        """The user's resting bids, best first (price desc, then time)."""
        self.asks: list = []
        self.dirty = False

    # -- the venue's book --------------------------------------------------------------------

    def apply(self, update: BookUpdate) -> None:
        """A venue snapshot replaces the book; a delta sets levels (size 0 removes one)."""
        if update.is_snapshot:
            self.book_bids = {p: s for p, s in update.bids if s > 0}
            self.book_asks = {p: s for p, s in update.asks if s > 0}
        else:
            for side, levels in ((self.book_bids, update.bids), (self.book_asks, update.asks)):
                for p, s in levels:
                    if s > 0:
                        side[p] = s
                    else:
                        side.pop(p, None)
        self.has_book = True
        self.depleted.clear()

    def side(self, is_ask: bool) -> dict[int, int]:
        return self.book_asks if is_ask else self.book_bids

    def venue_touch(self, is_ask: bool) -> int | None:
        side = self.side(is_ask)
        if not side:
            return None
        return min(side) if is_ask else max(side)

    @property
    def bid_i(self) -> int:
        return self.venue_touch(False) or 0

    @property
    def ask_i(self) -> int:
        return self.venue_touch(True) or 0

    @property
    def mid_i(self) -> int:
        """The mark: the venue's mid, else its last trade, else 0 (no book yet)."""
        bid, ask = self.venue_touch(False), self.venue_touch(True)
        if bid and ask:
            return (bid + ask) // 2
        return bid or ask or self.last_trade_i

    # -- what Matching walks -----------------------------------------------------------------

    def level_prices(self, is_ask: bool) -> Iterator[int]:
        """The venue's level prices on one side, from the touch outwards."""
        yield from sorted(self.side(is_ask), reverse=not is_ask)

    def level_size(self, price_i: int) -> int:
        size = self.book_asks.get(price_i) or self.book_bids.get(price_i) or 0
        return max(0, size - self.depleted.get(price_i, 0))

    def consume(self, price_i: int, size_i: int) -> None:
        self.depleted[price_i] = self.depleted.get(price_i, 0) + size_i

    def synthetic_touch(self, is_ask: bool) -> int | None:
        """Best venue price on one side with size left after paper takes."""
        for p in self.level_prices(is_ask):
            if self.level_size(p) > 0:
                return p
        return None

    def through(self, is_ask: bool, limit_i: int) -> int:
        """Size left on the ``is_ask`` side at prices at or through ``limit_i`` (an ask at or under a
        bid's price, a bid at or over an ask's)."""
        total = 0
        for p in self.level_prices(is_ask):
            if (p > limit_i) if is_ask else (p < limit_i):
                break
            total += self.level_size(p)
        return total

    def take_through(self, is_ask: bool, limit_i: int, size_i: int) -> None:
        """Mark ``size_i`` of the crossing liquidity as taken, best price first."""
        for p in self.level_prices(is_ask):
            if size_i <= 0 or ((p > limit_i) if is_ask else (p < limit_i)):
                return
            got = min(size_i, self.level_size(p))
            if got:
                self.consume(p, got)
                size_i -= got
