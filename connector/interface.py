"""The contract every venue implements.

Prices and sizes are scaled integers: ``price_i = price * 10**price_decimals``,
``size_i = size * 10**size_decimals``.  Account money (collateral, PnL, fees,
margin) is in the quote currency scaled by ``QUOTE_DECIMALS``.  Symbols here
are the venue's own names; ``execution.MarketDataService`` maps canonical
symbols (``BTC``) to them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

QUOTE_DECIMALS = 6
"""Scale of every quote-currency amount (USDC has 6 decimals on every venue we trade)."""


class OrderStatus(enum.StrEnum):
    """Order states; the connector reports the venue's view, execution runs the machine."""

    NEW = "NEW"
    SUBMITTING = "SUBMITTING"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    CANCELLING = "CANCELLING"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_live(self) -> bool:
        """May rest on the book or still fill."""
        return self in _LIVE


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_LIVE = frozenset(
    {
        OrderStatus.SUBMITTING,
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.CANCELLING,
        OrderStatus.UNKNOWN,
    }
)


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


def _info() -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class MarketInfo:
    symbol: str
    """The venue's own name, e.g. ``BTC-PERP``."""
    base: str
    """Canonical base asset, e.g. ``BTC``."""
    quote: str
    price_decimals: int
    size_decimals: int
    min_size_i: int
    tick_i: int = 1
    """Smallest price step in scaled units (venues with significant-figure rules round further)."""
    step_i: int = 1
    """Smallest size step in scaled units."""
    min_notional_q: int = 0
    max_leverage: int = 1
    prev_day_price_i: int | None = None
    """The price 24 hours ago (or at the venue's day open) when the venue says, for the 24h change."""
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """The venue's view of one order."""

    symbol: str
    client_order_index: int
    order_id: str | None
    is_ask: bool
    price_i: int
    size_i: int
    filled_i: int
    status: OrderStatus
    post_only: bool = False
    reduce_only: bool = False
    reason: str = ""
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)

    @property
    def remaining_i(self) -> int:
        return self.size_i - self.filled_i


@dataclass(frozen=True, slots=True)
class Fill:
    symbol: str
    client_order_index: int
    order_id: str | None
    trade_id: str
    is_ask: bool
    price_i: int
    size_i: int
    fee_q: int
    is_maker: bool
    ts_ms: int
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    size_i: int
    """Signed: positive long, negative short."""
    entry_price_i: int
    mark_price_i: int
    unrealized_pnl_q: int
    realized_pnl_q: int = 0
    liquidation_price_i: int | None = None
    margin_q: int = 0
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Margin:
    collateral_q: int
    equity_q: int
    used_q: int
    """Initial margin used by positions and open orders."""
    maintenance_q: int
    available_q: int
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


NO_INFO: Mapping[str, Any] = MappingProxyType({})
"""A ``BookUpdate``'s ``info`` when its venue has nothing to say: one shared, read-only, empty mapping."""

_BOOK_UPDATE_FIELDS = ("symbol", "bids", "asks", "is_snapshot", "ts_ms", "seq", "info")


class _BookUpdateBuilder:
    """``BookUpdate``'s layout without its guard: a new update's fields are set here, at slot speed."""

    __slots__ = _BOOK_UPDATE_FIELDS


class BookUpdate:
    """Levels are ``(price_i, size_i)``; in a delta, size 0 removes the level.

    Immutable, compared and hashed without ``info`` (as the frozen dataclass it was).  ``info`` is the
    venue's own detail (a decoded frame, ``{"stale": reason}``), ``NO_INFO`` when there is none.  Built
    thousands of times a second, so not a dataclass (0.7 µs and a dict per frame): the fields are
    set on a builder sharing the layout, which then becomes a ``BookUpdate`` (~0.3 µs).
    """

    __slots__ = _BOOK_UPDATE_FIELDS
    __match_args__ = _BOOK_UPDATE_FIELDS

    symbol: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    is_snapshot: bool
    ts_ms: int
    seq: int | None
    info: Any

    def __new__(
        cls,
        symbol: str,
        bids: tuple[tuple[int, int], ...],
        asks: tuple[tuple[int, int], ...],
        is_snapshot: bool,
        ts_ms: int,
        seq: int | None = None,
        info: Any = NO_INFO,
    ) -> BookUpdate:
        self = _new_object(_BookUpdateBuilder)  # no guard: plain slot stores
        self.symbol = symbol
        self.bids = bids
        self.asks = asks
        self.is_snapshot = is_snapshot
        self.ts_ms = ts_ms
        self.seq = seq
        self.info = info
        self.__class__ = cls  # type: ignore[assignment]  # same layout: it is a BookUpdate from here on
        return self  # type: ignore[return-value]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"BookUpdate is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"BookUpdate is immutable: cannot delete {name!r}")

    def _key(self) -> tuple[Any, ...]:
        return self.symbol, self.bids, self.asks, self.is_snapshot, self.ts_ms, self.seq

    def __eq__(self, other: object) -> bool:
        if type(other) is not BookUpdate:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"BookUpdate(symbol={self.symbol!r}, bids={self.bids!r}, asks={self.asks!r}, "
            f"is_snapshot={self.is_snapshot!r}, ts_ms={self.ts_ms!r}, seq={self.seq!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return BookUpdate, self._key() if self.info is NO_INFO else (*self._key(), self.info)


_new_object = object.__new__


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade for the tape; ``is_ask`` is true when the taker sold."""

    symbol: str
    price_i: int
    size_i: int
    is_ask: bool
    ts_ms: int
    trade_id: str = ""
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    venue: str
    stream: str
    state: ConnectionState
    reason: str = ""
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


FUNDING_RATE_DECIMALS = 8
"""Funding rates are ints in 1e-8 units (``rate_e8``): 0.01 % per interval (``0.0001``) is ``10_000``.
A venue figure with more decimals is rounded to the nearest unit, halves away from zero."""


@dataclass(frozen=True, slots=True)
class FundingSnapshot:
    """One market's funding as the venue publishes it (event kind ``"funding"``, capability ``"funding"``)."""

    symbol: str
    rate_e8: int
    """The rate for one funding interval in 1e-8 units (``FUNDING_RATE_DECIMALS``); positive: longs pay shorts."""
    interval_ms: int
    """How often the venue settles funding (3_600_000 hourly, 28_800_000 every eight hours)."""
    next_funding_ms: int | None
    """When the next settlement is due (epoch ms), if the venue says or its schedule is fixed."""
    mark_price_i: int | None
    """The venue's mark price, scaled like the market's prices."""
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


Event = BookUpdate | Trade | OrderSnapshot | Fill | Position | Margin | ConnectionEvent | FundingSnapshot
Handler = Callable[[Any], None]

EVENT_KINDS = ("book", "trade", "order", "fill", "position", "margin", "connection", "funding", "leverage")


FILL_SAFE_AMEND = "amend_fill_safe"
"""Capability declared beside ``"amend"`` when an amend cannot grow an order that filled meanwhile:
the venue caps the new remaining at what is left of the order.

``modify_order`` takes the new *remaining* size, computed from the fills the caller knows of.  A fill
that lands at the venue while the amend is on its way makes that figure stale, and a venue that
applies it as sent re-grows the order by exactly that fill.  Callers that must never overfill (the
tracking limit) amend in place only where this is declared."""

CAPABILITIES: dict[str, str] = {
    "amend": "modify_order re-prices a resting order in place (SupportsAmend)",
    "amend_fill_safe": "an amend never re-grows an order that filled while the amend was on its way",
    "dead_man_switch": "schedule_cancel_all(after_s) cancels everything unless re-armed",
    "async_ack": "submit_* returns when the venue has queued the request; the order's fate comes later "
    "(stream or get_order), so the order stays SUBMITTING until then",
    "native_triggers": "the venue holds stop / take-profit / trailing orders and fires them itself, even while we "
    "are away (SupportsTriggers); the child it places carries the trigger's client_order_index",
    "leverage": "set_leverage(symbol, leverage, cross) sets a market's leverage and margin mode, cross or isolated "
    "(SupportsLeverage)",
    "leverage_account_wide": "set_leverage's leverage applies to every market of the account at once (the venue "
    "keeps one leverage limit per account); the symbol only says which market asked",
    "funding": "the connector emits a FundingSnapshot (rate, interval, next funding time, mark) per subscribed market "
    "as the venue publishes it (event kind \"funding\"), polled slowly or from a stream it already reads",
    "leverage_pushed": "the connector emits a LeverageChange (event kind \"leverage\") when the venue says a "
    "market's leverage or margin mode changed, whoever changed it",
}
"""Names a connector may put in ``capabilities``, and what each promises."""


@runtime_checkable
class IConnector(Protocol):
    """One venue.  Every method is async unless noted; amounts are scaled ints."""

    venue: str
    capabilities: frozenset[str]

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    def add_handler(self, kind: str, handler: Handler) -> None:
        """Register a sync handler for one of ``EVENT_KINDS`` (not async)."""
        ...

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None: ...

    async def list_markets(self) -> list[MarketInfo]: ...
    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]: ...
    async def get_min_size_i(self, symbol: str) -> int: ...
    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]: ...

    async def submit_limit_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> str: ...

    async def submit_market_order(
        self, *, symbol: str, client_order_index: int, size_i: int, is_ask: bool, reduce_only: bool = False
    ) -> str: ...

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None: ...
    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None: ...
    async def cancel_all(self, symbol: str | None = None) -> None: ...

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot: ...
    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]: ...
    async def get_positions(self) -> list[Position]: ...
    async def get_margin(self) -> Margin: ...


@runtime_checkable
class SupportsAmend(Protocol):
    """Declared by ``"amend"`` in ``capabilities``."""

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        """Re-price in place; ``base_amount`` is the new *remaining* size.  Returns the (possibly new) order id."""
        ...


@runtime_checkable
class SupportsDeadManSwitch(Protocol):
    """Declared by ``"dead_man_switch"`` in ``capabilities``."""

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """Cancel everything ``after_s`` from now unless re-armed; ``None`` disarms."""
        ...


@runtime_checkable
class SupportsLeverage(Protocol):
    """Declared by ``"leverage"`` in ``capabilities``."""

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        """Leverage (a whole number from 1 to the market's ``max_leverage``) and margin mode for one
        market; ``InvalidOrder`` for what the venue cannot do."""
        ...


@dataclass(frozen=True, slots=True)
class LeverageInfo:
    """A market's leverage and margin mode as the venue reports them (``ReadsLeverage``)."""

    symbol: str
    leverage: int
    cross: bool
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LeverageChange:
    """The venue says a market's leverage or margin mode changed (``leverage_pushed``); ``None``: that half
    is not in the message and stays as it was."""

    symbol: str
    leverage: int | None
    cross: bool | None


@runtime_checkable
class ReadsLeverage(Protocol):
    """A ``leverage`` venue that can also say what is set now (read once at start, so the
    Positions tab shows the venue's truth rather than a guess)."""

    async def get_leverage(self) -> list[LeverageInfo]:
        """One entry per market the venue reports a setting for (venue symbols)."""
        ...


TRIGGER_KINDS = ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "trailing_stop")
"""Protective order kinds (``execution.triggers``); a venue's ``trigger_kinds`` names those it keeps natively."""


@dataclass(frozen=True, slots=True)
class TriggerSnapshot:
    """The venue's view of one armed trigger order."""

    symbol: str
    client_order_index: int
    kind: str
    is_ask: bool
    trigger_price_i: int
    size_i: int | None
    """None: the whole position when it fires (close-position)."""
    limit_price_i: int | None = None
    trigger_on: str = "mark"
    reduce_only: bool = True
    ts_ms: int = 0
    info: dict[str, Any] = field(default_factory=_info, compare=False, repr=False)


@runtime_checkable
class SupportsTriggers(Protocol):
    """Declared by ``"native_triggers"`` in ``capabilities``.

    When the trigger fires, the venue places its child (a market order, or a limit for the
    ``*_limit`` kinds) under the trigger's own ``client_order_index``, so the child reaches the
    order stream like any order of ours.  A trigger the venue holds no longer (fired, or
    cancelled by the venue) is absent from ``get_trigger_orders``.

    A connector may also set ``trigger_follows_position = True`` where a whole-position trigger
    (``size_i`` None) closes whatever the position is when it fires; without it perpdesk re-arms
    such a trigger at the venue when the position's size changes (``execution.triggers.follow``).
    """

    trigger_kinds: frozenset[str]
    """Which of ``TRIGGER_KINDS`` the venue keeps natively."""
    trigger_sources: frozenset[str]
    """Which prices (``mark``, ``last``, ``mid``) its triggers can watch."""

    async def submit_trigger_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        kind: str,
        is_ask: bool,
        trigger_price: int | None,
        size_i: int | None,
        limit_price: int | None = None,
        trigger_on: str = "mark",
        trail_i: int | None = None,
        trail_ppm: int | None = None,
        reduce_only: bool = True,
    ) -> str:
        """Arm a trigger; ``size_i`` None closes the whole position.  A trailing stop takes
        ``trail_i`` (price units) or ``trail_ppm`` and may omit ``trigger_price``."""
        ...

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        """``UnknownOrder`` if the venue holds no such armed trigger (it fired, or never was)."""
        ...

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]: ...


@runtime_checkable
class ChecksTriggers(Protocol):
    """Optional beside ``SupportsTriggers``: a venue that keeps a kind natively only in some forms (a
    trailing stop whose trail it can express, say) answers per trigger.  Without it, every declared
    kind on every declared source is kept natively."""

    def supports_trigger(
        self, *, kind: str, size_i: int | None, trigger_on: str, trail_i: int | None, trail_ppm: int | None
    ) -> bool:
        """Whether the venue can hold this trigger as asked (sync, no request); False: perpdesk emulates it."""
        ...
