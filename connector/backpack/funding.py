"""Backpack funding: ``GET /api/v1/markPrices`` polled slowly (public, one request for every market).

Each row carries ``symbol, markPrice, indexPrice, fundingRate, nextFundingTimestamp`` (ms); the
rate is for one funding interval, which ``/api/v1/markets`` gives per market as ``fundingInterval``
(ms; one hour where a market does not say).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from connector.clock import Clock
from connector.funding import HOUR_MS, next_boundary, price_i, rate_e8
from connector.interface import FundingSnapshot, MarketInfo

DEFAULT_INTERVAL_MS = HOUR_MS


def interval_ms(m: MarketInfo) -> int:
    raw = m.info.get("fundingInterval")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_INTERVAL_MS
    return value if value > 0 else DEFAULT_INTERVAL_MS


def parse_mark_prices(
    rows: Any, markets: dict[str, MarketInfo], wanted: Iterable[str], now_ms: int
) -> list[FundingSnapshot]:
    """The ``markPrices`` rows of the wanted perps (spot rows and unknown markets are skipped)."""
    wanted = set(wanted)
    out = []
    for row in rows if isinstance(rows, list) else [rows]:
        symbol = row.get("symbol")
        m = markets.get(symbol)
        if symbol not in wanted or m is None or row.get("fundingRate") in (None, ""):
            continue
        every = interval_ms(m)
        nxt = row.get("nextFundingTimestamp")
        mark = row.get("markPrice")
        out.append(FundingSnapshot(
            symbol, rate_e8(row["fundingRate"]), every, int(nxt) if nxt else next_boundary(now_ms, every),
            price_i(mark, m.price_decimals) if mark not in (None, "") else None, now_ms,
        ))  # fmt: skip
    return out


class BackpackFunding:
    """What the connector polls (``connector.funding.poll_funding``): the subscribed perps' funding."""

    def __init__(
        self, get: Callable[[str], Awaitable[Any]], markets: dict[str, MarketInfo], clock: Clock
    ) -> None:
        self._get = get
        self._markets = markets
        self._clock = clock
        self.symbols: set[str] = set()

    async def fetch(self) -> list[FundingSnapshot]:
        if not self.symbols:
            return []
        rows = await self._get("/api/v1/markPrices")
        return parse_mark_prices(rows, self._markets, self.symbols, self._clock.now_ms())
