"""Markets, symbols, decimals and live books for every venue, under canonical names.

The trader, scripts and the console say ``BTC``; each venue has its own name for it
(``BTC-PERP`` on sim, ``BTC`` on Hyperliquid, a numeric market on Lighter).  This
service holds that mapping, converts between what a person types (``Decimal``) and
the scaled integers the rest of ``execution`` uses, and keeps one ``L2Book`` and a
short trade tape per market.  ``on_book`` is the hot path: a dict look-up, the book
update and one fan-out to the listeners.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from connector.clock import Clock, RealClock
from connector.interface import BookUpdate, IConnector, MarketInfo, Trade
from connector.scaling import decimal_to_scaled, scaled_to_decimal, scaled_to_str
from execution.listeners import Listeners
from execution.market.book import L2Book

log = logging.getLogger(__name__)

BookListener = Callable[[str, str], None]
"""Called with ``(venue, canonical_symbol)`` after a book changed."""

TAPE_LENGTH = 500


class UnknownVenue(KeyError, ValueError):
    """The venue was never added; the message lists the ones that were."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownSymbol(KeyError, ValueError):
    """The venue has no such market; the message lists the ones it has."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _Market:
    """Everything kept per (venue, market)."""

    __slots__ = ("book", "canonical", "info", "rx_ms", "tape", "venue")

    def __init__(self, venue: str, canonical: str, info: MarketInfo, tape_length: int) -> None:
        self.venue = venue
        self.canonical = canonical
        self.info = info
        self.book = L2Book(canonical)
        self.tape: deque[Trade] = deque(maxlen=tape_length)
        self.rx_ms: int | None = None
        """Clock time the book last changed (local receive time, not the venue's stamp)."""


class _Venue:
    __slots__ = ("by_canonical", "by_venue_symbol", "connector")

    def __init__(self, connector: IConnector | None) -> None:
        self.connector = connector
        self.by_canonical: dict[str, _Market] = {}
        self.by_venue_symbol: dict[str, _Market] = {}


class MarketDataService:
    """Canonical ↔ venue symbols, decimals, min sizes, books, top of book, staleness."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        symbol_map: Mapping[str, Mapping[str, str]] | None = None,
        tape_length: int = TAPE_LENGTH,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self._symbol_map = {v: dict(m) for v, m in (symbol_map or {}).items()}
        """venue -> canonical -> venue symbol, for markets whose base asset is not the name we want."""
        self._tape_length = tape_length
        self._venues: dict[str, _Venue] = {}
        self._listeners: Listeners[[str, str]] = Listeners("book")
        self.unknown_symbol_updates = 0
        """Book/trade events for a venue symbol we never loaded (counted, dropped)."""

    # -- venues and markets -------------------------------------------------------------

    async def add_venue(self, venue: str, connector: IConnector) -> None:
        """Load the venue's markets and map each to its canonical name."""
        self.add_markets(venue, await connector.list_markets(), connector=connector)

    def add_markets(self, venue: str, markets: Iterable[MarketInfo], *, connector: IConnector | None = None) -> None:
        """Register markets directly (``add_venue`` without a connector: tests, replays).

        Canonical name: the ``symbol_map`` entry for the venue symbol if there is one,
        else ``MarketInfo.base``.  When two markets would share a canonical name the
        first keeps it and the other is known by its venue symbol.
        """
        entry = _Venue(connector)
        markets = list(markets)
        overrides = {vs: canonical for canonical, vs in self._symbol_map.get(venue, {}).items()}
        known = {m.symbol for m in markets}
        for canonical, vs in self._symbol_map.get(venue, {}).items():
            if vs not in known:
                log.warning("symbol_map: %s has no market %r (for %s); ignoring it", venue, vs, canonical)
        claimed = set(overrides.values())
        for info in markets:
            canonical = overrides.get(info.symbol)
            if canonical is None:
                canonical = info.base
                if canonical in claimed or canonical in entry.by_canonical:
                    log.warning("%s: %s and another market both map to %s; calling it %s", venue, info.symbol,
                                canonical, info.symbol)
                    canonical = info.symbol
            market = _Market(venue, canonical, info, self._tape_length)
            entry.by_canonical[canonical] = market
            entry.by_venue_symbol[info.symbol] = market
        self._venues[venue] = entry

    def remove_venue(self, venue: str) -> None:
        self._venues.pop(venue, None)

    def venues(self) -> list[str]:
        return list(self._venues)

    def symbols(self, venue: str) -> list[str]:
        """Canonical symbols of a venue, sorted."""
        return sorted(self._venue(venue).by_canonical)

    def connector(self, venue: str) -> IConnector | None:
        return self._venue(venue).connector

    def _venue(self, venue: str) -> _Venue:
        try:
            return self._venues[venue]
        except KeyError:
            have = ", ".join(sorted(self._venues)) or "none"
            raise UnknownVenue(f"unknown venue {venue!r}; venues loaded: {have}") from None

    def _market(self, venue: str, symbol: str) -> _Market:
        entry = self._venue(venue)
        market = entry.by_canonical.get(symbol)
        if market is None:
            market = entry.by_venue_symbol.get(symbol)
            if market is None:
                have = ", ".join(sorted(entry.by_canonical)) or "none"
                raise UnknownSymbol(f"{venue} has no market {symbol!r}; it has: {have}")
        return market

    def market(self, venue: str, symbol: str) -> MarketInfo:
        """``symbol`` is canonical; the venue's own name is accepted too."""
        return self._market(venue, symbol).info

    def venue_symbol(self, venue: str, symbol: str) -> str:
        return self._market(venue, symbol).info.symbol

    def canonical(self, venue: str, venue_symbol: str) -> str:
        market = self._venue(venue).by_venue_symbol.get(venue_symbol)
        if market is None:
            have = ", ".join(sorted(self._venue(venue).by_venue_symbol)) or "none"
            raise UnknownSymbol(f"{venue} has no market named {venue_symbol!r}; it has: {have}")
        return market.canonical

    def decimals(self, venue: str, symbol: str) -> tuple[int, int]:
        """``(price_decimals, size_decimals)``."""
        info = self._market(venue, symbol).info
        return info.price_decimals, info.size_decimals

    def min_size_i(self, venue: str, symbol: str) -> int:
        return self._market(venue, symbol).info.min_size_i

    # -- Decimal <-> scaled int (the console's edge) -------------------------------------

    def to_price_i(self, venue: str, symbol: str, price: Decimal | str | int) -> int:
        """Exact: a price with more decimals than the market allows is refused, never rounded."""
        market = self._market(venue, symbol)
        return _to_scaled("price", price, market.info.price_decimals, market.canonical, positive=True)

    def to_size_i(self, venue: str, symbol: str, size: Decimal | str | int) -> int:
        """Exact: a size with more decimals than the market allows is refused, never rounded."""
        market = self._market(venue, symbol)
        return _to_scaled("size", size, market.info.size_decimals, market.canonical, positive=False)

    def from_price_i(self, venue: str, symbol: str, price_i: int) -> Decimal:
        return scaled_to_decimal(price_i, self._market(venue, symbol).info.price_decimals)

    def from_size_i(self, venue: str, symbol: str, size_i: int) -> Decimal:
        return scaled_to_decimal(size_i, self._market(venue, symbol).info.size_decimals)

    def format_price(self, venue: str, symbol: str, price_i: int) -> str:
        return scaled_to_str(price_i, self._market(venue, symbol).info.price_decimals)

    def format_size(self, venue: str, symbol: str, size_i: int) -> str:
        return scaled_to_str(size_i, self._market(venue, symbol).info.size_decimals)

    # -- books, tape, staleness ----------------------------------------------------------

    def book(self, venue: str, symbol: str) -> L2Book:
        return self._market(venue, symbol).book

    def top_of_book(self, venue: str, symbol: str) -> tuple[int | None, int | None]:
        book = self._market(venue, symbol).book
        return book.best_bid_i(), book.best_ask_i()

    def mid_i(self, venue: str, symbol: str) -> int | None:
        """``(bid + ask) // 2`` in price units (rounded down); None unless both sides exist."""
        book = self._market(venue, symbol).book
        bid, ask = book.best_bid_i(), book.best_ask_i()
        if bid is None or ask is None:
            return None
        return (bid + ask) // 2

    def age_ms(self, venue: str, symbol: str) -> int | None:
        """Milliseconds since the book last changed, on the service's clock; None if never."""
        rx = self._market(venue, symbol).rx_ms
        return None if rx is None else self.clock.now_ms() - rx

    def trades(self, venue: str, symbol: str) -> deque[Trade]:
        """Recent public trades, oldest first (bounded)."""
        return self._market(venue, symbol).tape

    def last_price_i(self, venue: str, symbol: str) -> int | None:
        """The last public trade's price; None before the first trade."""
        tape = self._market(venue, symbol).tape
        return tape[-1].price_i if tape else None

    def change_bps(self, venue: str, symbol: str) -> int | None:
        """24h change of the last price (the mid before any trade) in basis points, rounded toward
        zero; None where the venue gives no previous-day price."""
        prev = self.market(venue, symbol).prev_day_price_i
        now = self.last_price_i(venue, symbol) or self.mid_i(venue, symbol)
        if not prev or now is None:
            return None
        diff = (now - prev) * 10_000
        return diff // prev if diff >= 0 else -(-diff // prev)

    def on_book(self, venue: str, update: BookUpdate) -> None:
        """Apply a venue book event (venue symbol) and tell the listeners."""
        entry = self._venues.get(venue)
        market = entry.by_venue_symbol.get(update.symbol) if entry is not None else None
        if market is None:
            self.unknown_symbol_updates += 1
            return
        market.book.apply(update)
        market.rx_ms = self.clock.now_ms()
        self._listeners.emit(venue, market.canonical)

    def on_trade(self, venue: str, trade: Trade) -> None:
        entry = self._venues.get(venue)
        market = entry.by_venue_symbol.get(trade.symbol) if entry is not None else None
        if market is None:
            self.unknown_symbol_updates += 1
            return
        market.tape.append(trade)

    def clear_books(self, venue: str) -> None:
        """Forget a venue's levels (its stream dropped; the next snapshot rebuilds them)."""
        for market in self._venue(venue).by_canonical.values():
            market.book.clear()
            market.rx_ms = None
            self._listeners.emit(venue, market.canonical)

    @property
    def listener_errors(self) -> int:
        """How many listener calls raised (each was logged)."""
        return self._listeners.errors

    def add_listener(self, listener: BookListener) -> None:
        """``listener(venue, symbol)`` runs synchronously after each book change: keep it cheap."""
        self._listeners.add(listener)

    def remove_listener(self, listener: BookListener) -> None:
        self._listeners.remove(listener)


def _to_scaled(what: str, value: Decimal | str | int, decimals: int, symbol: str, *, positive: bool) -> int:
    if isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, str or int, not a float ({value!r}): floats are inexact")
    try:
        scaled = decimal_to_scaled(value, decimals)
    except ValueError:
        text = str(value).strip()
        try:
            d = Decimal(text)
        except ArithmeticError:
            d = None
        if d is None or not d.is_finite():
            raise ValueError(f"{what} {text!r} is not a number") from None
        raise ValueError(f"{what} {text} has more decimals than {symbol} allows ({decimals})") from None
    if scaled < 0 or (positive and scaled == 0):
        raise ValueError(f"{what} {value} must be {'above' if positive else 'at least'} zero")
    return scaled
