"""Merging what the venue says (stream snapshots and fills, query answers) into our orders.

The venue is the truth about an order; we keep our best picture of it and never let a
late, duplicated or out-of-order update make that picture worse:

* fills are de-duplicated by trade id, ``filled_i`` only grows, and FILLED is derived
  from ``filled_i >= size_i``;
* a venue snapshot that reports more filled than the fills we have seen is trusted
  (``filled_i = max(ours, venue's)``): fills can be lost in a stream gap while the
  snapshot is the venue's own count.  The missing fills stay missing from
  ``order.fills`` (positions come from the venue's position snapshots anyway);
* a REJECTED order the venue never gave an id (we concluded "never placed", or a refusal
  it accepted after all) follows the venue if the venue later shows it;
* an order the venue shows that we did not know is adopted, with any fills that came first.

The functions decide; ``VenueUpdates`` applies their decisions through the store.
"""

from __future__ import annotations

from collections.abc import Callable

from connector.clock import Clock
from connector.interface import Fill, OrderSnapshot, OrderStatus
from execution.orders.allocator import ClientOrderIndexAllocator
from execution.orders.model import ALLOWED, REVERTS_ON_RECONCILE, Order
from execution.orders.store import OrderStore

S = OrderStatus


def snapshot_target(order: Order, snap: OrderSnapshot) -> OrderStatus | None:
    """The state a venue snapshot means for ``order`` (its filled already merged); None if it says nothing new."""
    status = snap.status
    if status == S.FILLED or (order.filled_i >= order.size_i > 0):
        return S.FILLED
    if status in (S.CANCELLED, S.REJECTED, S.EXPIRED):
        return status
    if status in (S.OPEN, S.PARTIALLY_FILLED):
        return S.PARTIALLY_FILLED if order.filled_i > 0 else S.OPEN
    return None  # NEW / SUBMITTING / CANCELLING / UNKNOWN from a venue say nothing new


def fill_target(order: Order) -> OrderStatus | None:
    """The state a new fill means for ``order`` (its filled already merged); None to stay."""
    if order.filled_i >= order.size_i > 0:
        return S.FILLED
    if order.state in (S.SUBMITTING, S.OPEN, S.UNKNOWN):
        return S.PARTIALLY_FILLED
    return None


def may_move(order: Order, target: OrderStatus, authoritative: bool) -> bool:
    """Whether a venue update may move ``order`` to ``target``; only ``authoritative`` undoes a cancel."""
    if target in ALLOWED[order.state]:
        return True
    if (order.state, target) in REVERTS_ON_RECONCILE:
        return authoritative and order.request_inflight != "cancel"
    return False


def merge_filled(order: Order, venue_filled_i: int) -> bool:
    """Take the venue's filled count if it is more than ours; True if ours grew."""
    if venue_filled_i > order.filled_i:
        order.filled_i = venue_filled_i
        return True
    return False


def shows_rejected_order(order: Order, snap: OrderSnapshot) -> bool:
    """The venue shows, with its own id, an order we had as REJECTED without ever hearing of it from the venue."""
    return order.state == S.REJECTED and order.order_id is None and bool(snap.order_id) and snap.status != S.REJECTED


def adopted_order(venue: str, symbol: str, snap: OrderSnapshot, now_ms: int) -> Order:
    """A new ``Order`` for one the venue shows and we did not know, still NEW and with nothing filled."""
    return Order(
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
        created_ms=snap.ts_ms or now_ms,
        updated_ms=now_ms,
    )


class VenueUpdates:
    """Applies venue snapshots and fills to the orders in ``store``.  Idempotent: duplicates change nothing.

    ``canonical(venue, venue_symbol)`` names an adopted order's market.
    """

    def __init__(
        self,
        store: OrderStore,
        allocator: ClientOrderIndexAllocator,
        clock: Clock,
        canonical: Callable[[str, str], str],
    ) -> None:
        self.store = store
        self.allocator = allocator
        self.clock = clock
        self.canonical = canonical

    def apply_fill(self, venue: str, fill: Fill) -> Order | None:
        order = self.store.find(venue, fill.client_order_index, fill.order_id)
        if order is None:
            self.store.park_fill(venue, fill)
            return None
        self.add_fill(order, fill)
        return order

    def add_fill(self, order: Order, fill: Fill) -> None:
        if not order.take_fill(fill):
            return
        if order.order_id is None and fill.order_id:
            self.store.set_order_id(order, fill.order_id)
        self.store.record_fill(order, fill)
        merge_filled(order, sum(f.size_i for f in order.fills))
        target = fill_target(order)
        if target is not None and target != order.state and may_move(order, target, authoritative=False):
            self.store.move(order, target, f"fill {fill.trade_id}")
        else:
            self.store.announce(order)

    def apply_snapshot(
        self, venue: str, snap: OrderSnapshot, *, authoritative: bool = False, why: str = ""
    ) -> Order | None:
        """Merge the venue's view.  ``authoritative`` marks the reconciler's settled REST answer."""
        order = self.store.find(venue, snap.client_order_index, snap.order_id)
        if order is None:
            if not snap.status.is_live and self.store.was_forgotten(venue, snap.client_order_index):
                return None  # a late word on an order closed long ago: the journal has it
            return self._adopt(venue, snap, why or "venue reports an order we did not know")
        if shows_rejected_order(order, snap):
            self._revive(order, snap, why)
            return order
        if snap.order_id and order.order_id != snap.order_id:
            self.store.set_order_id(order, snap.order_id)
        if order.size_i <= 0 < snap.size_i:
            order.size_i = snap.size_i
        filled_changed = merge_filled(order, snap.filled_i)
        target = snapshot_target(order, snap)
        source = why or ("venue" if not authoritative else "venue query")
        reason = snap.reason or f"{source}: {snap.status}"
        if target is not None and target != order.state and may_move(order, target, authoritative):
            self.store.move(order, target, reason)
        elif filled_changed:
            self.store.announce(order)
        return order

    def _revive(self, order: Order, snap: OrderSnapshot, why: str) -> None:
        """The venue shows an order we had as REJECTED without ever hearing of it from the venue.

        That REJECTED was our inference (no record at the venue yet) or a refusal whose
        order the venue accepted after all; an order resting unseen is worse than breaking
        absorption, so the venue's state wins and the history says so.
        """
        self.store.set_order_id(order, snap.order_id or "")
        merge_filled(order, snap.filled_i)
        target = snapshot_target(order, snap) or S.UNKNOWN
        self.store.force(order, target, f"{why or 'venue'}: the venue shows the order after all ({snap.status})")

    def _adopt(self, venue: str, snap: OrderSnapshot, why: str) -> Order:
        order = adopted_order(venue, self.canonical(venue, snap.symbol), snap, self.clock.now_ms())
        self.store.register(order)
        self.allocator.observe(venue, snap.client_order_index)
        merge_filled(order, snap.filled_i)
        self.store.save(order)
        target = snapshot_target(order, snap) or S.UNKNOWN
        # an adopted order skips the submit path: record the single jump from NEW
        self.store.force(order, target, f"adopted: {why}")
        for fill in self.store.take_parked(order.key):
            self.add_fill(order, fill)
        return order
