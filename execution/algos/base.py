"""What every working order (scale, TWAP) shares: identity, state, end reason, fills, report, journal record.

A working order's progress comes from its child orders (a ``FillLedger`` de-duplicates their
fills, so a replayed fill never counts twice); its host (``AlgoManager``) journals it as a parent of
its own ``kind`` and routes its children's updates to it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from execution.tracking import EndReason, ExecutionReport, FillLedger, build_report

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import Fill
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService
    from execution.tracking import TrackingLimitManager


class AlgoState(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    DONE = "DONE"


class AlgoHost(Protocol):
    """What a working order uses of its manager (``AlgoManager``), and what it tells it."""

    clock: Clock
    orders: OrderService
    market_data: MarketDataService
    tracking: TrackingLimitManager

    def algo_changed(self, algo: WorkingOrder) -> None:
        """Its progress or state changed: journal it, tell the listeners."""
        ...


async def wait_on_clock(clock: Clock, event: asyncio.Event, timeout_s: float | None) -> None:
    """Until ``event`` is set or ``timeout_s`` (None: no limit) has passed on ``clock``."""
    if timeout_s is None:
        await event.wait()
        return
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(max(0.0, timeout_s)))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        sleeper.cancel()


class WorkingOrder:
    """The common part of ``ScaleOrder`` and ``TwapOrder``; read freely, change through the manager."""

    kind = "algo"

    def __init__(self, host: AlgoHost, algo_id: str, venue: str, symbol: str, is_ask: bool, size_i: int) -> None:
        self._host = host
        self.id = algo_id
        self.venue, self.symbol, self.is_ask, self.size_i = venue, symbol, is_ask, size_i
        self.state = AlgoState.RUNNING
        self.end_reason: EndReason | None = None
        self.note = ""
        """Why it ended, or what it is waiting for, in words."""
        self.started_ms = host.clock.now_ms()
        self.ended_ms: int | None = None
        self.arrival_mid_i: int | None = None
        self._clock = host.clock
        self._done = asyncio.Event()
        self._wake = asyncio.Event()

    # -- reading -----------------------------------------------------------------------

    def orders(self) -> list[Order]:
        """Every order sent on its behalf (directly or by its slices), oldest first."""
        raise NotImplementedError

    def ledger(self) -> FillLedger:
        ledger = FillLedger(self.size_i)
        for order in self.orders():
            ledger.add_fills(order.fills)
            ledger.report(order.client_order_index, order.filled_i, order.price_i)
        return ledger

    @property
    def filled_i(self) -> int:
        return self.ledger().filled_i

    @property
    def remaining_i(self) -> int:
        return max(0, self.size_i - self.filled_i)

    @property
    def avg_price_i(self) -> int | None:
        return self.ledger().avg_price_i

    @property
    def is_done(self) -> bool:
        return self.state is AlgoState.DONE

    @property
    def live_orders(self) -> list[Order]:
        return [o for o in self.orders() if not o.is_final]

    @property
    def report(self) -> ExecutionReport:
        ledger = self.ledger()
        fills: Iterable[Fill] = (f for o in self.orders() for f in o.fills)
        return build_report(
            is_ask=self.is_ask,
            target_i=self.size_i,
            started_ms=self.started_ms,
            arrival_mid_i=self.arrival_mid_i,
            fills=fills,
            reprices=self.reprice_count(),
            children=self.child_count(),
            filled_i=ledger.filled_i,
            avg_price_i=ledger.avg_price_i,
        )

    def child_count(self) -> int:
        return len(self.orders())

    def reprice_count(self) -> int:
        return 0

    async def wait_done(self, timeout: float | None = None) -> WorkingOrder:
        """Wait (on the runtime's clock) until it has ended; ``TimeoutError`` otherwise."""
        if not self._done.is_set():
            await wait_on_clock(self._clock, self._done, timeout)
        if not self._done.is_set():
            raise TimeoutError(f"{self.kind} {self.id} still {self.state} after {timeout} s")
        return self

    # -- ending ------------------------------------------------------------------------

    def finish(self, reason: EndReason, note: str = "") -> None:
        if self.is_done:
            return
        self.state = AlgoState.DONE
        self.end_reason = reason
        self.note = note or self.note
        self.ended_ms = self._clock.now_ms()
        self._host.algo_changed(self)
        self._done.set()
        self._wake.set()

    def on_child_update(self, order: Order) -> None:
        """One of its orders changed (a fill, an end): look again, and journal the progress."""
        self.on_slice_news()

    def on_slice_news(self) -> None:
        """Something it waits on changed: look again, and journal the progress."""
        self._wake.set()
        self._host.algo_changed(self)

    async def _wait(self, deadline_ms: int | None) -> None:
        """Until woken (a command, a child's news) or ``deadline_ms`` on the clock."""
        if not self._wake.is_set():
            timeout = None if deadline_ms is None else (deadline_ms - self._clock.now_ms()) / 1000
            await wait_on_clock(self._clock, self._wake, timeout)
        self._wake.clear()

    # -- journal -----------------------------------------------------------------------

    def params_record(self) -> dict[str, Any]:
        raise NotImplementedError

    def as_record(self) -> dict[str, Any]:
        """The parent's params as the journal keeps them (JSON-safe): what was asked, progress, report."""
        return {
            **self.params_record(),
            "started_ms": self.started_ms,
            "ended_ms": self.ended_ms,
            "arrival_mid_i": self.arrival_mid_i,
            "note": self.note,
            "report": self.report.as_record(),
        }

    def __repr__(self) -> str:
        side = "sell" if self.is_ask else "buy"
        return (
            f"<{type(self).__name__} {self.id} {side} {self.venue}:{self.symbol} {self.filled_i}/{self.size_i} "
            f"{self.state}{' ' + str(self.end_reason) if self.end_reason else ''}>"
        )
