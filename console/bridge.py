"""Between the runtime's events and the screen: keep the latest state per key, hand it over per frame.

Connector and service callbacks run synchronously on every tick; they only mark what changed
(a set add or a dict store).  The app drains this on a 20–30 Hz timer, so a book that changes
thousands of times a second costs one repaint per frame, and the keys never lag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.interface import ConnectionEvent, Fill, Margin, Position

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
    orders: dict[tuple[str, int], Any] = field(default_factory=dict)
    fills: list[tuple[str, Fill]] = field(default_factory=list)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    margins: dict[str, Margin] = field(default_factory=dict)
    chases: dict[str, Any] = field(default_factory=dict)
    chase_events: list[tuple[Any, Any]] = field(default_factory=list)
    log: list[LogLine] = field(default_factory=list)
    connection: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.books or self.orders or self.fills or self.positions or self.margins or self.chases or self.connection
        )


class Bridge:
    """Collects changes from the runtime; ``take()`` returns them and starts a fresh batch."""

    def __init__(self) -> None:
        self._batch = Batch()
        self.events_seen = 0
        self._stream_states: dict[tuple[str, str], str] = {}

    def book_changed(self, venue: str, symbol: str) -> None:
        self.events_seen += 1
        self._batch.books.add((venue, symbol))

    def order_changed(self, order: Any) -> None:
        self.events_seen += 1
        self._batch.orders[(order.venue, order.client_order_index)] = order

    def fill(self, venue: str, fill: Fill) -> None:
        self.events_seen += 1
        self._batch.fills.append((venue, fill))

    def position(self, venue: str, position: Position) -> None:
        self.events_seen += 1
        self._batch.positions[(venue, position.symbol)] = position

    def margin(self, venue: str, margin: Margin) -> None:
        self.events_seen += 1
        self._batch.margins[venue] = margin

    def chase(self, chase: Any, event: Any) -> None:
        self.events_seen += 1
        self._batch.chases[chase.id] = chase
        if event.kind in ("ended", "error", "limit_reached"):
            self._batch.chase_events.append((chase, event))

    def connection(self, event: ConnectionEvent) -> None:
        self._batch.connection = True

    def runtime_connection(self, event: ConnectionEvent) -> None:
        state = str(getattr(event.state, "value", event.state))
        key = (event.venue, event.stream)
        was = self._stream_states.get(key)
        self._stream_states[key] = state
        bad = state == "disconnected"
        back = state == "connected" and was == "disconnected"
        text = f"{event.stream} {'reconnected' if back else state}" + (f": {event.reason}" if event.reason else "")
        self._batch.log.append(LogLine(event.ts_ms, "connection", event.venue, text,
                                       "warning" if bad else "information", notify=bad or back))

    def reconciled(self, record: Any) -> None:
        routine = record.subject == "reconcile"
        self._batch.log.append(LogLine(record.ts_ms, "reconcile", record.venue,
                                       f"{record.subject}: {record.change} ({record.reason})",
                                       "warning", notify=not routine))

    def trading_state(self, ts_ms: int, state: Any, reason: str) -> None:
        value = str(getattr(state, "value", state))
        self._batch.log.append(LogLine(ts_ms, "risk", "", f"trading {value}" + (f": {reason}" if reason else ""),
                                       "information" if value == "ACTIVE" else "warning", notify=True))
        self._batch.connection = True

    def take(self) -> Batch:
        batch, self._batch = self._batch, Batch()
        return batch

    def attach(self, runtime: Any) -> None:
        """Register with the runtime's services and connectors (console → execution → connector)."""
        runtime.market_data.add_listener(self.book_changed)
        orders = getattr(runtime, "orders", None)
        if orders is not None:
            orders.add_listener(self.order_changed)
        tracking = getattr(runtime, "tracking", None)
        if tracking is not None:
            tracking.add_listener(self.chase)
        add_connection_listener = getattr(runtime, "add_connection_listener", None)
        if add_connection_listener is not None:
            add_connection_listener(self.runtime_connection)
        reconciler = getattr(runtime, "reconciler", None)
        if reconciler is not None:
            reconciler.add_listener(self.reconciled)
        risk = getattr(runtime, "risk", None)
        if risk is not None and hasattr(risk, "add_listener"):
            clock = runtime.clock
            risk.add_listener(lambda state, reason: self.trading_state(clock.now_ms(), state, reason))
        for venue, connector in connectors_of(runtime).items():
            connector.add_handler("fill", lambda f, v=venue: self.fill(v, f))
            connector.add_handler("position", lambda p, v=venue: self.position(v, p))
            connector.add_handler("margin", lambda m, v=venue: self.margin(v, m))
            connector.add_handler("connection", self.connection)


def connectors_of(runtime: Any) -> dict[str, Any]:
    conns = runtime.connectors
    if isinstance(conns, dict):
        return dict(conns)
    return {c.venue: c for c in conns}
