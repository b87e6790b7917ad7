"""Hyperliquid funding: ``metaAndAssetCtxs`` polled slowly (no funding stream is subscribed here).

Each asset context carries ``funding`` (the current hourly rate, a fraction) and ``markPx``; the
contexts are in the order of ``meta.universe``.  Funding settles every hour on the hour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from connector.clock import Clock
from connector.funding import HOUR_MS, next_boundary, price_i, rate_e8
from connector.interface import FundingSnapshot, MarketInfo


def parse_asset_ctxs(
    body: Any, markets: dict[str, MarketInfo], wanted: Iterable[str], now_ms: int
) -> list[FundingSnapshot]:
    """``[meta, ctxs]`` to a snapshot per wanted coin the meta lists."""
    meta, ctxs = body[0], body[1]
    wanted = set(wanted)
    out = []
    for raw, ctx in zip(meta["universe"], ctxs, strict=False):
        coin = raw.get("name")
        m = markets.get(coin)
        if coin not in wanted or m is None or ctx.get("funding") in (None, ""):
            continue
        mark = ctx.get("markPx")
        out.append(FundingSnapshot(
            coin, rate_e8(ctx["funding"]), HOUR_MS, next_boundary(now_ms, HOUR_MS),
            price_i(mark, m.price_decimals) if mark not in (None, "") else None, now_ms,
        ))  # fmt: skip
    return out


class HyperliquidFunding:
    """What the connector polls (``connector.funding.poll_funding``): the subscribed coins' funding."""

    def __init__(self, info: Callable[[dict[str, Any]], Awaitable[Any]], markets: dict[str, MarketInfo], clock: Clock):
        self._info = info
        self._markets = markets
        self._clock = clock
        self.symbols: set[str] = set()

    async def fetch(self) -> list[FundingSnapshot]:
        if not self.symbols:
            return []
        body = await self._info({"type": "metaAndAssetCtxs"})
        return parse_asset_ctxs(body, self._markets, self.symbols, self._clock.now_ms())
