"""Leverage and margin mode per market, on venues that declare ``leverage`` (``SupportsLeverage``).

    await runtime.leverage.set_leverage("hyperliquid", "BTC", 5)              # keeps the margin mode
    await runtime.leverage.set_margin_mode("hyperliquid", "BTC", cross=False)  # isolated, keeps the leverage

A venue sets both in one request, so each call sends the other half as it is known: what the venue
reported at start (``load``, for a venue that can say: ``ReadsLeverage``) or what perpdesk last set
this run; before either the mode is cross and the leverage the market's ``max_leverage`` (what a
venue applies to a market nobody configured).  On a venue declaring ``leverage_account_wide``
(Backpack's one leverage limit per account) a leverage set on one market is recorded for every
market of the venue, each capped at its own maximum.  ``InvalidOrder`` for a venue without the
capability or a leverage outside 1..``max_leverage``; the venue's own refusal is raised as it comes.

A venue that took the change but could not say yet whether it applied it (``Unconfirmed``: Lighter,
whose sequencer applies a tx after answering, when reading the account back failed) does not fail the
call: the setting is recorded as unconfirmed (``confirmed`` False: the Positions tab shows ``5x iso?``,
the notice says "not confirmed by the venue yet"; the pre-trade margin check assumes the lower of the
old and the new leverage meanwhile), and the venue is asked again in the background (``ReadsLeverage``,
waits doubling from ``ASK_FIRST_WAIT_S`` to ``ASK_MAX_WAIT_S`` for up to ``ASK_FOR_S``); what it then
shows is recorded, the change or the old setting (refused: logged as a warning).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from connector.checks import require_ints
from connector.errors import InvalidOrder, Unconfirmed, VenueError
from connector.interface import IConnector, LeverageChange, ReadsLeverage, SupportsLeverage
from execution.listeners import Listeners
from execution.market import MarketDataService, UnknownSymbol

log = logging.getLogger(__name__)

CAPABILITY = "leverage"
ACCOUNT_WIDE = "leverage_account_wide"
ASK_FIRST_WAIT_S = 2.0
ASK_MAX_WAIT_S = 30.0
ASK_FOR_S = 600.0
"""An unconfirmed change: the first wait before asking the venue again (doubling), the longest, and for how long."""


@dataclass(frozen=True, slots=True)
class LeverageSetting:
    venue: str
    symbol: str
    leverage: int | None
    """None: not known (the venue named only the margin type)."""
    cross: bool
    confirmed: bool = True
    """False: set here, the venue took it but has not said yet that it applied it (see the module)."""

    @property
    def mode(self) -> str:
        return "cross" if self.cross else "isolated"

    @property
    def short(self) -> str:
        """``"5x iso"`` / ``"20x cross"``: the Positions tab's column (``"5x iso?"`` while unconfirmed, ``"iso"``
        when only the mode is known)."""
        mode = "cross" if self.cross else "iso"
        text = mode if self.leverage is None else f"{self.leverage}x {mode}"
        return text + ("" if self.confirmed else "?")

    def describe(self) -> str:
        if self.leverage is None:
            return f"{self.symbol} {self.mode} (leverage not known)"
        text = f"{self.symbol} {self.leverage}x {self.mode}"
        return text if self.confirmed else f"{text} (not confirmed by the venue yet: perpdesk keeps asking)"


class LeverageService:
    def __init__(self, market_data: MarketDataService, connectors: Mapping[str, IConnector]) -> None:
        self.market_data = market_data
        self.connectors = connectors
        self._set: dict[tuple[str, str], LeverageSetting] = {}
        self._before: dict[tuple[str, str], int] = {}
        """An unconfirmed market's leverage before the change (the margin check assumes the lower meanwhile)."""
        self._asking: dict[tuple[str, str], asyncio.Task[Any]] = {}
        self._listeners: Listeners[[LeverageSetting]] = Listeners("leverage")

    def supports(self, venue: str) -> bool:
        connector = self.connectors.get(venue)
        return connector is not None and CAPABILITY in connector.capabilities

    def account_wide(self, venue: str) -> bool:
        connector = self.connectors.get(venue)
        return connector is not None and ACCOUNT_WIDE in connector.capabilities

    def get(self, venue: str, symbol: str) -> LeverageSetting | None:
        """What the venue reported at start or perpdesk set since (None: not known)."""
        return self._set.get((venue, symbol))

    def leverage_of(self, venue: str, symbol: str) -> int | None:
        """The known leverage of one market (the pre-trade margin check uses it), else None; while a change
        is unconfirmed, the lower of the old and the new."""
        known = self._set.get((venue, symbol))
        if known is None or known.leverage is None:
            return None
        before = self._before.get((venue, symbol)) if not known.confirmed else None
        return known.leverage if before is None else min(known.leverage, before)

    async def load(self) -> None:
        """Read what each ``ReadsLeverage`` venue has set now; a venue that fails to answer is
        logged and left unknown (the margin check then assumes the market's maximum)."""
        for venue, connector in self.connectors.items():
            if not self.supports(venue) or not isinstance(connector, ReadsLeverage):
                continue
            try:
                reported = await connector.get_leverage()
            except VenueError as exc:
                log.warning("%s: could not read the leverage settings: %s", venue, exc)
                continue
            except Exception:  # an answer we could not read must not stop the desk from starting
                log.exception("%s: the leverage settings could not be read", venue)
                continue
            for item in reported:
                try:
                    symbol = self.market_data.canonical(venue, item.symbol)
                except UnknownSymbol:
                    continue
                self._record(LeverageSetting(venue, symbol, item.leverage, item.cross))

    def on_venue(self, venue: str, change: LeverageChange) -> None:
        """The venue says a market's leverage or margin mode changed (set here, on its website or by another
        client): recorded, the half it does not mention kept as known (a margin type alone for a market whose
        leverage is not known leaves the leverage unknown).  Listeners hear only a real change."""
        try:
            symbol = self.market_data.canonical(venue, change.symbol)
        except UnknownSymbol:
            return
        known = self._set.get((venue, symbol)) or LeverageSetting(venue, symbol, None, True)
        leverage = known.leverage if change.leverage is None else change.leverage
        cross = known.cross if change.cross is None else change.cross
        setting = LeverageSetting(venue, symbol, leverage, cross)
        self._stop_asking(venue, symbol)  # the venue's word
        if setting != self._set.get((venue, symbol)):
            log.info("%s: leverage now %s (the venue says)", venue, setting.describe())
            self._record(setting)

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
        assert current.leverage is not None  # ``_current`` fills in the market's maximum
        return await self._apply(venue, symbol, current.leverage, cross)

    def _current(self, venue: str, symbol: str) -> LeverageSetting:
        market = self.market_data.market(venue, symbol)  # UnknownSymbol first
        if not self.supports(venue):
            raise InvalidOrder(f"{venue} does not let perpdesk set leverage or margin mode")
        known = self._set.get((venue, symbol))
        if known is None or known.leverage is None:  # what a venue applies to a market nobody configured
            return LeverageSetting(venue, symbol, market.max_leverage, True if known is None else known.cross)
        return known

    async def _apply(self, venue: str, symbol: str, leverage: int, cross: bool) -> LeverageSetting:
        market = self.market_data.market(venue, symbol)
        if not 1 <= leverage <= market.max_leverage:
            raise InvalidOrder(f"{venue} {symbol}: leverage is 1 to {market.max_leverage}, not {leverage}")
        connector = cast(SupportsLeverage, self.connectors[venue])
        before = self.leverage_of(venue, symbol) or market.max_leverage
        confirmed = True
        try:
            await connector.set_leverage(self.market_data.venue_symbol(venue, symbol), leverage, cross)
        except Unconfirmed as exc:
            log.warning("%s: %s", venue, exc)
            confirmed = False
        self._stop_asking(venue, symbol)  # a newer change: the older one's answer no longer matters
        if self.account_wide(venue):
            for other in self.market_data.symbols(venue):
                if other != symbol:
                    top = self.market_data.market(venue, other).max_leverage
                    self._record(LeverageSetting(venue, other, min(leverage, top), cross, confirmed))
        setting = self._record(LeverageSetting(venue, symbol, leverage, cross, confirmed))
        if not confirmed:
            self._before[(venue, symbol)] = before
            self._asking[(venue, symbol)] = asyncio.ensure_future(self._ask_later(venue, symbol, setting))
        return setting

    async def _ask_later(self, venue: str, symbol: str, asked: LeverageSetting) -> None:
        """An unconfirmed change: read the venue's setting again until it answers, and record what it shows."""
        connector = self.connectors[venue]
        if not isinstance(connector, ReadsLeverage):
            log.warning("%s: %s stays unconfirmed: the venue cannot be asked for it", venue, asked.describe())
            return
        venue_symbol = self.market_data.venue_symbol(venue, symbol)
        clock = self.market_data.clock
        waited, wait = 0.0, ASK_FIRST_WAIT_S
        try:
            while waited < ASK_FOR_S:
                step = min(wait, ASK_MAX_WAIT_S)
                await clock.sleep(step)
                waited, wait = waited + step, wait * 2
                try:
                    reported = await connector.get_leverage()
                except Exception as exc:
                    log.info("%s: asking again for the %s leverage failed: %s", venue, symbol, exc)
                    continue
                shown = next((i for i in reported if i.symbol == venue_symbol), None)
                setting = (LeverageSetting(venue, symbol, asked.leverage, asked.cross) if shown is None
                           else LeverageSetting(venue, symbol, shown.leverage, shown.cross))  # fmt: skip
                if (setting.leverage, setting.cross) != (asked.leverage, asked.cross):
                    log.warning("%s: the venue refused %s: it shows %s", venue, asked.describe(), setting.describe())
                else:
                    log.info("%s: the venue confirms %s", venue, setting.describe())
                self._before.pop((venue, symbol), None)
                self._record(setting)
                return
            log.warning("%s: %s still unconfirmed after %g s; no longer asking", venue, asked.describe(), ASK_FOR_S)
        finally:
            if self._asking.get((venue, symbol)) is asyncio.current_task():
                del self._asking[(venue, symbol)]

    def _stop_asking(self, venue: str, symbol: str) -> None:
        task = self._asking.pop((venue, symbol), None)
        if task is not None:
            task.cancel()
        self._before.pop((venue, symbol), None)

    async def stop(self) -> None:
        """Stop asking the venues about unconfirmed changes (they stay recorded as unconfirmed)."""
        tasks = list(self._asking.values())
        self._asking.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _record(self, setting: LeverageSetting) -> LeverageSetting:
        self._set[(setting.venue, setting.symbol)] = setting
        self._listeners.emit(setting)
        return setting
