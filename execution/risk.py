"""Pre-trade checks and the trading state.

Every order the desk sends passes ``RiskManager.check`` first (``OrderService`` calls it
before allocating, journaling or sending anything).  A refusal raises ``RiskRejected``
with a sentence the trader can act on; nothing reaches the venue.

Trading states: ACTIVE (everything allowed), REDUCING (only reduce-only orders) and
HALTED (nothing, until ``rearm()``).  The kill switch (``execution.kill_switch``) uses
them to let only its flattening orders through and to leave the desk HALTED.

Limits not checked here, by design: open orders do not count toward the position
limit (only the filled position does), and reduce-only orders are exempt from the
notional and position limits, so closing risk is never blocked by a risk limit.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.interface import QUOTE_DECIMALS, MarketInfo
from connector.scaling import decimal_to_scaled, money_text, rescale, scaled_to_str
from execution.listeners import Listeners
from execution.market import MarketDataService

if TYPE_CHECKING:
    from execution.config import RiskSettings
    from execution.position_service import PositionService

log = logging.getLogger(__name__)

BPS = 10_000


class RiskRejected(ValueError):
    """An order refused before sending; ``check`` names the rule (``"min_size"``, ``"halted"``, ...)."""

    def __init__(self, message: str, *, check: str = "") -> None:
        super().__init__(message)
        self.check = check


class TradingState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    """Only reduce-only orders are accepted."""
    HALTED = "HALTED"
    """Nothing is accepted until ``rearm()``."""


@dataclass(slots=True)
class RiskLimits:
    """``None`` disables a limit.  Money in quote units (``_q``); sizes per canonical symbol in base units."""

    max_order_notional_q: int | None = None
    max_position_notional_q: int | None = None
    max_position: dict[str, Decimal] = field(default_factory=dict)
    """Largest absolute position per canonical symbol, e.g. ``{"BTC": Decimal("0.5")}``; ``"*"`` for any other."""
    price_band_bps: int | None = 500
    """A limit price further than this from mid is refused as a probable fat finger."""
    max_book_age_ms: int | None = None
    """Refuse orders when the book is older than this (stale market data)."""
    fee_bps: int | None = 10
    """Fees the initial-margin check adds to notional ÷ leverage; None turns the margin check off."""

    @classmethod
    def from_mapping(cls, data: RiskSettings | Mapping[str, Any] | None) -> RiskLimits:
        """From settings (the ``risk`` settings model or a plain table): money in quote units, sizes in base units.

        In a table, ``max_position`` may be one number (every symbol) or a table per canonical symbol.
        """
        # a settings object (the model, or the console's plain defaults) by its ``model_dump``
        data = data.model_dump() if hasattr(data, "model_dump") else dict(data or {})
        limits = cls()
        for key in ("max_order_notional", "max_position_notional"):
            if data.get(key) is not None:
                setattr(limits, f"{key}_q", decimal_to_scaled(Decimal(str(data[key])), QUOTE_DECIMALS))
        for key in ("price_band_bps", "max_book_age_ms", "fee_bps"):
            if key in data:
                setattr(limits, key, None if data[key] is None else int(data[key]))
        cap = data.get("max_position")
        if isinstance(cap, Mapping):
            limits.max_position = {str(k): Decimal(str(v)) for k, v in cap.items()}
        elif cap is not None:
            limits.max_position = {"*": Decimal(str(cap))}
        return limits


StateListener = Callable[[TradingState, str], None]
"""Called with ``(state, reason)`` after the trading state changed."""


class RiskManager:
    """``check(...)`` raises ``RiskRejected`` or returns; ``state`` gates everything."""

    def __init__(
        self,
        market_data: MarketDataService,
        positions: PositionService | None = None,
        limits: RiskLimits | None = None,
        *,
        leverage_of: Callable[[str, str], int | None] | None = None,
    ) -> None:
        self.market_data = market_data
        self.positions = positions
        """None means flat everywhere."""
        self.leverage_of = leverage_of
        """``(venue, symbol) -> leverage`` set for the market when known (``LeverageService.leverage_of``);
        unknown, the margin check assumes the market's maximum."""
        self.limits = limits or RiskLimits()
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self._listeners: Listeners[[TradingState, str]] = Listeners("trading state")
        self.rejections = 0
        self.kill_lock = asyncio.Lock()
        """Held while a kill switch runs, so two presses never interleave."""

    # -- trading state ----------------------------------------------------------------------

    def set_state(self, state: TradingState, reason: str = "") -> None:
        if state == self.state and reason == self.state_reason:
            return
        log.warning("trading state %s -> %s%s", self.state, state, f": {reason}" if reason else "")
        self.state = TradingState(state)
        self.state_reason = reason
        self._listeners.emit(self.state, reason)

    def halt(self, reason: str = "halted by the operator") -> None:
        self.set_state(TradingState.HALTED, reason)

    def reduce_only(self, reason: str = "reduce-only by the operator") -> None:
        self.set_state(TradingState.REDUCING, reason)

    def rearm(self) -> None:
        """Back to ACTIVE after a halt or a kill switch."""
        self.set_state(TradingState.ACTIVE, "")

    def add_listener(self, listener: StateListener) -> None:
        """``listener(state, reason)`` on every state change."""
        self._listeners.add(listener)

    def remove_listener(self, listener: StateListener) -> None:
        self._listeners.remove(listener)

    # -- pre-trade checks -------------------------------------------------------------------

    def check(
        self,
        venue: str,
        symbol: str,
        *,
        is_ask: bool,
        size_i: int,
        price_i: int | None = None,
        reduce_only: bool = False,
    ) -> None:
        """Raise ``RiskRejected`` unless the order may be sent.  ``price_i`` None or 0 means a market order."""
        try:
            self._check(venue, symbol, is_ask, size_i, price_i or None, reduce_only)
        except RiskRejected as exc:
            self.rejections += 1
            log.info("risk refused %s %s: %s", venue, symbol, exc)
            raise

    def _check(
        self, venue: str, symbol: str, is_ask: bool, size_i: int, price_i: int | None, reduce_only: bool
    ) -> None:
        if self.state is TradingState.HALTED:
            why = f" ({self.state_reason})" if self.state_reason else ""
            raise RiskRejected(f"trading is halted{why}; rearm to trade again", check="halted")
        if self.state is TradingState.REDUCING and not reduce_only:
            raise RiskRejected("trading is reduce-only: only reduce-only orders are accepted", check="reducing")

        md = self.market_data
        info = md.market(venue, symbol)
        base = md.canonical(venue, info.symbol)
        pd, sd = info.price_decimals, info.size_decimals
        side = "sell" if is_ask else "buy"
        position_i = self.positions.size_i(venue, base) if self.positions is not None else 0

        if size_i <= 0:
            raise RiskRejected(f"size must be positive, got {_num(size_i, sd)} {base}", check="size")
        if reduce_only:
            self._check_reduce_only(base, side, is_ask, size_i, position_i, sd)
        closes_dust = reduce_only and size_i == abs(position_i)
        if size_i < info.min_size_i and not closes_dust:
            raise RiskRejected(
                f"size {_num(size_i, sd)} {base} is below the minimum {_num(info.min_size_i, sd)}", check="min_size"
            )
        if info.step_i > 1 and size_i % info.step_i and not closes_dust:
            raise RiskRejected(
                f"size {_num(size_i, sd)} {base} is not a multiple of the size step {_num(info.step_i, sd)}",
                check="size_step",
            )
        if price_i is not None:
            if price_i <= 0:
                raise RiskRejected(f"price must be positive, got {_num(price_i, pd)}", check="price")
            if info.tick_i > 1 and price_i % info.tick_i:
                raise RiskRejected(
                    f"price {_num(price_i, pd)} is not on {base}'s tick of {_num(info.tick_i, pd)}", check="tick"
                )

        limits = self.limits
        if limits.max_book_age_ms is not None:
            age = md.age_ms(venue, symbol)
            if age is None or age > limits.max_book_age_ms:
                seen = "no book yet" if age is None else f"the book is {age / 1000:.1f} s old"
                raise RiskRejected(f"{base} market data on {venue} is stale ({seen})", check="stale")

        bid, ask = md.top_of_book(venue, symbol)
        mid = (bid + ask) // 2 if bid is not None and ask is not None else None
        if price_i is not None and mid is not None and limits.price_band_bps is not None:
            off = abs(price_i - mid)
            if off * BPS > limits.price_band_bps * mid:
                where = "above" if price_i > mid else "below"
                raise RiskRejected(
                    f"{side} price {_num(price_i, pd)} is {_pct(off * BPS // mid)} {where} mid {_num(mid, pd)}"
                    f" (band {_pct(limits.price_band_bps)}): probable fat finger",
                    check="price_band",
                )

        if reduce_only:
            return
        reference = price_i if price_i is not None else (bid if is_ask else ask) or mid
        self._check_capacity(venue, info, size_i, reference)
        new_position = position_i + (-size_i if is_ask else size_i)
        if abs(new_position) <= abs(position_i):
            return
        cap = limits.max_position.get(base, limits.max_position.get("*"))
        if cap is not None:
            cap_i = decimal_to_scaled(cap.quantize(Decimal(1).scaleb(-sd), rounding="ROUND_DOWN"), sd)
            if abs(new_position) > cap_i:
                raise RiskRejected(
                    f"position would be {_num(new_position, sd)} {base}, beyond the maximum {_num(cap_i, sd)}",
                    check="max_position",
                )
        if limits.max_position_notional_q is not None and reference is not None:
            notional_q = _notional_q(abs(new_position), mid or reference, pd + sd)
            if notional_q > limits.max_position_notional_q:
                raise RiskRejected(
                    f"position notional would be {money_text(notional_q)} {info.quote}, beyond the maximum "
                    f"{money_text(limits.max_position_notional_q)}",
                    check="max_position",
                )

    def check_capacity(
        self, venue: str, symbol: str, *, is_ask: bool, size_i: int, price_i: int | None = None, reduce_only: bool = False
    ) -> None:
        """Only the margin and notional-ceiling checks (a chase's start: its price is not known yet).

        ``price_i`` None prices the order at the touch it would take.  Reduce-only orders pass.
        """
        if reduce_only:
            return
        info = self.market_data.market(venue, symbol)
        try:
            self._check_capacity(venue, info, size_i, price_i or self._reference(venue, symbol, is_ask))
        except RiskRejected as exc:
            self.rejections += 1
            log.info("risk refused %s %s: %s", venue, symbol, exc)
            raise

    def margin_preview(self, venue: str, symbol: str, is_ask: bool, size_i: int, price_i: int | None) -> MarginPreview:
        """What an order would need in initial margin and what the venue says is available (pure: no state
        changes, nothing raised for a bad order).  ``price_i`` None or 0 prices it at the touch."""
        info = self.market_data.market(venue, symbol)
        reference = price_i or self._reference(venue, symbol, is_ask)
        margin = self.positions.margin(venue) if self.positions is not None else None
        leverage = self._leverage(venue, info)
        if reference is None or size_i <= 0:
            notional_q = needed_q = 0
        else:
            notional_q = _notional_q(size_i, reference, info.price_decimals + info.size_decimals)
            needed_q = _needed_q(notional_q, leverage, self.limits.fee_bps or 0)
        return MarginPreview(
            quote=info.quote,
            notional_q=notional_q,
            needed_q=needed_q,
            available_q=margin.available_q if margin is not None else None,
            leverage=leverage,
            priced=reference is not None,
        )

    def _reference(self, venue: str, symbol: str, is_ask: bool) -> int | None:
        """The price a market order would meet: the touch it takes, else mid."""
        bid, ask = self.market_data.top_of_book(venue, symbol)
        mid = (bid + ask) // 2 if bid is not None and ask is not None else None
        return (bid if is_ask else ask) or mid

    def _leverage(self, venue: str, info: MarketInfo) -> int:
        """The leverage set for the market when known (the venue margins at it), else its maximum."""
        known = None
        if self.leverage_of is not None:
            known = self.leverage_of(venue, self.market_data.canonical(venue, info.symbol))
        return max(min(known, info.max_leverage) if known else info.max_leverage, 1)

    def _check_capacity(self, venue: str, info: MarketInfo, size_i: int, reference: int | None) -> None:
        """Initial margin (notional ÷ leverage + fees) against the available margin, then the notional ceiling:
        ``max_order_notional`` when set, else available margin × leverage.  The leverage is the one set for the
        market when known, else its maximum.  Unknown margin: the venue decides."""
        limits = self.limits
        margin = self.positions.margin(venue) if self.positions is not None else None
        if reference is None:
            if limits.max_order_notional_q is not None or margin is not None:
                raise RiskRejected(
                    f"no price for {info.base} on {venue}: cannot check a market order's notional", check="notional"
                )
            return
        notional_q = _notional_q(size_i, reference, info.price_decimals + info.size_decimals)
        leverage = self._leverage(venue, info)
        if margin is not None and limits.fee_bps is not None:
            needed_q = _needed_q(notional_q, leverage, limits.fee_bps)
            if needed_q > margin.available_q:
                raise RiskRejected(
                    f"not enough margin on {venue}: needs {money_text(needed_q)} {info.quote}, "
                    f"{money_text(margin.available_q)} available ({money_text(notional_q)} notional ÷ {leverage}x "
                    f"leverage + {_pct(limits.fee_bps)} fees)",
                    check="margin",
                )
        ceiling_q, why = limits.max_order_notional_q, "the maximum"
        if ceiling_q is None and margin is not None:
            ceiling_q, why = max(margin.available_q, 0) * leverage, f"the ceiling (available margin × {leverage}x)"
        if ceiling_q is not None and notional_q > ceiling_q:
            raise RiskRejected(
                f"order notional {money_text(notional_q)} {info.quote} is above {why} {money_text(ceiling_q)}",
                check="notional",
            )

    @staticmethod
    def _check_reduce_only(base: str, side: str, is_ask: bool, size_i: int, position_i: int, sd: int) -> None:
        if position_i == 0:
            raise RiskRejected(f"reduce-only {side}: there is no {base} position to reduce", check="reduce_only")
        if (position_i > 0) != is_ask:
            held = "long" if position_i > 0 else "short"
            raise RiskRejected(
                f"reduce-only {side} would increase the {held} {_num(abs(position_i), sd)} {base} position",
                check="reduce_only",
            )
        if size_i > abs(position_i):
            raise RiskRejected(
                f"reduce-only {side} of {_num(size_i, sd)} {base} is larger than the position "
                f"{_num(abs(position_i), sd)}",
                check="reduce_only",
            )


def _num(value_i: int, decimals: int) -> str:
    """Scaled int as a trader writes it: ``10, 4 -> "0.001"``."""
    text = scaled_to_str(value_i, decimals)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(bps: int) -> str:
    return _num(bps, 2) + "%"


@dataclass(frozen=True, slots=True)
class MarginPreview:
    """What a prospective order needs in initial margin, for the order form (quote money, ``_q`` scale)."""

    quote: str
    notional_q: int
    needed_q: int
    """Notional ÷ leverage plus fees."""
    available_q: int | None
    """None until the venue has sent a margin snapshot."""
    leverage: int
    priced: bool
    """False when there is no price to value the order at (no book yet, market order)."""

    @property
    def fits(self) -> bool | None:
        """None when it cannot be told (no margin known or no price)."""
        if self.available_q is None or not self.priced:
            return None
        return self.needed_q <= self.available_q

    def text(self) -> str:
        """``"margin 3,250.33 / 100,000.00 USDC"``: needed / available, as the form shows it."""
        needed = money_text(self.needed_q) if self.priced else "?"
        available = money_text(self.available_q) if self.available_q is not None else "?"
        return f"margin {needed} / {available} {self.quote}"


def _needed_q(notional_q: int, leverage: int, fee_bps: int) -> int:
    """Initial margin for a notional: notional ÷ leverage (rounded up) plus fees."""
    return -(-notional_q // leverage) + -(-notional_q * fee_bps // BPS)


def _notional_q(size_i: int, price_i: int, n_decimals: int) -> int:
    return rescale(size_i * price_i, n_decimals, QUOTE_DECIMALS)
