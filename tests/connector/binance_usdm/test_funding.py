"""Binance USDⓈ-M funding from the mark-price stream, with the per-symbol interval from ``fundingInfo``."""

from __future__ import annotations

from connector.binance_usdm.funding import DEFAULT_INTERVAL_MS, parse_funding, parse_funding_info
from connector.funding import HOUR_MS
from connector.interface import FundingSnapshot
from tests.connector.binance_usdm.test_connector import _open, until
from tests.fakes.binance_usdm import FakeBinanceUsdm


def test_the_stream_and_rest_figures_parse_exactly():
    # a markPriceUpdate: p, r, T
    assert parse_funding("BTCUSDT", "0.00010000", 1_562_306_400_000, "11794.15000000", 1, DEFAULT_INTERVAL_MS, 7) == (
        FundingSnapshot("BTCUSDT", 10_000, 8 * HOUR_MS, 1_562_306_400_000, 117_942, 7)  # the mark rounds half away
    )
    assert parse_funding("X", "-0.00038246", 0, "1.5", 2, HOUR_MS, 7) == FundingSnapshot("X", -38_246, HOUR_MS, None, 150, 7)
    assert parse_funding("X", "", 0, "1.5", 2, HOUR_MS, 7) is None  # a delivery contract has no funding
    rows = [{"symbol": "BLZUSDT", "adjustedFundingRateCap": "0.02", "fundingIntervalHours": 4, "disclaimer": False},
            {"symbol": "BAD", "fundingIntervalHours": "x"}]
    assert parse_funding_info(rows) == {"BLZUSDT": 4 * HOUR_MS}


async def test_mark_price_updates_become_funding_events_at_the_symbols_interval():
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    fake.funding_hours["BTCUSDT"] = 4
    conn, rec = await _open(fake, None)
    try:
        assert "funding" in conn.capabilities
        first = await until(lambda: rec.events["funding"] and rec.events["funding"][0])
        assert first.symbol == "BTCUSDT" and first.rate_e8 == 10_000 and first.interval_ms == 4 * HOUR_MS
        assert first.next_funding_ms % (4 * HOUR_MS) == 0 and first.next_funding_ms > first.ts_ms - 1_000
        assert first.mark_price_i and first.mark_price_i > 0
        fake.funding["BTCUSDT"] = "-0.00012500"
        await until(lambda: rec.events["funding"][-1].rate_e8 == -12_500)
    finally:
        await conn.stop()
        await fake.stop()
