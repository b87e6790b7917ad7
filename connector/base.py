"""What every connector shares: lifecycle, capabilities, event fan-out and transports.

The transport mechanics live in helpers beside this module and are never copied into a
venue module: ``connector.transport.ws.WsSupervisor`` (reconnect, backoff, resubscribe, malformed-frame
count), ``connector.transport.http.HttpClient`` (timeouts, retries, 429), ``connector.transport.ratelimit``
(token bucket, backoff) and ``connector.keys`` (key files, ``Secret``, log masking).
``supervise_ws`` and ``http_client`` build them wired to this connector's clock and
connection events, ``spawn`` runs what drives them (a keep-alive, a token renewal), and ``stop``
ends all three.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from connector.clock import Clock, RealClock
from connector.errors import InvalidOrder, VenueError
from connector.interface import EVENT_KINDS, ConnectionEvent, ConnectionState, Handler, MarketInfo
from connector.transport.ws import ConnectHook, MessageHandler, WsSupervisor

if TYPE_CHECKING:
    # httpx (through HttpClient) is imported by the first ``http_client`` call: the sim never makes one
    from connector.transport.http import HttpClient

log = logging.getLogger(__name__)

Emit = Callable[[str, Any], None]
"""``BaseConnector.emit``, as a venue's stream receives it."""


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
        self.streams: dict[str, WsSupervisor] = {}
        """stream name -> its websocket supervisor (see ``supervise_ws``)."""
        self._http_clients: list[HttpClient] = []
        self._markets: dict[str, MarketInfo] = {}
        """symbol -> market, filled by the venue's ``list_markets`` (a venue may keep its own map instead)."""
        self._tasks: list[asyncio.Task[None]] = []

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

    def supervise_ws(
        self,
        stream: str,
        url: str,
        *,
        on_message: MessageHandler,
        on_connect: ConnectHook | None = None,
        **options: Any,
    ) -> WsSupervisor:
        """A websocket reported as connection stream ``stream``; ``on_connect`` (re)subscribes.

        Started by ``start_streams`` (or its own ``start``), stopped by ``stop``.  ``options`` go
        to ``WsSupervisor`` (``parse``, ``stale_after_s``, ``rng``, backoff bounds, ...).
        """
        if stream in self.streams:
            raise ValueError(f"{self.venue}: stream {stream!r} is already supervised")
        supervisor = WsSupervisor(
            url,
            on_message=on_message,
            on_connect=on_connect,
            on_state=lambda state, reason: self.set_connection(stream, state, reason),
            name=f"{self.venue}.{stream}",
            clock=self.clock,
            **options,
        )
        self.streams[stream] = supervisor
        return supervisor

    def http_client(self, base_url: str, **options: Any) -> HttpClient:
        """An ``HttpClient`` on this connector's clock, closed by ``stop``."""
        from connector.transport.http import HttpClient

        client = HttpClient(base_url, venue=self.venue, clock=self.clock, **options)
        self._http_clients.append(client)
        return client

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task that runs while the connector does (a keep-alive, a token renewal); ``stop`` cancels it."""
        task = asyncio.create_task(coro, name=f"{self.venue}-{name}")
        self._tasks.append(task)
        return task

    @property
    def malformed_frames(self) -> int:
        """Frames dropped as unparseable across every supervised stream."""
        return sum(s.malformed_frames for s in self.streams.values())

    @property
    def reconnects(self) -> int:
        """Connections reopened after a drop, across every supervised stream."""
        return sum(max(0, s.connects - 1) for s in self.streams.values())

    async def start_streams(self) -> None:
        for supervisor in self.streams.values():
            await supervisor.start()

    async def close_transports(self) -> None:
        """Cancel the spawned tasks (they use the transports), stop every stream and close every HTTP
        client (each failure logged, none fatal)."""
        for task in self._tasks:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("%s: task %s failed", self.venue, task.get_name())
        for supervisor in self.streams.values():
            try:
                await supervisor.stop()
            except Exception:
                log.exception("%s: stopping %s failed", self.venue, supervisor.name)
        for client in self._http_clients:
            try:
                await client.aclose()
            except Exception:
                log.exception("%s: closing %r failed", self.venue, client)
        # a stopped connector can be started again with fresh transports
        self._tasks.clear()
        self.streams.clear()
        self._http_clients.clear()

    def _market(self, symbol: str) -> MarketInfo:
        """The market ``list_markets`` loaded, or ``InvalidOrder`` naming a few that exist."""
        try:
            return self._markets[symbol]
        except KeyError:
            known = ", ".join(sorted(self._markets)[:12])
            raise InvalidOrder(f"{self.venue} has no perp {symbol!r}" + (f"; e.g. {known}" if known else "")) from None

    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]:
        m = self._market(symbol)
        return m.price_decimals, m.size_decimals

    async def get_min_size_i(self, symbol: str) -> int:
        return self._market(symbol).min_size_i

    async def market_worst_price(self, symbol: str, is_ask: bool, slippage_bps: int) -> int:
        """The worst price a market order may fill at: our side's opposite touch moved ``slippage_bps`` against us.

        Venues without a true market order (or that want a cap) send an aggressive IOC at this price.
        """
        bid, ask, _ = await self.get_top_of_book(symbol)  # type: ignore[attr-defined]  # every IConnector has it
        touch = bid if is_ask else ask
        if touch is None:
            raise VenueError(f"{self.venue} {symbol}: no {'bid' if is_ask else 'ask'} to cap a market order against")
        move = touch * slippage_bps // 10_000
        return max(1, touch - move) if is_ask else touch + move

    async def whole_position_size(self, symbol: str, kind: str, *, is_ask: bool, reduce_only: bool) -> int:
        """The size a whole-position trigger closes on a venue that holds a fixed size: what is held now, on
        the side the trigger closes (``InvalidOrder`` if nothing is, or the trigger would not be reduce-only)."""
        if not reduce_only:
            raise InvalidOrder("a whole-position trigger is reduce-only")
        positions = await self.get_positions()  # type: ignore[attr-defined]  # every IConnector has it
        pos = next((p.size_i for p in positions if p.symbol == symbol), 0)
        if pos == 0 or (pos > 0) != is_ask:
            raise InvalidOrder(f"{self.venue} {symbol}: no position for a whole-position {kind} to close")
        return int(abs(pos))

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        """Subclasses that override this call ``await super().stop()`` to close the transports."""
        await self.close_transports()
        self.started = False

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} venue={self.venue}>"
