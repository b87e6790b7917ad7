"""``runtime.algos``: starts scale and TWAP orders, routes their children's news, journals and restores them.

Each working order is journaled as a parent of its own kind (``scale``, ``twap``), so the tracking
manager never restores one as a chase; a TWAP's slices are ordinary chases (kind ``chase``) that
the tracking manager restores first, and the TWAP adopts its live slice after them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from connector.checks import require_ints
from execution.algos.base import WorkingOrder
from execution.algos.plan import Distribution, jitter_ppm
from execution.algos.scale import ScaleOrder, ScaleParams
from execution.algos.twap import TwapOrder, TwapParams
from execution.ended import EndedKept
from execution.listeners import Listeners
from execution.tracking import OnRestart

if TYPE_CHECKING:
    from execution.orders import Order
    from execution.tracking import ChaseEvent, ParentJournal, TrackingLimit, TrackingLimitManager

log = logging.getLogger(__name__)

Listener = Callable[[WorkingOrder], None]
KINDS = ("scale", "twap")

MAX_ENDED_ALGOS = 50
"""Ended scales and TWAPs kept in memory, the most recently ended (the Chases tab lists the last 50 chases
and algos); older ones are forgotten with their closed orders, and a TWAP's slices become ordinary ended
chases (``MAX_ENDED_CHASES``).  The journal keeps them all.  One with an order still resting stays."""


class AlgoManager:
    """The working orders of one runtime (``runtime.algos``)."""

    def __init__(
        self, tracking: TrackingLimitManager, *, journal: ParentJournal | None = None, on_restart: str = "resume"
    ) -> None:
        self.tracking = tracking
        self.orders = tracking.orders
        self.market_data = tracking.market_data
        self.clock = tracking.clock
        self.journal = journal
        self.on_restart = OnRestart(on_restart)
        self.algos: dict[str, WorkingOrder] = {}
        self._slice_owner: dict[str, TwapOrder] = {}
        self._ended = EndedKept(MAX_ENDED_ALGOS, stays=self._must_stay, forget=self._forget)
        tracking.keep_ended = lambda chase: chase.id in self._slice_owner  # a TWAP reads its slices
        self._listeners: Listeners[[WorkingOrder]] = Listeners("algos")
        self._ids = itertools.count(1)
        self._attached = False

    def attach(self) -> None:
        if self._attached:
            return
        self._attached = True
        self.orders.add_listener(self._on_order)
        self.tracking.add_listener(self._on_chase_event)

    # -- starting ----------------------------------------------------------------------

    async def scale(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        from_price_i: int,
        to_price_i: int,
        count: int,
        distribution: str = "flat",
        post_only: bool = True,
        reduce_only: bool = False,
    ) -> ScaleOrder:
        """Place a ladder of ``count`` limits from ``from_price_i`` to ``to_price_i`` (both on the tick grid).

        Returns once every child is sent or refused (``s.summary``); ``ValueError`` when the request
        itself cannot be met (unknown venue or symbol, a range too narrow, a size off the step grid).
        """
        self.attach()
        self._check_venue(venue)
        require_ints(size_i=size_i, from_price_i=from_price_i, to_price_i=to_price_i, count=count)
        try:
            Distribution(distribution)
        except ValueError:
            raise ValueError(f"distribution must be one of {', '.join(d.value for d in Distribution)}") from None
        params = ScaleParams(
            venue, symbol, is_ask, size_i, from_price_i, to_price_i, count, str(distribution), post_only, reduce_only
        )
        scale = ScaleOrder(self, self._new_id("sc"), params)
        self.algos[scale.id] = scale
        await scale.place()
        return scale

    async def twap(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        duration_s: float,
        slices: int,
        slice_mode: str = "chase",
        limit_price_i: int | None = None,
        jitter: float = 0.0,
        post_only: bool = True,
        reduce_only: bool = False,
    ) -> TwapOrder:
        """Work ``size_i`` over ``duration_s`` in ``slices`` (each a chase or a marketable IOC); returns at once."""
        self.attach()
        self._check_venue(venue)
        require_ints(size_i=size_i, slices=slices)
        if limit_price_i is not None:
            require_ints(limit_price_i=limit_price_i)
            if limit_price_i <= 0:
                raise ValueError(f"limit price must be positive, got {limit_price_i}")
        if slice_mode not in ("chase", "ioc"):
            raise ValueError(f"slice_mode must be 'chase' or 'ioc', got {slice_mode!r}")
        if duration_s <= 0:
            raise ValueError(f"duration must be positive, got {duration_s}")
        market = self.market_data.market(venue, symbol)
        if size_i <= 0 or size_i % (market.step_i or 1):
            raise ValueError(f"size {size_i} must be positive and on the size step {market.step_i}")
        algo_id = self._new_id("tw")
        params = TwapParams(
            venue, symbol, is_ask, size_i, int(duration_s * 1000), slices, slice_mode, limit_price_i,
            jitter_ppm(jitter), zlib.crc32(algo_id.encode()), post_only, reduce_only,
        )  # fmt: skip
        twap = TwapOrder(self, algo_id, params)
        self.algos[twap.id] = twap
        twap.launch()
        return twap

    # -- commands ----------------------------------------------------------------------

    async def cancel(self, algo: WorkingOrder | str, keep_resting: bool = False) -> None:
        """End a working order; its resting children are cancelled (confirmed) unless ``keep_resting``."""
        await self._get(algo).cancel(keep_resting)  # type: ignore[attr-defined]

    def pause(self, algo: WorkingOrder | str) -> None:
        found = self._get(algo)
        if not isinstance(found, TwapOrder):
            raise ValueError(f"only a TWAP pauses; {found.id} is a {found.kind}")
        found.pause()

    def resume(self, algo: WorkingOrder | str) -> None:
        found = self._get(algo)
        if isinstance(found, TwapOrder):
            found.resume()

    async def cancel_all(self, keep_resting: bool = False) -> None:
        await asyncio.gather(*(self.cancel(a, keep_resting) for a in self.active()))

    async def halt(self, note: str = "stopped by the kill switch") -> int:
        """End every working order at once without touching its orders (the kill switch cancels those
        next): no TWAP starts another slice, no scale places another level.  Returns how many."""
        active = self.active()
        for algo in active:
            try:
                await algo.halt(note)  # type: ignore[attr-defined]
            except Exception:
                log.exception("halting %s %s failed", algo.kind, algo.id)
        return len(active)

    def active(self) -> list[WorkingOrder]:
        return [a for a in self.algos.values() if not a.is_done]

    def get(self, algo_id: str) -> WorkingOrder | None:
        return self.algos.get(algo_id)

    def add_listener(self, fn: Listener) -> None:
        """``fn(algo)`` whenever a working order changes (sync; keep it cheap)."""
        self._listeners.add(fn)

    def remove_listener(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    async def stop(self) -> None:
        """Stop driving the TWAPs (orders and journal stay; a restart resumes them)."""
        for algo in self.algos.values():
            if isinstance(algo, TwapOrder):
                await algo.stop()

    async def restore(self) -> list[WorkingOrder]:
        """After a restart (and after ``tracking.restore``): resume or cancel every journaled live one."""
        self.attach()
        if self.journal is None:
            return []
        cancel = self.on_restart is OnRestart.CANCEL
        restored: list[WorkingOrder] = []
        for kind in KINDS:
            for row in self.journal.load_parents(live_only=True, kind=kind):
                if row["parent_id"] in self.algos or row["venue"] not in self.tracking.connectors:
                    continue
                try:
                    algo = self._rebuild(kind, row)
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("%s %s not restored: %s", kind, row["parent_id"], exc)
                    continue
                restored.append(algo)
        for algo in restored:
            if isinstance(algo, TwapOrder):
                algo.restart(cancel)
            elif cancel:
                await algo.cancel()  # type: ignore[attr-defined]
            else:
                algo.check_done()  # type: ignore[attr-defined]
        return restored

    # -- what working orders tell the manager -------------------------------------------

    def algo_changed(self, algo: WorkingOrder) -> None:
        if isinstance(algo, TwapOrder):
            for chase_id in algo.slice_ids:
                self._slice_owner[chase_id] = algo
        if self.journal is not None:
            try:
                self.journal.save_parent(
                    algo.id, algo.venue, algo.symbol, algo.as_record(), str(algo.state), algo.filled_i, None,
                    avg_price_i=algo.avg_price_i, end_reason=str(algo.end_reason or ""), done=algo.is_done,
                    ts_ms=self.clock.now_ms(), kind=algo.kind,
                )  # fmt: skip
            except Exception:
                log.exception("journal: could not save %s %s", algo.kind, algo.id)
        self._listeners.emit(algo)
        if algo.is_done:
            self._ended.ended(algo.id)

    # -- internals ---------------------------------------------------------------------

    def _rebuild(self, kind: str, row: Mapping[str, Any]) -> WorkingOrder:
        algo: WorkingOrder
        if kind == "scale":
            children = sorted(
                (o for o in self.orders.orders if o.parent_id == row["parent_id"]), key=lambda o: o.client_order_index
            )
            algo = ScaleOrder.from_journal(self, row, children)
        else:
            algo = TwapOrder.from_journal(self, row)
            for chase_id in algo.slice_ids:
                self._slice_owner[chase_id] = algo
        self.algos[algo.id] = algo
        return algo

    def _must_stay(self, algo_id: str) -> bool:
        algo = self.algos.get(algo_id)
        return algo is not None and (not algo.is_done or bool(algo.live_orders))

    def _forget(self, algo_id: str) -> None:
        """Drop an ended algo, its closed orders, and its hold on its slices (the tracking bound takes them)."""
        algo = self.algos.pop(algo_id, None)
        if algo is None:
            return
        self.orders.store.forget_children(algo_id)
        if isinstance(algo, TwapOrder):
            for chase_id in algo.slice_ids:
                self._slice_owner.pop(chase_id, None)
            self.tracking.forget_ended()

    def _get(self, algo: WorkingOrder | str) -> WorkingOrder:
        found = self.algos.get(algo) if isinstance(algo, str) else algo
        if found is None:
            raise ValueError(f"no working order {algo!r}")
        return found

    def _check_venue(self, venue: str) -> None:
        if venue not in self.tracking.connectors:
            known = ", ".join(sorted(self.tracking.connectors)) or "none"
            raise ValueError(f"unknown venue {venue!r}; known: {known}")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self.clock.now_ms()}{next(self._ids):03d}{secrets.token_hex(2)}"

    def _on_order(self, order: Order) -> None:
        if order.parent_id is None:
            return
        algo = self.algos.get(order.parent_id)
        if algo is not None:
            algo.on_child_update(order)

    def owner_of(self, chase_id: str) -> TwapOrder | None:
        """The TWAP a chase is a slice of, if any."""
        return self._slice_owner.get(chase_id)

    def _on_chase_event(self, chase: TrackingLimit, event: ChaseEvent) -> None:
        owner = self._slice_owner.get(chase.id)
        if owner is not None and event.kind in ("filled", "ended", "paused", "resumed"):
            owner.on_slice_news()
