"""How user orders meet the simulated market: the taker walk through the synthetic book,
fills from the public trade flow, sweeps when the market moves through a resting order,
and self-trade prevention.  A mixin of ``SimEngine`` (kept apart to keep both readable)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.interface import Fill, OrderSnapshot, OrderStatus, Trade
from connector.sim.account import SimAccount
from connector.sim.market import MarketState

RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


@dataclass(slots=True, eq=False)
class SimOrder:
    symbol: str
    client_order_index: int
    order_id: str | None
    is_ask: bool
    price_i: int
    size_i: int
    tif: str
    reduce_only: bool
    seq: int
    ts_ms: int
    filled_i: int = 0
    status: OrderStatus = OrderStatus.OPEN
    reason: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining_i(self) -> int:
        return self.size_i - self.filled_i

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            self.symbol, self.client_order_index, self.order_id, self.is_ask, self.price_i, self.size_i,
            self.filled_i, self.status, self.tif == "POST_ONLY", self.reduce_only, self.reason, self.ts_ms,
            info={"tif": self.tif, **self.info},
        )  # fmt: skip


def _bid_key(o: SimOrder) -> tuple[int, int]:
    return (-o.price_i, o.seq)


def _ask_key(o: SimOrder) -> tuple[int, int]:
    return (o.price_i, o.seq)


class Matching:
    """Matching routines; ``SimEngine`` provides the state named here."""

    account: SimAccount
    _ts: int
    _tids: itertools.count
    _live: dict[int, SimOrder]
    _md: set[str]
    _touched: set[str]
    _margin_dirty: bool
    _emit: Callable[[Any], None]
    _emit_md: Callable[[str, Any], None]

    def _print(self, st: MarketState, price_i: int, size_i: int, taker_sold: bool, trade_id: str) -> None:
        if st.spec.symbol in self._md:
            self._emit_md(st.spec.symbol, Trade(st.spec.symbol, price_i, size_i, taker_sold, self._ts, trade_id))

    def _take(self, st: MarketState, o: SimOrder) -> None:
        """Walk the synthetic book as a taker; own resting orders in the way are cancelled (self-trade)."""
        is_buy = not o.is_ask
        limit = o.price_i or None
        own = st.asks if is_buy else st.bids
        for price in st.level_prices(is_buy):
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            self._self_trade(st, own, price, is_buy, strict=True)
            avail = st.level_size(price)
            if avail:
                want = min(avail, o.remaining_i)
                fill = self._execute(st, o, price, want, is_maker=False)
                if fill is not None:
                    st.consume(price, fill.size_i)
                    self._print(st, price, fill.size_i, o.is_ask, fill.trade_id)
                if fill is None or fill.size_i < want:
                    o.status, o.reason = OrderStatus.CANCELLED, "reduce-only: the position is closed"
                    return
            if not o.remaining_i:
                return
            self._self_trade(st, own, price, is_buy, strict=False)
        if limit is not None and o.remaining_i:
            self._self_trade(st, own, limit, is_buy, strict=False)

    def _self_trade(self, st: MarketState, own: list[SimOrder], price: int, is_buy: bool, *, strict: bool) -> None:
        while own:
            p = own[0].price_i
            if strict and p == price:
                return
            if (p > price) if is_buy else (p < price):
                return
            self._finish(st, own[0], OrderStatus.CANCELLED, "cancelled by self-trade prevention")

    def _execute(self, st: MarketState, o: SimOrder, price_i: int, size_i: int, *, is_maker: bool) -> Fill | None:
        """Book one fill of ``o`` (capped for reduce-only); returns None when nothing could fill."""
        sym = o.symbol
        if o.reduce_only:
            pos = self.account.positions[sym].size_i
            size_i = min(size_i, pos if o.is_ask and pos > 0 else (-pos if not o.is_ask and pos < 0 else 0))
            if size_i <= 0:
                return None
        fee = self.account.apply_fill(sym, not o.is_ask, price_i, size_i, is_maker)
        o.filled_i += size_i
        o.ts_ms = self._ts
        fill = Fill(
            sym, o.client_order_index, o.order_id, str(next(self._tids)), o.is_ask, price_i, size_i, fee, is_maker,
            self._ts,
        )  # fmt: skip
        self._touched.add(sym)
        self._margin_dirty = True
        self._emit(fill)
        return fill

    def _fill_resting(self, st: MarketState, o: SimOrder, size_i: int) -> Fill | None:
        fill = self._execute(st, o, o.price_i, size_i, is_maker=True)
        if fill is not None:
            self._print(st, o.price_i, fill.size_i, not o.is_ask, fill.trade_id)
        if not o.remaining_i:
            self._finish(st, o, OrderStatus.FILLED)
        elif fill is None or fill.size_i < size_i:
            self._finish(st, o, OrderStatus.CANCELLED, "reduce-only: the position is closed")
        else:
            o.status = OrderStatus.PARTIALLY_FILLED
            st.dirty = True
            self._emit(o.snapshot())
        return fill

    def _sweep(self, st: MarketState) -> None:
        """Fill resting orders the market has moved through (the trade flow crosses them)."""
        if st.bids:
            ask = st.synthetic_touch(True)
            while st.bids and ask is not None and st.bids[0].price_i >= ask:
                self._fill_resting(st, st.bids[0], st.bids[0].remaining_i)
        if st.asks:
            bid = st.synthetic_touch(False)
            while st.asks and bid is not None and st.asks[0].price_i <= bid:
                self._fill_resting(st, st.asks[0], st.asks[0].remaining_i)

    def _flow(self, st: MarketState, sells: bool, size_i: int) -> None:
        """One public trade; it reaches resting user orders at or better than the touch, behind the
        synthetic size already queued at the touch."""
        book = st.bids if sells else st.asks
        touch = st.bid_i if sells else st.ask_i
        left = size_i
        queued_ahead = True
        for o in list(book):
            if o.price_i == touch and queued_ahead:
                left -= st.level_size(touch)
                queued_ahead = False
            elif (o.price_i < touch) if sells else (o.price_i > touch):
                break
            if left <= 0:
                break
            fill = self._fill_resting(st, o, min(left, o.remaining_i))
            if fill is not None:
                left -= fill.size_i
                size_i -= fill.size_i
        trade_id = str(next(self._tids))
        if size_i > 0:
            self._print(st, touch, size_i, sells, trade_id)

    def _rest(self, st: MarketState, o: SimOrder) -> None:
        if o.is_ask:
            bisect.insort(st.asks, o, key=_ask_key)
        else:
            bisect.insort(st.bids, o, key=_bid_key)
        self._live[o.seq] = o
        st.dirty = True

    def _unrest(self, st: MarketState, o: SimOrder) -> None:
        book = st.asks if o.is_ask else st.bids
        if o in book:
            book.remove(o)
            st.dirty = True
        self._live.pop(o.seq, None)

    def _finish(self, st: MarketState, o: SimOrder, status: OrderStatus, reason: str = "") -> None:
        self._unrest(st, o)
        o.status, o.reason, o.ts_ms = status, reason or o.reason, self._ts
        self._margin_dirty = True
        self._emit(o.snapshot())
