"""The funding contract's shared pieces: the rate as an exact int, a fixed schedule, the slow poll."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.funding import HOUR_MS, next_boundary, poll_funding, rate_e8
from connector.interface import CAPABILITIES, EVENT_KINDS, FundingSnapshot
from connector.sim.connector import SimConnector
from connector.sim.funding import sim_rate_e8


def test_funding_is_a_capability_and_an_event_kind():
    assert "funding" in CAPABILITIES and "funding" in EVENT_KINDS


@pytest.mark.parametrize(
    ("text", "percent", "want"),
    [
        ("0.0000125", False, 1_250),
        ("0.00010000", False, 10_000),
        ("-0.000179157", False, -17_916),  # nine decimals: to the nearest 1e-8, halves away from zero
        ("0.000000005", False, 1),
        ("-0.000000005", False, -1),
        ("0.0012", True, 1_200),  # 0.0012 % an hour
        ("1e-4", False, 10_000),
        (0, False, 0),
    ],
)
def test_rate_e8_is_exact_and_rounds_halves_away_from_zero(text, percent, want):
    got = rate_e8(text, percent=percent)
    assert got == want and type(got) is int


@pytest.mark.parametrize("bad", ["", "abc", "nan", "inf", None])
def test_rate_e8_refuses_what_is_not_a_rate(bad):
    with pytest.raises(ValueError):
        rate_e8(bad)


@given(st.integers(min_value=0, max_value=4_000_000_000_000), st.sampled_from([HOUR_MS, 4 * HOUR_MS, 8 * HOUR_MS]))
def test_next_boundary_is_the_next_settlement(now_ms, interval_ms):
    nxt = next_boundary(now_ms, interval_ms)
    assert nxt % interval_ms == 0 and now_ms < nxt <= now_ms + interval_ms


async def test_a_poll_emits_every_interval_survives_a_failure_and_ends_when_cancelled(clock):
    import asyncio

    calls: list[int] = []
    emitted: list[tuple[str, object]] = []

    async def fetch():
        calls.append(clock.now_ms())
        if len(calls) == 2:
            raise RuntimeError("venue said no")
        return [FundingSnapshot("BTC", 1_250, HOUR_MS, None, 100, clock.now_ms())]

    task = asyncio.create_task(poll_funding(fetch, lambda k, e: emitted.append((k, e)), clock, venue="x", interval_s=15))
    await clock.advance(0)
    assert len(calls) == 1 and [k for k, _ in emitted] == ["funding"]
    await clock.advance(15)
    assert len(calls) == 2 and len(emitted) == 1  # the failed poll emitted nothing and the loop lives on
    await clock.advance(15)
    assert len(calls) == 3 and len(emitted) == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.pending == 0


async def test_the_sim_publishes_hourly_funding_for_what_is_subscribed_and_stops_with_the_connector(clock):
    sim = SimConnector(clock=clock)
    got: list[FundingSnapshot] = []
    sim.add_handler("funding", got.append)
    await sim.start()
    await sim.subscribe_market_data(["BTC-PERP"])
    assert [s.symbol for s in got] == ["BTC-PERP"]  # at once, not a poll later
    snap = got[0]
    now = clock.now_ms()
    assert snap.interval_ms == HOUR_MS and snap.next_funding_ms == next_boundary(now, HOUR_MS)
    assert snap.rate_e8 == sim_rate_e8("BTC-PERP", now) and type(snap.rate_e8) is int
    assert snap.mark_price_i == sim.engine.mark_i("BTC-PERP")
    await clock.advance(0)
    polled = len(got)
    await clock.advance(15)
    assert len(got) == polled + 1 and got[-1].ts_ms == now + 15_000  # one poll each 15 s
    await sim.stop()
    await clock.advance(60)
    assert len(got) == polled + 1  # no poll after stop


def test_the_sim_rate_is_deterministic_and_changes_by_the_hour():
    t = 1_700_000_000_000
    assert sim_rate_e8("BTC-PERP", t) == sim_rate_e8("BTC-PERP", t + 1)
    hours = {sim_rate_e8("BTC-PERP", t + h * HOUR_MS) for h in range(11)}
    assert len(hours) > 1 and all(-5_000 <= r <= 7_500 for r in hours)


def test_paper_trading_passes_the_public_venues_funding_on_and_only_where_it_has_some(clock):
    from connector.paper import PaperConnector
    from tests.connector.paper.test_paper_fills import PublicOnly

    class PublicWithFunding(PublicOnly):
        capabilities = frozenset({"funding"})

    plain = PaperConnector(PublicOnly(clock), clock=clock)
    assert "funding" not in plain.capabilities
    public = PublicWithFunding(clock)
    paper = PaperConnector(public, clock=clock)
    assert "funding" in paper.capabilities and "amend" in paper.capabilities
    got: list[FundingSnapshot] = []
    paper.add_handler("funding", got.append)
    snap = FundingSnapshot("BTC", 1_250, HOUR_MS, None, 10_000, 1)
    public.emit("funding", snap)
    assert got == [snap]
