"""The tracking limit: one parent that keeps ONE child limit order at the touch until filled.

This is the only implementation; the console, scripts and strategies all drive it through ``runtime.tracking`` (a
``TrackingLimitManager``).

How it stays safe under races: each chase runs a single task that owns every action on its children
(``children.Children``). Book changes and order updates only *wake* that task; it then looks at the world as it is now
and takes at most one step, debounced by ``min_reprice_interval_ms`` and by the venue's action budget. Where the child
should be is ``touch.Touch``'s to say.

Limit: when the touch moves beyond ``limit_price_i`` the child sits *at* the limit (it may still fill if the market
comes back), ``limit_reached`` is emitted once per episode, and a timeout reached while sitting there ends the chase
with reason ``limit_reached``. A cross at the end never goes past the limit either: with a limit set, ``cross_market``
becomes an aggressive limit at the limit. Pause pulls the child (cancel, confirmed) and places nothing until resume;
the timeout keeps running while paused, and a paused chase never crosses.

Restart: the parent is journaled on every change (its children as orders with ``parent_id``); ``from_journal`` +
``restart`` resume it (or cancel it), first asking the venue about each live child.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from execution.tracking import persist
from execution.tracking.children import RESOLVE_AFTER_MS, Amended, AmendFailed, Children, Dust, Refused, Rejected
from execution.tracking.model import ChaseEvent, ChaseState, EndReason
from execution.tracking.params import ChaseParams, EndAction, OnRestart
from execution.tracking.report import ExecutionReport, report_of
from execution.tracking.rules import FillLedger, favourable, slippage_i, slippage_ppm
from execution.tracking.touch import Top, Touch, breaks_limit, cross_price, own_levels
from execution.tracking.waiting import earliest, wait_on_clock

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import IConnector, MarketInfo
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService
    from execution.tracking.budget import ActionBudget

log = logging.getLogger(__name__)

_PULL_GIVE_UP_MS = 30_000

MAX_CHASE_EVENTS = 500
"""Events a chase keeps in ``events``, the latest (its listeners heard every one, a recording keeps them all):
a chase working for hours grew by one event per re-price."""
_ATTENDABLE = ("RUNNING", "NEEDS_ATTENTION")

__all__ = ["ChaseEvent", "ChaseHost", "ChaseState", "EndReason", "TrackingLimit"]


class ChaseHost(Protocol):
    """What a chase uses of its manager (``TrackingLimitManager``), and what it tells it."""

    clock: Clock
    market_data: MarketDataService
    orders: OrderService
    connectors: Mapping[str, IConnector]

    def budget(self, venue: str) -> ActionBudget: ...
    def may_amend(self, venue: str) -> bool: ...
    def chases_on(self, venue: str, symbol: str) -> list[TrackingLimit]: ...

    # what a chase tells it: its progress or settings changed (journal it), one event (pass it on),
    # it has ended (journal it; stop waking it on book changes)
    def chase_changed(self, chase: TrackingLimit) -> None: ...
    def chase_event(self, chase: TrackingLimit, event: ChaseEvent) -> None: ...
    def chase_ended(self, chase: TrackingLimit) -> None: ...


class TrackingLimit:
    """One chase.  Read its state freely; change it only through the methods below."""

    def __init__(self, host: ChaseHost, chase_id: str, params: ChaseParams, *, children: Iterable[Order] = ()) -> None:
        self._host = host
        self._clock = host.clock
        self.id = self.chase_id = chase_id
        self.params = params
        """Replaced (never mutated) when the limit moves; the rest of it is fixed for the chase's life."""
        self.venue, self.symbol, self.is_ask, self.size_i = params.venue, params.symbol, params.is_ask, params.size_i
        self.state = ChaseState.RUNNING
        self.end_reason: EndReason | None = None
        self.ledger = FillLedger(params.size_i)
        self.events: list[ChaseEvent] = []
        self.reprices = 0
        self.started_ms = self._clock.now_ms()
        self.ended_ms: int | None = None
        self.arrival_mid_i: int | None = None
        self.start_price_i: int | None = None
        self.trail_i: int | None = None
        """The best price a child has had (a one-way trail never moves back from it)."""
        self.slippage_i: int | None = None
        self.error: str = ""
        self._budget = host.budget(params.venue)
        self._kids = Children(host.orders, self._clock, self._budget, self.ledger, chase_id, children)
        self.children: list[Order] = self._kids.all
        """Every child, oldest first (the list ``Children`` appends to)."""
        self._touch = Touch(host.market_data, host.connectors.get(params.venue))
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cancel_request: bool | None = None
        """None, or the ``keep_resting`` of a pending cancel."""
        self._last_reprice_ms: int | None = None
        self._refresh_child = False

    @classmethod
    def from_journal(cls, host: ChaseHost, record: Mapping[str, Any], children: Iterable[Order]) -> TrackingLimit:
        """A parent as the journal kept it, with the ``children`` the order journal still holds."""
        chase = cls(host, record["parent_id"], ChaseParams.from_record(record["params"]), children=children)
        persist.restore(chase, record)
        return chase

    # -- reading -----------------------------------------------------------------

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
    def report(self) -> ExecutionReport:
        """How well it has executed so far (``execution.tracking.report``)."""
        return report_of(self)

    @property
    def at_limit(self) -> bool:
        """The touch is beyond the limit and the child sits at it."""
        return self._touch.at_limit

    @property
    def live_children(self) -> list[Order]:
        return self._kids.live

    @property
    def child(self) -> Order | None:
        """The child that may still rest or fill, if any."""
        return self._kids.current

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

    def launch(self) -> None:
        """Start a new chase: note the arrival mid, journal it, and start its task."""
        p = self.params
        self.arrival_mid_i = self._host.market_data.mid_i(p.venue, p.symbol)
        self.params = p = p.resolved(self.arrival_mid_i, self._market().tick_i)
        side = "sell" if p.is_ask else "buy"
        self._event(
            "started",
            f"{side} {p.size_i} {p.symbol} on {p.venue}, offset {p.offset_ticks}, limit {p.limit_price_i}, "
            f"end {p.end_action}" + "".join(f", {v}" for v in ("aggressive", "trail") if getattr(p, v)),
            arrival_mid_i=self.arrival_mid_i,
        )
        self._host.chase_changed(self)
        self._start_task()

    def restart(self, mode: OnRestart) -> None:
        """Pick up a chase rebuilt ``from_journal``: ask the venue about each live child first."""
        self._event("restored", f"restored after restart ({mode}) with {self.filled_i} filled")
        self._kids.suspect_live(self._clock.now_ms())
        if mode is OnRestart.CANCEL:
            self._cancel_request = False
        self._start_task()

    def pause(self) -> None:
        """Pull the child and stop chasing until ``resume``."""
        if self.state is ChaseState.RUNNING:
            self.state = ChaseState.PAUSED
            self._changed("paused", "paused: child pulled")

    def resume(self) -> None:
        if self.state is ChaseState.PAUSED:
            self.state = ChaseState.RUNNING
            self._changed("resumed", "resumed")

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
        self._touch.at_limit = False
        self._changed("limit_moved", f"limit {old} → {price_i}", old=old, new=price_i)

    async def wait_done(self, timeout: float | None = None) -> TrackingLimit:
        """Wait (on the runtime's clock) until the chase has ended; ``TimeoutError`` otherwise."""
        if timeout is None:
            await self._done.wait()
        elif not self._done.is_set():
            await self._wait_on_clock(self._done, timeout)
        if not self._done.is_set():
            raise TimeoutError(f"chase {self.id} still {self.state} after {timeout} s")
        return self

    async def stop(self) -> None:
        """Stop driving the chase without touching its orders (shutdown; it resumes from the journal)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- news from the manager -------------------------------------------------------

    def wake(self) -> None:
        """Its market's book changed: look again."""
        self._wake.set()

    def on_reconnect(self) -> None:
        """After a stream outage the child may have filled unseen: re-read it at the venue."""
        self._refresh_child = True
        self._wake.set()

    def on_child_update(self, order: Order) -> None:
        """One of its children changed; a child left resting after the end still counts its fills."""
        before = self.filled_i
        self._sync([order])
        if not self.is_done:
            self._wake.set()
        elif self.filled_i != before:
            self._host.chase_changed(self)

    # -- the loop ------------------------------------------------------------------

    def _start_task(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"chase-{self.id}")

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
        delay = deadline_ms - self._clock.now_ms()
        if delay <= 0:
            await asyncio.sleep(0)
            return
        await self._wait_on_clock(self._wake, delay / 1000)

    async def _wait_on_clock(self, event: asyncio.Event, timeout_s: float) -> None:
        await wait_on_clock(self._clock, event, timeout_s)

    async def _step(self) -> int | None:
        """Look at the world once and take at most one action; returns when to look again."""
        p = self.params
        now = self._clock.now_ms()
        if self._refresh_child:
            self._refresh_child = False
            for child in self.live_children:
                await self._kids.refresh(child)
        self._sync()
        live = self.live_children
        if self.ledger.remainder_i == 0:
            if live:  # a stale view of a child that has in fact filled: settle it first
                return await self._resolve(live[-1], now)
            self._finish(EndReason.FILLED)
            return None
        if self._cancel_request is not None:
            if not self._cancel_request and not await self._pull_all():
                return now + RESOLVE_AFTER_MS
            self._finish(EndReason.CANCELLED)
            return None
        if p.timeout_ms is not None and now >= self.started_ms + p.timeout_ms:
            await self._on_timeout()
            return None
        timeout_at = self.started_ms + p.timeout_ms if p.timeout_ms is not None else None
        child = live[-1] if live else None
        paused = self.state is ChaseState.PAUSED
        if child is not None and (paused or self._kids.unclear(child)):
            if paused and not self._kids.unclear(child):
                await self._kids.cancel(child)
            deadline = await self._resolve(child, now)
            return earliest(None if self.state is ChaseState.NEEDS_ATTENTION else deadline, timeout_at)
        if paused:
            return timeout_at
        top = await self._stale_top(now, child)
        if child is not None and child.is_final:
            return now  # the venue just told us it ended (filled in a gap): look again at once
        peers = self._host.chases_on(self.venue, self.symbol)  # every chase's children are ours to skip
        own = own_levels(c for peer in peers if peer.is_ask == p.is_ask for c in peer.live_children)
        reading = self._touch.read(p, own, self.start_price_i, top, self.trail_i)
        if self.arrival_mid_i is None and reading.mid_i is not None:
            self.arrival_mid_i = reading.mid_i
            self.params = self.params.resolved(reading.mid_i, self._market().tick_i)
            if self.params != p:
                return now  # the percentage bounds just became prices: read again with them
        quote = reading.quote
        stale_at = now + p.stale_after_ms
        if quote is None:
            return earliest(stale_at, timeout_at)
        if self._touch.note(quote):
            self._event(
                "limit_reached", f"touch is beyond the limit: sitting at {quote.price_i}", price_i=quote.price_i
            )
        if child is not None and self._touch.hold(p, child.price_i, quote, own, self.start_price_i):
            return earliest(stale_at, timeout_at)
        retry_at = self._kids.retry_at_ms
        if retry_at is not None and now < retry_at and (child is None or not breaks_limit(p, child.price_i)):
            return earliest(retry_at, timeout_at)
        gate = self._gate(now, reprice=child is not None)
        if gate is not None:
            return earliest(gate, timeout_at)
        if child is None:
            await self._place(quote.price_i)
        else:
            await self._reprice(child, quote.price_i)
        return earliest(stale_at, timeout_at)

    # -- reading the world -------------------------------------------------------------

    def _market(self) -> MarketInfo:
        return self._host.market_data.market(self.venue, self.symbol)

    async def _stale_top(self, now: int, child: Order | None) -> Top | None:
        """The touch from the venue when no book event came for ``stale_after_ms``; None while the book is fresh.

        The child is re-read at the venue first: its fills may have been lost in the gap.
        """
        stale = self._touch.stale(self.params, now)
        if stale is None:
            return None
        if not stale.ask_venue:
            return self._touch.fallback
        if child is not None:
            await self._kids.refresh(child)
            self._sync()
        top = await self._touch.ask_venue(self.params, now)
        if top is not None:
            self._event("stale_book", f"book silent for {stale.age_ms} ms: touch read from the venue {top}")
        return top

    def _gate(self, now: int, *, reprice: bool) -> int | None:
        """None when an action may go now; otherwise when to look again (debounce, budget)."""
        if reprice and self._last_reprice_ms is not None:
            ready = self._last_reprice_ms + self.params.min_reprice_interval_ms
            if now < ready:
                return ready
        wait = self._budget.wait_ms()
        return now + wait if wait > 0 else None

    # -- actions -------------------------------------------------------------------

    async def _place(self, price_i: int, *, cross: bool = False) -> Order | None:
        outcome = await self._kids.place(self.params, self._market(), price_i, cross=cross)
        if isinstance(outcome, Dust):
            self._event("dust", f"remainder {outcome.remainder_i} is below the venue minimum {outcome.min_size_i}")
            self._finish(EndReason.FILLED if self.filled_i else EndReason.REJECTED)
            return None
        if isinstance(outcome, Refused):
            self._event("child_rejected", f"refused before sending: {outcome.reason}", price_i=price_i)
            self._finish(EndReason.REJECTED, note=outcome.reason)
            return None
        self._sync()
        if isinstance(outcome, Rejected):
            reason = outcome.order.reason
            self._event("child_rejected", f"child at {price_i} rejected: {reason}", price_i=price_i)
            if outcome.give_up:
                self._finish(EndReason.REJECTED, note=reason)
        else:
            if self.start_price_i is None:
                self.start_price_i = price_i
            self.trail_i = favourable(self.is_ask, self.trail_i, price_i)
            if outcome.replaced is not None:
                old, why = outcome.replaced
                self._event("repriced", f"repriced {old} → {price_i}: {why}", old=old, new=price_i, why=why)
            else:
                size = outcome.size_i
                self._event("placed", f"child {size} at {price_i}", price_i=price_i, size_i=size)
        self._host.chase_changed(self)
        return outcome.order

    async def _reprice(self, child: Order, price_i: int) -> None:
        why = "limit moved" if breaks_limit(self.params, child.price_i) else "touch moved"
        self._last_reprice_ms = self._clock.now_ms()
        self.reprices += 1
        amend = self._host.may_amend(self.venue)
        outcome = await self._kids.reprice(child, price_i, amend=amend, why=why)
        if isinstance(outcome, AmendFailed):
            self._event("amend_failed", f"amend {outcome.old_i} → {outcome.new_i} failed: {outcome.error}")
        elif isinstance(outcome, Amended):
            old, new = outcome.old_i, outcome.new_i
            self.trail_i = favourable(self.is_ask, self.trail_i, new)
            self._event("repriced", f"repriced {old} → {new}: {why}", old=old, new=new, why=why)
            self._host.chase_changed(self)

    async def _resolve(self, child: Order, now: int) -> int:
        resolution = await self._kids.resolve(child, now)
        if resolution.attention != (self.state is ChaseState.NEEDS_ATTENTION) and self.state.value in _ATTENDABLE:
            self.state = (
                ChaseState.NEEDS_ATTENTION if resolution.attention else ChaseState.RUNNING
            )  # parked, not spinning
            self._changed("needs_attention" if resolution.attention else "resumed", f"child: {child.reason}")
        if resolution.resting:
            if self.state is ChaseState.PAUSED or self._kids.replacing or self._cancel_request is False:
                await self._kids.cancel(child)
            else:
                self._kids.trust(child)
        self._sync()
        return resolution.next_ms

    async def _pull_all(self) -> bool:
        """Cancel every live child and wait for each to be final; False if the venue would not say."""
        started = self._clock.now_ms()
        while self.live_children:
            now = self._clock.now_ms()
            if now - started > _PULL_GIVE_UP_MS:
                return False
            await self._kids.cancel_resting()
            child = self.child
            if child is None:
                break
            deadline = await self._resolve(child, now)
            self._wake.clear()
            if self.child is not None:
                await self._sleep(deadline)
        self._sync()
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
        self._budget.try_take()
        if p.end_action is EndAction.CROSS_MARKET and p.limit_price_i is None:
            size = self.ledger.remainder_i
            outcome = await self._kids.place_market(p, size)
            if isinstance(outcome, Refused):
                self._event("crossed", f"market order for the remainder refused: {outcome.reason}")
                return
            self._event("crossed", f"market order for the remainder {size}", size_i=size)
        else:
            top = self._host.market_data.top_of_book(p.venue, p.symbol)
            price = cross_price(p, top, self._market().tick_i)
            if price is None or price <= 0:
                self._event("crossed", "no price to cross at: the book is empty and there is no limit")
                return
            if await self._place(price, cross=True) is None:
                return
            self._event("crossed", f"aggressive limit at {price} for the remainder", price_i=price)
        # IOC semantics: the order matched on arrival; whatever rests once the venue answered is pulled
        await self._pull_all()
        self._sync()

    # -- bookkeeping ---------------------------------------------------------------

    def _sync(self, orders: Iterable[Order] | None = None) -> None:
        """Take the children's new fills into the ledger, one ``filled`` event each."""
        for fill in self._kids.sync(orders):
            self._event(
                "filled", f"child filled {fill.size_i} at {fill.price_i}", size_i=fill.size_i, price_i=fill.price_i
            )

    def _changed(self, kind: str, message: str, **data: Any) -> None:
        """A command changed the chase: say so, journal it, and let the task act on it."""
        self._event(kind, message, **data)
        self._host.chase_changed(self)
        self._wake.set()

    def _event(self, kind: str, message: str, **data: Any) -> None:
        event = ChaseEvent(self._clock.now_ms(), kind, message, data)
        self.events.append(event)
        if len(self.events) > MAX_CHASE_EVENTS:
            del self.events[0]
        self._host.chase_event(self, event)

    def _finish(self, reason: EndReason, note: str = "") -> None:
        if self.is_done:
            return
        self._sync()
        self.state = ChaseState.DONE
        self.end_reason = reason
        self.ended_ms = self._clock.now_ms()
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
        self._host.chase_ended(self)
        self._done.set()

    def as_record(self) -> dict[str, Any]:
        """The parent's parameters and progress as the journal keeps them (JSON-safe)."""
        return persist.record(self)
