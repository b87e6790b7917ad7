"""Between the runtime's events and the screen: keep the latest state per key, hand it over per frame.

Service listeners run synchronously on every tick; they only mark what changed (a set add or a
dict store).  The screen drains this on a 20–30 Hz timer and reads the current state from the
services, so a book that changes thousands of times a second costs one repaint per frame, and
the keys never lag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector.interface import ConnectionEvent, Fill

if TYPE_CHECKING:
    from execution.algos import WorkingOrder
    from execution.orders import Order
    from execution.reconciler import ReconcileRecord
    from execution.risk import TradingState
    from execution.runtime import Runtime
    from execution.tracking import ChaseEvent, TrackingLimit

MarketKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of the event log: connections, reconciliation, trading state."""

    ts_ms: int
    kind: str
    venue: str
    message: str
    severity: str = "information"
    notify: bool = False


@dataclass(slots=True)
class Batch:
    books: set[MarketKey] = field(default_factory=set)
    orders: dict[tuple[str, int], Order] = field(default_factory=dict)
    fills: list[tuple[str, str, Fill]] = field(default_factory=list)
    """(venue, canonical symbol, fill), each fill once."""
    account: bool = False
    """A position or a venue's margin changed."""
    chases: dict[str, TrackingLimit] = field(default_factory=dict)
    chase_events: list[tuple[TrackingLimit, ChaseEvent]] = field(default_factory=list)
    algos: set[str] = field(default_factory=set)
    """Ids of the scales and TWAPs that changed (``runtime.algos``)."""
    log: list[LogLine] = field(default_factory=list)
    connection: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.books or self.orders or self.fills or self.account or self.chases or self.algos or self.connection
        )


class Bridge:
    """Collects changes from the runtime's services; ``take()`` returns them and starts a fresh batch."""

    def __init__(self) -> None:
        self._batch = Batch()
        self.events_seen = 0
        self._stream_states: dict[tuple[str, str], str] = {}
        self.wake: Callable[[], None] | None = None
        """Called when a book or an order changed (the screen's ``Flusher.poke``: paint soon)."""

    def book_changed(self, venue: str, symbol: str) -> None:
        self.events_seen += 1
        self._batch.books.add((venue, symbol))
        if self.wake is not None:
            self.wake()

    def order_changed(self, order: Order) -> None:
        self.events_seen += 1
        self._batch.orders[(order.venue, order.client_order_index)] = order
        if self.wake is not None:
            self.wake()

    def fill(self, venue: str, symbol: str, fill: Fill) -> None:
        self.events_seen += 1
        self._batch.fills.append((venue, symbol, fill))

    def account_changed(self, venue: str, symbol: str | None) -> None:
        self.events_seen += 1
        self._batch.account = True

    def chase(self, chase: TrackingLimit, event: ChaseEvent) -> None:
        self.events_seen += 1
        self._batch.chases[chase.id] = chase
        if event.kind in ("ended", "error", "limit_reached"):
            self._batch.chase_events.append((chase, event))

    def algo(self, algo: WorkingOrder) -> None:
        self.events_seen += 1
        self._batch.algos.add(algo.id)

    def connection(self, event: ConnectionEvent) -> None:
        state = str(event.state.value)
        key = (event.venue, event.stream)
        was = self._stream_states.get(key)
        self._stream_states[key] = state
        bad = state == "disconnected"
        back = state == "connected" and was == "disconnected"
        text = f"{event.stream} {'reconnected' if back else state}" + (f": {event.reason}" if event.reason else "")
        self._batch.log.append(LogLine(event.ts_ms, "connection", event.venue, text,
                                       "warning" if bad else "information", notify=bad or back))
        self._batch.connection = True

    def reconciled(self, record: ReconcileRecord) -> None:
        routine = record.subject == "reconcile"
        self._batch.log.append(LogLine(record.ts_ms, "reconcile", record.venue,
                                       f"{record.subject}: {record.change} ({record.reason})",
                                       "warning", notify=not routine))

    def trading_state(self, ts_ms: int, state: TradingState, reason: str) -> None:
        value = str(state.value)
        self._batch.log.append(LogLine(ts_ms, "risk", "", f"trading {value}" + (f": {reason}" if reason else ""),
                                       "information" if value == "ACTIVE" else "warning", notify=True))
        self._batch.connection = True

    def take(self) -> Batch:
        batch, self._batch = self._batch, Batch()
        return batch

    def attach(self, runtime: Runtime) -> None:
        """Listen to the runtime and its services (console → execution; never to a connector directly)."""
        clock = runtime.clock
        runtime.market_data.add_listener(self.book_changed)
        runtime.orders.add_listener(self.order_changed)
        runtime.positions.add_listener(self.account_changed)
        runtime.positions.add_fill_listener(self.fill)
        runtime.leverage.add_listener(lambda setting: self.account_changed(setting.venue, setting.symbol))
        runtime.tracking.add_listener(self.chase)
        runtime.algos.add_listener(self.algo)
        runtime.reconciler.add_listener(self.reconciled)
        runtime.risk.add_listener(lambda state, reason: self.trading_state(clock.now_ms(), state, reason))
        runtime.add_connection_listener(self.connection)
