"""``runtime.triggers``: places, fires, cancels, journals and restores protective orders.

Emulated triggers are driven by market data like the chase: every book change on a market
re-evaluates the armed triggers there, and one that is at or past its price fires at once
(synchronously marked TRIGGERED, so it can never fire twice, and its bracket siblings are
cancelled in the same step, so two sides can never both fire).  Firing sends the child
through the ``OrderService``: a reduce-only market order (market kinds) or a reduce-only limit
(limit kinds), sized to the whole position when ``size_i`` is None and never beyond it.

Native triggers (``execution.triggers.native``) are held by the venue; the manager keeps the
same ``Trigger`` object in step with what the venue says.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.checks import require_int
from connector.errors import InvalidOrder
from connector.interface import ConnectionEvent, ConnectionState, OrderStatus
from execution.listeners import Listeners
from execution.triggers import follow, native, persistence
from execution.triggers.forget import ForgetEnded
from execution.triggers.model import (
    Trigger,
    TriggerOn,
    TriggerParams,
    TriggerState,
    better,
    crossed,
    trail_distance_i,
    trailing_trigger_i,
)

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import IConnector
    from execution.journal import ParentJournal
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService
    from execution.position_service import PositionService
    from execution.triggers.bracket import Bracket

log = logging.getLogger(__name__)

Listener = Callable[[Trigger], None]
S = OrderStatus

FLAT_GRACE_S = 0.25
"""How long a closed or flipped position must stay so before its reduce-only triggers are cancelled."""


class TriggerManager(native.NativeSync, follow.FollowPosition, ForgetEnded):
    """Stops, take-profits, brackets and trailing stops on every venue (``runtime.triggers``)."""

    def __init__(
        self,
        orders: OrderService,
        market_data: MarketDataService,
        positions: PositionService,
        *,
        clock: Clock,
        connectors: Mapping[str, IConnector] | None = None,
        journal: ParentJournal | None = None,
        force_emulation: bool = False,
    ) -> None:
        self.orders = orders
        self.market_data = market_data
        self.positions = positions
        self.clock = clock
        self.connectors: Mapping[str, IConnector] = connectors if connectors is not None else orders.connectors
        self.journal = journal
        self.force_emulation = force_emulation
        self.triggers: dict[str, Trigger] = {}
        self.log: deque[str] = deque(maxlen=200)
        """What the triggers did that an operator should read (fired after a reconnect, restored past...)."""
        self._by_market: dict[tuple[str, str], list[Trigger]] = {}
        self._native_refs: dict[tuple[str, int], Trigger] = {}
        """(venue, client order index) of a native trigger -> the trigger (its child comes back under it)."""
        self._sizes: dict[tuple[str, str], int] = {}
        self._follow_changes: dict[tuple[str, str], int] = {}
        self._recheck: dict[str, str] = {}
        """Trigger id -> why its next evaluation must say what it found (after a reconnect or a restart)."""
        self._down: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ended = self._ended_kept()
        self._listeners: Listeners[[Trigger]] = Listeners("triggers")
        self._ids = itertools.count(1)
        self._attached = False

    def attach(self) -> None:
        """Subscribe to book, order, position and connection changes (once)."""
        if self._attached:
            return
        self._attached = True
        self.market_data.add_listener(self._on_book)
        self.orders.add_listener(self._on_order)
        self.positions.add_listener(self._on_position)
        for venue, connector in self.connectors.items():
            add = getattr(connector, "add_handler", None)
            if add is not None:
                add("connection", partial(self._on_connection, venue))

    # -- public ---------------------------------------------------------------------------

    async def place(
        self,
        venue: str,
        symbol: str,
        *,
        kind: str,
        is_ask: bool,
        trigger_price_i: int | None = None,
        size_i: int | None = None,
        trigger_on: str = "mark",
        limit_price_i: int | None = None,
        trail_ticks: int | None = None,
        trail_ppm: int | None = None,
        reduce_only: bool = True,
        group: str | None = None,
    ) -> Trigger:
        """Arm one trigger and return it (ARMED).  ``InvalidOrder`` for anything it cannot do,
        including a trigger the price is already past (it would fire at once: send an order instead)."""
        self.attach()
        params = TriggerParams.validated(
            venue, symbol, venues=self.connectors.keys(), kind=kind, is_ask=is_ask, trigger_price_i=trigger_price_i,
            size_i=size_i, trigger_on=trigger_on, limit_price_i=limit_price_i, trail_ticks=trail_ticks,
            trail_ppm=trail_ppm, reduce_only=reduce_only, group=group,
        )  # fmt: skip
        self.market_data.market(venue, symbol)  # UnknownSymbol before anything is armed
        t = Trigger(self._new_id(), params)
        price = self.price_i(venue, symbol, params.trigger_on)
        if params.kind.is_trailing:
            if price is None and t.trigger_price_i is None:
                raise InvalidOrder(f"no {params.trigger_on} price on {venue} {symbol} yet to trail from")
            if price is not None:
                self._trail(t, price)
        if price is not None and t.trigger_price_i is not None and crossed(params.kind, is_ask, t.trigger_price_i, price):
            raise InvalidOrder(
                f"the {params.kind} at {self._fmt(t, t.trigger_price_i)} would fire at once: "
                f"{params.trigger_on} is {self._fmt(t, price)}"
            )
        key = (venue, symbol)
        self._sizes.setdefault(key, self.positions.size_i(venue, symbol))
        await self._arm(t)
        return t

    async def bracket(
        self,
        venue: str,
        symbol: str,
        *,
        stop_price_i: int,
        take_profit_price_i: int,
        size_i: int | None = None,
        is_ask: bool | None = None,
        trigger_on: str = "mark",
    ) -> Bracket:
        """A stop and a take-profit, one-cancels-other (see ``execution.triggers.bracket``)."""
        from execution.triggers.bracket import place_bracket

        return await place_bracket(
            self, venue, symbol, stop_price_i=stop_price_i, take_profit_price_i=take_profit_price_i,
            size_i=size_i, is_ask=is_ask, trigger_on=trigger_on,
        )  # fmt: skip

    async def breakeven(self, venue: str, symbol: str) -> Trigger:
        """Move the position's stop (or place one) to its entry plus fees; see ``bracket.breakeven``."""
        from execution.triggers.bracket import breakeven

        return await breakeven(self, venue, symbol)

    async def cancel(self, t: Trigger, reason: str = "cancelled by the user") -> Trigger:
        """Disarm an armed trigger; a fired one has its working child cancelled instead."""
        if t.is_done:
            return t
        if t.state is TriggerState.TRIGGERED:
            if t.child is not None and not t.child.is_final:
                await self.orders.cancel(t.child)
            return t
        await self._disarm(t, reason)
        return t

    async def cancel_all(self, venue: str | None = None, symbol: str | None = None, reason: str = "cancel all") -> int:
        targets = [t for t in self.active() if (venue is None or t.venue == venue) and (symbol is None or t.symbol == symbol)]
        for t in targets:
            await self.cancel(t, reason)
        return len(targets)

    async def move(self, t: Trigger, trigger_price_i: int) -> Trigger:
        """Re-price an armed trigger (a breakeven, a key press); refused if it would fire at once."""
        require_int("trigger_price_i", trigger_price_i)
        if t.state is not TriggerState.ARMED:
            raise InvalidOrder(f"trigger {t.id} is {t.state}; only an armed trigger can be moved")
        if trigger_price_i <= 0:
            raise InvalidOrder(f"trigger price must be positive, got {trigger_price_i}")
        price = self.price_i(t.venue, t.symbol, t.params.trigger_on)
        if price is not None and crossed(t.kind, t.is_ask, trigger_price_i, price):
            raise InvalidOrder(
                f"a {t.kind} at {self._fmt(t, trigger_price_i)} would fire at once: "
                f"{t.params.trigger_on} is {self._fmt(t, price)}"
            )
        old = t.trigger_price_i
        await self._reprice(t, trigger_price_i)
        t.note(f"moved {self._fmt(t, old)} -> {self._fmt(t, trigger_price_i)}")
        self._changed(t)
        return t

    def active(self) -> list[Trigger]:
        """Triggers not yet ended (ARMED or TRIGGERED), oldest first."""
        return [t for t in self.triggers.values() if not t.is_done]

    def on(self, venue: str, symbol: str) -> list[Trigger]:
        """Active triggers on one market."""
        return [t for t in self._by_market.get((venue, symbol), ()) if not t.is_done]

    def get(self, trigger_id: str) -> Trigger | None:
        return self.triggers.get(trigger_id)

    def add_listener(self, fn: Listener) -> None:
        """``fn(trigger)`` after every change of every trigger (sync; keep it cheap)."""
        self._listeners.add(fn)

    def remove_listener(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    def price_i(self, venue: str, symbol: str, on: TriggerOn | str) -> int | None:
        """The price a trigger watches: ``mark`` (the mid where the venue gives no mark), ``last`` or ``mid``."""
        on = TriggerOn(on)
        if on is TriggerOn.LAST:
            return self.market_data.last_price_i(venue, symbol)
        mid = self.market_data.mid_i(venue, symbol)
        if mid is None and on is TriggerOn.MARK:
            return self.positions.position(venue, symbol).mark_price_i
        return mid

    async def restore(self) -> list[Trigger]:
        """After a restart: re-arm every journaled live trigger (an emulated one past its price
        fires on the next price only if it is still past it, and says so)."""
        self.attach()
        if self.journal is None:
            return []
        restored = []
        for row in persistence.load(self.journal):
            if row["parent_id"] in self.triggers:
                continue
            if row["venue"] not in self.connectors:
                log.warning("trigger %s on %s not restored: that venue is not configured", row["parent_id"], row["venue"])
                continue
            t = persistence.from_record(row, self.orders)
            self._register(t)
            restored.append(t)
            self._sizes.setdefault((t.venue, t.symbol), self.positions.size_i(t.venue, t.symbol))
            self._restore_one(t)
        return restored

    async def stop(self) -> None:
        """Stop the background work; armed triggers stay journaled (emulated ones fire only while we run)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    # -- arming, disarming (the emulated path; native overrides live in ``native``) ---------

    def _use_native(self, params: TriggerParams) -> bool:
        if self.force_emulation:
            return False
        tick = self.market_data.market(params.venue, params.symbol).tick_i
        return native.supports(self.connectors.get(params.venue), params, tick)

    async def _arm(self, t: Trigger) -> None:
        if self._use_native(t.params):
            t.native = True
            await self._arm_native(t)
        t.note(f"armed at {self._fmt(t, t.trigger_price_i)} ({t.params.trigger_on}), held by {t.held_by}")
        self._register(t)
        self._changed(t)
        self._check_armed_size(t)

    async def _disarm(self, t: Trigger, reason: str) -> None:
        async with t.venue_op():  # after a re-arm or a move in flight: cancel what it leaves at the venue
            if t.native and t.state is TriggerState.ARMED and t.venue_ref is not None:
                vs = self.market_data.venue_symbol(t.venue, t.symbol)
                if not await native.disarm(self.connectors[t.venue], vs, t.venue_ref):
                    await self._sync_native(t)  # the venue holds it no longer: it fired (or was cancelled there)
                    return
            if t.finish(TriggerState.CANCELLED, reason):
                self._changed(t)

    async def _reprice(self, t: Trigger, trigger_price_i: int) -> None:
        if not t.native:
            t.trigger_price_i = trigger_price_i
            return
        async with t.venue_op():  # not while a re-arm for a new position size replaces its reference
            if t.state is not TriggerState.ARMED:
                raise InvalidOrder(f"trigger {t.id} is {t.state}; only an armed trigger can be moved")
            # the venue has no amend for triggers: cancel, then arm again at the new price
            vs = self.market_data.venue_symbol(t.venue, t.symbol)
            assert t.venue_ref is not None
            if not await native.disarm(self.connectors[t.venue], vs, t.venue_ref):
                await self._sync_native(t)
                raise InvalidOrder(f"trigger {t.id} is no longer held by the venue (it fired); not moved")
            old = t.trigger_price_i
            t.trigger_price_i = trigger_price_i
            try:
                await self._arm_native(t)
            except Exception as exc:
                t.trigger_price_i = old
                t.finish(TriggerState.CANCELLED, f"the venue refused it at the new price: {exc}")
                self._changed(t)
                raise
        self._check_armed_size(t)

    def _restore_one(self, t: Trigger) -> None:
        if t.native and t.venue_ref is not None:
            self._native_refs[(t.venue, t.venue_ref)] = t
            if t.state is TriggerState.ARMED:
                t.note("restored armed after a restart (held by the venue: reading what it did meanwhile)")
                self._spawn(self._sync_native(t))
                return
        if t.state is TriggerState.TRIGGERED:
            if t.child is None:
                t.state = TriggerState.ARMED
                self._say(t, "restored: it fired but its order was never sent; re-armed, fires only if still past")
                self._recheck[t.id] = "restore"
            else:
                self._check_child(t)
            self._changed(t)
            return
        self._recheck[t.id] = "restore"
        t.note("restored armed after a restart (emulated: checks the price again before firing)")
        self._evaluate(t)

    # -- evaluation and firing --------------------------------------------------------------

    def _on_book(self, venue: str, symbol: str) -> None:
        if venue in self._down:
            return
        for t in list(self._by_market.get((venue, symbol), ())):
            if t.state is not TriggerState.ARMED:
                continue
            if not t.native:
                self._evaluate(t)
            elif t.kind.is_trailing:  # the venue trails it; follow along for the screens
                price = self.price_i(venue, symbol, t.params.trigger_on)
                if price is not None and self._trail(t, price):
                    self._listeners.emit(t)

    def _evaluate(self, t: Trigger) -> None:
        price = self.price_i(t.venue, t.symbol, t.params.trigger_on)
        if price is None or t.state is not TriggerState.ARMED:
            return
        if t.kind.is_trailing and self._trail(t, price):
            self._changed(t)
        why = self._recheck.pop(t.id, None)
        assert t.trigger_price_i is not None
        if crossed(t.kind, t.is_ask, t.trigger_price_i, price):
            if why is not None:
                self._say(t, f"after the {why}: {t.params.trigger_on} {self._fmt(t, price)} is still past "
                             f"{self._fmt(t, t.trigger_price_i)}; firing")  # fmt: skip
            self._fire(t, price)
        elif why is not None:
            self._say(t, f"after the {why}: {t.params.trigger_on} {self._fmt(t, price)} is not past "
                         f"{self._fmt(t, t.trigger_price_i)}; stays armed")  # fmt: skip

    def _trail(self, t: Trigger, price: int) -> bool:
        """Follow the best price in the favourable direction only; True if the trigger moved."""
        p = t.params
        best = price if t.best_i is None else better(p.is_ask, t.best_i, price)
        if best == t.best_i and t.trigger_price_i is not None:
            return False
        t.best_i = best
        tick = self.market_data.market(p.venue, p.symbol).tick_i
        new = trailing_trigger_i(p.is_ask, best, trail_distance_i(best, tick, trail_ticks=p.trail_ticks,
                                                                  trail_ppm=p.trail_ppm))  # fmt: skip
        old = t.trigger_price_i
        t.trigger_price_i = new if old is None else better(p.is_ask, old, new)
        return t.trigger_price_i != old

    def _fire(self, t: Trigger, price: int) -> None:
        """Synchronous until the child is sent: nothing else can fire this trigger or its siblings meanwhile."""
        t.state, t.fired_price_i = TriggerState.TRIGGERED, price
        t.note(f"fired: {t.params.trigger_on} {self._fmt(t, price)} reached {self._fmt(t, t.trigger_price_i)}")
        self._cancel_siblings(t)
        size, why = self._fire_size(t)
        if size is None:
            t.finish(TriggerState.DONE, why)
            self._changed(t)
            return
        self._changed(t)
        self._spawn(self._send_child(t, size))

    def _fire_size(self, t: Trigger) -> tuple[int | None, str]:
        p = t.params
        if not p.reduce_only:
            return p.size_i, ""
        pos = self.positions.size_i(p.venue, p.symbol)
        if pos == 0:
            return None, "nothing to close: the position is flat"
        if (pos > 0) != p.is_ask:
            return None, "nothing to close: the position is on the other side (a stop never opens or flips one)"
        # what other fired triggers are closing already is not this one's to close (even where a venue
        # would let two reduce-only orders through together)
        busy = sum(o.closing_i for o in self._by_market.get((p.venue, p.symbol), ())
                   if o is not t and o.state is TriggerState.TRIGGERED)  # fmt: skip
        left = abs(pos) - busy
        if left <= 0:
            return None, "nothing left to close: other protective orders are closing the position"
        t.closing_i = left if p.size_i is None else min(p.size_i, left)
        return t.closing_i, ""

    async def _send_child(self, t: Trigger, size_i: int) -> None:
        p = t.params
        try:
            if p.kind.is_limit:
                assert p.limit_price_i is not None
                child = await self.orders.submit_limit(
                    p.venue, p.symbol, is_ask=p.is_ask, size_i=size_i, price_i=p.limit_price_i,
                    reduce_only=p.reduce_only, parent_id=t.id,
                )  # fmt: skip
            else:
                child = await self.orders.submit_market(
                    p.venue, p.symbol, is_ask=p.is_ask, size_i=size_i, reduce_only=p.reduce_only, parent_id=t.id
                )
        except Exception as exc:  # a refusal ends the trigger; it is never retried blindly
            if t.finish(TriggerState.DONE, f"its order was refused: {exc}"):
                self._changed(t)
            return
        t.child = child
        self._check_child(t)
        self._changed(t)

    def _check_child(self, t: Trigger) -> None:
        child = t.child
        if child is None or not child.is_final or t.is_done:
            return
        if child.state is S.FILLED:
            reason = "filled"
        elif child.filled_i:
            reason = f"partly filled, then {child.state}: {child.reason}"
        elif child.state is S.REJECTED:
            ro = "reduce-only " if t.params.reduce_only else ""
            reason = f"its {ro}order was refused ({child.state}): {child.reason}"
        else:
            reason = f"its order ended {child.state}: {child.reason}"
        t.finish(TriggerState.DONE, reason)
        self._changed(t)

    def _cancel_siblings(self, t: Trigger) -> None:
        if t.params.group is None:
            return
        for other in self._by_market.get((t.venue, t.symbol), ()):
            if other is not t and other.params.group == t.params.group and other.state is TriggerState.ARMED:
                self._cancel_soon(other, f"one-cancels-other: its {t.kind} fired")

    def _cancel_soon(self, t: Trigger, reason: str) -> None:
        """Synchronous for an emulated trigger (it cannot fire after this); a native one is cancelled at the venue."""
        if not t.native:
            if t.finish(TriggerState.CANCELLED, reason):
                self._changed(t)
        else:
            self._spawn(self._disarm(t, reason))

    # -- the world's news -----------------------------------------------------------------------

    def _on_order(self, order: Order) -> None:
        t = self.triggers.get(order.parent_id) if order.parent_id is not None else None
        if t is None:
            t = self._native_refs.get(order.key)
            if t is None:
                return
            if t.state is TriggerState.ARMED:
                t.state = TriggerState.TRIGGERED
                t.note(f"fired at the venue: its order {order.client_order_index} is {order.state}")
                self._cancel_siblings(t)
                self._changed(t)
        if t.child is None or t.child is order:
            t.child = order
            self._check_child(t)

    def _on_position(self, venue: str, symbol: str | None) -> None:
        """Whole-position triggers follow the size (emulated ones read it when they fire, native ones
        as ``execution.triggers.follow`` says); once the position is closed or flipped, nothing
        reduce-only is left resting for it.

        The clean-up waits ``FLAT_GRACE_S`` and then looks again: a venue snapshot that briefly
        disagrees with the fills (a stale one saying flat) must not strip a live position of its stop;
        before anything is cancelled the venue is asked for its own size, which decides.
        Meanwhile nothing can close more than the position: a trigger fires into its size, reduce-only.
        """
        if symbol is None:
            return
        key = (venue, symbol)
        new = self.positions.size_i(venue, symbol)
        old = self._sizes.get(key, 0)
        self._sizes[key] = new
        if old == 0 or (new != 0 and (new > 0) == (old > 0)):
            if old != 0 and new != old:
                self._follow_position(venue, symbol)  # a venue holding a fixed size is told the new one
            return
        self._spawn(self._clean_up_after_close(venue, symbol))

    async def _clean_up_after_close(self, venue: str, symbol: str) -> None:
        await self.clock.sleep(FLAT_GRACE_S)
        pos = self.positions.size_i(venue, symbol)
        if any(self._would_end(t, pos) for t in self._by_market.get((venue, symbol), ())):
            confirmed = await self._venue_position(venue, symbol)
            if confirmed is None:
                log.warning("%s %s: the venue could not confirm the position; its protection is kept", venue, symbol)
                return
            if confirmed != pos:
                log.warning("%s %s: our position %d, the venue's %d: the venue's decides what stays protected",
                            venue, symbol, pos, confirmed)  # fmt: skip
                pos = confirmed
        for t in list(self._by_market.get((venue, symbol), ())):
            if not self._would_end(t, pos):
                continue  # the position came back (or a new one on this side): still protected
            reason = "the position was closed" if pos == 0 else "the position flipped"
            if t.state is TriggerState.ARMED:
                self._cancel_soon(t, reason)
            elif t.child is not None and not t.child.is_final and pos == 0:
                await self.orders.cancel(t.child)

    @staticmethod
    def _would_end(t: Trigger, pos: int) -> bool:
        """A live reduce-only trigger with nothing left on its side to close."""
        return t.params.reduce_only and not t.is_done and not (pos != 0 and (pos > 0) == t.is_ask)

    def _on_connection(self, venue: str, event: ConnectionEvent) -> None:
        if event.state is ConnectionState.DISCONNECTED:
            self._down.add(venue)
        elif event.state is ConnectionState.CONNECTED and venue in self._down:
            self._down.discard(venue)
            self._spawn(self._sync_venue(venue))
            for t in self.active():
                if t.venue == venue and t.state is TriggerState.ARMED and not t.native:
                    self._recheck[t.id] = "reconnect"

    # -- internals ----------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"tg{self.clock.now_ms()}{next(self._ids):03d}{secrets.token_hex(2)}"

    def _register(self, t: Trigger) -> None:
        self.triggers[t.id] = t
        market = self._by_market.setdefault((t.venue, t.symbol), [])
        market[:] = [x for x in market if not x.is_done] + [t]

    def _changed(self, t: Trigger) -> None:
        if self.journal is not None:
            try:
                persistence.save(self.journal, t, self.clock.now_ms())
            except Exception:
                log.exception("journal: could not save trigger %s", t.id)
        self._listeners.emit(t)
        if t.is_done:
            self._ended.ended(t.id)

    def _say(self, t: Trigger, text: str) -> None:
        t.note(text)
        line = f"{t.venue} {t.symbol} {t.kind} {t.id}: {text}"
        self.log.append(line)
        log.warning("trigger %s", line)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("trigger task failed", exc_info=task.exception())

    def _fmt(self, t: Trigger, price_i: int | None) -> str:
        if price_i is None:
            return "-"
        try:
            return self.market_data.format_price(t.venue, t.symbol, price_i)
        except (KeyError, ValueError):
            return str(price_i)
