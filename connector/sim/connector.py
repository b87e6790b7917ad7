"""The embedded simulated venue behind ``IConnector`` (venue slug ``sim``).

A runner task advances the ``SimEngine`` on the injected clock (real time in the
console, virtual time in tests).  Requests pay an optional latency on the clock
(half on the way in, half on the way back), and tests can inject faults: a
rejection, a lost response (the venue applied the request but the caller never
hears), a refused cancel, or a stream outage whose events are lost for good.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from connector.base import BaseConnector
from connector.checks import require_ints
from connector.clock import Clock
from connector.errors import InvalidOrder, OrderRejected, VenueError
from connector.funding import poll_funding
from connector.interface import (
    TRIGGER_KINDS,
    BookUpdate,
    ConnectionState,
    Fill,
    FundingSnapshot,
    LeverageInfo,
    Margin,
    MarketInfo,
    OrderSnapshot,
    Position,
    Trade,
    TriggerSnapshot,
)
from connector.sim.engine import SimEngine
from connector.sim.funding import sim_funding
from connector.sim.triggers import SOURCES, SimTriggers

log = logging.getLogger(__name__)

T = TypeVar("T")

STREAM = "stream"
_KIND: dict[type, str] = {
    BookUpdate: "book",
    Trade: "trade",
    OrderSnapshot: "order",
    Fill: "fill",
    Position: "position",
    Margin: "margin",
}


class SimConnector(BaseConnector):
    """The sim venue; ``engine`` is exposed so tests and the fakes can move its market."""

    venue = "sim"
    capabilities = frozenset({"amend", "amend_fill_safe", "dead_man_switch", "native_triggers", "leverage", "funding"})
    trigger_kinds = frozenset(TRIGGER_KINDS)
    trigger_sources = SOURCES
    trigger_follows_position = True
    """A close-position trigger closes the whole position when it fires (``connector.sim.triggers``)."""

    def __init__(
        self,
        *,
        engine: SimEngine | None = None,
        clock: Clock | None = None,
        seed: int = 7,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        step_ms: int = 100,
        collateral_q: int | None = None,
        fill_safe_amend: bool = True,
    ) -> None:
        super().__init__(clock=clock or (engine.clock if engine is not None else None))
        self.fill_safe_amend = fill_safe_amend
        """Amends never re-grow an order that filled meanwhile; off, the sim behaves like a venue
        that applies the sent remaining as is (for tests of what that costs)."""
        if not fill_safe_amend:
            self.capabilities = frozenset(self.capabilities - {"amend_fill_safe"})
        if engine is None:
            extra = {} if collateral_q is None else {"collateral_q": collateral_q}
            engine = SimEngine(seed, clock=self.clock, step_ms=step_ms, **extra)
        self.engine = engine
        self.triggers: SimTriggers = engine.triggers
        self.margin_modes: dict[str, str] = {}
        """symbol -> "cross" / "isolated" as last set (recorded only: the sim margins everything cross)."""
        """The trigger orders the venue holds (``native_triggers``); they live in the engine, like its orders."""
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        """Each request's latency is ``latency_ms`` plus a seeded uniform draw in ``[0, jitter_ms)``."""
        self._jitter = random.Random(f"perpdesk-sim-latency:{seed}")
        self.dropped_events = 0
        """Stream events lost while disconnected."""
        self._faults: list[tuple[str, str]] = []
        self._md_symbols: set[str] = set()
        self._stream_up = False
        self._requests_down = False
        self._runner: asyncio.Task[None] | None = None
        self._dms: asyncio.Task[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.set_connection(STREAM, ConnectionState.CONNECTING)
        self.engine.advance_to(self.clock.now_ms())
        self.engine.subscribe(self._on_engine_event, self._md_symbols)
        self._stream_up = True
        self.engine.send_books(sorted(self._md_symbols))
        self._runner = asyncio.create_task(self._run(), name="sim-venue")
        await super().start()
        self.spawn(poll_funding(self._funding, self.emit, self.clock, venue=self.venue), "funding")
        self.set_connection(STREAM, ConnectionState.CONNECTED)

    async def stop(self) -> None:
        for task in (self._runner, self._dms, self._reconnect):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._runner = self._dms = self._reconnect = None
        self.engine.unsubscribe(self._on_engine_event)
        self._stream_up = False
        await super().stop()
        self.set_connection(STREAM, ConnectionState.STOPPED)

    async def _run(self) -> None:
        step_s = self.engine.step_ms / 1000
        while True:
            await self.clock.sleep(step_s)
            try:
                self.engine.advance_to(self.clock.now_ms())
            except Exception as exc:
                # a failing step would fail again on every retry: stop the market and say so
                log.exception("sim: a market step failed; the simulated market is stopped")
                self.set_connection(STREAM, ConnectionState.DISCONNECTED, f"sim engine failed: {exc}")
                return

    def _on_engine_event(self, event: Any) -> None:
        if not self._stream_up:
            self.dropped_events += 1
            return
        self.emit(_KIND[type(event)], event)

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        """Books (top 20, snapshots) and trades for ``symbols``; a new symbol's first snapshot comes at once."""
        wanted = set(symbols)
        for s in wanted:
            self._market(s)
        new = sorted(wanted - self._md_symbols)
        self._md_symbols |= wanted
        if self._runner is not None:
            self.engine.subscribe(self._on_engine_event, self._md_symbols)
            if self._stream_up:
                self.engine.send_books(new)
            for snap in await self._funding(new):
                self.emit("funding", snap)

    async def _funding(self, symbols: list[str] | None = None) -> list[FundingSnapshot]:
        """Funding for the subscribed markets (none while the stream is down: the events are lost)."""
        if not self._stream_up:
            return []
        return sim_funding(self.engine, sorted(self._md_symbols) if symbols is None else symbols, self.clock.now_ms())

    def inject_reject(self, message: str = "rejected by the venue (injected)", *, count: int = 1) -> None:
        """The next ``count`` order entries (submit, modify) are refused without reaching the book."""
        self._faults.extend([("reject", message)] * count)

    def inject_cancel_reject(self, message: str = "cancel refused by the venue (injected)", *, count: int = 1) -> None:
        """The next ``count`` cancels raise ``OrderRejected`` and leave the order working."""
        self._faults.extend([("cancel_reject", message)] * count)

    def inject_drop(self, *, count: int = 1) -> None:
        """The next ``count`` changing requests reach the venue, but their responses are lost (``VenueError``)."""
        self._faults.extend([("drop", "")] * count)

    def disconnect(
        self, duration_s: float | None = 1.0, reason: str = "connection lost (injected)", *, requests: bool = False
    ) -> None:
        """Drop the streams now; every event until the reconnect is lost, not delayed.

        ``duration_s=None`` stays down until ``reconnect()``.  With ``requests=True`` requests fail
        too (``VenueError``, nothing reaches the venue) for the same time.  After reconnecting the
        venue sends fresh book snapshots (next step), positions and margin, like a resubscribe would.
        """
        self._stream_up = False
        self._requests_down = requests
        self.set_connection(STREAM, ConnectionState.DISCONNECTED, reason)
        if self._reconnect is not None:
            self._reconnect.cancel()
            self._reconnect = None
        if duration_s is not None:
            self._reconnect = asyncio.create_task(self._reconnect_after(duration_s), name="sim-reconnect")

    async def _reconnect_after(self, duration_s: float) -> None:
        await self.clock.sleep(duration_s)
        self._reconnect = None
        self.reconnect()

    def reconnect(self) -> None:
        if self._stream_up or not self.started:
            return
        self.set_connection(STREAM, ConnectionState.CONNECTING)
        self._stream_up = True
        self._requests_down = False
        self.engine.subscribe(self._on_engine_event, self._md_symbols)
        self.set_connection(STREAM, ConnectionState.CONNECTED)
        for pos in self.engine.positions():
            self.emit("position", pos)
        self.emit("margin", self.engine.margin())

    def _take_fault(self, *kinds: str) -> tuple[str, str] | None:
        for i, fault in enumerate(self._faults):
            if fault[0] in kinds:
                return self._faults.pop(i)
        return None

    async def _request(self, kind: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One request/response round trip with latency and (for ``order``/``cancel``) faults."""
        fault = None
        if kind == "order":
            fault = self._take_fault("reject", "drop")
        elif kind == "cancel":
            fault = self._take_fault("cancel_reject", "drop")
        if self._requests_down:
            raise VenueError("sim: not connected (injected outage); the request was not sent")
        latency_ms = self.latency_ms + (self._jitter.random() * self.jitter_ms if self.jitter_ms else 0.0)
        half_s = latency_ms / 2000
        if half_s > 0:
            await self.clock.sleep(half_s)
        self.engine.advance_to(self.clock.now_ms())
        if fault is not None and fault[0] in ("reject", "cancel_reject"):
            if half_s > 0:
                await self.clock.sleep(half_s)
            raise OrderRejected(fault[1], info={"injected": fault[0]})
        error: Exception | None = None
        result: Any = None
        try:
            result = fn(*args, **kwargs)
        except (VenueError, InvalidOrder) as exc:
            error = exc
        if half_s > 0:
            await self.clock.sleep(half_s)
        if fault is not None:
            raise VenueError(
                "sim: the response was lost (injected); the request reached the venue", info={"injected": "drop"}
            )
        if error is not None:
            raise error
        return result

    def _market(self, symbol: str) -> MarketInfo:
        m = self.engine.markets.get(symbol)
        if m is None:
            raise InvalidOrder(f"unknown sim market {symbol!r}; markets: {', '.join(self.engine.markets)}")
        return m

    async def list_markets(self) -> list[MarketInfo]:
        return list(self.engine.markets.values())

    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]:
        m = self._market(symbol)
        return m.price_decimals, m.size_decimals

    async def get_min_size_i(self, symbol: str) -> int:
        return self._market(symbol).min_size_i

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        m = self._market(symbol)
        bid, ask = await self._request("query", self.engine.top, symbol)
        return bid or None, ask or None, 10**m.price_decimals

    async def submit_limit_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> str:
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        snap = await self._request(
            "order", self.engine.place, symbol, client_order_index=client_order_index, is_ask=is_ask,
            price_i=price, size_i=base_amount, tif="POST_ONLY" if post_only else "GTC", reduce_only=reduce_only,
        )  # fmt: skip
        return str(snap.order_id)

    async def submit_market_order(
        self, *, symbol: str, client_order_index: int, size_i: int, is_ask: bool, reduce_only: bool = False
    ) -> str:
        require_ints(client_order_index=client_order_index, size_i=size_i)
        snap = await self._request(
            "order", self.engine.place, symbol, client_order_index=client_order_index, is_ask=is_ask,
            price_i=0, size_i=size_i, tif="MARKET", reduce_only=reduce_only,
        )  # fmt: skip
        return str(snap.order_id)

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        snap = await self._request(
            "order",
            self.engine.amend,
            symbol,
            client_order_index=client_order_index,
            price_i=price,
            size_i=base_amount,
            cap_to_remaining=self.fill_safe_amend,
        )
        return str(snap.order_id)

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        await self._request("cancel", self.engine.cancel, symbol, client_order_index=client_order_index)

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        await self._request("cancel", self.engine.cancel, symbol, order_id=order_id)

    async def cancel_all(self, symbol: str | None = None) -> None:
        await self._request("cancel", self.engine.cancel_all, symbol)

    async def submit_trigger_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        kind: str,
        is_ask: bool,
        trigger_price: int | None,
        size_i: int | None,
        limit_price: int | None = None,
        trigger_on: str = "mark",
        trail_i: int | None = None,
        trail_ppm: int | None = None,
        reduce_only: bool = True,
    ) -> str:
        """Arm a trigger the venue holds (``native_triggers``); see ``connector.sim.triggers``."""
        require_ints(client_order_index=client_order_index)
        self._market(symbol)
        add = partial(
            self.triggers.add, symbol, client_order_index=client_order_index, kind=kind, is_ask=is_ask,
            trigger_price=trigger_price, size_i=size_i, limit_price=limit_price, trigger_on=trigger_on,
            trail_i=trail_i, trail_ppm=trail_ppm, reduce_only=reduce_only,
        )  # fmt: skip
        snap = await self._request("order", add)
        return str(snap.client_order_index)

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        await self._request("cancel", self.triggers.cancel, symbol, client_order_index)

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        return await self._request("query", self.triggers.snapshots, symbol)

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        """``leverage``: the engine's initial margin is the exposure over it.  The margin mode is
        recorded (``margin_modes``) but the sim margins every market from one cross balance."""
        require_ints(leverage=leverage)
        self._market(symbol)
        await self._request("order", self.engine.set_leverage, symbol, leverage)
        self.margin_modes[symbol] = "cross" if cross else "isolated"

    async def get_leverage(self) -> list[LeverageInfo]:
        """Every market's leverage (the market's maximum until set) and the mode last recorded."""
        leverage = self.engine.account.leverage
        return [LeverageInfo(s, leverage[s], self.margin_modes.get(s, "cross") == "cross") for s in sorted(leverage)]

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """Dead man's switch: cancel every order ``after_s`` from now unless re-armed; None disarms."""
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        if after_s is not None:
            self._dms = asyncio.create_task(self._cancel_all_after(after_s), name="sim-dead-man-switch")

    async def _cancel_all_after(self, after_s: float) -> None:
        await self.clock.sleep(after_s)
        self._dms = None
        self.engine.advance_to(self.clock.now_ms())
        self.engine.cancel_all()

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        return await self._request("query", self.engine.order, symbol, client_order_index=client_order_index)

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        return await self._request("query", self.engine.open_orders, symbol)

    async def get_positions(self) -> list[Position]:
        return await self._request("query", self.engine.positions)

    async def get_margin(self) -> Margin:
        return await self._request("query", self.engine.margin)
