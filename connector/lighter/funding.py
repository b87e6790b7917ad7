"""Lighter funding: the ``market_stats/all`` channel on the socket the connector already reads
(one subscription for every market: the venue caps subscriptions per connection).

A ``market_stats`` frame carries one market's stats (``market_stats:<id>``) or a map of them by id
(``market_stats:all``): ``mark_price``, ``current_funding_rate`` (the rate of the hour under way),
``funding_rate`` (the last settled) and ``funding_timestamp`` (ms).  Funding settles every hour.

UNCONFIRMED, and read the safe way here: the rates are in percent per hour (the live values match
the documented 0.01 % interest rate only so; ``0.0012`` is 0.0012 %), signed; ``funding_timestamp``
is taken as the next settlement only when it lies ahead, else the next hour boundary is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.clock import Clock
from connector.funding import HOUR_MS, next_boundary, price_i, rate_e8
from connector.interface import FundingSnapshot, MarketInfo


def parse_market_stats(
    msg: dict[str, Any], market: Callable[[int], MarketInfo | None], now_ms: int
) -> list[FundingSnapshot]:
    body = msg.get("market_stats") or {}
    rows = [body] if "market_id" in body else list(body.values())
    out = []
    for row in rows:
        m = market(int(row["market_id"]))
        rate = row.get("current_funding_rate")
        if rate in (None, ""):
            rate = row.get("funding_rate")
        if m is None or rate in (None, ""):
            continue
        ts = row.get("funding_timestamp")
        nxt = int(ts) if ts and int(ts) > now_ms else next_boundary(now_ms, HOUR_MS)
        mark = row.get("mark_price")
        out.append(FundingSnapshot(
            m.symbol, rate_e8(rate, percent=True), HOUR_MS, nxt,
            price_i(mark, m.price_decimals) if mark not in (None, "") else None, now_ms,
        ))  # fmt: skip
    return out


class LighterFunding:
    """The stream's ``market_stats`` frames as ``"funding"`` events."""

    def __init__(
        self, emit: Callable[[str, Any], None], clock: Clock, market: Callable[[int], MarketInfo | None]
    ) -> None:
        self._emit = emit
        self._clock = clock
        self._market = market

    def on_stats(self, msg: dict[str, Any]) -> None:
        for snap in parse_market_stats(msg, self._market, self._clock.now_ms()):
            self._emit("funding", snap)
