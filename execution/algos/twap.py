"""A TWAP: the size cut into slices over a duration, each slice a tracking limit or a marketable IOC.

The schedule (``plan.twap_schedule``) spaces the slices evenly with an optional seeded jitter.  At
each slice's start it works what the schedule says is due by then less what has filled, so an
unfilled remainder rolls into the next slice and nothing is ever asked twice.  A ``chase`` slice is
a tracking limit started through ``runtime.tracking`` (the one chase), timed out at the next
slice's start; an ``ioc`` slice is an aggressive limit through the other side, pulled once the venue
has answered.  A limit price is never crossed: the chase sits at it, the IOC is capped at it.

Pause pulls the slice's child (the chase's own pause) and starts no slice until resume; the
schedule keeps running, and the next slice after a resume takes what is due by then.  The TWAP is
journaled as a parent of kind ``twap``; after a restart it resumes (adopting its live slice, which
the tracking manager has restored) or is cancelled, per ``on_restart``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from connector.errors import VenueError
from execution.algos.base import AlgoHost, AlgoState, WorkingOrder
from execution.algos.plan import scale_sizes, slice_due, twap_schedule
from execution.tracking import ChaseState, EndReason

if TYPE_CHECKING:
    from execution.orders import Order
    from execution.tracking import TrackingLimit

log = logging.getLogger(__name__)

_IOC_SETTLE_MS = 5_000


@dataclass(frozen=True, slots=True)
class TwapParams:
    venue: str
    symbol: str
    is_ask: bool
    size_i: int
    duration_ms: int
    slices: int
    slice_mode: str = "chase"
    """``chase`` (a tracking limit per slice) or ``ioc`` (a marketable limit, the rest pulled)."""
    limit_price_i: int | None = None
    jitter_ppm: int = 0
    seed: int = 0
    post_only: bool = True
    reduce_only: bool = False
    cross_ticks: int = 10
    """How far through the other side an IOC slice reaches (never past the limit)."""

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> TwapParams:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def ioc_price(params: TwapParams, bid_i: int | None, ask_i: int | None, tick_i: int) -> int | None:
    """``cross_ticks`` through the other side, capped at the limit (on the grid, on our side of it)."""
    far = bid_i if params.is_ask else ask_i
    limit = params.limit_price_i
    if limit is not None:
        limit = -((-limit) // tick_i) * tick_i if params.is_ask else limit - limit % tick_i
    if far is None:
        return None
    price = far - params.cross_ticks * tick_i if params.is_ask else far + params.cross_ticks * tick_i
    if limit is not None and (price < limit if params.is_ask else price > limit):
        price = limit
    return price if price > 0 else None


class TwapOrder(WorkingOrder):
    kind = "twap"

    def __init__(self, host: AlgoHost, algo_id: str, params: TwapParams) -> None:
        super().__init__(host, algo_id, params.venue, params.symbol, params.is_ask, params.size_i)
        self.params = params
        self.market = host.market_data.market(params.venue, params.symbol)
        self.starts = twap_schedule(params.duration_ms, params.slices, params.jitter_ppm, params.seed)
        """Each slice's start, ms from ``started_ms``."""
        self.planned = scale_sizes(params.size_i, params.slices, self.market.step_i or 1, "flat")
        self.next_slice = 0
        self.slice_ids: list[str] = []
        """The tracking limits it started, in order."""
        self.current: TrackingLimit | None = None
        self._cancel_request: bool | None = None
        self._task: asyncio.Task[None] | None = None

    # -- reading -----------------------------------------------------------------------

    def orders(self) -> list[Order]:
        """Its IOC children and every child of its slices (from the order service, so a restart keeps them)."""
        mine = {self.id, *self.slice_ids}
        return [o for o in self._host.orders.orders if o.parent_id in mine]

    @property
    def children(self) -> list[Order]:
        return self.orders()

    @property
    def slices(self) -> list[TrackingLimit]:
        """The slice chases still known to the tracking manager, oldest first."""
        found = (self._host.tracking.get(i) for i in self.slice_ids)
        return [c for c in found if c is not None]

    def reprice_count(self) -> int:
        return sum(c.reprices for c in self.slices)

    def child_count(self) -> int:
        return len(self.slice_ids) if self.params.slice_mode == "chase" else len(self.orders())

    def slice_window(self, k: int) -> tuple[int, int]:
        """Slice ``k``'s start and end on the clock (ms)."""
        end = self.starts[k + 1] if k + 1 < len(self.starts) else self.params.duration_ms
        return self.started_ms + self.starts[k], self.started_ms + end

    # -- commands ----------------------------------------------------------------------

    def launch(self) -> None:
        p = self.params
        self.arrival_mid_i = self._host.market_data.mid_i(p.venue, p.symbol)
        self._host.algo_changed(self)
        self._start_task()

    def pause(self) -> None:
        if self.state is AlgoState.RUNNING:
            self.state = AlgoState.PAUSED
            self._host.algo_changed(self)
            self._wake.set()

    def resume(self) -> None:
        if self.state is AlgoState.PAUSED:
            self.state = AlgoState.RUNNING
            self._host.algo_changed(self)
            self._wake.set()

    async def cancel(self, keep_resting: bool = False) -> None:
        """End it; the current slice's child is cancelled (confirmed) unless ``keep_resting``."""
        if self.is_done:
            return
        self._cancel_request = keep_resting
        self._wake.set()
        if self._task is None or self._task.done():
            self._start_task()
        await self._done.wait()

    async def stop(self) -> None:
        """Stop driving it, leaving orders and journal as they are (a restart picks it up)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def halt(self, note: str) -> None:
        """End it at once, leaving its orders to the caller (the kill switch cancels every order)."""
        await self.stop()
        self.finish(EndReason.CANCELLED, note)

    def restart(self, cancel: bool) -> None:
        """Pick it up after a restart: adopt the live slice the tracking manager restored."""
        live = self._host.tracking.get(self.slice_ids[-1]) if self.slice_ids else None
        self.current = live if live is not None and not live.is_done else None
        if cancel:
            self._cancel_request = False
        self._start_task()

    # -- the loop ----------------------------------------------------------------------

    def _start_task(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"twap-{self.id}")

    async def _run(self) -> None:
        try:
            while not self.is_done:
                deadline = await self._step()
                if not self.is_done:
                    await self._wait(deadline)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("twap %s failed", self.id)
            self.finish(EndReason.ERROR, f"{type(exc).__name__}: {exc}")

    async def _step(self) -> int | None:
        """Look once and act; returns when to look again (None: when woken)."""
        now = self._clock.now_ms()
        if self._cancel_request is not None:
            await self._end_cancelled(self._cancel_request)
            return None
        current = self.current
        if current is not None and not current.is_done:
            if self.state is AlgoState.PAUSED and current.state is ChaseState.RUNNING:
                current.pause()
            elif self.state is AlgoState.RUNNING and current.state is ChaseState.PAUSED:
                current.resume()
            return None  # its events wake us
        if current is not None:
            self.current = None
            if current.end_reason is EndReason.REJECTED and not current.filled_i:
                ended = next((e.message for e in reversed(current.events) if e.kind == "ended"), "")
                self.finish(EndReason.REJECTED, f"slice {len(self.slice_ids)} refused: {ended}")
                return None
            self._host.algo_changed(self)
        if self.remaining_i == 0:
            self.finish(EndReason.FILLED)
            return None
        if self.state is AlgoState.PAUSED:
            return None
        k = self.next_slice
        if k >= self.params.slices:
            self.finish(EndReason.TIMEOUT, f"the duration is over with {self.remaining_i} unfilled")
            return None
        start, end = self.slice_window(k)
        if now < start:
            return start
        self.next_slice = k + 1
        if now >= end:  # paused (or stopped) through its whole window
            self.note = f"slice {k + 1} missed (paused or late): its size rolls into the next"
        else:
            await self._run_slice(k, end)
        self._host.algo_changed(self)
        return now

    async def _run_slice(self, k: int, end_ms: int) -> None:
        p, host = self.params, self._host
        due = min(slice_due(self.planned, k, self.filled_i, self.market.step_i or 1), self.remaining_i)
        if due < max(self.market.min_size_i, 1):
            self.note = f"slice {k + 1}: {due} due is below the venue minimum; it rolls into the next"
            return
        if p.slice_mode == "chase":
            try:
                chase = await host.tracking.start(
                    p.venue, p.symbol, is_ask=p.is_ask, size_i=due, limit_price_i=p.limit_price_i,
                    timeout_s=(end_ms - self._clock.now_ms()) / 1000, end_action="cancel",
                    post_only=p.post_only, reduce_only=p.reduce_only,
                )  # fmt: skip
            except ValueError as exc:
                self.finish(EndReason.REJECTED, f"slice {k + 1} refused: {exc}")
                return
            self.slice_ids.append(chase.id)
            self.current = chase
            self.note = f"slice {k + 1}/{p.slices}: chasing {due}"
            return
        bid, ask = host.market_data.top_of_book(p.venue, p.symbol)
        price = ioc_price(p, bid, ask, self.market.tick_i)
        if price is None:
            self.note = f"slice {k + 1}: no price to cross at; it rolls into the next"
            return
        try:
            order = await host.orders.submit_limit(
                p.venue, p.symbol, is_ask=p.is_ask, size_i=due, price_i=price, post_only=False,
                reduce_only=p.reduce_only, parent_id=self.id,
            )  # fmt: skip
        except ValueError as exc:
            self.finish(EndReason.REJECTED, f"slice {k + 1} refused: {exc}")
            return
        self.note = f"slice {k + 1}/{p.slices}: IOC {due} at {price}"
        await self._settle(order)

    async def _settle(self, order: Order) -> None:
        """IOC semantics: whatever still rests once the venue has answered is pulled (confirmed)."""
        started = self._clock.now_ms()
        sent = False
        while not order.is_final and self._clock.now_ms() - started < _IOC_SETTLE_MS:
            if order.state.value in ("OPEN", "PARTIALLY_FILLED") and not sent:
                sent = True
                try:
                    await self._host.orders.cancel(order)
                except (VenueError, TimeoutError, ValueError) as exc:
                    log.info("twap %s: pulling IOC %s: %s", self.id, order.client_order_index, exc)
            if not order.is_final:
                await self._wait(self._clock.now_ms() + 200)
        if not order.is_final:
            await self._host.orders.refresh(order, why="twap IOC not settled", authoritative=True)

    async def _end_cancelled(self, keep_resting: bool) -> None:
        current = self.current
        if current is not None and not current.is_done:
            await current.cancel(keep_resting)
        if not keep_resting:
            for order in [o for o in self.orders() if o.parent_id == self.id and not o.is_final]:
                await self._settle(order)
        self.finish(EndReason.CANCELLED, "cancelled")

    # -- journal -----------------------------------------------------------------------

    def params_record(self) -> dict[str, Any]:
        return {
            **self.params.as_record(),
            "next_slice": self.next_slice,
            "slice_ids": list(self.slice_ids),
            "paused": self.state is AlgoState.PAUSED,
        }

    @classmethod
    def from_journal(cls, host: AlgoHost, row: Mapping[str, Any]) -> TwapOrder:
        saved = row["params"]
        twap = cls(host, row["parent_id"], TwapParams.from_record(saved))
        twap.started_ms = saved.get("started_ms") or twap.started_ms
        twap.arrival_mid_i = saved.get("arrival_mid_i")
        twap.next_slice = saved.get("next_slice", 0)
        twap.slice_ids = list(saved.get("slice_ids", []))
        twap.note = saved.get("note", "")
        if saved.get("paused"):
            twap.state = AlgoState.PAUSED
        return twap
