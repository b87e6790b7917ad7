"""Leverage and margin mode per market, on venues that declare ``leverage`` (``SupportsLeverage``).

    await runtime.leverage.set_leverage("hyperliquid", "BTC", 5)              # keeps the margin mode
    await runtime.leverage.set_margin_mode("hyperliquid", "BTC", cross=False)  # isolated, keeps the leverage

A venue sets both in one request, so each call sends the other half as perpdesk last set it this
run; before that the mode is cross and the leverage the market's ``max_leverage`` (what a venue
applies to a market nobody configured).  ``InvalidOrder`` for a venue without the capability or a
leverage outside 1..``max_leverage``; the venue's own refusal is raised as it comes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from connector.checks import require_ints
from connector.errors import InvalidOrder
from connector.interface import IConnector, SupportsLeverage
from execution.listeners import Listeners
from execution.market import MarketDataService

CAPABILITY = "leverage"


@dataclass(frozen=True, slots=True)
class LeverageSetting:
    venue: str
    symbol: str
    leverage: int
    cross: bool

    @property
    def mode(self) -> str:
        return "cross" if self.cross else "isolated"

    def describe(self) -> str:
        return f"{self.symbol} {self.leverage}x {self.mode}"


class LeverageService:
    def __init__(self, market_data: MarketDataService, connectors: Mapping[str, IConnector]) -> None:
        self.market_data = market_data
        self.connectors = connectors
        self._set: dict[tuple[str, str], LeverageSetting] = {}
        self._listeners: Listeners[[LeverageSetting]] = Listeners("leverage")

    def supports(self, venue: str) -> bool:
        connector = self.connectors.get(venue)
        return connector is not None and CAPABILITY in connector.capabilities

    def get(self, venue: str, symbol: str) -> LeverageSetting | None:
        """What perpdesk set for this market this run (None: never set here)."""
        return self._set.get((venue, symbol))

    def add_listener(self, fn: Callable[[LeverageSetting], None]) -> None:
        self._listeners.add(fn)

    def remove_listener(self, fn: Callable[[LeverageSetting], None]) -> None:
        self._listeners.remove(fn)

    async def set_leverage(
        self, venue: str, symbol: str, leverage: int, *, cross: bool | None = None
    ) -> LeverageSetting:
        """Set the leverage (and the margin mode when ``cross`` is given; else it stays as it was)."""
        require_ints(leverage=leverage)
        current = self._current(venue, symbol)
        return await self._apply(venue, symbol, leverage, current.cross if cross is None else cross)

    async def set_margin_mode(self, venue: str, symbol: str, *, cross: bool) -> LeverageSetting:
        """Cross or isolated margin, at the leverage last set (or the market's maximum)."""
        current = self._current(venue, symbol)
        return await self._apply(venue, symbol, current.leverage, cross)

    def _current(self, venue: str, symbol: str) -> LeverageSetting:
        market = self.market_data.market(venue, symbol)  # UnknownSymbol first
        if not self.supports(venue):
            raise InvalidOrder(f"{venue} does not let perpdesk set leverage or margin mode")
        known = self._set.get((venue, symbol))
        return known or LeverageSetting(venue, symbol, market.max_leverage, True)

    async def _apply(self, venue: str, symbol: str, leverage: int, cross: bool) -> LeverageSetting:
        market = self.market_data.market(venue, symbol)
        if not 1 <= leverage <= market.max_leverage:
            raise InvalidOrder(f"{venue} {symbol}: leverage is 1 to {market.max_leverage}, not {leverage}")
        connector = cast(SupportsLeverage, self.connectors[venue])
        await connector.set_leverage(self.market_data.venue_symbol(venue, symbol), leverage, cross)
        setting = self._set[(venue, symbol)] = LeverageSetting(venue, symbol, leverage, cross)
        self._listeners.emit(setting)
        return setting
