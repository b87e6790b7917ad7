"""Binance USDⓈ-M funding: from the ``<s>@markPrice@1s`` stream the connector already reads.

``markPriceUpdate`` carries ``p`` (mark price), ``r`` (the current funding rate, a fraction per
interval) and ``T`` (next funding time, ms); ``/fapi/v1/premiumIndex`` has the same figures as
``markPrice``, ``lastFundingRate`` and ``nextFundingTime``.  Funding settles every eight hours unless
``/fapi/v1/fundingInfo`` lists the symbol with its own ``fundingIntervalHours`` (read once at start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from connector.clock import Clock
from connector.funding import HOUR_MS, price_i, rate_e8
from connector.interface import FundingSnapshot

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 8 * HOUR_MS


def parse_funding_info(rows: Any) -> dict[str, int]:
    """``/fapi/v1/fundingInfo`` rows to symbol -> interval in ms (only the symbols it lists)."""
    out = {}
    for row in rows if isinstance(rows, list) else ():
        try:
            hours = int(row["fundingIntervalHours"])
        except (KeyError, TypeError, ValueError):
            continue
        if hours > 0:
            out[str(row["symbol"])] = hours * HOUR_MS
    return out


def parse_funding(
    symbol: str, rate: Any, next_ms: Any, mark: Any, price_decimals: int, interval_ms: int, now_ms: int
) -> FundingSnapshot | None:
    """One market's figures (stream or REST names); None when there is no rate (a delivery contract)."""
    if rate in (None, ""):
        return None
    nxt = int(next_ms) if next_ms not in (None, "", 0, "0") else None
    return FundingSnapshot(
        symbol, rate_e8(rate), interval_ms, nxt, price_i(mark, price_decimals) if mark not in (None, "") else None,
        now_ms,
    )


class BinanceFunding:
    """Turns each ``markPriceUpdate`` into a ``"funding"`` event; holds the per-symbol intervals."""

    def __init__(self, emit: Callable[[str, Any], None], clock: Clock) -> None:
        self._emit = emit
        self._clock = clock
        self.intervals: dict[str, int] = {}

    def on_mark(self, msg: dict[str, Any], symbol: str, price_decimals: int) -> None:
        snap = parse_funding(
            symbol, msg.get("r"), msg.get("T"), msg.get("p"), price_decimals,
            self.intervals.get(symbol, DEFAULT_INTERVAL_MS), self._clock.now_ms(),
        )  # fmt: skip
        if snap is not None:
            self._emit("funding", snap)

    def load_intervals(self, rows: Any) -> None:
        self.intervals = parse_funding_info(rows)
