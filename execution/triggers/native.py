"""Triggers the venue holds (``native_triggers``): arm, disarm, re-price and re-read them there.

The venue fires them even while perpdesk is down; its child carries the trigger's client order
index, so the manager recognises it on the order stream (``TriggerManager._on_order``).  After a
reconnect or a restart the venue's list is read again: a trigger it no longer holds either fired
(its child is looked up and adopted) or was cancelled there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from connector.errors import UnknownOrder, VenueError
from connector.interface import ChecksTriggers, SupportsTriggers
from execution.triggers.model import TriggerParams, TriggerState

if TYPE_CHECKING:
    from connector.interface import IConnector
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService
    from execution.triggers.model import Trigger

log = logging.getLogger(__name__)

CAPABILITY = "native_triggers"
FOLLOWS = "trigger_follows_position"
"""The connector attribute: True where a native whole-position trigger closes whatever the position is."""


def follows(connector: IConnector | None) -> bool:
    return bool(getattr(connector, FOLLOWS, False))


def supports(connector: IConnector | None, params: TriggerParams, tick_i: int) -> bool:
    """Whether ``connector`` keeps this trigger natively: its kind and price source are declared, and,
    where the venue answers per trigger (``ChecksTriggers.supports_trigger``: a trail it can express,
    a size form it takes), it says yes.  Without that answer every declared kind is kept natively."""
    if connector is None or CAPABILITY not in connector.capabilities:
        return False
    kinds = getattr(connector, "trigger_kinds", frozenset())
    sources = getattr(connector, "trigger_sources", frozenset())
    if str(params.kind) not in kinds or str(params.trigger_on) not in sources:
        return False
    if not isinstance(connector, ChecksTriggers):
        return True
    trail_i = params.trail_ticks * tick_i if params.trail_ticks is not None else None
    return connector.supports_trigger(
        kind=str(params.kind), size_i=params.size_i, trigger_on=str(params.trigger_on), trail_i=trail_i,
        trail_ppm=params.trail_ppm,
    )  # fmt: skip


def _venue(connector: IConnector) -> SupportsTriggers:
    return cast(SupportsTriggers, connector)


async def arm(
    connector: IConnector, t: Trigger, venue_symbol: str, coi: int, tick_i: int, size_i: int | None = None
) -> None:
    """Hand the trigger to the venue under ``coi`` (raises what the venue raises); ``size_i`` overrides
    the trigger's own (a whole-position trigger re-armed at a fixed-size venue for the position now)."""
    p = t.params
    await _venue(connector).submit_trigger_order(
        symbol=venue_symbol, client_order_index=coi, kind=str(p.kind), is_ask=p.is_ask,
        trigger_price=t.trigger_price_i, size_i=p.size_i if size_i is None else size_i, limit_price=p.limit_price_i,
        trigger_on=str(p.trigger_on),
        trail_i=p.trail_ticks * tick_i if p.trail_ticks is not None else None, trail_ppm=p.trail_ppm,
        reduce_only=p.reduce_only,
    )  # fmt: skip


async def fixed_size(connector: IConnector, t: Trigger, venue_symbol: str) -> int | None:
    """The size a whole-position trigger is armed for where the venue holds a fixed size: the venue's
    position now (``InvalidOrder`` if there is none on its side).  None where the trigger has its own
    size, the venue's form follows the position, or the connector cannot say (it sizes the trigger itself)."""
    p = t.params
    size_of = getattr(connector, "whole_position_size", None)
    if p.size_i is not None or follows(connector) or size_of is None:
        return None
    return int(await size_of(venue_symbol, str(p.kind), is_ask=p.is_ask, reduce_only=p.reduce_only))


async def disarm(connector: IConnector, venue_symbol: str, coi: int) -> bool:
    """Cancel at the venue; False if the venue holds it no longer (it fired, most likely)."""
    try:
        await _venue(connector).cancel_trigger_order(venue_symbol, coi)
    except UnknownOrder:
        return False
    return True


async def held(connector: IConnector) -> set[int] | None:
    """Client order indexes of the triggers the venue holds; None when it cannot say now."""
    try:
        return {s.client_order_index for s in await _venue(connector).get_trigger_orders()}
    except (VenueError, TimeoutError, OSError) as exc:
        log.warning("%s: could not read its trigger orders: %s", connector.venue, exc)
        return None


async def settle_missing(orders: OrderService, connector: IConnector, t: Trigger, venue_symbol: str) -> Any:
    """A native trigger the venue no longer holds: adopt its child if it fired, else it was cancelled there.

    Returns the child order (adopting it lets the manager link it) or None."""
    assert t.venue_ref is not None
    known = orders.get(t.venue, t.venue_ref)
    if known is not None:
        return known
    try:
        snap = await connector.get_order(venue_symbol, t.venue_ref)
    except UnknownOrder:
        if t.state is TriggerState.ARMED:
            return None
        raise
    return orders.apply_snapshot(t.venue, snap, why=f"trigger {t.id} fired at the venue")


class NativeSync:
    """The part of ``TriggerManager`` that arms native triggers and reads the venue again for them
    (after a reconnect, a restart, or a cancel the venue no longer recognises)."""

    orders: OrderService
    market_data: MarketDataService
    connectors: Mapping[str, IConnector]
    _native_refs: dict[tuple[str, int], Trigger]

    if TYPE_CHECKING:  # the manager's

        def _changed(self, t: Trigger) -> None: ...
        def _on_order(self, order: Order) -> None: ...
        def active(self) -> list[Trigger]: ...

    async def _arm_native(self, t: Trigger) -> None:
        """Arm (or re-arm, after a move) at the venue.  A whole-position trigger the venue holds at a fixed
        size is sized here and ``armed_size_i`` records it (the caller journals it), so the position
        following it (``execution.triggers.follow``) compares the position with what the venue holds."""
        venue, symbol = t.venue, t.symbol
        connector = self.connectors[venue]
        vs = self.market_data.venue_symbol(venue, symbol)
        size_i = await fixed_size(connector, t, vs)
        coi = self.orders.allocator.allocate(venue)
        old = t.venue_ref
        t.venue_ref = coi
        self._native_refs[(venue, coi)] = t  # before the request: the venue may fire it at once
        try:
            await arm(connector, t, vs, coi, self.market_data.market(venue, symbol).tick_i, size_i=size_i)
        except BaseException:
            del self._native_refs[(venue, coi)]
            t.venue_ref = old
            raise
        t.armed_size_i = size_i

    async def _sync_native(self, t: Trigger) -> None:
        """Read the venue again for one native trigger it may no longer hold."""
        connector = self.connectors[t.venue]
        holds = await held(connector)
        if holds is None or t.venue_ref in holds or t.is_done:
            return
        vs = self.market_data.venue_symbol(t.venue, t.symbol)
        child = await settle_missing(self.orders, connector, t, vs)
        if child is None:
            if t.finish(TriggerState.CANCELLED, "the venue no longer holds it and it never fired"):
                self._changed(t)
            return
        self._on_order(child)

    async def _sync_venue(self, venue: str) -> None:
        for t in self.active():
            if t.venue == venue and t.native:
                try:
                    async with t.venue_op():  # not while a re-arm or a move replaces its reference
                        if t.state is TriggerState.ARMED:
                            await self._sync_native(t)
                except Exception:
                    log.exception("trigger %s: could not read the venue's view", t.id)
