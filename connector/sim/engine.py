"""The simulated venue: markets, matching and one account, synchronous and seeded.

``SimConnector`` puts it behind ``IConnector``; the fake Hyperliquid and Lighter
servers put it behind their own wire protocols.  Time moves only through
``advance_to(now_ms)``: each ``step_ms`` every market draws one random number that
moves its mid and maybe prints a public trade.  Resting user orders fill from that
trade flow (price-time priority, partially when the flow is smaller) and fill in
full when the market moves through them.  Aggressive orders walk the synthetic book.
Events go synchronously to subscribers; market data is only built for symbols
someone subscribed to, which keeps an unwatched hour of market cheap.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from connector.clock import Clock
from connector.errors import InsufficientMargin, InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder
from connector.interface import (
    QUOTE_DECIMALS,
    BookUpdate,
    Fill,
    Margin,
    MarketInfo,
    OrderSnapshot,
    OrderStatus,
    Position,
)
from connector.scaling import scaled_to_str
from connector.sim.account import SimAccount
from connector.sim.market import DEFAULT_MARKETS, EPOCH_STEPS, MOVE_TABLE, MarketState, SimMarketSpec
from connector.sim.matching import RESTING, Matching, SimOrder
from connector.sim.triggers import SimTriggers

__all__ = ["TIFS", "SimEngine", "SimMarketSpec"]

log = logging.getLogger(__name__)

TIFS = ("GTC", "IOC", "POST_ONLY", "MARKET")
BOOK_DEPTH = 20
MAX_CLOSED_ORDERS = 200
"""Closed orders the venue still answers for (status by id or client index), the most recent; older ones
are forgotten, as a real venue's order history is bounded (an hour of typing kept every order before).
The console's reconciler asks about orders of the last seconds or minutes; 1,000 took the soak's typist
most of an hour to fill."""
FORGET_EVERY = 100
"""Closed orders over the bound before they are swept (one pass over the orders, not one per order)."""
Subscriber = Callable[[Any], None]


class SimEngine(Matching):
    """A deterministic perp venue with a single cross-margin user account."""

    def __init__(
        self,
        seed: int = 7,
        *,
        clock: Clock,
        markets: list[SimMarketSpec] | None = None,
        collateral_q: int = 100_000 * 10**QUOTE_DECIMALS,
        step_ms: int = 100,
        maker_fee_ppm: int = 100,
        taker_fee_ppm: int = 450,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.step_ms = step_ms
        specs = list(markets) if markets is not None else list(DEFAULT_MARKETS)
        self._states: dict[str, MarketState] = {s.symbol: MarketState(s, seed) for s in specs}
        self._state_list = list(self._states.values())
        self.markets: dict[str, MarketInfo] = {s: st.info for s, st in self._states.items()}
        self.account = SimAccount(self.markets, collateral_q, maker_fee_ppm=maker_fee_ppm, taker_fee_ppm=taker_fee_ppm)
        self._orders: dict[str, SimOrder] = {}
        self._by_coi: dict[int, SimOrder] = {}
        self._live: dict[int, SimOrder] = {}
        """Resting orders by sequence number (insertion order = time priority)."""
        self._oids = itertools.count(1_000_001)
        self._tids = itertools.count(1)
        self._seq = itertools.count(1)
        self._subs: list[tuple[Subscriber, frozenset[str] | None]] = []
        self._md: set[str] = set()
        self._ts = clock.now_ms()
        self._next_step_ms = self._ts + step_ms
        self.steps = 0
        self.liquidations = 0
        self.subscriber_errors = 0
        self._touched: set[str] = set()
        self._margin_dirty = False
        self.triggers = SimTriggers(self)
        """Trigger orders the venue holds and fires after each step and each move (``native_triggers``)."""

    def subscribe(self, callback: Subscriber, symbols: Iterable[str] | None = None) -> None:
        """Deliver every account event, and book/trade events for ``symbols`` (None: all markets).

        Calling again with the same callback replaces its symbol set.
        """
        wanted = None if symbols is None else frozenset(symbols)
        self._subs = [(cb, s) for cb, s in self._subs if cb != callback] + [(callback, wanted)]
        self._recompute_md()
        for sym in self._md:
            self._states[sym].dirty = True

    def send_books(self, symbols: Iterable[str]) -> None:
        """Book snapshots of ``symbols`` now, as a venue answers a new subscription (not on the next step)."""
        for symbol in symbols:
            st = self._states.get(symbol)
            if st is not None and symbol in self._md:
                self._emit_book(st)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subs = [(cb, s) for cb, s in self._subs if cb != callback]
        self._recompute_md()

    def _recompute_md(self) -> None:
        md: set[str] = set()
        for _, syms in self._subs:
            md |= set(self._states) if syms is None else syms & self._states.keys()
        self._md = md

    def _emit(self, event: Any) -> None:
        for cb, _ in self._subs:
            self._deliver(cb, event)

    def _emit_md(self, symbol: str, event: Any) -> None:
        for cb, syms in self._subs:
            if syms is None or symbol in syms:
                self._deliver(cb, event)

    def _deliver(self, cb: Subscriber, event: Any) -> None:
        """A failing subscriber is logged and counted; it must not leave a match half-booked."""
        try:
            cb(event)
        except Exception:
            self.subscriber_errors += 1
            log.exception("sim engine: subscriber %r failed on %s", cb, type(event).__name__)

    def advance_to(self, now_ms: int) -> None:
        """Run every step due up to ``now_ms``."""
        while self._next_step_ms <= now_ms:
            self._step(self._next_step_ms)
            self._next_step_ms += self.step_ms
        self._ts = max(self._ts, now_ms)

    def _step(self, ts: int) -> None:
        self._ts = ts
        self.steps += 1
        new_epoch = self.steps % EPOCH_STEPS == 0
        md = self._md
        for st in self._state_list:
            r = st.rng.getrandbits(32)
            mv = st.moves[r & (MOVE_TABLE - 1)]
            if mv:
                st.move(mv)
            if new_epoch:
                st.next_epoch()
            if (mv or new_epoch) and (st.bids or st.asks):
                self._sweep(st)
            if (r >> 12) & 1023 < st.trade_thresh:
                self._flow(st, bool((r >> 22) & 1), st.trade_sizes[(r >> 23) & 511])
            if st.dirty and st.spec.symbol in md:
                self._emit_book(st)
        if new_epoch and self.account.has_positions():
            self._touched.update(s for s, p in self.account.positions.items() if p.size_i)
        self._check_liquidation()
        self._flush()
        if self.triggers:
            self.triggers.check()

    def _check_liquidation(self) -> None:
        if self.account.has_positions():
            marks = self._marks()
            if self.account.equity_q(marks) < self.account.total_maintenance_q(marks):
                self._liquidate()

    def _state(self, symbol: str) -> MarketState:
        st = self._states.get(symbol)
        if st is None:
            raise InvalidOrder(f"unknown market {symbol!r}; markets: {', '.join(self._states)}")
        return st

    def book(self, symbol: str, depth: int = BOOK_DEPTH) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Bids (best first, descending) and asks (ascending), the user's resting orders included."""
        st = self._state(symbol)
        return self._side(st, False, depth), self._side(st, True, depth)

    def _side(self, st: MarketState, is_ask: bool, depth: int) -> list[tuple[int, int]]:
        levels = st.synthetic_side(is_ask, depth)
        own = st.asks if is_ask else st.bids
        if not own:
            return levels
        agg = dict(levels)
        for o in own:
            agg[o.price_i] = agg.get(o.price_i, 0) + o.remaining_i
        return sorted(agg.items(), reverse=not is_ask)[:depth]

    def top(self, symbol: str) -> tuple[int, int]:
        st = self._state(symbol)
        bid = st.synthetic_touch(False) or 0
        ask = st.synthetic_touch(True) or 0
        if st.bids:
            bid = max(bid, st.bids[0].price_i)
        if st.asks:
            ask = min(ask, st.asks[0].price_i) if ask else st.asks[0].price_i
        return bid, ask

    def mid_i(self, symbol: str) -> int:
        return self._state(symbol).mid_i

    def mark_i(self, symbol: str) -> int:
        return self._state(symbol).mid_i

    def _marks(self) -> dict[str, int]:
        return {s: st.mid_i for s, st in self._states.items()}

    def _emit_book(self, st: MarketState) -> None:
        st.book_seq += 1
        st.dirty = False
        bids, asks = self._side(st, False, BOOK_DEPTH), self._side(st, True, BOOK_DEPTH)
        self._emit_md(st.spec.symbol, BookUpdate(st.spec.symbol, tuple(bids), tuple(asks), True, self._ts, st.book_seq))

    def set_mid(self, symbol: str, price_i: int) -> None:
        """Move the market now; resting orders the move crosses fill."""
        st = self._state(symbol)
        self._ts = max(self._ts, self.clock.now_ms())
        st.set_mid(price_i)
        self._sweep(st)
        if self.account.positions[symbol].size_i:
            self._touched.add(symbol)
        if symbol in self._md:
            self._emit_book(st)
        self._check_liquidation()
        self._flush()
        if self.triggers:
            self.triggers.check()

    def trade_through(self, symbol: str, *, is_ask: bool, price_i: int, size_i: int) -> list[Fill]:
        """A synthetic aggressor (a seller when ``is_ask``) that fills resting user orders at or
        through ``price_i``, best price first, up to ``size_i``."""
        st = self._state(symbol)
        self._ts = max(self._ts, self.clock.now_ms())
        book = st.bids if is_ask else st.asks
        fills: list[Fill] = []
        left = size_i
        for o in list(book):
            if left <= 0 or (o.price_i < price_i if is_ask else o.price_i > price_i):
                break
            fill = self._fill_resting(st, o, min(left, o.remaining_i))
            if fill is not None:
                fills.append(fill)
                left -= fill.size_i
        self._flush()
        return fills

    def print_trade(self, symbol: str, *, is_ask: bool, price_i: int, size_i: int) -> None:
        """A public trade between two other traders (a seller took when ``is_ask``): it reaches the
        tape only; no resting user order takes part (a test hook, like ``trade_through``)."""
        st = self._state(symbol)
        self._ts = max(self._ts, self.clock.now_ms())
        self._print(st, price_i, size_i, is_ask, str(next(self._tids)))

    def set_leverage(self, symbol: str, leverage: int) -> None:
        info = self._state(symbol).info
        if not 1 <= leverage <= info.max_leverage:
            raise InvalidOrder(f"leverage for {symbol} must be between 1 and {info.max_leverage}")
        self.account.leverage[symbol] = leverage
        self._margin_dirty = True
        self._flush()

    def place(
        self,
        symbol: str,
        *,
        client_order_index: int,
        is_ask: bool,
        price_i: int,
        size_i: int,
        tif: str,
        reduce_only: bool = False,
    ) -> OrderSnapshot:
        """Accept, match and maybe rest one order.  ``price_i`` of a MARKET order is its worst price (0: none)."""
        st = self._state(symbol)
        self._ts = max(self._ts, self.clock.now_ms())
        if len(self._by_coi) > MAX_CLOSED_ORDERS + FORGET_EVERY + len(self._live):
            self._forget_closed()
        if tif not in TIFS:
            raise InvalidOrder(f"time in force must be one of {', '.join(TIFS)}, not {tif!r}")
        self._check_price_size(st, price_i, size_i, allow_zero_price=tif == "MARKET")
        prev = self._by_coi.get(client_order_index)
        if prev is not None and prev.status in RESTING:
            raise OrderRejected(
                f"client_order_index {client_order_index} is already used by open order {prev.order_id}",
                info={"client_order_index": client_order_index},
            )
        o = SimOrder(
            symbol, client_order_index, None, is_ask, price_i, size_i, tif, reduce_only, next(self._seq), self._ts
        )
        self._by_coi[client_order_index] = o
        rejection = self._precheck(st, o)
        if rejection is not None:
            o.status, o.reason = OrderStatus.REJECTED, str(rejection)
            self._emit(o.snapshot())
            raise rejection
        o.order_id = str(next(self._oids))
        self._orders[o.order_id] = o
        if tif != "POST_ONLY":
            self._take(st, o)
        if o.status is OrderStatus.OPEN and o.remaining_i:
            if tif in ("GTC", "POST_ONLY"):
                o.status = OrderStatus.PARTIALLY_FILLED if o.filled_i else OrderStatus.OPEN
                self._rest(st, o)
            else:
                o.status = OrderStatus.CANCELLED
                o.reason = f"{tif}: unfilled remainder cancelled"
        elif o.status is OrderStatus.OPEN:
            o.status = OrderStatus.FILLED
        self._emit(o.snapshot())
        self._margin_dirty = True
        self._flush()
        return o.snapshot()

    def _check_price_size(self, st: MarketState, price_i: int, size_i: int, *, allow_zero_price: bool) -> None:
        m = st.info
        if not isinstance(size_i, int) or size_i <= 0 or size_i % m.step_i:
            raise InvalidOrder(f"size {size_i} is not a positive multiple of the size step {m.step_i} on {m.symbol}")
        if size_i < m.min_size_i:
            raise InvalidOrder(
                f"size {scaled_to_str(size_i, m.size_decimals)} is below the minimum "
                f"{scaled_to_str(m.min_size_i, m.size_decimals)} on {m.symbol}"
            )
        if not isinstance(price_i, int) or price_i < 0 or (price_i == 0 and not allow_zero_price) or price_i % m.tick_i:
            raise InvalidOrder(f"price {price_i} is not a positive multiple of the tick {m.tick_i} on {m.symbol}")

    def _fmt_px(self, st: MarketState, price_i: int) -> str:
        return scaled_to_str(price_i, st.info.price_decimals)

    def _precheck(self, st: MarketState, o: SimOrder) -> OrderRejected | None:
        sym = o.symbol
        if o.reduce_only:
            pos = self.account.positions[sym].size_i
            if pos == 0 or (pos > 0) != o.is_ask:
                return OrderRejected(
                    f"reduce-only order would increase the position (position "
                    f"{scaled_to_str(pos, st.info.size_decimals)} {sym})"
                )
            if o.size_i > abs(pos):
                return OrderRejected(
                    f"reduce-only order size {scaled_to_str(o.size_i, st.info.size_decimals)} exceeds the "
                    f"position {scaled_to_str(abs(pos), st.info.size_decimals)} {sym}"
                )
        bid, ask = self.top(sym)
        if o.tif == "POST_ONLY":
            if o.is_ask and bid and o.price_i <= bid:
                return PostOnlyWouldCross(
                    f"post-only sell at {self._fmt_px(st, o.price_i)} would cross the best bid {self._fmt_px(st, bid)}"
                )
            if not o.is_ask and ask and o.price_i >= ask:
                return PostOnlyWouldCross(
                    f"post-only buy at {self._fmt_px(st, o.price_i)} would cross the best ask {self._fmt_px(st, ask)}"
                )
        if o.reduce_only:
            return None
        est = o.price_i or (bid if o.is_ask else ask)
        before = self._used_q()
        after = self._used_q((sym, o.is_ask, est, o.size_i))
        equity = self.account.equity_q(self._marks())
        if after > before and after > equity:
            return InsufficientMargin(
                f"insufficient margin: the order needs {scaled_to_str(after - before, QUOTE_DECIMALS)} USDC, "
                f"{scaled_to_str(max(0, equity - before), QUOTE_DECIMALS)} USDC available",
                info={"needed_q": after - before, "available_q": max(0, equity - before)},
            )
        return None

    def _used_q(self, extra: tuple[str, bool, int, int] | None = None) -> int:
        """Initial margin of positions and resting orders (plus one hypothetical order)."""
        acct = self.account
        total = 0
        for sym, st in self._states.items():
            buys = sum(acct.value_q(sym, o.price_i, o.remaining_i) for o in st.bids if not o.reduce_only)
            sells = sum(acct.value_q(sym, o.price_i, o.remaining_i) for o in st.asks if not o.reduce_only)
            if extra is not None and extra[0] == sym:
                v = acct.value_q(sym, extra[2], extra[3])
                if extra[1]:
                    sells += v
                else:
                    buys += v
            if buys or sells or acct.positions[sym].size_i:
                total += acct.initial_q(sym, st.mid_i, buys, sells)
        return total

    def _forget_closed(self) -> None:
        """Keep the newest ``MAX_CLOSED_ORDERS`` closed orders (and every resting one)."""
        closed = [o for o in self._by_coi.values() if o.status not in RESTING]
        for o in closed[: len(closed) - MAX_CLOSED_ORDERS]:
            del self._by_coi[o.client_order_index]
        by_coi = self._by_coi
        self._orders = {
            oid: o for oid, o in self._orders.items() if o.status in RESTING or by_coi.get(o.client_order_index) is o
        }

    def _find(self, symbol: str, order_id: str | None, client_order_index: int | None) -> SimOrder:
        self._state(symbol)
        if order_id is not None:
            o = self._orders.get(str(order_id))
        elif client_order_index is not None:
            o = self._by_coi.get(client_order_index)
        else:
            raise InvalidOrder("give order_id or client_order_index")
        if o is None or o.symbol != symbol:
            ref = f"order id {order_id}" if order_id is not None else f"client_order_index {client_order_index}"
            raise UnknownOrder(f"no order with {ref} on {symbol}")
        return o

    def _find_open(self, symbol: str, order_id: str | None, client_order_index: int | None) -> SimOrder:
        o = self._find(symbol, order_id, client_order_index)
        if o.status not in RESTING:
            raise UnknownOrder(
                f"order {o.order_id or o.client_order_index} on {symbol} is not open ({o.status.value})",
                info={"status": o.status.value},
            )
        return o

    def cancel(
        self, symbol: str, *, order_id: str | None = None, client_order_index: int | None = None
    ) -> OrderSnapshot:
        o = self._find_open(symbol, order_id, client_order_index)
        self._ts = max(self._ts, self.clock.now_ms())
        self._finish(self._states[symbol], o, OrderStatus.CANCELLED, "cancelled by user")
        self._flush()
        return o.snapshot()

    def cancel_all(self, symbol: str | None = None) -> list[OrderSnapshot]:
        if symbol is not None:
            self._state(symbol)
        self._ts = max(self._ts, self.clock.now_ms())
        done = []
        for o in list(self._live.values()):
            if symbol is None or o.symbol == symbol:
                self._finish(self._states[o.symbol], o, OrderStatus.CANCELLED, "cancelled by cancel-all")
                done.append(o.snapshot())
        self._flush()
        return done

    def amend(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_index: int | None = None,
        price_i: int,
        size_i: int,
        cap_to_remaining: bool = False,
    ) -> OrderSnapshot:
        """Re-price and re-size in place (``size_i`` is the new remaining).  Time priority is kept
        only when the price is unchanged and the size does not grow.  ``cap_to_remaining`` makes
        the amend fill-safe: the new remaining never exceeds what is left when the request
        arrives, so a fill that raced the amend cannot be re-grown."""
        st = self._state(symbol)
        o = self._find_open(symbol, order_id, client_order_index)
        if cap_to_remaining:
            size_i = min(size_i, o.remaining_i)
        self._ts = max(self._ts, self.clock.now_ms())
        m = st.info
        if size_i != o.remaining_i:
            self._check_price_size(st, price_i, size_i, allow_zero_price=False)
        else:
            self._check_price_size(st, price_i, max(size_i, m.min_size_i), allow_zero_price=False)
        before = self._used_q()
        self._unrest(st, o)
        old = (o.price_i, o.size_i, o.seq)
        o.price_i, o.size_i = price_i, o.filled_i + size_i
        if price_i != old[0] or o.size_i > old[1]:
            o.seq = next(self._seq)
        rejection = self._precheck_amend(st, o, before)
        if rejection is not None:
            o.price_i, o.size_i, o.seq = old
            self._rest(st, o)
            raise rejection
        if o.tif == "GTC":
            self._take(st, o)
        if o.status in RESTING and o.remaining_i:
            o.status = OrderStatus.PARTIALLY_FILLED if o.filled_i else OrderStatus.OPEN
            self._rest(st, o)
        elif o.status in RESTING:
            o.status = OrderStatus.FILLED
        o.ts_ms = self._ts
        self._emit(o.snapshot())
        self._margin_dirty = True
        self._flush()
        return o.snapshot()

    def _precheck_amend(self, st: MarketState, o: SimOrder, used_before: int) -> OrderRejected | None:
        bid, ask = self.top(o.symbol)
        if o.tif == "POST_ONLY" and (
            (o.is_ask and bid and o.price_i <= bid) or (not o.is_ask and ask and o.price_i >= ask)
        ):
            touch = bid if o.is_ask else ask
            return PostOnlyWouldCross(
                f"amended post-only price {self._fmt_px(st, o.price_i)} would cross the touch {self._fmt_px(st, touch)}"
            )
        if o.reduce_only:
            pos = self.account.positions[o.symbol].size_i
            if o.remaining_i > abs(pos):
                return OrderRejected("reduce-only order would exceed the position")
            return None
        after = self._used_q((o.symbol, o.is_ask, o.price_i, o.remaining_i))
        equity = self.account.equity_q(self._marks())
        if after > used_before and after > equity:
            return InsufficientMargin(
                f"insufficient margin for the amended order: needs {scaled_to_str(after - used_before, QUOTE_DECIMALS)} USDC"
            )
        return None

    def order(
        self, symbol: str, *, order_id: str | None = None, client_order_index: int | None = None
    ) -> OrderSnapshot:
        return self._find(symbol, order_id, client_order_index).snapshot()

    def open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        if symbol is not None:
            self._state(symbol)
        return [o.snapshot() for o in self._live.values() if symbol is None or o.symbol == symbol]

    def position(self, symbol: str) -> Position:
        st = self._state(symbol)
        acct = self.account
        pos = acct.positions[symbol]
        mark = st.mid_i
        marks = self._marks()
        return Position(
            symbol, pos.size_i, pos.entry_i, mark, acct.unrealized_q(symbol, mark), pos.realized_q,
            acct.liquidation_price_i(symbol, marks), acct.initial_q(symbol, mark) if pos.size_i else 0, self._ts,
        )  # fmt: skip

    def positions(self) -> list[Position]:
        return [self.position(s) for s, p in self.account.positions.items() if p.size_i]

    def margin(self) -> Margin:
        marks = self._marks()
        equity = self.account.equity_q(marks)
        used = self._used_q()
        return Margin(
            self.account.collateral_q, equity, used, self.account.total_maintenance_q(marks), max(0, equity - used),
            self._ts, info={"fees_q": self.account.fees_q},
        )  # fmt: skip

    def _flush(self) -> None:
        """Emit one Position per touched market and one Margin for the batch of changes just made."""
        if self._subs:
            for sym in self._states:
                if sym in self._touched:
                    self._emit(self.position(sym))
            if self._touched or self._margin_dirty:
                self._emit(self.margin())
        self._touched.clear()
        self._margin_dirty = False

    def _liquidate(self) -> None:
        """Equity fell below maintenance: cancel everything and close every position at mark."""
        self.liquidations += 1
        for o in list(self._live.values()):
            self._finish(self._states[o.symbol], o, OrderStatus.CANCELLED, "cancelled by liquidation")
        for sym, pos in self.account.positions.items():
            if not pos.size_i:
                continue
            st = self._states[sym]
            is_buy = pos.size_i < 0
            size = abs(pos.size_i)
            fee = self.account.apply_fill(sym, is_buy, st.mid_i, size, False)
            tid = str(next(self._tids))
            self._emit(
                Fill(sym, -1, None, tid, not is_buy, st.mid_i, size, fee, False, self._ts, info={"liquidation": True})
            )
            self._print(st, st.mid_i, size, not is_buy, tid)
            self._touched.add(sym)
        self._margin_dirty = True
