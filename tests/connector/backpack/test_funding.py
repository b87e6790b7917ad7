"""Backpack funding from ``/api/v1/markPrices``: parsed exactly, polled slowly for the subscribed perps."""

from __future__ import annotations

import asyncio

from connector.backpack.connector import BackpackConnector
from connector.backpack.funding import parse_mark_prices
from connector.funding import HOUR_MS
from connector.interface import FundingSnapshot, MarketInfo
from tests.connector.backpack.test_connector import BTC, until
from tests.fakes.backpack import FakeBackpack

SOL = MarketInfo("SOL_USDC_PERP", "SOL", "USDC", 2, 2, 1, info={"fundingInterval": 3_600_000})
AAVE = MarketInfo("AAVE_USDC_PERP", "AAVE", "USDC", 2, 2, 1)  # no interval given: hourly


def test_mark_price_rows_of_the_wanted_perps_become_snapshots():
    rows = [
        {"fundingRate": "-0.000179157", "indexPrice": "18.70", "markPrice": "18.6951", "nextFundingTimestamp": 1759489200000,
         "symbol": "SOL_USDC_PERP"},
        {"fundingRate": "0.0000125", "indexPrice": "285.79", "markPrice": "285.78212281", "symbol": "AAVE_USDC_PERP"},
        {"fundingRate": "0.0001", "markPrice": "1", "nextFundingTimestamp": 1, "symbol": "OTHER_USDC_PERP"},
    ]
    now = 1_759_485_600_123
    got = parse_mark_prices(rows, {SOL.symbol: SOL, AAVE.symbol: AAVE}, {SOL.symbol, AAVE.symbol, "OTHER_USDC_PERP"}, now)
    assert got == [
        FundingSnapshot("SOL_USDC_PERP", -17_916, HOUR_MS, 1_759_489_200_000, 1_870, now),
        FundingSnapshot("AAVE_USDC_PERP", 1_250, HOUR_MS, 1_759_489_200_000, 28_578, now),  # next: on the hour
    ]


async def test_the_connector_polls_mark_prices_for_what_it_subscribed_until_it_stops():
    fake = await FakeBackpack(step_s=0.02).start()
    conn = BackpackConnector(base_url=fake.base_url, ws_url=fake.ws_url, funding_poll_s=0.05,
                             reconnect_min_s=0.02, reconnect_max_s=0.1, requests_per_s=1000, burst=1000)
    got: list[FundingSnapshot] = []
    conn.add_handler("funding", got.append)
    try:
        assert "funding" in conn.capabilities
        await conn.start()
        await conn.subscribe_market_data([BTC])
        first = await until(lambda: got and got[0])
        assert first.symbol == BTC and first.rate_e8 == 1_250
        assert first.interval_ms == 8 * HOUR_MS and first.next_funding_ms % (8 * HOUR_MS) == 0  # the market's interval
        assert first.mark_price_i and first.mark_price_i > 0
        fake.funding[BTC] = "-0.0003"
        await until(lambda: got[-1].rate_e8 == -30_000)
        assert {f.symbol for f in got} == {BTC}
        await conn.stop()
        seen = len(got)
        await asyncio.sleep(0.2)
        assert len(got) == seen
    finally:
        await conn.stop()
        await fake.stop()
