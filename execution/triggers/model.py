"""Protective orders: kinds, states, parameters and the price arithmetic that fires them.

Pure: nothing here talks to a venue, the journal or a listener.  Prices are scaled ints.

Which way a trigger fires depends on its kind and side.  A sell stop (protecting a long)
fires when the price falls to its trigger; a sell take-profit when it rises to it; a buy
stop (protecting a short) when the price rises to it; a buy take-profit when it falls to it.
A trailing stop is a stop whose trigger follows the best price since it was placed, in the
favourable direction only: a sell trailing stop's trigger only ever rises.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from connector.checks import require_int
from connector.errors import InvalidOrder

if TYPE_CHECKING:
    from execution.orders import Order

PPM = 1_000_000


class TriggerKind(enum.StrEnum):
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT_MARKET = "take_profit_market"
    TAKE_PROFIT_LIMIT = "take_profit_limit"
    TRAILING_STOP = "trailing_stop"

    @property
    def is_limit(self) -> bool:
        return self in (TriggerKind.STOP_LIMIT, TriggerKind.TAKE_PROFIT_LIMIT)

    @property
    def is_stop(self) -> bool:
        """Stops (trailing included) fire on an adverse move; take-profits on a favourable one."""
        return self in (TriggerKind.STOP_MARKET, TriggerKind.STOP_LIMIT, TriggerKind.TRAILING_STOP)

    @property
    def is_trailing(self) -> bool:
        return self is TriggerKind.TRAILING_STOP


class TriggerState(enum.StrEnum):
    ARMED = "ARMED"
    """Waiting for the price (held by the venue when native, by us when emulated)."""
    TRIGGERED = "TRIGGERED"
    """Fired: its child order is on its way or working."""
    DONE = "DONE"
    """Fired and its child ended (``end_reason`` says how), or it ended with nothing to do."""
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (TriggerState.DONE, TriggerState.CANCELLED)


class TriggerOn(enum.StrEnum):
    MARK = "mark"
    LAST = "last"
    MID = "mid"


def fires_on_fall(kind: TriggerKind, is_ask: bool) -> bool:
    """True when the trigger fires as the price falls to it (sell stop, buy take-profit)."""
    return is_ask == kind.is_stop


def crossed(kind: TriggerKind, is_ask: bool, trigger_price_i: int, price_i: int) -> bool:
    """Whether ``price_i`` is at or past the trigger."""
    if fires_on_fall(kind, is_ask):
        return price_i <= trigger_price_i
    return price_i >= trigger_price_i


def trail_distance_i(best_i: int, tick_i: int, *, trail_ticks: int | None, trail_ppm: int | None) -> int:
    """How far behind the best price a trailing stop's trigger sits, a whole number of ticks (at least one)."""
    if trail_ticks is not None:
        return trail_ticks * tick_i
    raw = best_i * (trail_ppm or 0) // PPM
    return max(tick_i, raw - raw % tick_i)


def better(is_ask: bool, a: int, b: int) -> int:
    """The better of two prices for a trailing stop on this side: the higher for a sell, the lower for a buy."""
    return max(a, b) if is_ask else min(a, b)


def trailing_trigger_i(is_ask: bool, best_i: int, distance_i: int) -> int:
    return best_i - distance_i if is_ask else best_i + distance_i


@dataclass(frozen=True, slots=True)
class TriggerParams:
    """What a trigger was asked to do (journaled as its ``params``)."""

    venue: str
    symbol: str
    kind: TriggerKind
    is_ask: bool
    trigger_price_i: int | None
    """None only for a trailing stop placed without a starting trigger."""
    size_i: int | None = None
    """None: the whole position at the moment it fires."""
    trigger_on: TriggerOn = TriggerOn.MARK
    limit_price_i: int | None = None
    trail_ticks: int | None = None
    trail_ppm: int | None = None
    reduce_only: bool = True
    group: str | None = None
    """The bracket it belongs to: when one of a group fires, the others are cancelled."""

    @classmethod
    def validated(
        cls,
        venue: str,
        symbol: str,
        *,
        venues: Iterable[str],
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
    ) -> TriggerParams:
        """Refuse (``InvalidOrder``) anything that is not exactly what a trigger can do."""
        if venue not in set(venues):
            raise InvalidOrder(f"unknown venue {venue!r}")
        try:
            k = TriggerKind(kind)
        except ValueError:
            raise InvalidOrder(f"kind must be one of {', '.join(TriggerKind)}, got {kind!r}") from None
        try:
            on = TriggerOn(trigger_on)
        except ValueError:
            raise InvalidOrder(f"trigger_on must be one of {', '.join(TriggerOn)}, got {trigger_on!r}") from None
        if type(is_ask) is not bool:
            raise InvalidOrder(f"is_ask must be True or False, got {is_ask!r}")
        require_int("trigger_price_i", trigger_price_i, optional=k.is_trailing)
        require_int("size_i", size_i, optional=True)
        require_int("limit_price_i", limit_price_i, optional=True)
        require_int("trail_ticks", trail_ticks, optional=True)
        require_int("trail_ppm", trail_ppm, optional=True)
        if trigger_price_i is not None and trigger_price_i <= 0:
            raise InvalidOrder(f"trigger price must be positive, got {trigger_price_i}")
        if size_i is not None and size_i <= 0:
            raise InvalidOrder(f"size must be positive (or None for the whole position), got {size_i}")
        if size_i is None and not reduce_only:
            raise InvalidOrder("a trigger that may open a position needs a size (size_i None means the whole position)")
        if k.is_limit:
            if limit_price_i is None or limit_price_i <= 0:
                raise InvalidOrder(f"{k} needs a positive limit_price_i")
        elif limit_price_i is not None:
            raise InvalidOrder(f"{k} takes no limit price (it fires a market order)")
        if k.is_trailing:
            if (trail_ticks is None) == (trail_ppm is None):
                raise InvalidOrder("a trailing stop takes exactly one of trail_ticks or trail_ppm")
            if (trail_ticks is not None and trail_ticks <= 0) or (trail_ppm is not None and not 0 < trail_ppm < PPM):
                raise InvalidOrder("the trail must be positive (trail_ppm below 1_000_000)")
        elif trail_ticks is not None or trail_ppm is not None:
            raise InvalidOrder(f"{k} takes no trail (only trailing_stop does)")
        return cls(venue, symbol, k, is_ask, trigger_price_i, size_i, on, limit_price_i, trail_ticks, trail_ppm,
                   reduce_only, group)  # fmt: skip

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["kind"], record["trigger_on"] = str(self.kind), str(self.trigger_on)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TriggerParams:
        values = dict(record)
        values["kind"], values["trigger_on"] = TriggerKind(values["kind"]), TriggerOn(values["trigger_on"])
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})


@dataclass(eq=False)
class Trigger:
    """One protective order.  Changed only by ``execution.triggers``; read by everyone."""

    id: str
    params: TriggerParams
    native: bool = False
    """Held by the venue (survives us) rather than emulated here (fires only while perpdesk runs)."""
    state: TriggerState = TriggerState.ARMED
    trigger_price_i: int | None = None
    """The current trigger (a trailing stop's moves; a breakeven or a manual move changes it)."""
    best_i: int | None = None
    """A trailing stop's best price so far."""
    venue_ref: int | None = None
    """A native trigger's client order index at the venue (its child carries the same one)."""
    child: Order | None = None
    armed_size_i: int | None = None
    """A native whole-position trigger on a venue that holds a fixed size: the size it was last re-armed for
    (``execution.triggers.follow``); journaled, so a restart does not re-arm it for the same size again."""
    end_reason: str = ""
    fired_price_i: int | None = None
    closing_i: int = 0
    """While TRIGGERED (emulated): the size its order is closing, kept from other triggers' sizes."""
    events: list[str] = field(default_factory=list)
    _done: asyncio.Event | None = field(default=None, repr=False)
    _venue_op: asyncio.Lock | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.trigger_price_i is None:
            self.trigger_price_i = self.params.trigger_price_i

    # the parameters, for the screens
    @property
    def venue(self) -> str:
        return self.params.venue

    @property
    def symbol(self) -> str:
        return self.params.symbol

    @property
    def kind(self) -> TriggerKind:
        return self.params.kind

    @property
    def is_ask(self) -> bool:
        return self.params.is_ask

    @property
    def is_done(self) -> bool:
        return self.state.is_final

    @property
    def held_by(self) -> str:
        return "venue" if self.native else "perpdesk: fires only while it runs"

    @property
    def filled_i(self) -> int:
        return self.child.filled_i if self.child is not None else 0

    def note(self, text: str) -> None:
        self.events.append(text)

    def finish(self, state: TriggerState, reason: str) -> bool:
        """Move to a final state once; False if it had already ended."""
        if self.state.is_final:
            return False
        self.state, self.end_reason = state, reason
        self.note(f"{state}: {reason}")
        if self._done is not None:
            self._done.set()
        return True

    def venue_op(self) -> asyncio.Lock:
        """Held while perpdesk changes what the venue holds for this native trigger (a move, a re-arm for a new
        position size, a cancel): one change at a time, so none acts on a reference another is replacing."""
        if self._venue_op is None:
            self._venue_op = asyncio.Lock()
        return self._venue_op

    async def wait_done(self, timeout: float | None = None) -> Trigger:
        """Wait until DONE or CANCELLED; ``TimeoutError`` (naming the state) after ``timeout`` seconds."""
        if self.is_done:
            return self
        if self._done is None:
            self._done = asyncio.Event()
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"trigger {self.id} still {self.state} after {timeout}s") from None
        return self

    def __repr__(self) -> str:
        side = "sell" if self.is_ask else "buy"
        how = "native" if self.native else "emulated"
        return f"<Trigger {self.id} {self.venue}:{self.symbol} {side} {self.kind} @ {self.trigger_price_i} {how} {self.state}>"
