"""Hyperliquid funding from ``metaAndAssetCtxs``: parsed exactly, polled slowly for the subscribed coins."""

from __future__ import annotations

import asyncio

from connector.funding import HOUR_MS, next_boundary
from connector.hyperliquid.connector import HyperliquidConnector
from connector.hyperliquid.funding import parse_asset_ctxs
from connector.interface import FundingSnapshot, MarketInfo
from tests.connector.hyperliquid.test_connector import FAST, Venue
from tests.fakes.hyperliquid import FakeHyperliquid

BTC = MarketInfo("BTC", "BTC", "USDC", 1, 5, 1)
ETH = MarketInfo("ETH", "ETH", "USDC", 2, 4, 1)


def test_asset_contexts_follow_the_universe_order_and_only_wanted_coins_are_kept():
    body = [
        {"universe": [{"name": "BTC", "szDecimals": 5}, {"name": "ETH", "szDecimals": 4}, {"name": "X", "szDecimals": 0}]},
        [
            {"funding": "0.0000125", "markPx": "64950.55"},
            {"funding": "-0.00000264", "markPx": "3450.1"},
            {"funding": "0.0001", "markPx": "1.0"},
        ],
    ]
    now = 1_700_000_123_456
    got = parse_asset_ctxs(body, {"BTC": BTC, "ETH": ETH}, {"BTC", "ETH", "X"}, now)
    nxt = next_boundary(now, HOUR_MS)
    assert got == [
        FundingSnapshot("BTC", 1_250, HOUR_MS, nxt, 649_506, now),  # the mark's extra digit rounds half away
        FundingSnapshot("ETH", -264, HOUR_MS, nxt, 345_010, now),
    ]
    assert parse_asset_ctxs(body, {"BTC": BTC, "ETH": ETH}, {"ETH"}, now)[0].symbol == "ETH"


async def test_the_connector_polls_funding_for_what_it_subscribed_until_it_stops():
    fake = await FakeHyperliquid(step_s=None).start()
    connector = HyperliquidConnector(base_url=fake.base_url, funding_poll_s=0.05, **FAST)
    venue = Venue(fake, connector)
    try:
        assert "funding" in connector.capabilities
        await connector.start()
        await connector.subscribe_market_data(["BTC"])
        first = await venue.wait("funding", lambda f: f.symbol == "BTC")
        assert first.rate_e8 == 1_250 and first.interval_ms == HOUR_MS and first.next_funding_ms % HOUR_MS == 0
        assert first.mark_price_i == fake.engine.mark_i("BTC")
        fake.funding["BTC"] = "-0.0000031"
        await venue.wait("funding", lambda f: f.rate_e8 == -310)  # the next poll
        assert {f.symbol for f in venue.events["funding"]} == {"BTC"}
        await connector.stop()
        seen = len(venue.events["funding"])
        await asyncio.sleep(0.2)
        assert len(venue.events["funding"]) == seen  # the poll ended with the connector
    finally:
        await connector.stop()
        await fake.stop()
