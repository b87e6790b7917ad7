"""What a chase is asked to do: ``ChaseParams`` and the enums that describe a chase's settings.

Every check of a caller's arguments lives in ``ChaseParams.validated`` so a bad request is refused
with one clear message before anything is registered, journaled or sent.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Protocol

from connector.checks import require_ints
from execution.tracking.rules import chase_to_price, ppm_of

if TYPE_CHECKING:
    from connector.interface import MarketInfo


class EndAction(enum.StrEnum):
    """What happens to the remainder when a chase times out."""

    CANCEL = "cancel"
    LEAVE = "leave"
    CROSS_MARKET = "cross_market"
    CROSS_IOC = "cross_ioc"


class OnRestart(enum.StrEnum):
    """What a restart does with the chases the journal still holds live."""

    RESUME = "resume"
    CANCEL = "cancel"


class AmendPolicy(enum.StrEnum):
    """When a child is re-priced in place rather than cancelled and replaced."""

    FILL_SAFE = "fill_safe"
    """Where the venue declares ``"amend"`` and ``FILL_SAFE_AMEND``."""
    ALWAYS = "always"
    """Wherever ``"amend"`` is declared (a fill racing the amend can overfill)."""
    NEVER = "never"


class Markets(Protocol):
    """Where a chase's market is looked up (``execution.MarketDataService``)."""

    def market(self, venue: str, symbol: str) -> MarketInfo: ...


@dataclass(frozen=True, slots=True)
class ChaseParams:
    venue: str
    symbol: str
    is_ask: bool
    size_i: int
    offset_ticks: int = 0
    limit_price_i: int | None = None
    max_chase_ticks: int | None = None
    min_reprice_interval_ms: int = 200
    timeout_ms: int | None = None
    end_action: EndAction = EndAction.CANCEL
    post_only: bool = True
    reduce_only: bool = False
    stale_after_ms: int = 2_000
    cross_ticks: int = 10
    """How far through the other side an aggressive IOC cross may reach (bounded by the limit)."""
    aggressive: bool = False
    """Rest one tick inside the other side (offset counts from there) rather than join our own."""
    trail: bool = False
    """One-way trail: follow the touch only in the favourable direction (a buy only down)."""
    limit_ppm: int | None = None
    """Chase to: a limit this many ppm of the arrival mid away (adverse side); the tighter of it and
    ``limit_price_i`` is folded into ``limit_price_i`` once the arrival mid is known (``resolved``)."""
    max_chase_ppm: int | None = None
    """Maximum distance from the start as ppm of the arrival mid; folded into ``max_chase_ticks``."""

    @classmethod
    def validated(
        cls,
        venue: str,
        symbol: str,
        *,
        venues: Collection[str],
        markets: Markets,
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
        default_reprice_interval_ms: int = 200,
        stale_after_ms: int = 2_000,
        aggressive: bool = False,
        trail: bool = False,
        limit_ppm: int | None = None,
        max_chase_ppm: int | None = None,
    ) -> ChaseParams:
        """The parameters of a new chase, or ``ValueError`` naming what is wrong.

        ``venues`` are the configured ones; ``markets`` answers for the symbol (and refuses an
        unknown one); ``min_reprice_interval_ms`` falls back to ``default_reprice_interval_ms``.
        """
        if venue not in venues:
            raise ValueError(f"unknown venue {venue!r}; known: {', '.join(sorted(venues)) or 'none'}")
        require_ints(size_i=size_i)
        if limit_price_i is not None:
            require_ints(limit_price_i=limit_price_i)
        market = markets.market(venue, symbol)
        if size_i <= 0:
            raise ValueError(f"size must be positive, got {size_i}")
        if size_i < market.min_size_i:
            raise ValueError(f"size {size_i} is below the minimum {market.min_size_i} for {symbol} on {venue}")
        if limit_price_i is not None and limit_price_i <= 0:
            raise ValueError(f"limit price must be positive, got {limit_price_i}")
        if max_chase_ticks is not None and max_chase_ticks < 0:
            raise ValueError(f"max_chase_ticks must be >= 0, got {max_chase_ticks}")
        for name, ppm in (("limit_ppm", limit_ppm), ("max_chase_ppm", max_chase_ppm)):
            if ppm is not None:
                require_ints(**{name: ppm})
                if not 0 < ppm < 1_000_000:
                    raise ValueError(f"{name} must be between 1 and 999999 ppm (100 ppm = 0.01 %), got {ppm}")
        if min_reprice_interval_ms is not None and min_reprice_interval_ms < 0:
            raise ValueError(f"min_reprice_interval_ms must be >= 0, got {min_reprice_interval_ms}")
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        try:
            action = EndAction(end_action)
        except ValueError:
            choices = ", ".join(a.value for a in EndAction)
            raise ValueError(f"end_action {end_action!r} is not one of {choices}") from None
        return cls(
            venue=venue,
            symbol=symbol,
            is_ask=is_ask,
            size_i=size_i,
            offset_ticks=offset_ticks,
            limit_price_i=limit_price_i,
            max_chase_ticks=max_chase_ticks,
            min_reprice_interval_ms=(
                default_reprice_interval_ms if min_reprice_interval_ms is None else min_reprice_interval_ms
            ),
            timeout_ms=None if timeout_s is None else int(timeout_s * 1000),
            end_action=action,
            post_only=post_only,
            reduce_only=reduce_only,
            stale_after_ms=stale_after_ms,
            aggressive=bool(aggressive),
            trail=bool(trail),
            limit_ppm=limit_ppm,
            max_chase_ppm=max_chase_ppm,
        )

    def resolved(self, arrival_mid_i: int | None, tick_i: int) -> ChaseParams:
        """The percentage bounds folded into price and ticks against ``arrival_mid_i`` (idempotent).

        Chase-to keeps the tighter of the two limits; the maximum distance the smaller of the two.
        """
        if arrival_mid_i is None or arrival_mid_i <= 0 or (self.limit_ppm is None and self.max_chase_ppm is None):
            return self
        limit, max_ticks = self.limit_price_i, self.max_chase_ticks
        if self.limit_ppm is not None:
            bound = chase_to_price(self.is_ask, arrival_mid_i, self.limit_ppm)
            limit = bound if limit is None else (max(limit, bound) if self.is_ask else min(limit, bound))
        if self.max_chase_ppm is not None:
            ticks = ppm_of(arrival_mid_i, self.max_chase_ppm) // max(tick_i, 1)
            max_ticks = ticks if max_ticks is None else min(max_ticks, ticks)
        return replace(self, limit_price_i=limit, max_chase_ticks=max_ticks)

    def as_record(self) -> dict[str, Any]:
        """JSON-safe, as the journal keeps it."""
        return {
            f.name: (str(v) if isinstance(v := getattr(self, f.name), enum.Enum) else v) for f in fields(self)
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ChaseParams:
        """Back from ``as_record`` (keys it does not know, from an older or newer run, are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["end_action"] = EndAction(known.get("end_action", "cancel"))
        return cls(**known)
