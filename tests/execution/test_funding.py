"""Funding reaches the position service: read per market, absent where the venue has no ``funding``."""

from __future__ import annotations

from connector.funding import HOUR_MS, next_boundary
from connector.interface import FundingSnapshot
from connector.sim.connector import SimConnector
from connector.sim.funding import sim_rate_e8
from execution.position_service import liquidation_distance_ppm
from execution.runtime import Runtime
from tests.execution.test_runtime import FakeVenue


async def test_the_runtime_keeps_each_markets_funding_by_canonical_symbol(clock):
    sim = SimConnector(clock=clock)
    async with Runtime([sim], clock=clock) as runtime:
        f = runtime.positions.funding("sim", "BTC")
        now = clock.now_ms()
        assert f is not None and f.symbol == "BTC" and f.venue == "sim"
        assert f.rate_e8 == sim_rate_e8("BTC-PERP", now) and f.interval_ms == HOUR_MS
        assert f.ms_to_next(now) == next_boundary(now, HOUR_MS) - now
        assert f.ms_to_next(f.next_funding_ms + 5) == 0
        assert f.mark_price_i == sim.engine.mark_i("BTC-PERP")
        await clock.advance(3_600)  # an hour later: the next hour's figures
        g = runtime.positions.funding("sim", "BTC")
        assert g.next_funding_ms == f.next_funding_ms + HOUR_MS


async def test_a_venue_without_the_capability_has_no_funding_and_unknown_markets_are_ignored(clock):
    venue = FakeVenue(clock=clock)
    async with Runtime([venue], clock=clock) as runtime:
        assert runtime.positions.funding("sim", "BTC") is None
        assert not venue._handlers["funding"]  # not wired: the venue never said it publishes funding
        runtime.positions.ingest("sim", FundingSnapshot("DOGE-PERP", 1, HOUR_MS, None, None))
        runtime.positions.ingest("sim", FundingSnapshot("BTC-PERP", -300, HOUR_MS, None, None))
        assert runtime.positions.funding("sim", "BTC").rate_e8 == -300
        assert runtime.positions.funding("sim", "DOGE") is None


def test_liquidation_distance_is_signed_from_the_mark():
    assert liquidation_distance_ppm(87_500, 100_000) == -125_000  # a long: 12.5 % lower
    assert liquidation_distance_ppm(110_000, 100_000) == 100_000  # a short: 10 % higher
    assert liquidation_distance_ppm(None, 100_000) is None
    assert liquidation_distance_ppm(90_000, None) is None
    assert liquidation_distance_ppm(1, 3) == -666_667
