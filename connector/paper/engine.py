"""The paper venue's matching engine: the sim's order handling and account over a venue's real book.

``PaperEngine`` is a ``SimEngine`` whose markets are ``PaperMarket`` (the venue's book) instead of
seeded synthetic ones, so placing, amending, cancelling, reduce-only, self-trade prevention, post-only
crossing, margin, fees and liquidation are the sim's own code.  What differs is when a resting order
fills, which follows the venue's public data only:

- a trade printed *through* its price (below our bid, above our ask) fills it, up to the trade's size;
- a trade printed *at* its price by a taker on the other side first eats the size that was queued ahead
  of it: ``queue_ahead`` starts as the venue's size at that level when the order joined (0 for a new
  level inside the spread), shrinks with every such trade, and never exceeds what the venue still shows
  at the level (size ahead can cancel; size behind never counts);
- a book that crosses it (an ask at or under our bid) fills it from the crossing size;
- a taker (a market order, a limit that crosses on entry) walks the venue's current book.

The venue's own rules apply on entry: tick, step, minimum size, minimum notional and a price band
around the mark (``connector.paper.rules``).
"""

from __future__ import annotations

import logging
from typing import Any

from connector.clock import Clock
from connector.errors import InvalidOrder
from connector.interface import QUOTE_DECIMALS, BookUpdate, MarketInfo, Trade
from connector.paper.market import PaperMarket
from connector.paper.rules import check_band, check_notional
from connector.sim.engine import SimEngine
from connector.sim.matching import SimOrder

log = logging.getLogger(__name__)

DEFAULT_COLLATERAL_Q = 100_000 * 10**QUOTE_DECIMALS
MARK_EVERY_MS = 1_000
"""Positions and margin are re-marked to the venue's book at most this often per market."""


class PaperEngine(SimEngine):
    def __init__(
        self,
        *,
        clock: Clock,
        venue: str = "paper",
        collateral_q: int = DEFAULT_COLLATERAL_Q,
        maker_fee_ppm: int = 100,
        taker_fee_ppm: int = 450,
    ) -> None:
        super().__init__(
            clock=clock, markets=[], collateral_q=collateral_q, maker_fee_ppm=maker_fee_ppm, taker_fee_ppm=taker_fee_ppm
        )
        self.venue = venue
        self._states: dict[str, PaperMarket] = {}  # type: ignore[assignment]  # duck-typed MarketState
        self.queue_ahead: dict[int, int] = {}
        """Resting order sequence number -> venue size still ahead of it at its level."""
        self._marked_ms: dict[str, int] = {}
        self._entry_reduce_only = False

    def install(self, markets: list[MarketInfo]) -> None:
        """Take the venue's markets (again after a restart: positions and orders are kept)."""
        for info in markets:
            st = self._states.get(info.symbol)
            if st is None:
                self._states[info.symbol] = PaperMarket(info)
            else:
                st.info = info
            self.account.add_market(info)  # shares ``self.markets`` with the account
        self._state_list = list(self._states.values())

    def state(self, symbol: str) -> PaperMarket:
        return self._state(symbol)  # type: ignore[return-value]

    # -- time: nothing moves but the venue's data -----------------------------------------------

    def advance_to(self, now_ms: int) -> None:
        self._ts = max(self._ts, now_ms)

    def _emit_book(self, st: Any) -> None:
        """The venue's own book events go out as the venue sent them; the paper engine adds none."""
        st.dirty = False

    def _print(self, st: Any, price_i: int, size_i: int, taker_sold: bool, trade_id: str) -> None:
        """Paper fills print nothing on the tape: the venue never saw them."""

    # -- the venue's rules on entry -------------------------------------------------------------

    def _check_price_size(self, st: Any, price_i: int, size_i: int, *, allow_zero_price: bool) -> None:
        super()._check_price_size(st, price_i, size_i, allow_zero_price=allow_zero_price)
        info: MarketInfo = st.info
        mark = st.mid_i
        if price_i:
            check_band(self.venue, info, price_i, mark)
        if not self._entry_reduce_only:  # closing what is left is never refused for its size
            check_notional(info, self.account.value_q(info.symbol, price_i or mark, size_i))

    def place(self, symbol: str, **kwargs: Any):  # type: ignore[override]
        st = self.state(symbol)
        if not st.has_book:
            raise InvalidOrder(f"paper {self.venue} {symbol}: no book from the venue yet; subscribe its market first")
        self._entry_reduce_only = bool(kwargs.get("reduce_only", False))
        try:
            return super().place(symbol, **kwargs)
        finally:
            self._entry_reduce_only = False

    def amend(self, symbol: str, **kwargs: Any):  # type: ignore[override]
        o = self._find(symbol, kwargs.get("order_id"), kwargs.get("client_order_index"))
        self._entry_reduce_only = o.reduce_only
        try:
            return super().amend(symbol, **kwargs)
        finally:
            self._entry_reduce_only = False

    # -- queue position -------------------------------------------------------------------------

    def _rest(self, st: Any, o: SimOrder) -> None:
        super()._rest(st, o)
        if o.seq not in self.queue_ahead:
            # joining a level: everything the venue shows there now is ahead of us
            self.queue_ahead[o.seq] = st.side(o.is_ask).get(o.price_i, 0)
        o.info["queue_ahead_i"] = self.queue_ahead[o.seq]

    def _finish(self, st: Any, o: SimOrder, status: Any, reason: str = "") -> None:
        self.queue_ahead.pop(o.seq, None)
        super()._finish(st, o, status, reason)

    def _trim_queues(self, st: PaperMarket) -> None:
        """Size ahead can only shrink to what the venue still shows at the level."""
        for own, is_ask in ((st.bids, False), (st.asks, True)):
            side = st.side(is_ask)
            for o in own:
                ahead = self.queue_ahead.get(o.seq)
                if ahead:
                    self.queue_ahead[o.seq] = o.info["queue_ahead_i"] = min(ahead, side.get(o.price_i, 0))

    # -- the venue's data -----------------------------------------------------------------------

    def on_book(self, update: BookUpdate) -> None:
        """One venue book event: keep the book, fill what it crosses, re-mark now and then."""
        st = self._states.get(update.symbol)
        if st is None:
            return
        self._ts = max(self._ts, self.clock.now_ms())
        st.apply(update)
        if st.bids or st.asks:
            self._trim_queues(st)
            self._cross(st)
        self._mark(st)
        self._check_liquidation()
        self._flush()

    def _cross(self, st: PaperMarket) -> None:
        for own, is_ask in ((st.bids, False), (st.asks, True)):
            for o in list(own):
                avail = st.through(not is_ask, o.price_i)
                if avail <= 0:
                    break  # best first: a worse order is not crossed either
                size = min(avail, o.remaining_i)
                st.take_through(not is_ask, o.price_i, size)
                self._fill_resting(st, o, size)  # type: ignore[arg-type]

    def on_trade(self, trade: Trade) -> None:
        """One public trade: it fills what it printed through, and at our price what is left of it
        after the size queued ahead of us."""
        st = self._states.get(trade.symbol)
        if st is None:
            return
        self._ts = max(self._ts, self.clock.now_ms())
        st.last_trade_i = trade.price_i
        if not (st.bids or st.asks):
            return
        for own, is_ask in ((st.bids, False), (st.asks, True)):
            left = trade.size_i
            at_level_filled = 0
            for o in list(own):
                if left <= 0:
                    break
                through = o.price_i < trade.price_i if is_ask else o.price_i > trade.price_i
                if through:
                    size = min(left, o.remaining_i)
                    self._fill_resting(st, o, size)  # type: ignore[arg-type]
                    left -= size
                    continue
                if o.price_i != trade.price_i or trade.is_ask == is_ask:
                    break  # not reached, or the taker was on our side: nothing of ours traded
                ahead = self.queue_ahead.get(o.seq, 0)
                eaten = min(ahead, trade.size_i)
                self.queue_ahead[o.seq] = o.info["queue_ahead_i"] = ahead - eaten
                size = min(left, trade.size_i - eaten - at_level_filled, o.remaining_i)
                if size > 0:
                    self._fill_resting(st, o, size)  # type: ignore[arg-type]
                    at_level_filled += size
                    left -= size
        self._check_liquidation()
        self._flush()

    def _mark(self, st: PaperMarket) -> None:
        if not self.account.positions[st.symbol].size_i:
            return
        last = self._marked_ms.get(st.symbol)
        if last is None or self._ts - last >= MARK_EVERY_MS:
            self._marked_ms[st.symbol] = self._ts
            self._touched.add(st.symbol)
