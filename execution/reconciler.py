"""Reconciliation: make our orders and positions agree with the venue, and say what changed.

Streams lose events (a dropped socket, a restart, a lost response), so the venue is
asked directly (REST) on start, after every reconnect and periodically (the
heartbeat): its open orders, the status of every order we think is live or UNKNOWN,
its positions and margin.  Differences are resolved toward the venue; each change
becomes a ``ReconcileRecord`` (when, venue, what, what changed, why) kept in
``log``, written to the journal and told to listeners, so the operator can read it.

Where a connector declares ``dead_man_switch``, the heartbeat keeps the venue's
cancel-all timer armed while we run and disarms it on a clean stop: if perpdesk dies,
the venue cancels our orders on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connector.clock import Clock, RealClock
from connector.errors import UnknownOrder, VenueError
from connector.interface import ConnectionEvent, ConnectionState, OrderSnapshot, OrderStatus, Position
from execution.listeners import Listeners
from execution.orders import Order, OrderService, order_name

if TYPE_CHECKING:
    from execution.journal import Journal
    from execution.market import MarketDataService
    from execution.position_service import PositionService

log = logging.getLogger(__name__)

S = OrderStatus


@dataclass(frozen=True, slots=True)
class ReconcileRecord:
    ts_ms: int
    venue: str
    subject: str
    """What changed: ``order 1700000000001 BTC buy 0.0100``-style, ``position BTC``, or ``reconcile``."""
    change: str
    """``OPEN -> CANCELLED``, ``filled 0 -> 10``, ``size 0 -> -25`` ..."""
    reason: str

    def describe(self) -> str:
        return f"{self.venue} {self.subject}: {self.change} ({self.reason})"


RecordListener = Callable[[ReconcileRecord], None]


class Reconciler:
    """Runs reconciliation passes; ``start`` does the first and the heartbeat, ``stop`` ends them."""

    def __init__(
        self,
        orders: OrderService,
        *,
        positions: PositionService | None = None,
        market_data: MarketDataService | None = None,
        journal: Journal | None = None,
        clock: Clock | None = None,
        interval_s: float = 15.0,
        dead_man_after_s: float | None = 60.0,
        settle_s: float = 5.0,
        log_length: int = 500,
        lookup_failures_bound: int = 3,
    ) -> None:
        self.orders = orders
        self.connectors = orders.connectors
        self.positions = positions
        self.market_data: MarketDataService | None = market_data if market_data is not None else orders.market_data
        self.journal = journal
        self.clock: Clock = clock or orders.clock or RealClock()
        self.interval_s = interval_s
        self.dead_man_after_s = dead_man_after_s
        self.settle_s = settle_s
        """An order must sit this long in CANCELLING or UNKNOWN before the venue's silence is taken as an answer."""
        self.lookup_failures_bound = lookup_failures_bound
        """Passes in a row an order's status lookup may fail before the order is UNKNOWN."""
        self._lookup_failures: dict[tuple[str, int], int] = {}
        self.log: deque[ReconcileRecord] = deque(maxlen=log_length)
        self.passes = 0
        self.failures = 0
        self._listeners: Listeners[[ReconcileRecord]] = Listeners("reconcile record")
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: dict[str, asyncio.Task[None]] = {}
        """A pass waiting for its venue's lock (coalesces triggers)."""
        self._tasks: set[asyncio.Task[None]] = set()
        """Every triggered pass until it ends, waiting or running."""
        self.records_made = 0
        self._was_down: set[str] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._armed: set[str] = set()

    # -- log ------------------------------------------------------------------------------

    def add_listener(self, fn: RecordListener) -> None:
        self._listeners.add(fn)

    def remove_listener(self, fn: RecordListener) -> None:
        self._listeners.remove(fn)

    def note(self, venue: str, subject: str, change: str, reason: str) -> ReconcileRecord:
        """Add a record from outside a pass (e.g. the runtime noticing an unclean previous run)."""
        return self._record(venue, subject, change, reason)

    def _record(self, venue: str, subject: str, change: str, reason: str) -> ReconcileRecord:
        rec = ReconcileRecord(self.clock.now_ms(), venue, subject, change, reason)
        self.log.append(rec)
        self.records_made += 1
        log.info("reconcile: %s", rec.describe())
        if self.journal is not None:
            try:
                self.journal.log_reconcile(rec.ts_ms, venue, subject, change, reason)
            except Exception:
                log.exception("reconcile: journal write failed")
        self._listeners.emit(rec)
        return rec

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> list[ReconcileRecord]:
        """First pass over every venue, then the heartbeat."""
        records = await self.reconcile(why="start")
        await self._arm_dead_man()
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="reconciler-heartbeat")
        return records

    async def stop(self, *, disarm_dead_man: bool = True) -> None:
        """End the heartbeat and disarm every dead-man switch we armed (a clean stop cancels nothing).

        ``disarm_dead_man=False`` (a console whose terminal hung up, leaving its orders): each armed
        switch stays armed, so the venue cancels the orders unless a perpdesk comes back; logged."""
        tasks = [t for t in (self._heartbeat, *self._tasks) if t is not None]
        self._heartbeat = None
        self._queued.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if not disarm_dead_man:
            for venue in sorted(self._armed):
                self._record(venue, "dead-man switch", "left armed",
                             f"stopped without disarming: the venue cancels every open order within "
                             f"{self.dead_man_after_s:g} s unless perpdesk starts again")
            self._armed.clear()
            return
        for venue in list(self._armed):
            try:
                await self.connectors[venue].schedule_cancel_all(None)  # type: ignore[attr-defined]
            except Exception as exc:
                self._record(venue, "dead-man switch", "disarm failed", str(exc))
        self._armed.clear()

    async def _beat(self) -> None:
        while True:
            await self.clock.sleep(self.interval_s)
            try:
                await self._arm_dead_man()
                await self.reconcile(why="heartbeat")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconcile heartbeat failed")

    async def _arm_dead_man(self) -> None:
        """None for ``dead_man_after_s``: this runtime never touches the venue's timer (a watch-only console)."""
        if self.dead_man_after_s is None:
            return
        for venue, conn in self.connectors.items():
            if "dead_man_switch" not in conn.capabilities:
                continue
            try:
                await conn.schedule_cancel_all(self.dead_man_after_s)  # type: ignore[attr-defined]
            except Exception as exc:
                self._record(venue, "dead-man switch", "not armed", str(exc) or type(exc).__name__)
                continue
            self._armed.add(venue)

    # -- triggers -------------------------------------------------------------------------

    def on_connection(self, venue: str, event: ConnectionEvent) -> None:
        """Connection handler: a stream back to CONNECTED after being down queues a pass."""
        if event.state in (ConnectionState.DISCONNECTED, ConnectionState.CONNECTING):
            self._was_down.add(venue)
        elif event.state == ConnectionState.CONNECTED and venue in self._was_down:
            self._was_down.discard(venue)
            self.schedule(venue, why="reconnect")

    def schedule(self, venue: str, *, why: str) -> None:
        """Queue one pass for ``venue`` (coalesced: one waiting pass covers every trigger)."""
        task = self._queued.get(venue)
        if task is not None and not task.done():
            return
        task = asyncio.create_task(self._queued_pass(venue, why), name=f"reconcile-{venue}")
        self._queued[venue] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _queued_pass(self, venue: str, why: str) -> None:
        lock = self._locks.setdefault(venue, asyncio.Lock())
        async with lock:
            # from here on a new trigger queues another pass: changes may follow this one's reads
            self._queued.pop(venue, None)
            await self._pass(venue, why)

    async def wait_idle(self) -> None:
        """Wait for queued passes (tests, and a clean stop after a reconnect)."""
        while True:
            pending = [t for t in self._tasks if not t.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    # -- a pass ---------------------------------------------------------------------------

    async def reconcile(self, venue: str | None = None, *, why: str = "requested") -> list[ReconcileRecord]:
        """One pass over ``venue`` (or every venue); returns the records it made."""
        start = self.records_made
        for name in self.connectors:
            if venue is not None and name != venue:
                continue
            lock = self._locks.setdefault(name, asyncio.Lock())
            async with lock:
                await self._pass(name, why)
        made = min(self.records_made - start, len(self.log))
        return list(self.log)[-made:] if made > 0 else []

    async def _pass(self, venue: str, why: str) -> None:
        self.passes += 1
        # the account is reconciled even when the orders pass fails, and each order's lookup is isolated
        await self._guarded(venue, why, self._orders_pass)
        await self._guarded(venue, why, self._account_pass)

    async def _guarded(self, venue: str, why: str, part: Callable[[str, str], Awaitable[None]]) -> None:
        try:
            await part(venue, why)
        except (VenueError, TimeoutError, OSError) as exc:
            self.failures += 1
            self._record(venue, "reconcile", "incomplete", f"{why}: venue query failed: {exc or type(exc).__name__}")
        except Exception as exc:
            # a bug or a connector without the query must not stop the start or the heartbeat
            self.failures += 1
            log.exception("reconcile pass for %s failed", venue)
            self._record(venue, "reconcile", "incomplete", f"{why}: {type(exc).__name__}: {exc}")

    async def _orders_pass(self, venue: str, why: str) -> None:
        conn = self.connectors[venue]
        listed: set[int] = set()
        for snap in await conn.get_open_orders():
            listed.add(snap.client_order_index)
            order = self.orders.get(venue, snap.client_order_index)
            if order is None:
                adopted = self.orders.apply_snapshot(venue, snap, why=f"{why}: open at the venue, unknown to us")
                if adopted is not None:
                    self._record(
                        venue,
                        self._subject(adopted),
                        f"adopted as {adopted.state}",
                        f"{why}: open at the venue, unknown to us",
                    )
                continue
            self._apply(order, snap, why)
        unsettled = [
            order
            for order in self.orders.open_orders(venue)
            if order.client_order_index not in listed and not order.request_inflight
        ]  # a request in flight brings its own answer
        unsettled = [order for order in unsettled if not await self._look_up(order, why)]
        if unsettled and why == "reconnect":
            # every UNKNOWN order is settled by the pass after a reconnect: what the venue does not know
            # yet is asked again once a just-sent request has had time to reach its books
            waits = [self.settle_s * 1000 - self._age_ms(o) for o in unsettled if o.state == S.UNKNOWN]
            if waits:
                await self.clock.sleep(max(0, max(waits)) / 1000 + 0.001)
                for order in unsettled:
                    if order.state == S.UNKNOWN and not order.request_inflight:
                        await self._look_up(order, why)

    async def _look_up(self, order: Order, why: str) -> bool:
        """Ask the venue for one order and apply the answer; False when the venue has no record of it yet
        and the order is too fresh to conclude anything (see ``settle_s``)."""
        key = (order.venue, order.client_order_index)
        try:
            snap = await self.connectors[order.venue].get_order(order.venue_symbol, order.client_order_index)
        except UnknownOrder:
            self._lookup_failures.pop(key, None)
            return self._missing(order, why)
        except (VenueError, TimeoutError, OSError) as exc:
            self._lookup_failed(order, why, exc)
            return True
        self._lookup_failures.pop(key, None)
        self._apply(order, snap, why)
        return True

    def _lookup_failed(self, order: Order, why: str, exc: BaseException) -> None:
        """One order's status lookup failed: note it; after ``lookup_failures_bound`` passes in a row, UNKNOWN."""
        key = (order.venue, order.client_order_index)
        n = self._lookup_failures[key] = self._lookup_failures.get(key, 0) + 1
        error = str(exc) or type(exc).__name__
        if n < self.lookup_failures_bound or order.state == S.UNKNOWN:
            self.failures += 1
            self._record(order.venue, self._subject(order), "status query failed", f"{why}: {error} ({n} in a row)")
            return
        before = order.state
        reason = f"{why}: status query failed {n} times in a row ({error}); re-query it or check the venue"
        if self.orders.resolve(order, S.UNKNOWN, reason):
            self._record(order.venue, self._subject(order), f"{before} -> {order.state}", reason)

    def _apply(self, order: Order, snap: OrderSnapshot, why: str) -> None:
        before = (order.state, order.filled_i)
        if order.is_final and snap.status.is_live and order.state != S.REJECTED:
            if self._age_ms(order) < self.settle_s * 1000:
                return  # a listing older than the final update that just arrived
            self._record(
                order.venue,
                self._subject(order),
                f"venue lists it {snap.status}, we have {order.state}",
                f"{why}: the venue contradicts a final state; check the venue",
            )
            return
        settled = self._age_ms(order) >= self.settle_s * 1000 and not order.request_inflight
        self.orders.apply_snapshot(order.venue, snap, authoritative=settled, why=f"{why}: venue reports {snap.status}")
        if (order.state, order.filled_i) == before:
            return
        changes = []
        if order.state != before[0]:
            changes.append(f"{before[0]} -> {order.state}")
        if order.filled_i != before[1]:
            sz = self._size
            changes.append(f"filled {sz(order, before[1])} -> {sz(order, order.filled_i)}")
        reason = f"{why}: venue reports {snap.status} with {snap.filled_i} filled"
        if before[0] == S.CANCELLING and order.state in (S.OPEN, S.PARTIALLY_FILLED):
            reason = f"{why}: the cancel did not take effect; the order still rests at the venue"
        self._record(order.venue, self._subject(order), ", ".join(changes), reason)

    def _missing(self, order: Order, why: str) -> bool:
        """The venue has no record of an order we think is live; False when it is too fresh to tell."""
        if self._age_ms(order) < self.settle_s * 1000:
            return False  # give a just-sent request time to reach the venue's books
        before = order.state
        if order.order_id is None and order.filled_i == 0:
            reason = f"{why}: the venue has no record of it, so it was never placed"
            moved = self.orders.resolve(order, S.REJECTED, reason)
        else:
            reason = f"{why}: the venue no longer lists it and has no record of it; check the venue's history"
            moved = self.orders.resolve(order, S.UNKNOWN, reason)
        if moved:
            self._record(order.venue, self._subject(order), f"{before} -> {order.state}", reason)
        return True

    def _age_ms(self, order: Order) -> int:
        since = order.history[-1].ts_ms if order.history else order.created_ms
        return self.clock.now_ms() - since

    async def _account_pass(self, venue: str, why: str) -> None:
        conn = self.connectors[venue]
        venue_positions = await conn.get_positions()
        margin = await conn.get_margin()
        if self.positions is None:
            return
        listed: set[str] = set()
        for pos in venue_positions:
            symbol = self._canonical(venue, pos.symbol)
            listed.add(symbol)
            self._ingest_position(venue, symbol, pos, why)
        for view in self.positions.positions(venue):
            if view.symbol in listed or view.size_i == 0:
                continue
            flat = Position(
                symbol=self._venue_symbol(venue, view.symbol),
                size_i=0,
                entry_price_i=0,
                mark_price_i=view.mark_price_i or 0,
                unrealized_pnl_q=0,
                ts_ms=self.clock.now_ms(),
                info={"reconciler": "absent from the venue's positions"},
            )
            self._ingest_position(venue, view.symbol, flat, why)
        self.positions.ingest(venue, margin)

    def _ingest_position(self, venue: str, symbol: str, pos: Position, why: str) -> None:
        before = self.positions.size_i(venue, symbol)
        self.positions.ingest(venue, pos)
        after = self.positions.size_i(venue, symbol)
        if after != before:
            self._record(
                venue,
                f"position {symbol}",
                f"size {self._fmt(venue, symbol, before)} -> {self._fmt(venue, symbol, after)}",
                f"{why}: the venue's position differs",
            )

    def _fmt(self, venue: str, symbol: str, size_i: int) -> str:
        """Sizes as a trader reads them (raw integers when the market is unknown)."""
        if self.market_data is not None:
            try:
                return self.market_data.format_size(venue, symbol, size_i)
            except (KeyError, ValueError):
                pass
        return str(size_i)

    def _size(self, order: Order, size_i: int) -> str:
        return self._fmt(order.venue, order.symbol, size_i)

    def _subject(self, order: Order) -> str:
        side = "sell" if order.is_ask else "buy"
        price = ""
        if order.kind == "limit" and self.market_data is not None:
            try:
                price = f" @ {self.market_data.format_price(order.venue, order.symbol, order.price_i)}"
            except (KeyError, ValueError):
                price = f" @ {order.price_i}"
        return f"order {order_name(order)} {order.symbol} {side} {self._size(order, order.size_i)}{price}"

    def _canonical(self, venue: str, venue_symbol: str) -> str:
        if self.market_data is None:
            return venue_symbol
        try:
            return self.market_data.canonical(venue, venue_symbol)
        except (KeyError, ValueError):
            return venue_symbol

    def _venue_symbol(self, venue: str, symbol: str) -> str:
        if self.market_data is None:
            return symbol
        try:
            return self.market_data.venue_symbol(venue, symbol)
        except (KeyError, ValueError):
            return symbol
