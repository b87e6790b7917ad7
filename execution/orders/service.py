"""``OrderService``: place, cancel and amend orders, and keep each ``Order`` in step with the venue.

The commands are here; what a refused or unanswered request means for an order is settled
in ``answers``, venue updates are merged by ``updates``, and every change is journaled by
the store before listeners (the UI) hear of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from connector.checks import require_ints
from connector.clock import Clock, RealClock
from connector.errors import InvalidOrder, UnknownOrder, VenueError
from connector.interface import ConnectionState, Fill, IConnector, OrderSnapshot, OrderStatus
from execution.listeners import Listeners
from execution.orders.allocator import ClientOrderIndexAllocator
from execution.orders.answers import Answer, Outcome, await_answer
from execution.orders.model import Order, Transition, VenueDisconnected, amended_size, order_name
from execution.orders.ports import OrderJournal, PreTradeCheck, SymbolMap
from execution.orders.store import OrderStore
from execution.orders.updates import VenueUpdates

log = logging.getLogger(__name__)

S = OrderStatus
T = TypeVar("T")


class OrderService:
    """Places, cancels and amends orders and keeps each ``Order`` in step with the venue.

    ``market_data`` (an ``execution.MarketDataService``) maps canonical symbols to the
    venue's; without it symbols are passed through unchanged.  ``risk`` refuses an order
    by raising from ``check`` before anything is allocated, journaled or sent.
    """

    def __init__(
        self,
        connectors: dict[str, IConnector],
        market_data: SymbolMap | None = None,
        *,
        journal: OrderJournal | None = None,
        clock: Clock | None = None,
        risk: PreTradeCheck | None = None,
        request_timeout_s: float = 10.0,
        lookup_attempts: int = 3,
    ) -> None:
        self.connectors = connectors
        self.market_data = market_data
        self.journal = journal
        self.clock: Clock = clock or RealClock()
        self.risk = risk
        self.request_timeout_s = request_timeout_s
        self.lookup_attempts = lookup_attempts
        """Failed status queries in a row after which a live order is UNKNOWN (callers space them out)."""
        self._lookup_failures: dict[tuple[str, int], int] = {}
        self.allocator = ClientOrderIndexAllocator(self.clock, journal)
        self._listeners: Listeners[[Order]] = Listeners("order")
        self.store = OrderStore(self.clock, journal, self._listeners)
        self.updates = VenueUpdates(self.store, self.allocator, self.clock, self._canonical)

    # -- queries and listeners -------------------------------------------------------------

    @property
    def orders(self) -> list[Order]:
        return self.store.orders

    def get(self, venue: str, client_order_index: int) -> Order | None:
        return self.store.get(venue, client_order_index)

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return self.store.open_orders(venue, symbol)

    def add_listener(self, fn: Callable[[Order], None]) -> None:
        self._listeners.add(fn)

    def remove_listener(self, fn: Callable[[Order], None]) -> None:
        self._listeners.remove(fn)

    @property
    def listener_errors(self) -> int:
        return self._listeners.errors

    def load(self, orders: Iterable[Order]) -> None:
        """Adopt orders rebuilt from the journal (before any new submission)."""
        for order in orders:
            self.store.register(order)
            self.allocator.observe(order.venue, order.client_order_index)

    # -- submitting ------------------------------------------------------------------------

    def check_new(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        reduce_only: bool = False,
        allow_disconnected: bool = False,
    ) -> None:
        """The checks a new chase passes before it starts (its price is not known yet): the margin and
        notional ceiling for the whole size at the touch (``RiskRejected``), then the venue's connection
        (``VenueDisconnected`` unless ``allow_disconnected``)."""
        check = getattr(self.risk, "check_capacity", None)
        if check is not None:
            check(venue, symbol, is_ask=is_ask, size_i=size_i, reduce_only=reduce_only)
        if not allow_disconnected:
            self.require_connected(venue)

    def require_connected(self, venue: str) -> None:
        """Raise ``VenueDisconnected`` when a stream of ``venue`` reports a state other than CONNECTED.

        A connector that has reported nothing yet (a test double, before start) is not refused.
        """
        states = getattr(self.connectors.get(venue), "connection_state", None)
        if not isinstance(states, Mapping) or not states:
            return
        down = [f"{stream} {state}" for stream, state in states.items() if state != ConnectionState.CONNECTED]
        if down:
            raise VenueDisconnected(venue, ", ".join(down))

    async def submit_limit(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        price_i: int,
        post_only: bool = False,
        reduce_only: bool = False,
        parent_id: str | None = None,
        allow_disconnected: bool = False,
    ) -> Order:
        """``allow_disconnected`` sends it even while the venue's connection is down (else ``VenueDisconnected``)."""
        require_ints(size_i=size_i, price_i=price_i)
        if price_i <= 0:
            raise InvalidOrder(f"limit price must be positive, got {price_i}")
        order = self._prepare(
            venue, symbol, "limit", is_ask, size_i, price_i, post_only, reduce_only, parent_id, allow_disconnected
        )
        request = self._conn(venue).submit_limit_order(
            symbol=order.venue_symbol,
            client_order_index=order.client_order_index,
            base_amount=size_i,
            price=price_i,
            is_ask=is_ask,
            post_only=post_only,
            reduce_only=reduce_only,
        )
        return await self._send(order, request)

    async def submit_market(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        reduce_only: bool = False,
        parent_id: str | None = None,
        allow_disconnected: bool = False,
    ) -> Order:
        require_ints(size_i=size_i)
        order = self._prepare(
            venue, symbol, "market", is_ask, size_i, 0, False, reduce_only, parent_id, allow_disconnected
        )
        request = self._conn(venue).submit_market_order(
            symbol=order.venue_symbol,
            client_order_index=order.client_order_index,
            size_i=size_i,
            is_ask=is_ask,
            reduce_only=reduce_only,
        )
        return await self._send(order, request)

    def _prepare(
        self,
        venue: str,
        symbol: str,
        kind: str,
        is_ask: bool,
        size_i: int,
        price_i: int,
        post_only: bool,
        reduce_only: bool,
        parent_id: str | None,
        allow_disconnected: bool = False,
    ) -> Order:
        if venue not in self.connectors:
            raise InvalidOrder(f"unknown venue {venue!r}; connected venues: {', '.join(self.connectors) or 'none'}")
        if size_i <= 0:
            raise InvalidOrder(f"order size must be positive, got {size_i}")
        venue_symbol = self._venue_symbol(venue, symbol)
        if self.risk is not None:
            # raises (RiskRejected) before anything is allocated, journaled or sent
            self.risk.check(venue, symbol, is_ask=is_ask, size_i=size_i, price_i=price_i, reduce_only=reduce_only)
        if not allow_disconnected:
            self.require_connected(venue)
        now = self.clock.now_ms()
        order = Order(
            venue=venue,
            symbol=symbol,
            venue_symbol=venue_symbol,
            client_order_index=self.allocator.allocate(venue),
            is_ask=is_ask,
            kind=kind,
            price_i=price_i,
            size_i=size_i,
            post_only=post_only,
            reduce_only=reduce_only,
            parent_id=parent_id,
            created_ms=now,
            updated_ms=now,
        )
        self.store.register(order)
        self.store.save(order)
        return order

    async def _send(self, order: Order, request: Awaitable[str]) -> Order:
        order.request_inflight = "submit"
        self.store.move(order, S.SUBMITTING, "sent")
        try:
            answer = await self._request("submit", [order], request)
        except BaseException:
            order.request_inflight = ""
            self.store.move(order, S.UNKNOWN, "submit interrupted before the venue answered")
            raise
        if answer.outcome is not Outcome.ANSWERED:
            return order
        if "async_ack" in self._conn(order.venue).capabilities:
            # The venue only queued the request (Lighter's sendTx): the order stays SUBMITTING
            # until the stream or a status query says what became of it, and the id the
            # venue assigns arrives with that update.  The reconciler's heartbeat settles
            # an order whose confirmation never comes.
            return order
        if answer.value:
            self.store.set_order_id(order, str(answer.value))
        if order.state == S.SUBMITTING:
            self.store.move(order, S.OPEN, "accepted")
        elif order.state == S.UNKNOWN:
            self.store.move(order, S.OPEN, "accepted (late answer)")
        if order.kind == "market" and not order.is_final:
            # a market order is done once accepted: if the stream has not said how, ask
            await self.refresh(order, why="market order accepted")
        return order

    # -- cancelling ------------------------------------------------------------------------

    async def cancel(self, order: Order) -> Order:
        """Ask the venue to cancel.  Never CANCELLED until the venue says so.

        The order is CANCELLING while the request is out.  A refused cancel leaves it
        CANCELLING with the venue's reason (the reconciler restores OPEN if it still
        rests); a cancel with no answer leaves it UNKNOWN.  Venue errors are recorded on
        the order, not raised.
        """
        if order.is_final or order.state == S.NEW:
            return order
        conn = self._conn(order.venue)
        order.request_inflight = "cancel"
        self.store.move(order, S.CANCELLING, "cancel requested")
        request = conn.cancel_by_client_id(order.venue_symbol, order.client_order_index)
        answer = await self._request("cancel", [order], request, names_order=True)
        if answer.outcome is Outcome.NOT_OPEN:
            await self.refresh(order, why=f"cancel: venue says not open ({answer.error})")
        elif answer.outcome is Outcome.ANSWERED and order.state == S.CANCELLING:
            await self.refresh(order, why="cancel acknowledged")
        return order

    async def cancel_all(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (ours or not) on one or every venue; returns the ones we knew."""
        affected: list[Order] = []
        for name, conn in self.connectors.items():
            if venue is not None and name != venue:
                continue
            mine = [o for o in self.open_orders(name, symbol) if o.state != S.NEW]
            for o in mine:
                o.request_inflight = "cancel"
                self.store.move(o, S.CANCELLING, "cancel all requested")
            venue_symbol = self._venue_symbol(name, symbol) if symbol is not None else None
            answer = await self._request("cancel all", mine, conn.cancel_all(venue_symbol))
            if answer.outcome is Outcome.ANSWERED:
                pending = [o for o in mine if o.state == S.CANCELLING]
                if pending:
                    await self._confirm_cancelled(name, pending)
            affected.extend(mine)
        return affected

    async def _confirm_cancelled(self, venue: str, pending: list[Order]) -> None:
        try:
            still_open = {s.client_order_index for s in await self.connectors[venue].get_open_orders()}
        except (VenueError, TimeoutError, OSError):
            return  # the reconciler confirms later
        for o in pending:
            if o.state == S.CANCELLING and o.client_order_index not in still_open:
                await self.refresh(o, why="cancel all acknowledged")

    # -- amending --------------------------------------------------------------------------

    async def amend(self, order: Order, *, price_i: int, size_i: int | None = None) -> Order:
        """Re-price (and optionally re-size) in place.  ``size_i`` is the new *total* size.

        Raises ``AmendNotSupported`` where the venue lacks ``"amend"``, ``InvalidOrder`` for
        an order that is not resting, and the venue's error when it refuses or does not
        answer (the order then says so: unchanged with the reason, or UNKNOWN).
        """
        require_ints(price_i=price_i)
        if size_i is not None:
            require_ints(size_i=size_i)
        conn = self._conn(order.venue)
        new_size = amended_size(order, conn.capabilities, price_i, size_i)
        if self.risk is not None:
            self.risk.check(
                order.venue,
                order.symbol,
                is_ask=order.is_ask,
                size_i=new_size - order.filled_i,
                price_i=price_i,
                reduce_only=order.reduce_only,
            )
        order.request_inflight = "amend"
        request = conn.modify_order(  # type: ignore[attr-defined]
            symbol=order.venue_symbol,
            client_order_index=order.client_order_index,
            price=price_i,
            base_amount=new_size - order.filled_i,
        )
        answer = await self._request("amend", [order], request, names_order=True)
        if answer.outcome is Outcome.REFUSED:
            await self.refresh(order, why="amend refused")
        elif answer.outcome is Outcome.NOT_OPEN:
            await self.refresh(order, why="amend: venue says not open")
        if answer.error is not None:
            raise answer.error
        if answer.value:
            self.store.set_order_id(order, str(answer.value))
        if not order.is_final:
            old = (order.price_i, order.size_i)
            order.price_i, order.size_i = price_i, new_size
            reason = f"amended {old[0]}x{old[1]} -> {price_i}x{new_size}"
            self.store.record(order, Transition(self.clock.now_ms(), order.state, order.state, reason))
        return order

    # -- asking the venue ------------------------------------------------------------------

    async def refresh(self, order: Order, *, why: str = "refresh", authoritative: bool = False) -> Order:
        """Ask the venue for this order's state and apply it.

        ``authoritative`` (the reconciler, once a cancel has had time to act) lets a venue
        that still lists the order take it from CANCELLING back to resting.  A venue that has
        no record of an order we never saw acknowledged means it was never placed
        (REJECTED); otherwise the order stays or becomes UNKNOWN with why.
        """
        conn = self._conn(order.venue)
        key = (order.venue, order.client_order_index)
        try:
            snap = await asyncio.wait_for(
                conn.get_order(order.venue_symbol, order.client_order_index), self.request_timeout_s
            )
        except UnknownOrder as exc:
            self._lookup_failures.pop(key, None)
            if order.is_final:
                return order
            if order.order_id is None and order.filled_i == 0 and order.request_inflight != "submit":
                self.store.move(order, S.REJECTED, f"{why}; venue has no record of the order: never placed")
            elif order.state != S.UNKNOWN:
                self.store.move(order, S.UNKNOWN, f"{why}; venue has no record of the order ({exc})")
            return order
        except (VenueError, TimeoutError, OSError) as exc:
            n = self._lookup_failures[key] = self._lookup_failures.get(key, 0) + 1
            if not order.is_final and order.state != S.UNKNOWN and order.request_inflight == "":
                if n >= self.lookup_attempts:
                    error = str(exc) or type(exc).__name__
                    self.store.move(order, S.UNKNOWN, f"{why}; status query failed {n} times in a row: {error}")
                elif order.state == S.CANCELLING:
                    self.store.note(order, f"{why}; status query failed: {exc}")
                else:
                    log.warning("%s order %s: status query failed: %s", order.venue, order_name(order), exc)
            return order
        self._lookup_failures.pop(key, None)
        self.apply_snapshot(order.venue, snap, authoritative=authoritative, why=why)
        return order

    def lookup_failures(self, order: Order) -> int:
        """Status queries for this order that failed in a row (0 once the venue answers)."""
        return self._lookup_failures.get((order.venue, order.client_order_index), 0)

    def resolve(self, order: Order, state: OrderStatus, reason: str) -> bool:
        """Move an order on the reconciler's judgement (still only along ``ALLOWED``); True if it moved."""
        before = order.state
        self.store.move(order, state, reason)
        return order.state != before

    # -- venue updates ---------------------------------------------------------------------

    def ingest_update(self, venue: str, event: OrderSnapshot | Fill) -> Order | None:
        """Apply one stream event.  Idempotent; duplicates and stale updates change nothing."""
        if isinstance(event, Fill):
            return self.apply_fill(venue, event)
        if isinstance(event, OrderSnapshot):
            return self.apply_snapshot(venue, event)
        raise TypeError(f"ingest_update expects an OrderSnapshot or a Fill, got {type(event).__name__}")

    def apply_fill(self, venue: str, fill: Fill) -> Order | None:
        return self.updates.apply_fill(venue, fill)

    def apply_snapshot(
        self, venue: str, snap: OrderSnapshot, *, authoritative: bool = False, why: str = ""
    ) -> Order | None:
        """Merge the venue's view.  ``authoritative`` marks the reconciler's settled REST answer."""
        return self.updates.apply_snapshot(venue, snap, authoritative=authoritative, why=why)

    # -- venues and symbols ----------------------------------------------------------------

    def _conn(self, venue: str) -> IConnector:
        conn = self.connectors.get(venue)
        if conn is None:
            raise InvalidOrder(
                f"venue {venue!r} is not connected; connected venues: {', '.join(self.connectors) or 'none'}"
            )
        return conn

    def _venue_symbol(self, venue: str, symbol: str) -> str:
        if self.market_data is None:
            return symbol
        return self.market_data.venue_symbol(venue, symbol)

    def _canonical(self, venue: str, venue_symbol: str) -> str:
        if self.market_data is None:
            return venue_symbol
        try:
            return self.market_data.canonical(venue, venue_symbol)
        except (KeyError, ValueError):
            return venue_symbol

    async def _request(
        self, what: str, orders: Sequence[Order], request: Awaitable[T], *, names_order: bool = False
    ) -> Answer[T]:
        return await await_answer(self.store, what, orders, request, self.request_timeout_s, names_order=names_order)
