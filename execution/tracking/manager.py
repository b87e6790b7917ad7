"""``runtime.tracking``: starts chases, routes the world's news to them, journals them, restores them.

The manager is the one subscriber to book, order and connection events for every chase: a
book change wakes the chases on that market, an order update goes to its parent, and after a
stream reconnect every chase on that venue re-reads its child.  It also holds what chases
share: each venue's action budget and whether that venue may amend in place.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.interface import FILL_SAFE_AMEND, ConnectionEvent, ConnectionState
from execution.ended import EndedKept
from execution.journal import ParentJournal
from execution.listeners import Listeners
from execution.tracking.budget import ActionBudget
from execution.tracking.chase import TrackingLimit
from execution.tracking.model import ChaseEvent
from execution.tracking.params import AmendPolicy, ChaseParams, OnRestart

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import IConnector
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService

log = logging.getLogger(__name__)

MAX_ENDED_CHASES = 100
"""Ended chases kept in memory with their children, the most recently ended (the Chases tab lists the last
50 chases and algos); older ones stay in the journal.  A chase an algo reads (a TWAP's slices), or one
with a child still resting after its end, stays however old."""


def _never(_chase: TrackingLimit) -> bool:
    return False


Listener = Callable[[TrackingLimit, ChaseEvent], None]


class TrackingLimitManager:
    """Starts chases, shares each venue's action budget, restores after restart.

    ``amend`` (an ``AmendPolicy``): by default a child is amended in place only where the venue
    declares ``FILL_SAFE_AMEND``; elsewhere it is cancel, confirmed, then replace, because an
    amend racing a fill can re-grow the child and overfill the parent.
    """

    def __init__(
        self,
        orders: OrderService,
        market_data: MarketDataService,
        *,
        clock: Clock,
        connectors: Mapping[str, IConnector] | None = None,
        journal: ParentJournal | None = None,
        actions_per_s: int = 10,
        burst: int | None = None,
        on_restart: str = "resume",
        min_reprice_interval_ms: int = 200,
        stale_after_ms: int = 2_000,
        amend: str = "fill_safe",
    ) -> None:
        try:
            self.on_restart = OnRestart(on_restart)
        except ValueError:
            raise ValueError(f"on_restart must be 'resume' or 'cancel', got {on_restart!r}") from None
        try:
            self.amend = AmendPolicy(amend)
        except ValueError:
            raise ValueError(f"amend must be 'fill_safe', 'always' or 'never', got {amend!r}") from None
        self.orders = orders
        self.market_data = market_data
        self.clock = clock
        self.connectors: Mapping[str, IConnector] = connectors if connectors is not None else orders.connectors
        self.journal = journal
        self.actions_per_s = actions_per_s
        self.burst = burst
        self.min_reprice_interval_ms = min_reprice_interval_ms
        self.stale_after_ms = stale_after_ms
        self.chases: dict[str, TrackingLimit] = {}
        self.keep_ended: Callable[[TrackingLimit], bool] = _never
        """Whether an ended chase must stay however old (the algos' hook: a TWAP reads its slices)."""
        self._ended = EndedKept(MAX_ENDED_CHASES, stays=self._must_stay, forget=self._forget)
        """Ended chases in ``chases``, oldest ended first."""
        self._listeners: Listeners[[TrackingLimit, ChaseEvent]] = Listeners("tracking")
        self._by_market: dict[tuple[str, str], list[TrackingLimit]] = {}
        self._budgets: dict[str, ActionBudget] = {}
        self._ids = itertools.count(1)
        self._attached = False

    def attach(self) -> None:
        """Subscribe to book and order changes (once)."""
        if self._attached:
            return
        self._attached = True
        self.market_data.add_listener(self._on_book)
        self.orders.add_listener(self._on_order)
        for venue, connector in self.connectors.items():
            add = getattr(connector, "add_handler", None)  # test doubles may have no streams
            if add is not None:
                add("connection", partial(self._on_connection, venue))

    # -- public --------------------------------------------------------------------

    async def start(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        offset_ticks: int = 0,
        limit_price_i: int | None = None,
        max_chase_ticks: int | None = None,
        min_reprice_interval_ms: int | None = None,
        timeout_s: float | None = None,
        end_action: str = "cancel",
        post_only: bool = True,
        reduce_only: bool = False,
        allow_disconnected: bool = False,
        aggressive: bool = False,
        trail: bool = False,
        limit_ppm: int | None = None,
        max_chase_ppm: int | None = None,
    ) -> TrackingLimit:
        """Start a chase and return it at once; it works in the background until it ends.

        Variants: ``aggressive`` rests one tick inside the other side; ``trail`` follows the touch
        only in the favourable direction; ``limit_ppm`` (chase to) and ``max_chase_ppm`` bound the
        chase as parts per million of the arrival mid (10_000 = 1 %), beside a price and ticks.

        Raises ``RiskRejected`` beyond the margin or notional ceiling, ``VenueDisconnected`` while the
        venue's connection is down (unless ``allow_disconnected``); a running chase's children are sent
        regardless, since the chase waits out a stale book on its own."""
        self.attach()
        params = ChaseParams.validated(
            venue,
            symbol,
            venues=self.connectors.keys(),
            markets=self.market_data,
            is_ask=is_ask,
            size_i=size_i,
            offset_ticks=offset_ticks,
            limit_price_i=limit_price_i,
            max_chase_ticks=max_chase_ticks,
            min_reprice_interval_ms=min_reprice_interval_ms,
            timeout_s=timeout_s,
            end_action=end_action,
            post_only=post_only,
            reduce_only=reduce_only,
            default_reprice_interval_ms=self.min_reprice_interval_ms,
            stale_after_ms=self.stale_after_ms,
            aggressive=aggressive,
            trail=trail,
            limit_ppm=limit_ppm,
            max_chase_ppm=max_chase_ppm,
        )
        self.orders.check_new(
            venue, symbol, is_ask=is_ask, size_i=size_i, reduce_only=reduce_only, allow_disconnected=allow_disconnected
        )
        chase = TrackingLimit(self, self._new_id(), params)
        self._register(chase)
        chase.launch()
        return chase

    def active(self) -> list[TrackingLimit]:
        """Chases not yet ended, oldest first."""
        return [c for c in self.chases.values() if not c.is_done]

    def chases_on(self, venue: str, symbol: str) -> list[TrackingLimit]:
        """Active chases on one market."""
        return self._by_market.get((venue, symbol), [])

    def get(self, chase_id: str) -> TrackingLimit | None:
        return self.chases.get(chase_id)

    def add_listener(self, fn: Listener) -> None:
        """``fn(chase, event)`` for every event of every chase (sync; keep it cheap)."""
        self._listeners.add(fn)

    def remove_listener(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    def budget(self, venue: str) -> ActionBudget:
        """The action budget every chase on ``venue`` shares."""
        b = self._budgets.get(venue)
        if b is None:
            b = self._budgets[venue] = ActionBudget(self.clock, rate_per_s=self.actions_per_s, burst=self.burst)
        return b

    def capabilities(self, venue: str) -> frozenset[str]:
        connector = self.connectors.get(venue)
        return connector.capabilities if connector is not None else frozenset()

    def may_amend(self, venue: str) -> bool:
        caps = self.capabilities(venue)
        if self.amend is AmendPolicy.NEVER or "amend" not in caps:
            return False
        return self.amend is AmendPolicy.ALWAYS or FILL_SAFE_AMEND in caps

    async def cancel_all(self, keep_resting: bool = False) -> None:
        await asyncio.gather(*(c.cancel(keep_resting) for c in self.active()))

    async def stop(self) -> None:
        """Stop every chase's task, leaving orders and journal as they are (a restart picks them up)."""
        for chase in list(self.chases.values()):
            await chase.stop()

    async def restore(self) -> list[TrackingLimit]:
        """After a restart: resume (or cancel, per ``on_restart``) every journaled live parent."""
        self.attach()
        if self.journal is None:
            return []
        restored = []
        for record in self.journal.load_parents(live_only=True):
            if record["parent_id"] in self.chases:
                continue
            if record["venue"] not in self.connectors:
                # kept live in the journal for a run that has the venue again
                log.warning(
                    "chase %s on %s not restored: that venue is not configured", record["parent_id"], record["venue"]
                )
                continue
            chase = TrackingLimit.from_journal(self, record, self._journaled_children(record))
            restored.append(chase)
            self._register(chase)
            chase.restart(self.on_restart)
        return restored

    # -- what chases tell the manager -------------------------------------------------

    def chase_changed(self, chase: TrackingLimit) -> None:
        """Journal the parent (a journal that fails is logged; the chase goes on)."""
        if self.journal is None:
            return
        child = chase.child
        try:
            self.journal.save_parent(
                chase.id,
                chase.venue,
                chase.symbol,
                chase.as_record(),
                str(chase.state),
                chase.filled_i,
                child.client_order_index if child is not None else None,
                avg_price_i=chase.avg_price_i,
                end_reason=str(chase.end_reason or ""),
                done=chase.is_done,
                ts_ms=self.clock.now_ms(),
            )
        except Exception:
            log.exception("journal: could not save chase %s", chase.id)

    def chase_event(self, chase: TrackingLimit, event: ChaseEvent) -> None:
        self._listeners.emit(chase, event)

    def chase_ended(self, chase: TrackingLimit) -> None:
        self.chase_changed(chase)
        peers = self._by_market.get((chase.venue, chase.symbol), [])
        if chase in peers:
            peers.remove(chase)
        self._ended.ended(chase.id)

    def forget_ended(self) -> int:
        """Forget the oldest ended chases beyond ``MAX_ENDED_CHASES``, with their closed children (the
        journal keeps both); one with a child still resting, or one an algo reads, stays.  Runs as each
        chase ends; an algo calls it when it stops reading its chases.  How many were forgotten."""
        return self._ended.sweep()

    def _must_stay(self, chase_id: str) -> bool:
        chase = self.chases.get(chase_id)
        return chase is not None and (not chase.is_done or bool(chase.live_children) or self.keep_ended(chase))

    def _forget(self, chase_id: str) -> None:
        if self.chases.pop(chase_id, None) is not None:
            self.orders.store.forget_children(chase_id)

    # -- internals -----------------------------------------------------------------

    def _new_id(self) -> str:
        return f"tl{self.clock.now_ms()}{next(self._ids):03d}{secrets.token_hex(2)}"

    def _register(self, chase: TrackingLimit) -> None:
        self.chases[chase.id] = chase
        self._by_market.setdefault((chase.venue, chase.symbol), []).append(chase)

    def _journaled_children(self, record: Mapping[str, Any]) -> list[Order]:
        """The parent's children as the order journal holds them, oldest first."""
        parent_id, venue = record["parent_id"], record["venue"]
        known = {o.client_order_index: o for o in self.orders.orders if o.parent_id == parent_id}
        last = record.get("child_client_order_index")
        if last is not None and last not in known and (order := self.orders.get(venue, last)) is not None:
            known[last] = order
        return [known[c] for c in sorted(known)]

    def _on_book(self, venue: str, symbol: str) -> None:
        for chase in self._by_market.get((venue, symbol), ()):
            chase.wake()

    def _on_connection(self, venue: str, event: ConnectionEvent) -> None:
        """After a stream outage our children may have filled unseen: each chase re-reads its child."""
        if event.state != ConnectionState.CONNECTED:
            return
        for chase in self.active():
            if chase.venue == venue:
                chase.on_reconnect()

    def _on_order(self, order: Order) -> None:
        chase = self.chases.get(order.parent_id) if order.parent_id is not None else None
        if chase is not None:
            chase.on_child_update(order)
