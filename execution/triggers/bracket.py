"""Brackets (a stop and a take-profit, one-cancels-other) and breakeven.

A bracket is two triggers in one ``group``: when either fires, the other is cancelled in the
same step (emulated) or at once after the venue reports the fire (native), and both are
reduce-only, so even two sides firing in the same tick can never close more than the position
(the venue refuses the second as reduce-only).  With ``size_i`` None both follow the position's
size; once the position is closed (by either side or by hand) whatever is left is cancelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from connector.checks import require_int
from connector.errors import InvalidOrder
from connector.interface import QUOTE_DECIMALS
from execution.triggers.model import Trigger, TriggerKind, TriggerState

if TYPE_CHECKING:
    from execution.market import MarketDataService
    from execution.position_service import PositionService


class TriggerManager(Protocol):
    """What a bracket needs of ``execution.triggers.TriggerManager`` (named so, to read as it)."""

    positions: PositionService
    market_data: MarketDataService

    async def place(self, venue: str, symbol: str, **kw: Any) -> Trigger: ...
    async def cancel(self, t: Trigger, reason: str = ...) -> Trigger: ...
    async def move(self, t: Trigger, trigger_price_i: int) -> Trigger: ...
    def on(self, venue: str, symbol: str) -> list[Trigger]: ...


@dataclass(eq=False)
class Bracket:
    id: str
    stop: Trigger
    take_profit: Trigger

    @property
    def sides(self) -> tuple[Trigger, Trigger]:
        return self.stop, self.take_profit

    @property
    def is_done(self) -> bool:
        return all(t.is_done for t in self.sides)

    @property
    def fired(self) -> Trigger | None:
        """The side that fired, if one did."""
        return next((t for t in self.sides if t.state in (TriggerState.TRIGGERED, TriggerState.DONE)), None)

    async def wait_done(self, timeout: float | None = None) -> Bracket:
        for t in self.sides:
            await t.wait_done(timeout)
        return self


def closing_side(manager: TriggerManager, venue: str, symbol: str, is_ask: bool | None) -> bool:
    """The side that closes the position (a sell for a long); a flat position must be told."""
    size = manager.positions.size_i(venue, symbol)
    if size == 0:
        if is_ask is None:
            raise InvalidOrder(f"{venue} {symbol} is flat: say which side the bracket closes (is_ask=)")
        return is_ask
    side = size > 0
    if is_ask is not None and is_ask != side:
        raise InvalidOrder(f"{venue} {symbol}: a bracket on that side would add to the position, not close it")
    return side


async def place_bracket(
    manager: TriggerManager,
    venue: str,
    symbol: str,
    *,
    stop_price_i: int,
    take_profit_price_i: int,
    size_i: int | None = None,
    is_ask: bool | None = None,
    trigger_on: str = "mark",
) -> Bracket:
    require_int("stop_price_i", stop_price_i)
    require_int("take_profit_price_i", take_profit_price_i)
    require_int("size_i", size_i, optional=True)
    side = closing_side(manager, venue, symbol, is_ask)
    if (stop_price_i >= take_profit_price_i) if side else (stop_price_i <= take_profit_price_i):
        where = "below" if side else "above"
        raise InvalidOrder(f"the stop must be {where} the take-profit for a {'long' if side else 'short'}")
    group = f"br{secrets.token_hex(4)}"
    common = {"is_ask": side, "size_i": size_i, "trigger_on": trigger_on, "group": group}
    stop = await manager.place(venue, symbol, kind="stop_market", trigger_price_i=stop_price_i, **common)
    try:
        tp = await manager.place(venue, symbol, kind="take_profit_market", trigger_price_i=take_profit_price_i, **common)
    except BaseException:
        await manager.cancel(stop, "its take-profit was refused")
        raise
    return Bracket(group, stop, tp)


def breakeven_price_i(manager: TriggerManager, venue: str, symbol: str) -> tuple[bool, int]:
    """``(closing side, price)``: the entry moved by the fees paid to open, and as much again to close,
    rounded to a tick away from the entry so the stop never locks in a loss."""
    view = manager.positions.position(venue, symbol)
    if view.size_i == 0 or view.entry_price_i is None:
        raise InvalidOrder(f"{venue} {symbol} has no position to move a stop to breakeven for")
    info = manager.market_data.market(venue, symbol)
    size = abs(view.size_i)
    fee_n = 2 * max(0, view.fees_q) * 10 ** (info.price_decimals + info.size_decimals)
    per_unit = -(-fee_n // (10**QUOTE_DECIMALS * size))
    tick = info.tick_i
    if view.size_i > 0:
        raw = view.entry_price_i + per_unit
        return True, -(-raw // tick) * tick
    raw = view.entry_price_i - per_unit
    return False, raw // tick * tick


async def breakeven(manager: TriggerManager, venue: str, symbol: str) -> Trigger:
    """Move every armed stop on the position that is worse than breakeven up to it (never loosening
    one, and leaving trailing stops to trail), or place a whole-position stop there if there is none."""
    side, price = breakeven_price_i(manager, venue, symbol)
    stops = [
        t for t in manager.on(venue, symbol)
        if t.kind.is_stop and t.is_ask == side and t.state is TriggerState.ARMED and t.params.reduce_only
    ]  # fmt: skip
    fixed = [t for t in stops if not t.kind.is_trailing]
    if not fixed:
        return await manager.place(venue, symbol, kind=str(TriggerKind.STOP_MARKET), is_ask=side, trigger_price_i=price)
    for t in fixed:
        worse = t.trigger_price_i is None or (t.trigger_price_i < price if side else t.trigger_price_i > price)
        if worse:
            await manager.move(t, price)
    return fixed[0]
