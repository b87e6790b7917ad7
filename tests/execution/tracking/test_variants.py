"""Chase variants on the one tracking limit: aggressive, chase-to / max distance in ppm, one-way trail.

The pure rules are checked over random touch paths (hypothesis); the sim tests check the chase
itself on the quiet market (bid 64999.5, ask 65000.5, tick 1).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.tracking import ChaseParams
from execution.tracking.rules import Clamp, beyond, desired_price, favourable
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk

BID, ASK = 649_995, 650_005

touches = st.lists(
    st.tuples(st.integers(1_000, 2_000), st.integers(1, 6)),  # (bid in ticks, spread in ticks)
    min_size=1,
    max_size=40,
)


@given(path=touches, is_ask=st.booleans(), tick=st.sampled_from([1, 5, 10]), aggressive=st.booleans())
def test_a_one_way_trail_only_ever_moves_in_the_favourable_direction(path, is_ask, tick, aggressive):
    bound = None
    prices = []
    for bid_t, spread in path:
        bid, ask = bid_t * tick, (bid_t + spread) * tick
        q = desired_price(is_ask=is_ask, bid_i=bid, ask_i=ask, tick_i=tick, aggressive=aggressive, trail_bound_i=bound)
        assert q is not None and q.price_i % tick == 0
        assert q.price_i < ask if not is_ask else q.price_i > bid  # post-only: never crosses
        if bound is not None:
            assert not beyond(is_ask, q.price_i, bound)
            assert (q.clamp is Clamp.TRAIL) == (
                q.price_i == bound and q.price_i != _free(is_ask, bid, ask, tick, aggressive)
            )
        bound = favourable(is_ask, bound, q.price_i)
        prices.append(q.price_i)
    steps = list(itertools.pairwise(prices))
    assert all((b >= a) if is_ask else (b <= a) for a, b in steps)


def _free(is_ask, bid, ask, tick, aggressive):
    return desired_price(is_ask=is_ask, bid_i=bid, ask_i=ask, tick_i=tick, aggressive=aggressive).price_i


@given(path=touches, is_ask=st.booleans(), tick=st.sampled_from([1, 5, 10]), offset=st.integers(0, 3))
def test_aggressive_rests_one_tick_inside_the_other_side_and_never_crosses(path, is_ask, tick, offset):
    for bid_t, spread in path:
        bid, ask = bid_t * tick, (bid_t + spread) * tick
        q = desired_price(is_ask=is_ask, bid_i=bid, ask_i=ask, tick_i=tick, aggressive=True, offset_ticks=offset)
        if is_ask:
            assert q.price_i == max(bid + (1 + offset) * tick, bid + tick)
        else:
            assert q.price_i == min(ask - (1 + offset) * tick, ask - tick)


@given(
    arrival=st.integers(10_000, 10**9),
    ppm=st.integers(1, 999_999),
    is_ask=st.booleans(),
    tick=st.sampled_from([1, 5, 100]),
    limit=st.none() | st.integers(1, 2 * 10**9),
    max_ticks=st.none() | st.integers(0, 10_000),
)
def test_percentage_bounds_fold_into_the_tighter_price_and_the_fewer_ticks(
    arrival, ppm, is_ask, tick, limit, max_ticks
):
    p = ChaseParams(
        "sim", "BTC", is_ask, 10, limit_price_i=limit, max_chase_ticks=max_ticks, limit_ppm=ppm, max_chase_ppm=ppm
    )
    r = p.resolved(arrival, tick)
    distance = arrival * ppm // 1_000_000
    bound = arrival - distance if is_ask else arrival + distance
    assert r.limit_price_i == (bound if limit is None else (max(limit, bound) if is_ask else min(limit, bound)))
    assert r.max_chase_ticks == (distance // tick if max_ticks is None else min(max_ticks, distance // tick))
    assert r.resolved(arrival, tick) == r  # idempotent: a restart resolving again changes nothing
    assert type(r.limit_price_i) is int and type(r.max_chase_ticks) is int


def test_a_bad_percentage_is_refused_before_anything_is_sent():
    class Markets:
        def market(self, venue, symbol):
            from types import SimpleNamespace

            return SimpleNamespace(min_size_i=1)

    for bad in (0, -5, 1_000_000):
        with pytest.raises(ValueError, match="limit_ppm"):
            ChaseParams.validated(
                "sim", "BTC", venues=["sim"], markets=Markets(), is_ask=False, size_i=5, limit_ppm=bad
            )


async def desk_for(clock) -> Desk:
    return await Desk(clock, quiet=True).start()


async def started(desk: Desk, **kw):
    kw.setdefault("is_ask", False)
    kw.setdefault("size_i", 100)
    chase = await desk.tracking.start("sim", SYMBOL, **kw)
    await desk.clock.advance(0.01)
    return chase


async def test_an_aggressive_buy_rests_one_tick_under_the_ask_follows_it_and_fills_when_it_comes_down(clock):
    desk = await desk_for(clock)
    chase = await started(desk, aggressive=True)
    assert chase.price_i == ASK - 1
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)  # ask 650105
    await clock.advance(0.5)
    assert chase.price_i == 650_104
    desk.engine.set_mid(VENUE_SYMBOL, 650_000)  # the ask falls through the child: it trades
    await clock.advance(0.5)
    assert chase.is_done and chase.filled_i == 100
    await desk.stop()


async def test_a_trailing_buy_follows_the_bid_down_but_never_up(clock):
    desk = await desk_for(clock)
    chase = await started(desk, trail=True)
    assert chase.price_i == BID
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.5)
    assert chase.price_i == BID  # the touch rose: a trail does not pay up
    desk.engine.set_mid(VENUE_SYMBOL, 649_998)  # the others' bid 649993, the ask still above the child
    await clock.advance(0.5)
    assert chase.price_i == 649_993  # alone at the top, it follows the others down
    desk.engine.set_mid(VENUE_SYMBOL, 649_999)
    await clock.advance(0.5)
    assert chase.price_i == 649_993 and chase.trail_i == 649_993
    assert not chase.is_done
    await desk.stop()


async def test_a_trailing_sell_follows_the_ask_up_only(clock):
    desk = await desk_for(clock)
    chase = await started(desk, is_ask=True, trail=True)
    desk.engine.set_mid(VENUE_SYMBOL, 649_900)
    await clock.advance(0.5)
    assert chase.price_i == ASK
    desk.engine.set_mid(VENUE_SYMBOL, 650_002)  # the others' ask 650007, the bid still under the child
    await clock.advance(0.5)
    assert chase.price_i == 650_007 and not chase.is_done
    await desk.stop()


async def test_chase_to_a_percentage_of_arrival_sits_at_that_price(clock):
    desk = await desk_for(clock)
    chase = await started(desk, limit_ppm=2_000)  # 0.2 % of the arrival mid 650000 = 1300
    assert chase.arrival_mid_i == 650_000
    assert chase.params.limit_price_i == 651_300
    desk.engine.set_mid(VENUE_SYMBOL, 660_000)
    await clock.advance(0.5)
    assert chase.price_i == 651_300 and chase.at_limit
    await desk.stop()


async def test_max_distance_as_a_percentage_caps_the_chase_in_ticks(clock):
    desk = await desk_for(clock)
    chase = await started(desk, is_ask=True, max_chase_ppm=100)  # 65 ticks of 650000
    assert chase.params.max_chase_ticks == 65
    desk.engine.set_mid(VENUE_SYMBOL, 649_000)
    await clock.advance(0.5)
    assert chase.price_i == ASK - 65
    await desk.stop()
