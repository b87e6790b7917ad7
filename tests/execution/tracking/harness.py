"""A sim venue, order service and tracking manager on a VirtualClock, plus venue-side invariant checks.

The checks watch the *venue* (the sim engine's own events), not our picture of it: at
most one of a chase's orders rests there at any moment, fills never exceed the target,
no order is ever accepted beyond the limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from connector.clock import VirtualClock
from connector.interface import Fill, OrderSnapshot, OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine, SimMarketSpec
from execution.market.market_data import MarketDataService
from execution.orders import OrderService
from execution.tracking.chase import TrackingLimit, TrackingLimitManager

SYMBOL = "BTC"
VENUE_SYMBOL = "BTC-PERP"
_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)

QUIET_BTC = SimMarketSpec(
    "BTC-PERP", "BTC", 1, 4, min_size_i=10, start_price_i=650_000, max_leverage=20,
    level_size_i=5_000, trade_size_i=1_000, spread_ticks=10, level_gap_ticks=10, vol_ticks=1.0,
    move_prob=0.0, trade_prob=0.0, jumps=0,
)  # fmt: skip
"""A market that moves only when a test moves it, with a 10-tick spread to sit inside."""


@dataclass
class VenueWatch:
    """Venue-side truth, from the engine's own event stream."""

    orders: Any
    resting: dict[int, OrderSnapshot] = field(default_factory=dict)
    fills: dict[int, dict[str, int]] = field(default_factory=dict)
    max_resting_per_parent: dict[str, int] = field(default_factory=dict)
    seen_prices: dict[int, set[int]] = field(default_factory=dict)

    def __call__(self, event: Any) -> None:
        if isinstance(event, OrderSnapshot):
            self.seen_prices.setdefault(event.client_order_index, set()).add(event.price_i)
            if event.status in _RESTING:
                self.resting[event.client_order_index] = event
            else:
                self.resting.pop(event.client_order_index, None)
            self._count()
        elif isinstance(event, Fill):
            self.fills.setdefault(event.client_order_index, {})[event.trade_id] = event.size_i

    def _count(self) -> None:
        per: dict[str, int] = {}
        for coi in self.resting:
            parent = self.parent_of(coi)
            if parent is not None:
                per[parent] = per.get(parent, 0) + 1
        for parent, n in per.items():
            self.max_resting_per_parent[parent] = max(self.max_resting_per_parent.get(parent, 0), n)

    def parent_of(self, coi: int) -> str | None:
        order = self.orders.get("sim", coi)
        return order.parent_id if order is not None else None

    def filled_for(self, chase: TrackingLimit) -> int:
        return sum(sum(t.values()) for coi, t in self.fills.items() if self.parent_of(coi) == chase.id)

    def resting_for(self, chase: TrackingLimit) -> list[OrderSnapshot]:
        return [s for coi, s in self.resting.items() if self.parent_of(coi) == chase.id]


class Desk:
    """Everything a chase needs, driven in virtual time."""

    def __init__(
        self,
        clock: VirtualClock,
        *,
        seed: int = 7,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        venue_amend: str = "safe",
        engine: SimEngine | None = None,
        quiet: bool = False,
        journal: Any = None,
        actions_per_s: int = 20,
        on_restart: str = "resume",
        **manager_kw: Any,
    ) -> None:
        self.clock = clock
        self.engine = engine or SimEngine(seed, clock=clock, markets=[QUIET_BTC] if quiet else None)
        self.connector = SimConnector(
            engine=self.engine,
            clock=clock,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            fill_safe_amend=venue_amend == "safe",
        )
        if venue_amend == "none":
            self.connector.capabilities = frozenset(self.connector.capabilities - {"amend"})
        self.md = MarketDataService(clock)
        self.orders = OrderService({"sim": self.connector}, self.md, clock=clock, journal=journal)
        self.journal = journal
        self.tracking = TrackingLimitManager(
            self.orders,
            self.md,
            clock=clock,
            connectors={"sim": self.connector},
            journal=journal,
            actions_per_s=actions_per_s,
            on_restart=on_restart,
            **manager_kw,
        )
        self.watch = VenueWatch(self.orders)
        self.engine.subscribe(self.watch)

    async def start(self) -> Desk:
        c = self.connector
        c.add_handler("book", partial(self.md.on_book, "sim"))
        c.add_handler("trade", partial(self.md.on_trade, "sim"))
        c.add_handler("order", partial(self.orders.ingest_update, "sim"))
        c.add_handler("fill", partial(self.orders.ingest_update, "sim"))
        await c.start()
        await self.md.add_venue("sim", c)
        await c.subscribe_market_data([VENUE_SYMBOL])
        await self.clock.advance(0.3)
        return self

    async def stop(self) -> None:
        await self.tracking.stop()
        await self.connector.stop()

    def tick(self) -> int:
        return self.md.market("sim", SYMBOL).tick_i

    def top(self) -> tuple[int, int]:
        return self.md.top_of_book("sim", SYMBOL)

    async def drive(self, awaitable: Any, *, step_s: float = 0.01, max_s: float = 120) -> Any:
        """Await something that waits on the virtual clock, moving the clock meanwhile."""
        task = asyncio.ensure_future(awaitable)
        waited = 0.0
        while not task.done() and waited < max_s:
            await self.clock.advance(step_s)
            waited += step_s
        if not task.done():
            task.cancel()
            raise TimeoutError(f"still waiting after {max_s} virtual seconds")
        return await task

    async def run_until_done(self, chase: TrackingLimit, *, max_s: float = 120, step_s: float = 0.05) -> bool:
        waited = 0.0
        while not chase.is_done and waited < max_s:
            await self.clock.advance(step_s)
            waited += step_s
        return chase.is_done
