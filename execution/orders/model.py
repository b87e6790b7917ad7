"""The order model: ``Order``, ``Transition``, the one table of state changes there are, and what an amend may ask.

Pure: nothing here talks to a venue, the journal or a listener, so the journal can
read and write orders without depending on the service that runs them.

* every state change goes through ``ALLOWED``; anything else is ignored, so a stale
  ``OPEN`` never undoes a ``CANCELLING`` or a ``FILLED``;
* final states (FILLED, CANCELLED, REJECTED, EXPIRED) are absorbing, with one exception
  the updates module owns: a REJECTED order the venue never gave an id follows the venue
  if the venue later shows it, since an order resting unseen is the worse error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from connector.errors import InvalidOrder
from connector.interface import Fill, OrderStatus

S = OrderStatus

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


class AmendNotSupported(NotImplementedError):
    """The venue cannot re-price an order in place; cancel and replace instead."""


class VenueDisconnected(InvalidOrder):
    """A new order or chase refused because the venue's connection is not CONNECTED: it would go out
    blind and likely sit UNKNOWN.  ``allow_disconnected=True`` sends it anyway; cancels are always sent."""

    def __init__(self, venue: str, state: str) -> None:
        super().__init__(
            f"{venue} is {state}, not connected: not sent (send anyway with allow_disconnected=True)",
            info={"venue": venue, "state": state},
        )
        self.venue = venue
        self.state = state


@dataclass(frozen=True, slots=True)
class Transition:
    ts_ms: int
    from_state: OrderStatus
    to_state: OrderStatus
    reason: str = ""


@dataclass(eq=False)
class Order:
    """Our picture of one order.  Mutated only by the orders package; read by everyone."""

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
    refusal: Exception | None = field(default=None, repr=False)
    """The venue's refusal of the submission (``InsufficientMargin``, ...), for callers that treat some as final."""

    def __post_init__(self) -> None:
        self._trade_ids.update(f.trade_id for f in self.fills)

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

    def take_fill(self, fill: Fill) -> bool:
        """Add a fill once: False for a trade id already seen (venues resend fills)."""
        if fill.trade_id in self._trade_ids:
            return False
        self._trade_ids.add(fill.trade_id)
        self.fills.append(fill)
        return True

    def wake_waiters(self) -> None:
        """Release ``wait_final`` callers once the order is final."""
        if self.is_final and self._final_event is not None:
            self._final_event.set()

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


def order_name(order: Order) -> str:
    """How an order is named to the operator, in the console's Orders tab (its "Order id" column) and
    in every log line about it: the venue's order id once the venue has given one, ``#`` and our
    client order index before that (an order the venue never answered for, often UNKNOWN)."""
    return order.order_id or f"#{order.client_order_index}"


def amended_size(order: Order, capabilities: frozenset[str], price_i: int, size_i: int | None) -> int:
    """The new total size of an amend to ``price_i`` (and ``size_i``), once the venue can make it.

    Raises ``AmendNotSupported`` where the venue lacks ``"amend"`` and ``InvalidOrder`` for
    an order that is not resting or a price or size the amend cannot have.
    """
    if "amend" not in capabilities:
        raise AmendNotSupported(f"{order.venue} cannot amend orders in place; cancel and replace instead")
    if order.state not in (S.OPEN, S.PARTIALLY_FILLED):
        raise InvalidOrder(f"order {order.client_order_index} is {order.state}; only a resting order can be amended")
    if price_i <= 0:
        raise InvalidOrder(f"limit price must be positive, got {price_i}")
    new_size = order.size_i if size_i is None else size_i
    if "amend_fill_safe" in capabilities and new_size > order.size_i:
        # a fill-safe venue never lets an amend grow an order: it caps at what is left
        raise InvalidOrder(
            f"{order.venue} amends cannot grow an order (it caps at what is left); place another order instead"
        )
    if new_size <= order.filled_i:
        raise InvalidOrder(f"new size {new_size} must exceed the filled {order.filled_i}")
    return new_size
