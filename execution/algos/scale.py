"""A scale: a ladder of limit orders across a price range, sizes spread flat, increasing or decreasing.

Prices sit on the tick grid between the two ends and sizes on the step grid sum exactly to the
target (``plan``).  Each child is checked against the venue's rules before it is sent and refused
on its own if it breaks one; the rest go out, paced by the venue's action budget.  ``summary`` says
what was placed and what was refused.  The scale is done when every child has ended; ``cancel``
pulls the resting children (confirmed) unless asked to leave them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from connector.errors import VenueError
from execution.algos.base import AlgoHost, WorkingOrder
from execution.algos.plan import Distribution, child_problem, scale_prices, scale_sizes
from execution.tracking import EndReason

if TYPE_CHECKING:
    from connector.interface import MarketInfo
    from execution.orders import Order

log = logging.getLogger(__name__)

_CANCEL_GIVE_UP_MS = 30_000
_ASK_AGAIN_MS = 1_000


@dataclass(frozen=True, slots=True)
class ScaleParams:
    venue: str
    symbol: str
    is_ask: bool
    size_i: int
    from_price_i: int
    to_price_i: int
    count: int
    distribution: str = "flat"
    post_only: bool = True
    reduce_only: bool = False

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ScaleParams:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Refusal:
    level: int
    """1-based, from the first end."""
    price_i: int
    size_i: int
    reason: str


def plan(params: ScaleParams, market: MarketInfo) -> list[tuple[int, int]]:
    """``(price_i, size_i)`` per level from the first end, or ``ValueError`` naming what is wrong."""
    prices = scale_prices(params.from_price_i, params.to_price_i, params.count, market.tick_i)
    sizes = scale_sizes(params.size_i, params.count, market.step_i or 1, params.distribution)
    return list(zip(prices, sizes, strict=True))


class ScaleOrder(WorkingOrder):
    kind = "scale"

    def __init__(self, host: AlgoHost, algo_id: str, params: ScaleParams, *, children: Iterable[Order] = ()) -> None:
        super().__init__(host, algo_id, params.venue, params.symbol, params.is_ask, params.size_i)
        Distribution(params.distribution)  # refuses an unknown one
        self.params = params
        self.levels = plan(params, host.market_data.market(params.venue, params.symbol))
        self.children: list[Order] = list(children)
        self.refused: list[Refusal] = []
        self.placed = bool(self.children)

    def orders(self) -> list[Order]:
        return self.children

    @property
    def summary(self) -> str:
        """What was placed and what was refused, in one line."""
        sent = len(self.children)
        text = f"{sent} of {len(self.levels)} orders placed"
        if self.refused:
            lost = sum(r.size_i for r in self.refused)
            why = "; ".join(f"#{r.level} at {r.price_i}: {r.reason}" for r in self.refused)
            text += f"; refused {len(self.refused)} ({lost} not placed): {why}"
        return text

    def params_record(self) -> dict[str, Any]:
        return {
            **self.params.as_record(),
            "refused": [asdict(r) for r in self.refused],
            "children": [c.client_order_index for c in self.children],
            "summary": self.summary,
        }

    @classmethod
    def from_journal(cls, host: AlgoHost, row: Mapping[str, Any], children: Iterable[Order]) -> ScaleOrder:
        saved = row["params"]
        scale = cls(host, row["parent_id"], ScaleParams.from_record(saved), children=children)
        scale.started_ms = saved.get("started_ms") or scale.started_ms
        scale.arrival_mid_i = saved.get("arrival_mid_i")
        scale.refused = [Refusal(**r) for r in saved.get("refused", [])]
        scale.placed = True
        return scale

    # -- placing -----------------------------------------------------------------------

    async def place(self) -> None:
        """Check each level and send the ones the venue accepts, paced by the action budget."""
        host, p = self._host, self.params
        self.arrival_mid_i = host.market_data.mid_i(p.venue, p.symbol)
        market = host.market_data.market(p.venue, p.symbol)
        budget = host.tracking.budget(p.venue)
        for level, (price, size) in enumerate(self.levels, start=1):
            if self.is_done:
                return
            if size == 0:
                continue  # fewer steps than levels: this level has nothing (the total is still exact)
            problem = child_problem(market, price, size)
            if problem is None:
                wait = budget.wait_ms()
                if wait > 0:
                    await self._wait(self._clock.now_ms() + wait)
                budget.try_take()
                try:
                    order = await host.orders.submit_limit(
                        p.venue, p.symbol, is_ask=p.is_ask, size_i=size, price_i=price,
                        post_only=p.post_only, reduce_only=p.reduce_only, parent_id=self.id,
                    )  # fmt: skip
                except ValueError as exc:
                    problem = str(exc)
                else:
                    self.children.append(order)
                    if order.state.value == "REJECTED":
                        problem = f"rejected by the venue: {order.reason}"
            if problem is not None:
                self.refused.append(Refusal(level, price, size, problem))
            host.algo_changed(self)
        self.placed = True
        self.check_done()

    def check_done(self) -> None:
        """Done once every child has ended."""
        if self.is_done or not self.placed or any(not c.is_final for c in self.children):
            return
        if self.remaining_i == 0:
            self.finish(EndReason.FILLED)
        elif not any(c.filled_i or c.state.value != "REJECTED" for c in self.children):
            self.finish(EndReason.REJECTED, self.summary)
        else:
            self.finish(EndReason.CANCELLED, f"children ended with {self.remaining_i} unfilled; {self.summary}")

    def on_child_update(self, order: Order) -> None:
        super().on_child_update(order)
        self.check_done()

    # -- cancelling --------------------------------------------------------------------

    async def halt(self, note: str) -> None:
        """End it at once, leaving its orders to the caller (the kill switch cancels every order)."""
        self.finish(EndReason.CANCELLED, note)

    async def cancel(self, keep_resting: bool = False) -> None:
        """End it; the resting children are cancelled (each confirmed) unless ``keep_resting``."""
        if self.is_done:
            return
        if keep_resting:
            self.finish(EndReason.CANCELLED, "cancelled; children left resting")
            return
        started = self._clock.now_ms()
        asked: dict[int, int] = {}
        while live := [c for c in self.children if not c.is_final]:
            now = self._clock.now_ms()
            if now - started > _CANCEL_GIVE_UP_MS:
                self.finish(EndReason.ERROR, f"{len(live)} children did not confirm their cancel")
                return
            for child in live:
                last = asked.get(child.client_order_index)
                if last is None or now - last >= _ASK_AGAIN_MS:
                    asked[child.client_order_index] = now
                    await self._pull(child, again=last is not None)
            await self._wait(now + _ASK_AGAIN_MS)
        self.finish(EndReason.FILLED if self.remaining_i == 0 else EndReason.CANCELLED, "cancelled")

    async def _pull(self, child: Order, *, again: bool) -> None:
        orders = self._host.orders
        try:
            if again:
                await orders.refresh(child, why="scale cancel not confirmed", authoritative=True)
                if child.is_final:
                    return
            await orders.cancel(child)
        except (VenueError, TimeoutError, ValueError) as exc:
            log.info("scale %s: cancel of %s: %s", self.id, child.client_order_index, exc)
