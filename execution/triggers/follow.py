"""Native whole-position triggers follow the position where the venue holds them at a fixed size.

A whole-position trigger (``size_i`` None) must close whatever the position is when it fires.  Where
the venue's native form already does (``trigger_follows_position`` on the connector: the sim's
close-position trigger, Binance ``closePosition``, Hyperliquid ``positionTpsl``, Backpack
``triggerQuantity: "100%"``), nothing is done here.  Where the venue holds the size it was given
(Lighter: its stop-loss and take-profit orders carry a base amount), the trigger is re-armed at the
new size once the position has stayed unchanged for ``REARM_QUIET_S`` (a burst of fills re-arms it
once): the new one is placed first and the old one cancelled after, so the position is never
without it in between.  Both are reduce-only meanwhile, so even if both fired together the venue
would refuse whatever went beyond the position.  If the old one fired in that window, the new one
is cancelled and the trigger follows the old one's child as usual.

When our view says a position is closed, the venue is asked (``_venue_position``) before its
reduce-only triggers are cancelled: a stale snapshot saying flat must not strip a live position of its stop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from execution.triggers import native
from execution.triggers.model import TriggerState
from execution.triggers.native import follows

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import IConnector
    from execution.market import MarketDataService
    from execution.orders import OrderService
    from execution.position_service import PositionService
    from execution.triggers.model import Trigger

log = logging.getLogger(__name__)

REARM_QUIET_S = 0.5
"""How long a position must stay unchanged before its fixed-size native triggers are re-armed."""
CONFIRM_TRIES = 5
CONFIRM_RETRY_S = 1.0
"""Asking the venue whether a position is really closed: tries, and the wait between them."""


def needs_rearm(t: Trigger) -> bool:
    p = t.params
    return t.native and t.state is TriggerState.ARMED and p.size_i is None and p.reduce_only


class FollowPosition:
    """The part of ``TriggerManager`` that re-arms fixed-size native whole-position triggers."""

    orders: OrderService
    market_data: MarketDataService
    positions: PositionService
    connectors: Mapping[str, IConnector]
    clock: Clock
    _native_refs: dict[tuple[str, int], Trigger]
    _follow_changes: dict[tuple[str, str], int]

    if TYPE_CHECKING:  # the manager's

        def _changed(self, t: Trigger) -> None: ...
        def _spawn(self, coro: object) -> None: ...
        def on(self, venue: str, symbol: str) -> list[Trigger]: ...
        async def _sync_native(self, t: Trigger) -> None: ...

    def _follow_position(self, venue: str, symbol: str) -> None:
        """The position changed size (same side, not flat): re-arm what holds a fixed size, once it is quiet."""
        if follows(self.connectors.get(venue)) or not any(needs_rearm(t) for t in self.on(venue, symbol)):
            return
        key = (venue, symbol)
        first = key not in self._follow_changes
        self._follow_changes[key] = self._follow_changes.get(key, 0) + 1
        if first:
            self._spawn(self._rearm_when_quiet(venue, symbol))

    def _check_armed_size(self, t: Trigger) -> None:
        """Just armed (placed or moved) for the venue's position as its account read said: if that differs from
        the position as the fills say (the account lagging behind), follow the position as after a change."""
        pos = self.positions.size_i(t.venue, t.symbol)
        if needs_rearm(t) and t.armed_size_i is not None and pos != 0 and (pos > 0) == t.is_ask:
            if t.armed_size_i != abs(pos):
                self._follow_position(t.venue, t.symbol)

    async def _rearm_when_quiet(self, venue: str, symbol: str) -> None:
        key = (venue, symbol)
        try:
            while True:
                seen = self._follow_changes[key]
                await self.clock.sleep(REARM_QUIET_S)
                if self._follow_changes[key] != seen:
                    continue  # still moving
                pos = self.positions.size_i(venue, symbol)
                for t in self.on(venue, symbol):
                    if needs_rearm(t) and pos != 0 and (pos > 0) == t.is_ask and t.armed_size_i != abs(pos):
                        await self._rearm(t, abs(pos))
                if self._follow_changes[key] == seen:
                    return
        finally:
            self._follow_changes.pop(key, None)

    async def _rearm(self, t: Trigger, size_i: int) -> None:
        """Place the trigger again for ``size_i``, then cancel the one the venue holds (see the module); one
        change at the venue at a time (``Trigger.venue_op``: a move or a cancel waits, or is waited for)."""
        async with t.venue_op():
            if needs_rearm(t) and t.armed_size_i != size_i:  # a move meanwhile may have armed it for this size
                await self._rearm_now(t, size_i)

    async def _rearm_now(self, t: Trigger, size_i: int) -> None:
        venue, old = t.venue, t.venue_ref
        assert old is not None
        connector = self.connectors[venue]
        vs = self.market_data.venue_symbol(venue, t.symbol)
        coi = self.orders.allocator.allocate(venue)
        self._native_refs[(venue, coi)] = t  # before the request: the venue may fire it at once
        try:
            await native.arm(connector, t, vs, coi, self.market_data.market(venue, t.symbol).tick_i, size_i=size_i)
        except Exception as exc:
            del self._native_refs[(venue, coi)]
            t.note(f"could not re-arm it for the new position size ({exc}); the venue still holds it at the old size")
            log.warning("trigger %s: re-arm for %s refused: %s", t.id, size_i, exc)
            return
        try:
            gone = await native.disarm(connector, vs, old)
        except Exception as exc:  # the old one may still rest: take the new one back rather than leave both
            t.note(f"re-arm for the new position size abandoned: cancelling the old one failed ({exc})")
            try:
                await native.disarm(connector, vs, coi)
            except Exception:
                log.exception("trigger %s: could not take back its re-armed copy %s", t.id, coi)
            return
        if not gone:  # the old one is held no longer (it fired, most likely): the new one must not rest beside it
            await native.disarm(connector, vs, coi)
            await self._sync_native(t)
            return
        t.venue_ref = coi
        self._native_refs.pop((venue, old), None)
        t.armed_size_i = size_i
        t.note(f"re-armed at the venue for the position's new size {size_i} (the venue holds a fixed size)")
        self._changed(t)

    async def _venue_position(self, venue: str, symbol: str) -> int | None:
        """The venue's own size for ``symbol``, read fresh: before a stop is taken off a position that our
        view says is closed (a stale snapshot saying flat must not strip a live position); None when the
        venue cannot say after a few tries (the protection is then kept: a reduce-only order cannot open)."""
        connector = self.connectors.get(venue)
        if connector is None:
            return self.positions.size_i(venue, symbol)
        venue_symbol = self.market_data.venue_symbol(venue, symbol)
        for attempt in range(CONFIRM_TRIES):
            try:
                held = await connector.get_positions()
            except Exception as exc:
                log.info("%s: reading positions to confirm a close failed (%s)", venue, exc)
                if attempt + 1 < CONFIRM_TRIES:
                    await self.clock.sleep(CONFIRM_RETRY_S)
                continue
            return sum(p.size_i for p in held if p.symbol == venue_symbol)
        return None
