"""Orders: client-order-index allocation, the order state machine, submit/cancel/amend.

The venue is the truth about an order; this module keeps our best picture of it and
never lets a late, duplicated or out-of-order update make that picture worse:

* every state change goes through ``ALLOWED`` (one table); anything else is ignored,
  so a stale ``OPEN`` never undoes a ``CANCELLING`` or a ``FILLED``;
* final states (FILLED, CANCELLED, REJECTED, EXPIRED) are absorbing, with one exception:
  a REJECTED order the venue never gave an id (we concluded "never placed", or a
  refusal it accepted after all) follows the venue if the venue later shows it, since
  an order resting unseen is the worse error;
* fills are de-duplicated by trade id, ``filled_i`` only grows, and FILLED is derived
  from ``filled_i >= size_i``;
* a venue snapshot that reports more filled than the fills we have seen is trusted
  (``filled_i = max(ours, venue's)``): fills can be lost in a stream gap while the
  snapshot is the venue's own count.  The missing fills stay missing from
  ``order.fills`` (positions come from the venue's position snapshots anyway);
* an in-flight request whose answer never came (timeout, lost response) leaves the
  order ``UNKNOWN`` with the reason; the reconciler asks the venue and resolves it;
* every transition is written to the journal *before* listeners (the UI) hear of it.

Client order indices are allocated per venue from a counter that starts above both
the journal's high-water mark and a wall-clock base, so they are unique and never
reused after a restart, and stay in ``1 .. 2**48 - 1`` (Lighter's range).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connector.clock import Clock, RealClock
from connector.errors import AuthError as _AuthError
from connector.errors import InvalidOrder, OrderRejected, RateLimited, UnknownOrder, VenueError
from connector.interface import Fill, IConnector, OrderSnapshot, OrderStatus

if TYPE_CHECKING:
    from execution.journal import Journal

log = logging.getLogger(__name__)

S = OrderStatus
MAX_CLIENT_ORDER_INDEX = 2**48 - 1
"""Lighter accepts client order indices up to 2**48 - 1; every venue accepts at least that range."""

MAX_ORPHAN_ORDERS = 1000
"""Orders whose fills arrived before the order itself; the oldest are forgotten beyond this."""

FINAL = frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})

ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.SUBMITTING, S.REJECTED}),
    S.SUBMITTING: frozenset(
        {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.REJECTED, S.EXPIRED, S.UNKNOWN}
    ),
    S.OPEN: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.PARTIALLY_FILLED: frozenset({S.FILLED, S.CANCELLING, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.CANCELLING: frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
"""The only state changes there are.  UNKNOWN may resolve to anything the venue says."""

REVERTS_ON_RECONCILE = frozenset({(S.CANCELLING, S.OPEN), (S.CANCELLING, S.PARTIALLY_FILLED)})
"""A cancel the venue never acted on: only the reconciler's REST answer, with no cancel
in flight, may take an order from CANCELLING back to resting."""

# Order of progress, used to tell a forward move from a stale one in tests and logs.
RANK: dict[OrderStatus, int] = {
    S.NEW: 0,
    S.SUBMITTING: 1,
    S.OPEN: 2,
    S.PARTIALLY_FILLED: 3,
    S.CANCELLING: 4,
    S.FILLED: 5,
    S.CANCELLED: 5,
    S.REJECTED: 5,
    S.EXPIRED: 5,
}

_REFUSED = (OrderRejected, InvalidOrder, RateLimited, _AuthError)
"""Errors that mean the venue did not act on the request (as opposed to 'no answer')."""


class AmendNotSupported(NotImplementedError):
    """The venue cannot re-price an order in place; cancel and replace instead."""


@dataclass(frozen=True, slots=True)
class Transition:
    ts_ms: int
    from_state: OrderStatus
    to_state: OrderStatus
    reason: str = ""


@dataclass(eq=False)
class Order:
    """Our picture of one order.  Mutated only by ``OrderService``; read by everyone."""

    venue: str
    symbol: str
    venue_symbol: str
    client_order_index: int
    is_ask: bool
    kind: str
    price_i: int
    size_i: int
    post_only: bool = False
    reduce_only: bool = False
    order_id: str | None = None
    state: OrderStatus = S.NEW
    filled_i: int = 0
    fills: list[Fill] = field(default_factory=list)
    history: list[Transition] = field(default_factory=list)
    reason: str = ""
    parent_id: str | None = None
    created_ms: int = 0
    updated_ms: int = 0
    _trade_ids: set[str] = field(default_factory=set, repr=False)
    _final_event: asyncio.Event | None = field(default=None, repr=False)
    request_inflight: str = field(default="", repr=False)
    """``"submit"``, ``"cancel"`` or ``"amend"`` while a request for this order awaits its answer."""

    @property
    def remaining_i(self) -> int:
        return max(0, self.size_i - self.filled_i)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    @property
    def is_live(self) -> bool:
        return self.state.is_live

    @property
    def avg_price_i(self) -> int | None:
        """Size-weighted average of the fills seen, rounded half up; ``None`` before any fill."""
        total = sum(f.size_i for f in self.fills)
        if total <= 0:
            return None
        notional = sum(f.price_i * f.size_i for f in self.fills)
        return (2 * notional + total) // (2 * total)

    @property
    def key(self) -> tuple[str, int]:
        return (self.venue, self.client_order_index)

    def _event(self) -> asyncio.Event:
        if self._final_event is None:
            self._final_event = asyncio.Event()
            if self.is_final:
                self._final_event.set()
        return self._final_event

    async def wait_final(self, timeout: float | None = None) -> Order:
        """Wait until the order is final; raises ``TimeoutError`` (naming the state) after ``timeout`` seconds."""
        if self.is_final:
            return self
        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"order {self.venue}:{self.client_order_index} still {self.state} after {timeout}s"
            ) from None
        return self

    def __repr__(self) -> str:
        side = "sell" if self.is_ask else "buy"
        return (
            f"<Order {self.venue}:{self.client_order_index} {self.symbol} {side} {self.kind} "
            f"{self.filled_i}/{self.size_i} @ {self.price_i} {self.state}>"
        )


Listener = Callable[[Order], None]


OBSERVE_WINDOW = 10**9


class ClientOrderIndexAllocator:
    """Per-venue monotonic counter seeded above the journal's high-water mark and a ms-clock base."""

    def __init__(self, clock: Clock, journal: Journal | None = None) -> None:
        self._clock = clock
        self._journal = journal
        self._next: dict[str, int] = {}

    def _seed(self, venue: str) -> int:
        nxt = self._next.get(venue)
        if nxt is None:
            high = self._journal.highwater(venue) if self._journal is not None else 0
            # A ms timestamp leaves room for ~2**48 - now_ms more indices and keeps two
            # journal-less runs apart; the journal's mark keeps a fast restart apart.
            nxt = max(high + 1, self._clock.now_ms() % MAX_CLIENT_ORDER_INDEX, 1)
            self._next[venue] = nxt
        return nxt

    def allocate(self, venue: str) -> int:
        nxt = self._seed(venue)
        if nxt > MAX_CLIENT_ORDER_INDEX:
            raise RuntimeError(f"{venue}: client order indices exhausted (limit 2**48 - 1)")
        self._next[venue] = nxt + 1
        if self._journal is not None:
            self._journal.set_highwater(venue, nxt)
        return nxt

    def observe(self, venue: str, index: int) -> None:
        """Step over an index seen at the venue (an adopted order) when it lies just ahead of ours.

        Indices far ahead (another client's scheme) cannot collide for a billion orders;
        following them could run the counter towards the 2**48 ceiling.
        """
        nxt = self._seed(venue)
        if nxt <= index < nxt + OBSERVE_WINDOW:
            self._next[venue] = index + 1
            if self._journal is not None:
                self._journal.set_highwater(venue, index)


class OrderService:
    """Places, cancels and amends orders and keeps each ``Order`` in step with the venue.

    ``market_data`` (an ``execution.MarketDataService``) maps canonical symbols to the
    venue's; without it symbols are passed through unchanged.  ``risk`` is anything with
    ``check(venue, symbol, *, is_ask, size_i, price_i, reduce_only)`` that raises to refuse.
    """

    def __init__(
        self,
        connectors: dict[str, IConnector],
        market_data: Any = None,
        *,
        journal: Journal | None = None,
        clock: Clock | None = None,
        risk: Any = None,
        request_timeout_s: float = 10.0,
    ) -> None:
        self.connectors = connectors
        self.market_data = market_data
        self.journal = journal
        self.clock: Clock = clock or RealClock()
        self.risk = risk
        self.request_timeout_s = request_timeout_s
        self.allocator = ClientOrderIndexAllocator(self.clock, journal)
        self._orders: dict[tuple[str, int], Order] = {}
        self._by_order_id: dict[tuple[str, str], Order] = {}
        self._orphan_fills: dict[tuple[str, int], list[Fill]] = {}
        self._listeners: list[Listener] = []
        self.listener_errors = 0

    # -- queries ---------------------------------------------------------------------------

    @property
    def orders(self) -> list[Order]:
        return list(self._orders.values())

    def get(self, venue: str, client_order_index: int) -> Order | None:
        return self._orders.get((venue, client_order_index))

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self._orders.values()
            if o.is_live and (venue is None or o.venue == venue) and (symbol is None or o.symbol == symbol)
        ]

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    # -- loading ---------------------------------------------------------------------------

    def load(self, orders: Iterable[Order]) -> None:
        """Adopt orders rebuilt from the journal (before any new submission)."""
        for order in orders:
            self._register(order)
            self.allocator.observe(order.venue, order.client_order_index)

    # -- commands --------------------------------------------------------------------------

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
    ) -> Order:
        if price_i <= 0:
            raise InvalidOrder(f"limit price must be positive, got {price_i}")
        order = self._prepare(venue, symbol, "limit", is_ask, size_i, price_i, post_only, reduce_only, parent_id)
        conn = self._conn(venue)
        return await self._send(
            order,
            conn.submit_limit_order(
                symbol=order.venue_symbol,
                client_order_index=order.client_order_index,
                base_amount=size_i,
                price=price_i,
                is_ask=is_ask,
                post_only=post_only,
                reduce_only=reduce_only,
            ),
        )

    async def submit_market(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        reduce_only: bool = False,
        parent_id: str | None = None,
    ) -> Order:
        order = self._prepare(venue, symbol, "market", is_ask, size_i, 0, False, reduce_only, parent_id)
        conn = self._conn(venue)
        return await self._send(
            order,
            conn.submit_market_order(
                symbol=order.venue_symbol,
                client_order_index=order.client_order_index,
                size_i=size_i,
                is_ask=is_ask,
                reduce_only=reduce_only,
            ),
        )

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
    ) -> Order:
        if venue not in self.connectors:
            raise InvalidOrder(f"unknown venue {venue!r}; connected venues: {', '.join(self.connectors) or 'none'}")
        if size_i <= 0:
            raise InvalidOrder(f"order size must be positive, got {size_i}")
        venue_symbol = self._venue_symbol(venue, symbol)
        if self.risk is not None:
            # raises (RiskRejected) before anything is allocated, journaled or sent
            self.risk.check(venue, symbol, is_ask=is_ask, size_i=size_i, price_i=price_i, reduce_only=reduce_only)
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
        self._register(order)
        if self.journal is not None:
            self.journal.save_order(order)
        return order

    async def _send(self, order: Order, request: Any) -> Order:
        order.request_inflight = "submit"
        self._transition(order, S.SUBMITTING, "sent")
        try:
            order_id = await asyncio.wait_for(request, self.request_timeout_s)
        except _REFUSED as exc:
            order.request_inflight = ""
            self._transition(order, S.REJECTED, str(exc) or type(exc).__name__)
            return order
        except (VenueError, TimeoutError, OSError) as exc:
            order.request_inflight = ""
            self._transition(order, S.UNKNOWN, f"no answer to submit: {exc or type(exc).__name__}")
            return order
        except BaseException:
            order.request_inflight = ""
            self._transition(order, S.UNKNOWN, "submit interrupted before the venue answered")
            raise
        order.request_inflight = ""
        if "async_ack" in getattr(self._conn(order.venue), "capabilities", ()):
            # The venue only queued the request (Lighter's sendTx): the order stays SUBMITTING
            # until the stream or a status query says what became of it, and the id the
            # venue assigns arrives with that update.  The reconciler's heartbeat settles
            # an order whose confirmation never comes.
            return order
        if order_id:
            self._set_order_id(order, str(order_id))
        if order.state == S.SUBMITTING:
            self._transition(order, S.OPEN, "accepted")
        elif order.state == S.UNKNOWN:
            self._transition(order, S.OPEN, "accepted (late answer)")
        if order.kind == "market" and not order.is_final:
            # a market order is done once accepted: if the stream has not said how, ask
            await self.refresh(order, why="market order accepted")
        return order

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
        self._transition(order, S.CANCELLING, "cancel requested")
        try:
            await asyncio.wait_for(
                conn.cancel_by_client_id(order.venue_symbol, order.client_order_index), self.request_timeout_s
            )
        except UnknownOrder as exc:
            order.request_inflight = ""
            await self.refresh(order, why=f"cancel: venue says not open ({exc})")
            return order
        except _REFUSED as exc:
            order.request_inflight = ""
            self._note(order, f"cancel refused: {exc}")
            return order
        except (VenueError, TimeoutError, OSError) as exc:
            order.request_inflight = ""
            self._transition(order, S.UNKNOWN, f"no answer to cancel: {exc or type(exc).__name__}")
            return order
        order.request_inflight = ""
        if order.state == S.CANCELLING:
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
                if o.state != S.CANCELLING:
                    self._transition(o, S.CANCELLING, "cancel all requested")
            venue_symbol = self._venue_symbol(name, symbol) if symbol is not None else None
            try:
                await asyncio.wait_for(conn.cancel_all(venue_symbol), self.request_timeout_s)
            except _REFUSED as exc:
                for o in mine:
                    o.request_inflight = ""
                    self._note(o, f"cancel all refused: {exc}")
                affected.extend(mine)
                continue
            except (VenueError, TimeoutError, OSError) as exc:
                for o in mine:
                    o.request_inflight = ""
                    if o.state == S.CANCELLING:
                        self._transition(o, S.UNKNOWN, f"no answer to cancel all: {exc or type(exc).__name__}")
                affected.extend(mine)
                continue
            for o in mine:
                o.request_inflight = ""
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

    async def amend(self, order: Order, *, price_i: int, size_i: int | None = None) -> Order:
        """Re-price (and optionally re-size) in place.  ``size_i`` is the new *total* size.

        Raises ``AmendNotSupported`` where the venue lacks ``"amend"``, ``InvalidOrder`` for
        an order that is not resting, and the venue's error when it refuses or does not
        answer (the order then says so: unchanged with the reason, or UNKNOWN).
        """
        conn = self._conn(order.venue)
        if "amend" not in getattr(conn, "capabilities", frozenset()):
            raise AmendNotSupported(f"{order.venue} cannot amend orders in place; cancel and replace instead")
        if order.state not in (S.OPEN, S.PARTIALLY_FILLED):
            raise InvalidOrder(
                f"order {order.client_order_index} is {order.state}; only a resting order can be amended"
            )
        if price_i <= 0:
            raise InvalidOrder(f"limit price must be positive, got {price_i}")
        new_size = order.size_i if size_i is None else size_i
        if "amend_fill_safe" in conn.capabilities and new_size > order.size_i:
            # a fill-safe venue never lets an amend grow an order: it caps at what is left
            raise InvalidOrder(
                f"{order.venue} amends cannot grow an order (it caps at what is left); place another order instead"
            )
        if new_size <= order.filled_i:
            raise InvalidOrder(f"new size {new_size} must exceed the filled {order.filled_i}")
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
        try:
            new_id = await asyncio.wait_for(
                conn.modify_order(  # type: ignore[attr-defined]
                    symbol=order.venue_symbol,
                    client_order_index=order.client_order_index,
                    price=price_i,
                    base_amount=new_size - order.filled_i,
                ),
                self.request_timeout_s,
            )
        except _REFUSED as exc:
            order.request_inflight = ""
            self._note(order, f"amend refused: {exc}")
            await self.refresh(order, why="amend refused")
            raise
        except UnknownOrder:
            order.request_inflight = ""
            await self.refresh(order, why="amend: venue says not open")
            raise
        except (VenueError, TimeoutError, OSError) as exc:
            order.request_inflight = ""
            self._transition(order, S.UNKNOWN, f"no answer to amend: {exc or type(exc).__name__}")
            raise
        order.request_inflight = ""
        if new_id:
            self._set_order_id(order, str(new_id))
        if not order.is_final:
            old = (order.price_i, order.size_i)
            order.price_i, order.size_i = price_i, new_size
            self._record(
                order,
                Transition(
                    self.clock.now_ms(), order.state, order.state, f"amended {old[0]}x{old[1]} -> {price_i}x{new_size}"
                ),
            )
        return order

    async def refresh(self, order: Order, *, why: str = "refresh", authoritative: bool = False) -> Order:
        """Ask the venue for this order's state and apply it.

        ``authoritative`` (the reconciler, once a cancel has had time to act) lets a
        venue that still lists the order take it from CANCELLING back to resting.  A venue that has no record of an order we never saw acknowledged means it was
        never placed (REJECTED); otherwise the order stays or becomes UNKNOWN with why.
        """
        conn = self._conn(order.venue)
        try:
            snap = await asyncio.wait_for(
                conn.get_order(order.venue_symbol, order.client_order_index), self.request_timeout_s
            )
        except UnknownOrder as exc:
            if order.is_final:
                return order
            if order.order_id is None and order.filled_i == 0 and order.request_inflight != "submit":
                self._transition(order, S.REJECTED, f"{why}; venue has no record of the order: never placed")
            elif order.state != S.UNKNOWN:
                self._transition(order, S.UNKNOWN, f"{why}; venue has no record of the order ({exc})")
            return order
        except (VenueError, TimeoutError, OSError) as exc:
            if not order.is_final and order.state != S.UNKNOWN and order.request_inflight == "":
                if order.state == S.CANCELLING:
                    self._note(order, f"{why}; status query failed: {exc}")
                else:
                    log.warning("%s: status query for %s failed: %s", order.venue, order.client_order_index, exc)
            return order
        self.apply_snapshot(order.venue, snap, authoritative=authoritative, why=why)
        return order

    def resolve(self, order: Order, state: OrderStatus, reason: str) -> bool:
        """Move an order on the reconciler's judgement (still only along ``ALLOWED``); True if it moved."""
        before = order.state
        self._transition(order, state, reason)
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
        order = self._find(venue, fill.client_order_index, fill.order_id)
        if order is None:
            # the order may be adopted by the reconciler later; keep the fill for it
            if len(self._orphan_fills) >= MAX_ORPHAN_ORDERS:
                del self._orphan_fills[next(iter(self._orphan_fills))]
            self._orphan_fills.setdefault((venue, fill.client_order_index), []).append(fill)
            return None
        self._add_fill(order, fill)
        return order

    def _add_fill(self, order: Order, fill: Fill) -> None:
        if fill.trade_id in order._trade_ids:
            return
        order._trade_ids.add(fill.trade_id)
        order.fills.append(fill)
        if order.order_id is None and fill.order_id:
            self._set_order_id(order, fill.order_id)
        if self.journal is not None:
            self.journal.record_fill(order, fill)
        self._merge_filled(order, sum(f.size_i for f in order.fills))
        target = self._state_for_fill(order)
        if target is not None and target != order.state and self._can_move(order, target, authoritative=False):
            self._transition(order, target, f"fill {fill.trade_id}")
        else:
            order.updated_ms = self.clock.now_ms()
            if self.journal is not None:
                self.journal.save_order(order)
            self._notify(order)

    def apply_snapshot(
        self, venue: str, snap: OrderSnapshot, *, authoritative: bool = False, why: str = ""
    ) -> Order | None:
        """Merge the venue's view.  ``authoritative`` marks the reconciler's settled REST answer."""
        order = self._find(venue, snap.client_order_index, snap.order_id)
        if order is None:
            return self._adopt(venue, snap, why or "venue reports an order we did not know")
        if order.state == S.REJECTED and order.order_id is None and snap.order_id and snap.status != S.REJECTED:
            self._revive(order, snap, why)
            return order
        if snap.order_id and order.order_id != snap.order_id:
            self._set_order_id(order, snap.order_id)
        if order.size_i <= 0 < snap.size_i:
            order.size_i = snap.size_i
        filled_changed = self._merge_filled(order, snap.filled_i)
        target = self._target_for_snapshot(order, snap)
        source = why or ("venue" if not authoritative else "venue query")
        reason = snap.reason or f"{source}: {snap.status}"
        if target is not None and target != order.state and self._can_move(order, target, authoritative):
            self._transition(order, target, reason)
        elif filled_changed:
            order.updated_ms = self.clock.now_ms()
            if self.journal is not None:
                self.journal.save_order(order)
            self._notify(order)
        return order

    def _revive(self, order: Order, snap: OrderSnapshot, why: str) -> None:
        """The venue shows an order we had as REJECTED without ever hearing of it from the venue.

        That REJECTED was our inference (no record at the venue yet) or a refusal whose
        order the venue accepted after all; an order resting unseen is worse than breaking
        absorption, so the venue's state wins and the history says so.
        """
        self._set_order_id(order, snap.order_id or "")
        self._merge_filled(order, snap.filled_i)
        target = self._target_for_snapshot(order, snap) or S.UNKNOWN
        self._force(order, target, f"{why or 'venue'}: the venue shows the order after all ({snap.status})")

    def _target_for_snapshot(self, order: Order, snap: OrderSnapshot) -> OrderStatus | None:
        status = snap.status
        if status == S.FILLED or (order.filled_i >= order.size_i > 0):
            return S.FILLED
        if status in (S.CANCELLED, S.REJECTED, S.EXPIRED):
            return status
        if status in (S.OPEN, S.PARTIALLY_FILLED):
            return S.PARTIALLY_FILLED if order.filled_i > 0 else S.OPEN
        return None  # NEW / SUBMITTING / CANCELLING / UNKNOWN from a venue say nothing new

    def _state_for_fill(self, order: Order) -> OrderStatus | None:
        if order.filled_i >= order.size_i > 0:
            return S.FILLED
        if order.state in (S.SUBMITTING, S.OPEN, S.UNKNOWN):
            return S.PARTIALLY_FILLED
        return None

    def _can_move(self, order: Order, target: OrderStatus, authoritative: bool) -> bool:
        if target in ALLOWED[order.state]:
            return True
        if (order.state, target) in REVERTS_ON_RECONCILE:
            return authoritative and order.request_inflight != "cancel"
        return False

    @staticmethod
    def _merge_filled(order: Order, venue_filled_i: int) -> bool:
        if venue_filled_i > order.filled_i:
            order.filled_i = venue_filled_i
            return True
        return False

    def _adopt(self, venue: str, snap: OrderSnapshot, why: str) -> Order:
        symbol = self._canonical(venue, snap.symbol)
        now = self.clock.now_ms()
        order = Order(
            venue=venue,
            symbol=symbol,
            venue_symbol=snap.symbol,
            client_order_index=snap.client_order_index,
            is_ask=snap.is_ask,
            kind="limit",
            price_i=snap.price_i,
            size_i=snap.size_i,
            post_only=snap.post_only,
            reduce_only=snap.reduce_only,
            order_id=snap.order_id,
            state=S.NEW,
            filled_i=0,
            created_ms=snap.ts_ms or now,
            updated_ms=now,
        )
        self._register(order)
        self.allocator.observe(venue, snap.client_order_index)
        self._merge_filled(order, snap.filled_i)
        if self.journal is not None:
            self.journal.save_order(order)
        target = self._target_for_snapshot(order, snap) or S.UNKNOWN
        # an adopted order skips the submit path: record the single jump from NEW
        self._force(order, target, f"adopted: {why}")
        for fill in self._orphan_fills.pop(order.key, []):
            self._add_fill(order, fill)
        return order

    # -- internals -------------------------------------------------------------------------

    def _register(self, order: Order) -> None:
        self._orders[order.key] = order
        if order.order_id:
            self._by_order_id[(order.venue, order.order_id)] = order
        for t in order.fills:
            order._trade_ids.add(t.trade_id)

    def _find(self, venue: str, client_order_index: int, order_id: str | None) -> Order | None:
        order = self._orders.get((venue, client_order_index))
        if order is None and order_id:
            order = self._by_order_id.get((venue, order_id))
        return order

    def _set_order_id(self, order: Order, order_id: str) -> None:
        order.order_id = order_id
        self._by_order_id[(order.venue, order_id)] = order

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

    def _transition(self, order: Order, target: OrderStatus, reason: str) -> None:
        if target == order.state:
            return
        if target not in ALLOWED[order.state] and (order.state, target) not in REVERTS_ON_RECONCILE:
            log.debug("ignored %s -> %s for %r (%s)", order.state, target, order, reason)
            return
        self._force(order, target, reason)

    def _force(self, order: Order, target: OrderStatus, reason: str) -> None:
        t = Transition(self.clock.now_ms(), order.state, target, reason)
        order.state = target
        order.reason = reason
        self._record(order, t)
        if order.is_final and order._final_event is not None:
            order._final_event.set()

    def _note(self, order: Order, reason: str) -> None:
        """A reason worth showing without a state change (a refused cancel or amend)."""
        order.reason = reason
        self._record(order, Transition(self.clock.now_ms(), order.state, order.state, reason))

    def _record(self, order: Order, t: Transition) -> None:
        order.history.append(t)
        order.updated_ms = t.ts_ms
        if self.journal is not None:
            self.journal.record_transition(order, t)  # journaled before anyone is told
        self._notify(order)

    def _notify(self, order: Order) -> None:
        for fn in list(self._listeners):
            try:
                fn(order)
            except Exception:
                self.listener_errors += 1
                log.exception("order listener failed for %r", order)
