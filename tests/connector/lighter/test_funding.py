"""Lighter funding from the ``market_stats`` channel: parsed (percent an hour), pushed as the venue sends it."""

from __future__ import annotations

from connector.funding import HOUR_MS, next_boundary
from connector.interface import FundingSnapshot, MarketInfo
from connector.lighter.funding import parse_market_stats
from tests.connector.lighter.test_connector import _open, until
from tests.fakes.lighter import FakeLighter

ETH = MarketInfo("ETH", "ETH", "USDC", 2, 4, 1)
BTC = MarketInfo("BTC", "BTC", "USDC", 1, 5, 1)
BY_ID = {0: ETH, 1: BTC}

NOW = 1_763_530_000_000


def _stats(mid: int, current: str, settled: str, ts: int, mark: str) -> dict:
    return {"market_id": mid, "index_price": mark, "mark_price": mark, "open_interest": "1", "last_trade_price": mark,
            "current_funding_rate": current, "funding_rate": settled, "funding_timestamp": ts}


def test_one_market_or_all_of_them_in_percent_per_hour():
    one = {"channel": "market_stats:0", "type": "update/market_stats",
           "market_stats": _stats(0, "0.0012", "0.0010", 1_763_532_000_004, "3013.915")}
    assert parse_market_stats(one, BY_ID.get, NOW) == [
        FundingSnapshot("ETH", 1_200, HOUR_MS, 1_763_532_000_004, 301_392, NOW)  # 0.0012 % an hour; mark rounds half away
    ]
    every = {"channel": "market_stats:all", "type": "subscribed/market_stats", "market_stats": {
        "0": _stats(0, "-0.0003", "0", NOW - 5, "3000"),  # a timestamp behind us: the next hour is next
        "1": _stats(1, "", "0.0012", NOW + 10, "90000.1"),  # no current rate: the settled one
        "77": _stats(77, "0.1", "0.1", NOW, "1"),  # a market we do not list
    }}
    assert parse_market_stats(every, BY_ID.get, NOW) == [
        FundingSnapshot("ETH", -300, HOUR_MS, next_boundary(NOW, HOUR_MS), 300_000, NOW),
        FundingSnapshot("BTC", 1_200, HOUR_MS, NOW + 10, 900_001, NOW),
    ]


async def test_the_stream_subscribes_market_stats_and_funding_follows_what_it_pushes():
    fake = await FakeLighter(step_s=0.02, ping_interval_s=0.05, pong_timeout_s=0.5).start()
    conn, _rec = await _open(fake, None, reconnect_min_s=0.02, reconnect_max_s=0.1, requests_per_min=60_000)
    got: list[FundingSnapshot] = []
    conn.add_handler("funding", got.append)
    try:
        assert "funding" in conn.capabilities
        assert [c for c, _ in fake.subscribes].count("market_stats/all") == 1  # one channel for every market
        fake.set_funding("BTC-PERP", "-0.0025")
        snap = await until(lambda: [f for f in got if f.rate_e8 == -2_500] and got[-1])
        assert snap.symbol == "BTC" and snap.interval_ms == HOUR_MS
        assert snap.next_funding_ms % HOUR_MS == 0 and snap.mark_price_i and snap.mark_price_i > 0
    finally:
        await conn.stop()
        await fake.stop()
