"""The working orders' arithmetic, over random inputs: ladders on the grid, sizes summing exactly, schedules in order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connector.interface import MarketInfo
from execution.algos import scale_prices, scale_sizes, slice_due, twap_schedule
from execution.algos.plan import child_problem, jitter_ppm

ticks = st.sampled_from([1, 5, 10, 25, 100])


@given(a=st.integers(1, 10**7), b=st.integers(1, 10**7), count=st.integers(1, 60), tick=ticks)
def test_scale_prices_sit_on_the_grid_inside_the_range_distinct_and_in_order(a, b, count, tick):
    lo, hi = min(a, b), max(a, b)
    room = hi // tick - (lo + tick - 1) // tick + 1
    if count > room:
        with pytest.raises(ValueError, match="tick grid"):
            scale_prices(a, b, count, tick)
        return
    prices = scale_prices(a, b, count, tick)
    assert len(prices) == count
    assert all(type(p) is int and p % tick == 0 and lo <= p <= hi for p in prices)
    steps = list(itertools.pairwise(prices))
    assert all((y > x) if a <= b else (y < x) for x, y in steps)
    if count > 1:  # both ends reached (moved inward onto the grid)
        assert {prices[0], prices[-1]} == {-(-lo // tick) * tick, hi // tick * tick}


@given(
    steps=st.integers(1, 100_000),
    count=st.integers(1, 50),
    step=st.sampled_from([1, 10, 1000]),
    dist=st.sampled_from(["flat", "increasing", "decreasing"]),
)
def test_scale_sizes_sum_exactly_on_the_step_grid_and_keep_their_shape(steps, count, step, dist):
    total = steps * step
    sizes = scale_sizes(total, count, step, dist)
    assert len(sizes) == count
    assert sum(sizes) == total  # the remainder is placed: never lost, never exceeded
    assert all(type(s) is int and s >= 0 and s % step == 0 for s in sizes)
    pairs = list(itertools.pairwise(sizes))
    if dist == "flat":
        assert max(sizes) - min(sizes) <= step
    elif dist == "increasing":
        assert all(y >= x for x, y in pairs)
    else:
        assert all(y <= x for x, y in pairs)


def test_a_size_off_the_step_grid_is_refused():
    with pytest.raises(ValueError, match="size step"):
        scale_sizes(1005, 3, 10)


@given(
    duration=st.integers(1_000, 10 * 3_600_000),
    slices=st.integers(1, 200),
    jitter=st.integers(0, 499_999),
    seed=st.integers(0, 2**32),
)
def test_a_twap_schedule_stays_in_order_inside_the_duration_and_is_reproducible(duration, slices, jitter, seed):
    assume(duration >= slices)
    starts = twap_schedule(duration, slices, jitter, seed)
    assert len(starts) == slices and starts[0] == 0
    assert all(y > x for x, y in itertools.pairwise(starts))
    assert all(0 <= s < duration for s in starts)
    interval = duration // slices
    assert all(abs(s - k * interval) <= interval * jitter // 1_000_000 for k, s in enumerate(starts))
    assert twap_schedule(duration, slices, jitter, seed) == starts


@given(planned=st.lists(st.integers(0, 1000), min_size=1, max_size=30), data=st.data())
def test_a_slice_takes_what_is_due_so_remainders_roll_on_and_the_total_is_never_exceeded(planned, data):
    filled = 0
    for k in range(len(planned)):
        due = slice_due(planned, k, filled, 1)
        assert due == max(0, sum(planned[: k + 1]) - filled)
        filled += data.draw(st.integers(0, due), label=f"fill {k}")
        assert filled <= sum(planned)


def test_jitter_outside_the_half_interval_is_refused():
    assert jitter_ppm(0.1) == 100_000
    for bad in (-0.1, 0.5, 1, True):
        with pytest.raises(ValueError):
            jitter_ppm(bad)


def test_a_child_breaking_a_venue_rule_is_named():
    m = MarketInfo("X-PERP", "X", "USD", 2, 3, min_size_i=10, tick_i=5, step_i=2, min_notional_q=5_000_000)
    assert child_problem(m, 1_000, 1_000) is None
    assert "tick" in child_problem(m, 1_002, 1_000)
    assert "step" in child_problem(m, 1_000, 1_001)
    assert "minimum" in child_problem(m, 1_000, 8)
    assert "notional" in child_problem(m, 1_000, 100)  # 10.00 * 0.100 = 1 < 5
