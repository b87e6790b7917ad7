"""What every connector shares: lifecycle, capabilities and event fan-out.

Transport mechanics (websocket supervision, HTTP with retries and rate limits, key
loading) are added here or in helpers beside this module, never copied into a
venue module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from connector.clock import Clock, RealClock
from connector.interface import EVENT_KINDS, ConnectionEvent, ConnectionState, Handler

log = logging.getLogger(__name__)


class BaseConnector:
    """Subclasses set ``venue`` and ``capabilities`` and call ``emit`` from their streams."""

    venue: str = "base"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self._handlers: dict[str, list[Handler]] = {k: [] for k in EVENT_KINDS}
        self.handler_errors = 0
        self.started = False
        self.connection_state: dict[str, ConnectionState] = {}

    def add_handler(self, kind: str, handler: Handler) -> None:
        if kind not in self._handlers:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(EVENT_KINDS)}")
        self._handlers[kind].append(handler)

    def remove_handler(self, kind: str, handler: Handler) -> None:
        if handler in self._handlers.get(kind, []):
            self._handlers[kind].remove(handler)

    def emit(self, kind: str, event: Any) -> None:
        """Deliver one event to every handler; a failing handler is logged, never fatal to the stream."""
        for handler in self._handlers[kind]:
            try:
                handler(event)
            except Exception:
                self.handler_errors += 1
                log.exception("%s: %s handler failed", self.venue, kind)

    def set_connection(self, stream: str, state: ConnectionState, reason: str = "") -> None:
        if self.connection_state.get(stream) == state and not reason:
            return
        self.connection_state[stream] = state
        self.emit("connection", ConnectionEvent(self.venue, stream, state, reason, self.clock.now_ms()))

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} venue={self.venue}>"
