"""The tracking limit: one parent that keeps ONE child limit order at the touch until filled.

This is the only implementation; the console, scripts and strategies all drive it through
``runtime.tracking`` (a ``TrackingLimitManager``).

How it stays safe under races: each chase runs a single task that owns every action on
its children.  Book changes and order updates only *wake* that task; it then looks at the
world as it is now and takes at most one step.  A new child is placed only when every
earlier child is final (FILLED, CANCELLED, REJECTED, EXPIRED), so there is never more than
one live child; a cancel is "done" only when the venue confirms it or the order ends, and
a child whose fate is unclear (lost response, cancel refused) is asked about at the venue
before anything else happens.  The remainder is always ``target - de-duplicated fills``,
computed afresh before every placement.

Limit: when the touch moves beyond ``limit_price_i`` the child sits *at* the limit (it may
still fill if the market comes back), a ``limit_reached`` event is emitted once per
episode, and a timeout reached while sitting there ends the chase with reason
``limit_reached`` instead of ``timeout``.  A cross at the end never goes past the limit
either: with a limit set, ``cross_market`` becomes an aggressive limit at the limit.

Re-pricing is event-driven (MarketDataService book listeners wake the chase), debounced by
``min_reprice_interval_ms`` and by a per-venue action budget shared by all chases.  The touch
is read with every chase's own orders taken out, so chases never leapfrog themselves or each
other, and a child alone at the best price is left where it is.  A fallback timer re-reads the
child and the touch from the venue when the book goes silent; after a stream reconnect each
chase re-reads its child.  Amending in place is used only where the venue's amend is
fill-safe (see ``FILL_SAFE_AMEND``); elsewhere it is cancel, confirmed, then replace.

Pause pulls the child (cancel, confirmed) and places nothing until resume; the timeout
keeps running while paused, and a paused chase never crosses at its timeout.

Restart: the parent is journaled on every change (its children are journaled as orders
with ``parent_id``); ``restore()`` resumes live parents (or cancels them, per
``on_restart``), first asking the venue about each live child.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from connector.clock import Clock
from connector.errors import VenueError
from connector.interface import ConnectionState, OrderStatus
from execution.tracking.budget import ActionBudget
from execution.tracking.rules import (
    ChaseEvent,
    Clamp,
    FillLedger,
    Quote,
    ceil_tick,
    desired_price,
    floor_tick,
    should_hold,
    slippage_i,
    slippage_ppm,
    touch_excluding,
)

log = logging.getLogger(__name__)


class ChaseState(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    DONE = "DONE"


class EndAction(enum.StrEnum):
    CANCEL = "cancel"
    LEAVE = "leave"
    CROSS_MARKET = "cross_market"
    CROSS_IOC = "cross_ioc"


class EndReason(enum.StrEnum):
    FILLED = "filled"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    LIMIT_REACHED = "limit_reached"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ChaseParams:
    venue: str
    symbol: str
    is_ask: bool
    size_i: int
    offset_ticks: int = 0
    limit_price_i: int | None = None
    max_chase_ticks: int | None = None
    min_reprice_interval_ms: int = 200
    timeout_ms: int | None = None
    end_action: EndAction = EndAction.CANCEL
    post_only: bool = True
    reduce_only: bool = False
    stale_after_ms: int = 2_000
    cross_ticks: int = 10
    """How far through the other side an aggressive IOC cross may reach (bounded by the limit)."""

    def as_record(self) -> dict[str, Any]:
        return {f: (str(v) if isinstance(v, enum.Enum) else v) for f, v in _fields(self).items()}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> ChaseParams:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["end_action"] = EndAction(known.get("end_action", "cancel"))
        return cls(**known)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


_RESOLVE_AFTER_MS = 1_000
"""A child in an unclear state (lost response, cancel not yet confirmed) is asked about at
the venue after this long without news."""
_MAX_REJECTS = 8
"""Consecutive child rejections before the parent gives up (post-only crosses in a fast
market are normal and retried)."""
_PULL_GIVE_UP_MS = 30_000
_RETRY_BASE_MS = 100
_RETRY_MAX_MS = 2_000

FILL_SAFE_AMEND = "amend_fill_safe"
"""Capability a connector declares (beside ``"amend"``) when an amend cannot grow an order that
filled meanwhile: the venue caps the new remaining at what is left of the order.

``modify_order`` takes the new *remaining* size, computed from the fills we know of.  A fill
that lands at the venue while the amend is on its way makes that figure stale, and a venue
that applies it as sent re-grows the order: the chase overfills by exactly that fill (the
randomized race test finds it within a few hundred runs on the sim).  So by default the
tracking limit amends in place only where the venue is fill-safe, and otherwise cancels,
waits for the confirmation (which carries the final fill count) and places the remainder."""


class TrackingLimit:
    """One chase.  Read its state freely; change it only through the methods below."""

    def __init__(self, manager: TrackingLimitManager, chase_id: str, params: ChaseParams) -> None:
        self._m = manager
        self.id = chase_id
        self.params = params
        self.state = ChaseState.RUNNING
        self.end_reason: EndReason | None = None
        self.ledger = FillLedger(params.size_i)
        self.children: list[Any] = []
        self.events: list[ChaseEvent] = []
        self.reprices = 0
        self.started_ms = manager.clock.now_ms()
        self.ended_ms: int | None = None
        self.arrival_mid_i: int | None = None
        self.start_price_i: int | None = None
        self.at_limit = False
        self.slippage_i: int | None = None
        self.error: str = ""
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cancel_request: bool | None = None
        self._last_reprice_ms: int | None = None
        self._rejects = 0
        self._cancel_sent: dict[int, int] = {}
        self._unclear_since: dict[int, int] = {}
        self._pending_reprice: tuple[int, str] | None = None
        self._fill_counts: dict[int, int] = {}
        self._settled: set[int] = set()
        """Children final and fully read: skipped by the routine sync (a late update still arrives via _on_child)."""
        self._last_stale_ms: int | None = None
        self._refresh_child = False
        self._retry_at_ms: int | None = None
        self._amend_failures = 0
        self._stale: tuple[int | None, int | None] | None = None

    # -- reading -----------------------------------------------------------------

    @property
    def chase_id(self) -> str:
        return self.id

    @property
    def venue(self) -> str:
        return self.params.venue

    @property
    def symbol(self) -> str:
        return self.params.symbol

    @property
    def is_ask(self) -> bool:
        return self.params.is_ask

    @property
    def size_i(self) -> int:
        return self.params.size_i

    @property
    def filled_i(self) -> int:
        return self.ledger.filled_i

    @property
    def remaining_i(self) -> int:
        return self.ledger.remainder_i

    @property
    def avg_price_i(self) -> int | None:
        return self.ledger.avg_price_i

    @property
    def is_done(self) -> bool:
        return self.state is ChaseState.DONE

    @property
    def live_children(self) -> list[Any]:
        return [c for c in self.children if not c.is_final]

    @property
    def child(self) -> Any | None:
        """The child that may still rest or fill, if any."""
        live = self.live_children
        return live[-1] if live else None

    @property
    def price_i(self) -> int | None:
        child = self.child
        return child.price_i if child is not None else None

    def __repr__(self) -> str:
        side = "sell" if self.is_ask else "buy"
        return (
            f"<TrackingLimit {self.id} {side} {self.venue}:{self.symbol} {self.filled_i}/{self.size_i} "
            f"{self.state}{' ' + str(self.end_reason) if self.end_reason else ''}>"
        )

    # -- commands ----------------------------------------------------------------

    def pause(self) -> None:
        """Pull the child and stop chasing until ``resume``."""
        if self.state is ChaseState.RUNNING:
            self.state = ChaseState.PAUSED
            self._event("paused", "paused: child pulled")
            self._m._journal_parent(self)
            self._wake.set()

    def resume(self) -> None:
        if self.state is ChaseState.PAUSED:
            self.state = ChaseState.RUNNING
            self._event("resumed", "resumed")
            self._m._journal_parent(self)
            self._wake.set()

    async def cancel(self, keep_resting: bool = False) -> None:
        """End the chase; the child is cancelled (confirmed) unless ``keep_resting``."""
        if self.is_done:
            return
        self._cancel_request = keep_resting
        self._wake.set()
        if self._task is None or self._task.done():
            self._start_task()  # stopped (shutting down, or never resumed): run just to end it
        await self._done.wait()

    def set_limit_price(self, price_i: int | None) -> None:
        """Move (or remove, with ``None``) the limit of a live chase; the child follows at once."""
        if price_i is not None and price_i <= 0:
            raise ValueError(f"limit price must be positive, got {price_i}")
        if self.is_done:
            raise ValueError(f"chase {self.id} has ended ({self.end_reason}); its limit cannot move")
        old = self.params.limit_price_i
        self.params = replace(self.params, limit_price_i=price_i)
        self.at_limit = False
        self._event("limit_moved", f"limit {old} → {price_i}", old=old, new=price_i)
        self._m._journal_parent(self)
        self._wake.set()

    async def wait_done(self, timeout: float | None = None) -> TrackingLimit:
        """Wait (on the runtime's clock) until the chase has ended; ``TimeoutError`` otherwise."""
        if self._done.is_set():
            return self
        if timeout is None:
            await self._done.wait()
            return self
        waiter = asyncio.ensure_future(self._done.wait())
        sleeper = asyncio.ensure_future(self._m.clock.sleep(timeout))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
        if not self._done.is_set():
            raise TimeoutError(f"chase {self.id} still {self.state} after {timeout} s")
        return self

    # -- wiring --------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def _on_child(self, order: Any) -> None:
        self._sync_fills([order])
        self._wake.set()

    def _start_task(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"chase-{self.id}")

    async def _stop_task(self) -> None:
        """Stop driving the chase without touching its orders (shutdown; it resumes from the journal)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the loop ------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self.is_done:
                self._wake.clear()
                deadline = await self._step()
                if self.is_done:
                    break
                await self._sleep(deadline)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("chase %s failed", self.id)
            self.error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                await self._pull_all()
            self._finish(EndReason.ERROR, note=self.error)

    async def _sleep(self, deadline_ms: int | None) -> None:
        if self._wake.is_set():
            return
        if deadline_ms is None:
            await self._wake.wait()
            return
        delay = deadline_ms - self._m.clock.now_ms()
        if delay <= 0:
            await asyncio.sleep(0)
            return
        waiter = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self._m.clock.sleep(delay / 1000))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    async def _step(self) -> int | None:
        """Look at the world once and take at most one action; returns when to look again."""
        p = self.params
        now = self._m.clock.now_ms()
        if self._refresh_child:
            self._refresh_child = False
            for child in self.live_children:
                await self._m.refresh_order(child)
        self._sync_fills()
        live = self.live_children
        if self.ledger.remainder_i == 0:
            if live:  # a stale view of a child that has in fact filled: settle it first
                return await self._resolve(live[-1], now)
            self._finish(EndReason.FILLED)
            return None
        if self._cancel_request is not None:
            if not self._cancel_request and not await self._pull_all():
                return now + _RESOLVE_AFTER_MS
            self._finish(EndReason.CANCELLED)
            return None
        if p.timeout_ms is not None and now >= self.started_ms + p.timeout_ms:
            await self._on_timeout()
            return None
        timeout_at = self.started_ms + p.timeout_ms if p.timeout_ms is not None else None
        child = live[-1] if live else None
        if child is not None and (self._unclear(child) or self.state is ChaseState.PAUSED):
            if self.state is ChaseState.PAUSED and not self._unclear(child):
                await self._send_cancel(child)
            return _earliest(await self._resolve(child, now), timeout_at)
        if self.state is ChaseState.PAUSED:
            return timeout_at
        top = await self._stale_top(now, child)
        if child is not None and child.is_final:
            return now  # the venue just told us it ended (filled in a gap): look again at once
        quote = self._quote(child, top)
        stale_at = now + p.stale_after_ms
        if quote is None:
            return _earliest(stale_at, timeout_at)
        self._note_clamp(quote)
        if child is None:
            if self._retry_at_ms is not None and now < self._retry_at_ms:
                return _earliest(self._retry_at_ms, timeout_at)
            gate = self._gate(now, reprice=False)
            if gate is not None:
                return _earliest(gate, timeout_at)
            await self._place(quote)
            return _earliest(stale_at, timeout_at)
        if self._hold(child, quote):
            return _earliest(stale_at, timeout_at)
        if self._retry_at_ms is not None and now < self._retry_at_ms and not self._must_repair(child):
            return _earliest(self._retry_at_ms, timeout_at)
        gate = self._gate(now, reprice=True)
        if gate is not None:
            return _earliest(gate, timeout_at)
        await self._reprice(child, quote)
        return _earliest(stale_at, timeout_at)

    # -- pricing -------------------------------------------------------------------

    async def _stale_top(self, now: int, child: Any | None) -> tuple[int | None, int | None] | None:
        """The fallback when no book event came for ``stale_after_ms`` (a silent or dropped stream).

        The child is re-read at the venue (its fills may have been lost in the gap) and the
        touch is asked for directly; ``None`` while the book is fresh.
        """
        p = self.params
        md = self._m.market_data
        age = md.age_ms(p.venue, p.symbol)
        if age is not None and age <= p.stale_after_ms:
            return None
        if self._last_stale_ms is not None and now - self._last_stale_ms < p.stale_after_ms:
            return self._stale
        self._last_stale_ms = now
        if child is not None:
            await self._m.refresh_order(child)
            self._sync_fills()
        self._stale = await self._m.fetch_top(p.venue, p.symbol)
        if self._stale is not None:
            self._event("stale_book", f"book silent for {age} ms: touch read from the venue {self._stale}")
        return self._stale

    def _own_levels(self) -> dict[int, int]:
        """Price -> size of every live child of every chase on our market and side (ours to skip)."""
        own: dict[int, int] = {}
        for chase in self._m.chases_on(self.venue, self.symbol):
            if chase.is_ask != self.is_ask:
                continue
            for c in chase.live_children:
                own[c.price_i] = own.get(c.price_i, 0) + c.remaining_i
        return own

    def _quote(self, child: Any | None, top: tuple[int | None, int | None] | None = None) -> Quote | None:
        p = self.params
        md = self._m.market_data
        market = md.market(p.venue, p.symbol)
        if top is not None:
            # a bare top of book cannot tell our orders from others': take it as it is
            own: dict[int, int] = {}
            bids = [(top[0], 1)] if top[0] is not None else []
            asks = [(top[1], 1)] if top[1] is not None else []
        else:
            own = self._own_levels()
            book = md.book(p.venue, p.symbol)
            bids = book.bids(5)
            asks = book.asks(5)
        if p.is_ask:
            ask = touch_excluding(asks, own)
            bid = bids[0][0] if bids else None
        else:
            bid = touch_excluding(bids, own)
            ask = asks[0][0] if asks else None
        if self.arrival_mid_i is None and bids and asks:
            self.arrival_mid_i = (bids[0][0] + asks[0][0]) // 2
        return desired_price(
            is_ask=p.is_ask,
            bid_i=bid,
            ask_i=ask,
            tick_i=market.tick_i,
            offset_ticks=p.offset_ticks,
            post_only=p.post_only,
            limit_price_i=p.limit_price_i,
            start_price_i=self.start_price_i,
            max_chase_ticks=p.max_chase_ticks,
        )

    def _hold(self, child: Any, quote: Quote) -> bool:
        p = self.params
        md = self._m.market_data
        book = md.book(p.venue, p.symbol)
        levels = book.asks(1) if p.is_ask else book.bids(1)
        if not levels or _beyond(p.is_ask, child.price_i, levels[0][0]):
            alone = True  # the book has not caught up with our child yet: it is the best price
        else:
            alone = levels[0][0] == child.price_i and levels[0][1] <= self._own_levels().get(child.price_i, 0)
        bound = None
        if p.max_chase_ticks is not None and self.start_price_i is not None:
            tick = md.market(p.venue, p.symbol).tick_i
            step = p.max_chase_ticks * tick
            bound = self.start_price_i - step if p.is_ask else self.start_price_i + step
        return should_hold(
            is_ask=p.is_ask,
            child_price_i=child.price_i,
            quote=quote,
            alone_at_best=alone,
            limit_price_i=p.limit_price_i,
            max_bound_i=bound,
        )

    def _must_repair(self, child: Any) -> bool:
        """The child's price breaks the (moved) limit: no back-off may delay fixing that."""
        limit = self.params.limit_price_i
        return limit is not None and _beyond(self.is_ask, child.price_i, limit)

    def _note_clamp(self, quote: Quote) -> None:
        clamped = quote.clamp is Clamp.LIMIT
        if clamped and not self.at_limit:
            self._event(
                "limit_reached",
                f"touch is beyond the limit: sitting at {quote.price_i}",
                price_i=quote.price_i,
            )
        self.at_limit = clamped

    def _gate(self, now: int, *, reprice: bool) -> int | None:
        """None when an action may go now; otherwise when to look again (debounce, budget)."""
        p = self.params
        if reprice and self._last_reprice_ms is not None:
            ready = self._last_reprice_ms + p.min_reprice_interval_ms
            if now < ready:
                return ready
        budget = self._m.budget(p.venue)
        wait = budget.wait_ms()
        if wait > 0:
            return now + wait
        return None

    # -- actions -------------------------------------------------------------------

    async def _place(self, quote: Quote, *, cross: bool = False) -> Any | None:
        p = self.params
        md = self._m.market_data
        market = md.market(p.venue, p.symbol)
        size = floor_tick(self.ledger.remainder_i, market.step_i or 1)
        if size < max(market.min_size_i, 1):
            self._event(
                "dust", f"remainder {self.ledger.remainder_i} is below the venue minimum {market.min_size_i}"
            )
            self._finish(EndReason.FILLED if self.filled_i else EndReason.REJECTED)
            return None
        self._m.budget(p.venue).try_take()
        try:
            order = await self._m.orders.submit_limit(
                p.venue,
                p.symbol,
                is_ask=p.is_ask,
                size_i=size,
                price_i=quote.price_i,
                post_only=p.post_only and not cross,
                reduce_only=p.reduce_only,
                parent_id=self.id,
            )
        except ValueError as exc:  # risk refusal or an order the venue cannot express
            self._event("child_rejected", f"refused before sending: {exc}", price_i=quote.price_i)
            self._finish(EndReason.REJECTED, note=str(exc))
            return None
        self.children.append(order)
        self._sync_fills()
        if order.state is OrderStatus.REJECTED:
            self._rejects += 1
            # back off: a post-only cross usually means our book is a step behind the venue's
            backoff = min(_RETRY_MAX_MS, _RETRY_BASE_MS << (self._rejects - 1))
            self._retry_at_ms = self._m.clock.now_ms() + max(backoff, p.min_reprice_interval_ms)
            self._event("child_rejected", f"child at {quote.price_i} rejected: {order.reason}", price_i=quote.price_i)
            if self._rejects >= _MAX_REJECTS and not cross:
                self._finish(EndReason.REJECTED, note=order.reason)
        else:
            self._rejects = 0
            self._retry_at_ms = None
            if self.start_price_i is None:
                self.start_price_i = quote.price_i
            if self._pending_reprice is not None:
                old, why = self._pending_reprice
                self._pending_reprice = None
                self._event("repriced", f"repriced {old} → {quote.price_i}: {why}", old=old, new=quote.price_i, why=why)
            else:
                self._event("placed", f"child {size} at {quote.price_i}", price_i=quote.price_i, size_i=size)
        self._m._journal_parent(self)
        return order

    async def _reprice(self, child: Any, quote: Quote) -> None:
        p = self.params
        why = "limit moved" if p.limit_price_i is not None and _beyond(p.is_ask, child.price_i, p.limit_price_i) else (
            "touch moved"
        )
        now = self._m.clock.now_ms()
        self._last_reprice_ms = now
        self.reprices += 1
        old = child.price_i
        if self._m.may_amend(p.venue):
            self._m.budget(p.venue).try_take()
            try:
                await self._m.orders.amend(child, price_i=quote.price_i)
            except NotImplementedError:
                pass  # the venue cannot amend after all: cancel and replace below
            except (VenueError, ValueError, TimeoutError) as exc:
                # the order service has asked the venue already: a filled or vanished child is
                # final now, an unanswered one UNKNOWN (resolved before anything else); a refused
                # amend leaves it resting, and the next try waits a little longer
                self._amend_failures += 1
                backoff = min(_RETRY_MAX_MS, _RETRY_BASE_MS << min(self._amend_failures - 1, 8))
                self._retry_at_ms = now + backoff
                self._event("amend_failed", f"amend {old} → {quote.price_i} failed: {exc}")
                return
            else:
                self._amend_failures = 0
                self._event(
                    "repriced", f"repriced {old} → {quote.price_i}: {why}", old=old, new=quote.price_i, why=why
                )
                self._m._journal_parent(self)
                return
        self._pending_reprice = (old, why)
        await self._send_cancel(child)

    async def _send_cancel(self, child: Any) -> None:
        coi = child.client_order_index
        now = self._m.clock.now_ms()
        if coi in self._cancel_sent and now - self._cancel_sent[coi] < _RESOLVE_AFTER_MS:
            return
        self._cancel_sent[coi] = now
        self._unclear_since.setdefault(coi, now)
        self._m.budget(self.params.venue).try_take()
        try:
            await self._m.orders.cancel(child)
        except (VenueError, TimeoutError) as exc:
            # most often: it filled while the cancel was in flight; the resolver finds out
            log.info("chase %s: cancel of child %s refused: %s", self.id, coi, exc)

    def _unclear(self, child: Any) -> bool:
        return (
            child.state in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.CANCELLING, OrderStatus.NEW)
            or child.client_order_index in self._cancel_sent
            or child.client_order_index in self._unclear_since
        )

    async def _resolve(self, child: Any, now: int) -> int:
        """Wait for news on an unclear child; after a while without any, ask the venue."""
        coi = child.client_order_index
        since = self._unclear_since.setdefault(coi, now)
        if now - since < _RESOLVE_AFTER_MS:
            return since + _RESOLVE_AFTER_MS
        self._unclear_since[coi] = now
        await self._m.refresh_order(child, settled=True)
        self._sync_fills()
        if not child.is_final and child.state in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            if self.state is ChaseState.PAUSED or self._pending_reprice is not None or self._cancel_request is False:
                self._cancel_sent.pop(coi, None)
                await self._send_cancel(child)
            else:
                # the venue says it rests untouched: it is ours to chase again
                self._cancel_sent.pop(coi, None)
                self._unclear_since.pop(coi, None)
        return now + _RESOLVE_AFTER_MS

    async def _pull_all(self) -> bool:
        """Cancel every live child and wait for each to be final; False if the venue would not say."""
        started = self._m.clock.now_ms()
        while self.live_children:
            now = self._m.clock.now_ms()
            if now - started > _PULL_GIVE_UP_MS:
                return False
            for child in self.live_children:
                if child.state in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    await self._send_cancel(child)
            child = self.child
            if child is None:
                break
            deadline = await self._resolve(child, now)
            self._wake.clear()
            if self.child is not None:
                await self._sleep(deadline)
        self._sync_fills()
        return True

    async def _on_timeout(self) -> None:
        p = self.params
        reason = EndReason.LIMIT_REACHED if self.at_limit else EndReason.TIMEOUT
        self._event("timeout", f"timeout after {p.timeout_ms} ms; end action {p.end_action}")
        if p.end_action is EndAction.LEAVE:
            self._finish(reason)
            return
        if not await self._pull_all():
            self._finish(EndReason.ERROR, note="could not confirm the child's cancel at timeout")
            return
        crossing = p.end_action in (EndAction.CROSS_MARKET, EndAction.CROSS_IOC)
        if crossing and self.state is ChaseState.PAUSED:
            self._event("timeout", "paused at the timeout: the remainder is not crossed")
        elif crossing and self.ledger.remainder_i > 0:
            await self._cross()
        if self.ledger.remainder_i == 0:
            reason = EndReason.FILLED
        if not self.is_done:
            self._finish(reason)

    async def _cross(self) -> None:
        """Take the remainder: market when unbounded, else an aggressive limit pulled after it trades."""
        p = self.params
        md = self._m.market_data
        self._m.budget(p.venue).try_take()
        if p.end_action is EndAction.CROSS_MARKET and p.limit_price_i is None:
            size = self.ledger.remainder_i
            try:
                order = await self._m.orders.submit_market(
                    p.venue, p.symbol, is_ask=p.is_ask, size_i=size, reduce_only=p.reduce_only, parent_id=self.id
                )
            except ValueError as exc:  # risk refusal or an order the venue cannot express
                self._event("crossed", f"market order for the remainder refused: {exc}")
                return
            self.children.append(order)
            self._event("crossed", f"market order for the remainder {size}", size_i=size)
        else:
            tick = md.market(p.venue, p.symbol).tick_i
            bid, ask = md.top_of_book(p.venue, p.symbol)
            far = bid if p.is_ask else ask
            limit = p.limit_price_i
            if limit is not None:  # onto the tick grid, on the trader's side of it
                limit = ceil_tick(limit, tick) if p.is_ask else floor_tick(limit, tick)
            if far is None:
                price = limit
            else:
                price = far - p.cross_ticks * tick if p.is_ask else far + p.cross_ticks * tick
                if limit is not None and _beyond(p.is_ask, price, limit):
                    price = limit
            if price is None or price <= 0:
                self._event("crossed", "no price to cross at: the book is empty and there is no limit")
                return
            order = await self._place(Quote(price), cross=True)
            if order is None:
                return
            self._event("crossed", f"aggressive limit at {price} for the remainder", price_i=price)
        # IOC semantics: the order matched on arrival; whatever rests once the venue answered is pulled
        await self._pull_all()
        self._sync_fills()

    # -- bookkeeping ---------------------------------------------------------------

    def _sync_fills(self, orders: Iterable[Any] | None = None) -> None:
        """Take new fills into the ledger: from ``orders``, or every child not yet settled."""
        if orders is None:
            orders = [c for c in self.children if c.client_order_index not in self._settled]
        for child in orders:
            fills = child.fills
            seen = self._fill_counts.get(child.client_order_index, 0)
            for fill in fills[seen:] if len(fills) >= seen else fills:
                if self.ledger.add_fill(fill):
                    self._event(
                        "filled",
                        f"child filled {fill.size_i} at {fill.price_i}",
                        size_i=fill.size_i,
                        price_i=fill.price_i,
                    )
            self._fill_counts[child.client_order_index] = len(fills)
            self.ledger.report(child.client_order_index, child.filled_i, child.price_i)
            if child.is_final:
                self._settled.add(child.client_order_index)

    def _event(self, kind: str, message: str, **data: Any) -> None:
        event = ChaseEvent(self._m.clock.now_ms(), kind, message, data)
        self.events.append(event)
        self._m._notify(self, event)

    def _finish(self, reason: EndReason, note: str = "") -> None:
        if self.is_done:
            return
        self._sync_fills()
        self.state = ChaseState.DONE
        self.end_reason = reason
        self.ended_ms = self._m.clock.now_ms()
        self.slippage_i = slippage_i(self.is_ask, self.avg_price_i, self.arrival_mid_i)
        ppm = slippage_ppm(self.slippage_i, self.arrival_mid_i)
        self._event(
            "ended",
            f"ended ({reason}) filled {self.filled_i}/{self.size_i} avg {self.avg_price_i} "
            f"slippage {self.slippage_i} vs arrival mid {self.arrival_mid_i}" + (f": {note}" if note else ""),
            reason=str(reason),
            filled_i=self.filled_i,
            avg_price_i=self.avg_price_i,
            slippage_i=self.slippage_i,
            slippage_ppm=ppm,
        )
        self._m._journal_parent(self)
        self._m._retire(self)
        self._done.set()

    def as_record(self) -> dict[str, Any]:
        """The parent's parameters and progress as the journal keeps them (JSON-safe)."""
        record = self.params.as_record()
        record.update(
            started_ms=self.started_ms,
            ended_ms=self.ended_ms,
            arrival_mid_i=self.arrival_mid_i,
            start_price_i=self.start_price_i,
            reprices=self.reprices,
        )
        return record


def _beyond(is_ask: bool, price_i: int, bound_i: int) -> bool:
    return price_i < bound_i if is_ask else price_i > bound_i


def _earliest(*deadlines: int | None) -> int | None:
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None


Listener = Callable[[TrackingLimit, ChaseEvent], None]


class TrackingLimitManager:
    """``runtime.tracking``: starts chases, shares each venue's action budget, restores after restart."""

    def __init__(
        self,
        orders: Any,
        market_data: Any,
        *,
        clock: Clock,
        connectors: dict[str, Any] | None = None,
        journal: Any = None,
        actions_per_s: int = 10,
        burst: int | None = None,
        on_restart: str = "resume",
        min_reprice_interval_ms: int = 200,
        stale_after_ms: int = 2_000,
        amend: str = "fill_safe",
    ) -> None:
        if on_restart not in ("resume", "cancel"):
            raise ValueError(f"on_restart must be 'resume' or 'cancel', got {on_restart!r}")
        if amend not in ("fill_safe", "always", "never"):
            raise ValueError(f"amend must be 'fill_safe', 'always' or 'never', got {amend!r}")
        self.amend = amend
        """``fill_safe``: amend where the venue declares ``"amend"`` and ``FILL_SAFE_AMEND``;
        ``always``: wherever ``"amend"`` is declared (a fill racing the amend can overfill);
        ``never``: always cancel and replace."""
        self.orders = orders
        self.market_data = market_data
        self.clock = clock
        self.connectors = connectors if connectors is not None else getattr(orders, "connectors", {})
        self.journal = journal
        self.actions_per_s = actions_per_s
        self.burst = burst
        self.on_restart = on_restart
        self.min_reprice_interval_ms = min_reprice_interval_ms
        self.stale_after_ms = stale_after_ms
        self.chases: dict[str, TrackingLimit] = {}
        self._by_market: dict[tuple[str, str], list[TrackingLimit]] = {}
        self._budgets: dict[str, ActionBudget] = {}
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)
        self._attached = False
        self.listener_errors = 0

    def attach(self) -> None:
        """Subscribe to book and order changes (once)."""
        if self._attached:
            return
        self._attached = True
        self.market_data.add_listener(self._on_book)
        self.orders.add_listener(self._on_order)
        for venue, connector in self.connectors.items():
            add = getattr(connector, "add_handler", None)
            if add is not None:
                add("connection", partial(self._on_connection, venue))

    # -- public --------------------------------------------------------------------

    async def start(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        offset_ticks: int = 0,
        limit_price_i: int | None = None,
        max_chase_ticks: int | None = None,
        min_reprice_interval_ms: int | None = None,
        timeout_s: float | None = None,
        end_action: str = "cancel",
        post_only: bool = True,
        reduce_only: bool = False,
    ) -> TrackingLimit:
        """Start a chase and return it at once; it works in the background until it ends."""
        self.attach()
        if venue not in self.connectors:
            raise ValueError(f"unknown venue {venue!r}; known: {', '.join(sorted(self.connectors)) or 'none'}")
        market = self.market_data.market(venue, symbol)
        if size_i <= 0:
            raise ValueError(f"size must be positive, got {size_i}")
        if size_i < market.min_size_i:
            raise ValueError(f"size {size_i} is below the minimum {market.min_size_i} for {symbol} on {venue}")
        if limit_price_i is not None and limit_price_i <= 0:
            raise ValueError(f"limit price must be positive, got {limit_price_i}")
        if max_chase_ticks is not None and max_chase_ticks < 0:
            raise ValueError(f"max_chase_ticks must be >= 0, got {max_chase_ticks}")
        if min_reprice_interval_ms is not None and min_reprice_interval_ms < 0:
            raise ValueError(f"min_reprice_interval_ms must be >= 0, got {min_reprice_interval_ms}")
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        try:
            action = EndAction(end_action)
        except ValueError:
            choices = ", ".join(a.value for a in EndAction)
            raise ValueError(f"end_action {end_action!r} is not one of {choices}") from None
        params = ChaseParams(
            venue=venue,
            symbol=symbol,
            is_ask=is_ask,
            size_i=size_i,
            offset_ticks=offset_ticks,
            limit_price_i=limit_price_i,
            max_chase_ticks=max_chase_ticks,
            min_reprice_interval_ms=(
                self.min_reprice_interval_ms if min_reprice_interval_ms is None else min_reprice_interval_ms
            ),
            timeout_ms=None if timeout_s is None else int(timeout_s * 1000),
            end_action=action,
            post_only=post_only,
            reduce_only=reduce_only,
            stale_after_ms=self.stale_after_ms,
        )
        chase = TrackingLimit(self, self._new_id(), params)
        chase.arrival_mid_i = self.market_data.mid_i(venue, symbol)
        self._register(chase)
        side = "sell" if is_ask else "buy"
        chase._event(
            "started",
            f"{side} {size_i} {symbol} on {venue}, offset {offset_ticks}, limit {limit_price_i}, end {action}",
            arrival_mid_i=chase.arrival_mid_i,
        )
        self._journal_parent(chase)
        chase._start_task()
        return chase

    def active(self) -> list[TrackingLimit]:
        """Chases not yet ended, oldest first."""
        return [c for c in self.chases.values() if not c.is_done]

    def chases_on(self, venue: str, symbol: str) -> list[TrackingLimit]:
        """Active chases on one market."""
        return self._by_market.get((venue, symbol), [])

    def get(self, chase_id: str) -> TrackingLimit | None:
        return self.chases.get(chase_id)

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def budget(self, venue: str) -> ActionBudget:
        b = self._budgets.get(venue)
        if b is None:
            b = self._budgets[venue] = ActionBudget(self.clock, rate_per_s=self.actions_per_s, burst=self.burst)
        return b

    def capabilities(self, venue: str) -> frozenset[str]:
        return getattr(self.connectors.get(venue), "capabilities", frozenset())

    def may_amend(self, venue: str) -> bool:
        caps = self.capabilities(venue)
        if self.amend == "never" or "amend" not in caps:
            return False
        return self.amend == "always" or FILL_SAFE_AMEND in caps

    async def cancel_all(self, keep_resting: bool = False) -> None:
        await asyncio.gather(*(c.cancel(keep_resting) for c in self.active()))

    async def stop(self) -> None:
        """Stop every chase's task, leaving orders and journal as they are (a restart picks them up)."""
        for chase in list(self.chases.values()):
            await chase._stop_task()

    async def restore(self) -> list[TrackingLimit]:
        """After a restart: resume (or cancel, per ``on_restart``) every journaled live parent."""
        self.attach()
        if self.journal is None:
            return []
        restored = []
        for record in self.journal.load_parents(live_only=True):
            if record["parent_id"] in self.chases:
                continue
            if record["venue"] not in self.connectors:
                # kept live in the journal for a run that has the venue again
                log.warning("chase %s on %s not restored: that venue is not configured", record["parent_id"],
                            record["venue"])
                continue
            chase = self._rebuild(record)
            restored.append(chase)
            self._register(chase)
            chase._event("restored", f"restored after restart ({self.on_restart}) with {chase.filled_i} filled")
            # whatever happened while we were away, ask the venue about each live child first
            for child in chase.live_children:
                chase._unclear_since[child.client_order_index] = self.clock.now_ms() - _RESOLVE_AFTER_MS
            if self.on_restart == "cancel":
                chase._cancel_request = False
            chase._start_task()
        return restored

    # -- internals -----------------------------------------------------------------

    def _new_id(self) -> str:
        return f"tl{self.clock.now_ms()}{next(self._ids):03d}{secrets.token_hex(2)}"

    def _register(self, chase: TrackingLimit) -> None:
        self.chases[chase.id] = chase
        self._by_market.setdefault((chase.venue, chase.symbol), []).append(chase)

    def _retire(self, chase: TrackingLimit) -> None:
        peers = self._by_market.get((chase.venue, chase.symbol), [])
        if chase in peers:
            peers.remove(chase)

    def _rebuild(self, record: dict[str, Any]) -> TrackingLimit:
        saved = record["params"]
        params = ChaseParams.from_record(saved)
        chase = TrackingLimit(self, record["parent_id"], params)
        chase.started_ms = saved.get("started_ms") or chase.started_ms
        chase.arrival_mid_i = saved.get("arrival_mid_i")
        chase.start_price_i = saved.get("start_price_i")
        chase.reprices = saved.get("reprices", 0)
        if record.get("state") == ChaseState.PAUSED:
            chase.state = ChaseState.PAUSED
        known = {o.client_order_index: o for o in self.orders.orders if o.parent_id == chase.id}
        last = record.get("child_client_order_index")
        if last is not None and last not in known and self.orders.get(params.venue, last) is not None:
            known[last] = self.orders.get(params.venue, last)
        chase.children = [known[c] for c in sorted(known)]
        chase._sync_fills()
        missing = (record.get("filled_i") or 0) - chase.filled_i
        if missing > 0:
            # children the order journal no longer holds: the parent's own count still stands,
            # so the remainder can never grow back and overfill
            chase.ledger.report(-1, missing, record.get("avg_price_i") or 0)
            log.warning("chase %s: %s filled by children not found after restart", chase.id, missing)
        return chase

    def _on_book(self, venue: str, symbol: str) -> None:
        for chase in self._by_market.get((venue, symbol), ()):
            chase._wake.set()

    def _on_connection(self, venue: str, event: Any) -> None:
        """After a stream outage our children may have filled unseen: each chase re-reads its child."""
        if getattr(event, "state", None) != ConnectionState.CONNECTED:
            return
        for chase in self.active():
            if chase.venue == venue:
                chase._refresh_child = True
                chase._wake.set()

    def _on_order(self, order: Any) -> None:
        parent = getattr(order, "parent_id", None)
        if parent is None:
            return
        chase = self.chases.get(parent)
        if chase is None:
            return
        if chase.is_done:
            # a child left resting (end action "leave", cancel keeping it) still fills: count it
            before = chase.filled_i
            chase._sync_fills([order])
            if chase.filled_i != before:
                self._journal_parent(chase)
        else:
            chase._on_child(order)

    def _notify(self, chase: TrackingLimit, event: ChaseEvent) -> None:
        for fn in list(self._listeners):
            try:
                fn(chase, event)
            except Exception:
                self.listener_errors += 1
                log.exception("tracking listener failed")

    def _journal_parent(self, chase: TrackingLimit) -> None:
        if self.journal is None:
            return
        child = chase.child
        try:
            self.journal.save_parent(
                chase.id,
                chase.venue,
                chase.symbol,
                chase.as_record(),
                str(chase.state),
                chase.filled_i,
                child.client_order_index if child is not None else None,
                avg_price_i=chase.avg_price_i,
                end_reason=str(chase.end_reason or ""),
                done=chase.is_done,
                ts_ms=self.clock.now_ms(),
            )
        except Exception:
            log.exception("journal: could not save chase %s", chase.id)

    async def refresh_order(self, order: Any, *, settled: bool = False) -> None:
        """Ask the venue about one order; the order service applies the answer.

        ``settled``: our cancel has had time to act, so a venue that still lists the order
        as resting is believed (CANCELLING goes back to OPEN and the cancel is sent again).
        """
        try:
            await self.orders.refresh(order, why="tracking limit: child state unclear", authoritative=settled)
        except Exception as exc:
            log.info("could not refresh order %s: %s", order.client_order_index, exc)

    async def fetch_top(self, venue: str, symbol: str) -> tuple[int | None, int | None] | None:
        """Top of book straight from the venue (the stale-book fallback); None if it cannot say."""
        connector = self.connectors.get(venue)
        if connector is None:
            return None
        try:
            bid, ask, _ = await connector.get_top_of_book(self.market_data.venue_symbol(venue, symbol))
        except Exception as exc:
            log.info("%s: top of book for %s unavailable: %s", venue, symbol, exc)
            return None
        return bid, ask
