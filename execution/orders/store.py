"""The registry of orders, and the one place an order's record changes.

Orders are found by (venue, client order index) or by the venue's order id.  Every
change to an order goes through here so that it is written to the journal *before*
listeners (the UI) hear of it: what anyone has seen survives a killed process.
"""

from __future__ import annotations

import logging

from connector.clock import Clock
from connector.interface import Fill, OrderStatus
from execution.listeners import Listeners
from execution.orders.model import ALLOWED, REVERTS_ON_RECONCILE, Order, Transition, order_name
from execution.orders.ports import OrderJournal

log = logging.getLogger(__name__)

MAX_ORPHAN_ORDERS = 1000
"""Orders whose fills arrived before the order itself; the oldest are forgotten beyond this."""

MAX_CLOSED_ORDERS = 50
"""Closed orders of one's own (no chase or algo behind them: a parent still reads its children) kept in
memory, the most recently closed (the Orders tab lists them under the open ones); older ones are forgotten
here and stay in the journal.  Without a bound a console typing an order every few seconds grew by every
order it ever sent (~40 objects each, and a row of the Orders tab); 200 took the soak's typist 11 minutes
to fill, and the resident set grew all that while: 50 are full within three."""

FORGOTTEN_KEYS = 1_000
"""How many forgotten orders' keys are remembered (a key, not the order) to tell a late closed snapshot of
one from an order we never knew."""


class OrderStore:
    """Our orders by key and by venue order id, with fills still waiting for their order."""

    def __init__(
        self,
        clock: Clock,
        journal: OrderJournal | None,
        listeners: Listeners[[Order]],
        *,
        max_closed: int = MAX_CLOSED_ORDERS,
    ) -> None:
        self.clock = clock
        self.journal = journal
        self.listeners = listeners
        self._orders: dict[tuple[str, int], Order] = {}
        self._by_order_id: dict[tuple[str, str], Order] = {}
        self._orphan_fills: dict[tuple[str, int], list[Fill]] = {}
        self.max_closed = max_closed
        self._closed: dict[tuple[str, int], None] = {}
        """Keys of the closed orders without a parent, oldest closed first (``MAX_CLOSED_ORDERS``)."""
        self._forgotten: dict[tuple[str, int], None] = {}
        """Keys of the last ``FORGOTTEN_KEYS`` orders forgotten, so a late closed snapshot of one is not adopted."""
        self.forgotten = 0

    # -- the registry ----------------------------------------------------------------------

    @property
    def orders(self) -> list[Order]:
        return list(self._orders.values())

    def get(self, venue: str, client_order_index: int) -> Order | None:
        return self._orders.get((venue, client_order_index))

    def find(self, venue: str, client_order_index: int, order_id: str | None) -> Order | None:
        order = self._orders.get((venue, client_order_index))
        if order is None and order_id:
            order = self._by_order_id.get((venue, order_id))
        return order

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self._orders.values()
            if o.is_live and (venue is None or o.venue == venue) and (symbol is None or o.symbol == symbol)
        ]

    def register(self, order: Order) -> None:
        self._orders[order.key] = order
        if order.order_id:
            self._by_order_id[(order.venue, order.order_id)] = order
        self._retire(order)

    def _retire(self, order: Order) -> None:
        """Count ``order`` among the closed ones if it is closed and has no parent, and forget the
        oldest closed beyond ``max_closed`` (the journal keeps them)."""
        if order.parent_id is not None:
            return
        key = order.key
        if not order.is_final:
            self._closed.pop(key, None)  # a reconcile revived it
            return
        self._closed.pop(key, None)
        self._closed[key] = None
        while len(self._closed) > self.max_closed:
            old_key = next(iter(self._closed))
            del self._closed[old_key]
            old = self._orders.get(old_key)
            if old is None or not old.is_final:
                continue
            del self._orders[old_key]
            if old.order_id and self._by_order_id.get((old.venue, old.order_id)) is old:
                del self._by_order_id[(old.venue, old.order_id)]
            self.forgotten += 1
            self._forgotten[old_key] = None
            if len(self._forgotten) > FORGOTTEN_KEYS:
                del self._forgotten[next(iter(self._forgotten))]

    def forget_children(self, parent_id: str) -> int:
        """Forget the closed children of ``parent_id`` (an ended chase nothing reads any more; the journal
        keeps them); how many.  A child still live stays."""
        gone = [o for o in self._orders.values() if o.parent_id == parent_id and o.is_final]
        for old in gone:
            del self._orders[old.key]
            if old.order_id and self._by_order_id.get((old.venue, old.order_id)) is old:
                del self._by_order_id[(old.venue, old.order_id)]
            self.forgotten += 1
            self._forgotten[old.key] = None
        while len(self._forgotten) > FORGOTTEN_KEYS:
            del self._forgotten[next(iter(self._forgotten))]
        return len(gone)

    def was_forgotten(self, venue: str, client_order_index: int) -> bool:
        """True for a closed order this store let go of (it is in the journal)."""
        return (venue, client_order_index) in self._forgotten

    def set_order_id(self, order: Order, order_id: str) -> None:
        order.order_id = order_id
        self._by_order_id[(order.venue, order_id)] = order

    def park_fill(self, venue: str, fill: Fill) -> None:
        """Keep a fill for an order we do not know yet: the reconciler may adopt it later."""
        if len(self._orphan_fills) >= MAX_ORPHAN_ORDERS:
            del self._orphan_fills[next(iter(self._orphan_fills))]
        self._orphan_fills.setdefault((venue, fill.client_order_index), []).append(fill)

    def take_parked(self, key: tuple[str, int]) -> list[Fill]:
        return self._orphan_fills.pop(key, [])

    # -- changes: journaled, then announced ------------------------------------------------

    def move(self, order: Order, target: OrderStatus, reason: str) -> None:
        """Change state along ``ALLOWED`` (or a reconcile revert); any other move is ignored."""
        if target == order.state:
            return
        if target not in ALLOWED[order.state] and (order.state, target) not in REVERTS_ON_RECONCILE:
            log.debug("%s order %s: ignored %s -> %s (%s)", order.venue, order_name(order), order.state, target, reason)
            return
        self.force(order, target, reason)

    def force(self, order: Order, target: OrderStatus, reason: str) -> None:
        """Change state without consulting the table (adoption, or the venue reviving an order)."""
        t = Transition(self.clock.now_ms(), order.state, target, reason)
        order.state = target
        order.reason = reason
        self.record(order, t)
        order.wake_waiters()

    def note(self, order: Order, reason: str) -> None:
        """A reason worth showing without a state change (a refused cancel or amend)."""
        order.reason = reason
        self.record(order, Transition(self.clock.now_ms(), order.state, order.state, reason))

    def record(self, order: Order, t: Transition) -> None:
        if t.to_state != t.from_state:
            level = logging.WARNING if t.to_state is OrderStatus.UNKNOWN else logging.INFO
            log.log(
                level, "%s order %s: %s -> %s (%s)", order.venue, order_name(order), t.from_state, t.to_state, t.reason
            )
        order.history.append(t)
        order.updated_ms = t.ts_ms
        if self.journal is not None:
            self.journal.record_transition(order, t)  # journaled before anyone is told
        self.listeners.emit(order)
        self._retire(order)

    def announce(self, order: Order) -> None:
        """A change that is not a transition (more filled): journal it, then tell listeners."""
        order.updated_ms = self.clock.now_ms()
        self.save(order)
        self.listeners.emit(order)
        self._retire(order)

    def save(self, order: Order) -> None:
        """Journal the order as it is, telling no one (it is new and nothing was sent yet)."""
        if self.journal is not None:
            self.journal.save_order(order)

    def record_fill(self, order: Order, fill: Fill) -> None:
        if self.journal is not None:
            self.journal.record_fill(order, fill)
