"""The tracking limit's pure rules: pricing, clamps, hold, de-duplicated remainder, budget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.interface import Fill
from execution.tracking.budget import ActionBudget
from execution.tracking.rules import (
    Clamp,
    FillLedger,
    Quote,
    desired_price,
    should_hold,
    slippage_i,
    slippage_ppm,
    touch_excluding,
)

TICK = 5


def _fill(coi: int, trade: str, size: int, price: int) -> Fill:
    return Fill("BTC-PERP", coi, str(coi), trade, False, price, size, 0, True, 0)


def test_offset_zero_joins_the_best_bid_for_a_buy():
    assert desired_price(is_ask=False, bid_i=1000, ask_i=1010, tick_i=TICK) == Quote(1000)


def test_offset_zero_joins_the_best_ask_for_a_sell():
    assert desired_price(is_ask=True, bid_i=1000, ask_i=1010, tick_i=TICK) == Quote(1010)


def test_positive_offset_sits_behind_the_touch():
    assert desired_price(is_ask=False, bid_i=1000, ask_i=1010, tick_i=TICK, offset_ticks=2).price_i == 990
    assert desired_price(is_ask=True, bid_i=1000, ask_i=1010, tick_i=TICK, offset_ticks=2).price_i == 1020


def test_negative_offset_improves_into_the_spread():
    assert desired_price(is_ask=False, bid_i=1000, ask_i=1020, tick_i=TICK, offset_ticks=-1).price_i == 1005
    assert desired_price(is_ask=True, bid_i=1000, ask_i=1020, tick_i=TICK, offset_ticks=-1).price_i == 1015


def test_post_only_never_reaches_the_other_side_however_negative_the_offset():
    assert desired_price(is_ask=False, bid_i=1000, ask_i=1010, tick_i=TICK, offset_ticks=-9).price_i == 1005
    assert desired_price(is_ask=True, bid_i=1000, ask_i=1010, tick_i=TICK, offset_ticks=-9).price_i == 1005


def test_without_post_only_a_negative_offset_may_cross():
    q = desired_price(is_ask=False, bid_i=1000, ask_i=1010, tick_i=TICK, offset_ticks=-4, post_only=False)
    assert q.price_i == 1020


def test_an_empty_own_side_prices_one_tick_off_the_other_side():
    assert desired_price(is_ask=False, bid_i=None, ask_i=1010, tick_i=TICK).price_i == 1005
    assert desired_price(is_ask=True, bid_i=1000, ask_i=None, tick_i=TICK).price_i == 1005


def test_an_empty_book_gives_no_price():
    assert desired_price(is_ask=False, bid_i=None, ask_i=None, tick_i=TICK) is None


def test_buy_never_prices_above_the_limit_and_says_so():
    q = desired_price(is_ask=False, bid_i=1100, ask_i=1110, tick_i=TICK, limit_price_i=1050)
    assert q == Quote(1050, Clamp.LIMIT)


def test_sell_never_prices_below_the_limit_and_says_so():
    q = desired_price(is_ask=True, bid_i=900, ask_i=910, tick_i=TICK, limit_price_i=950)
    assert q == Quote(950, Clamp.LIMIT)


def test_a_limit_off_the_tick_grid_rounds_to_the_safe_side():
    assert desired_price(is_ask=False, bid_i=1100, ask_i=1110, tick_i=TICK, limit_price_i=1053).price_i == 1050
    assert desired_price(is_ask=True, bid_i=900, ask_i=910, tick_i=TICK, limit_price_i=947).price_i == 950


def test_max_chase_bounds_the_distance_from_the_starting_price():
    q = desired_price(is_ask=False, bid_i=1100, ask_i=1110, tick_i=TICK, start_price_i=1000, max_chase_ticks=3)
    assert q == Quote(1015, Clamp.MAX_CHASE)
    q = desired_price(is_ask=True, bid_i=900, ask_i=910, tick_i=TICK, start_price_i=1000, max_chase_ticks=3)
    assert q == Quote(985, Clamp.MAX_CHASE)


def test_the_limit_wins_over_a_looser_max_chase():
    q = desired_price(
        is_ask=False, bid_i=1100, ask_i=1110, tick_i=TICK, start_price_i=1000, max_chase_ticks=30, limit_price_i=1020
    )
    assert q == Quote(1020, Clamp.LIMIT)


def test_a_touch_inside_the_limit_is_not_clamped():
    assert desired_price(is_ask=False, bid_i=1000, ask_i=1010, tick_i=TICK, limit_price_i=1050).clamp is Clamp.NONE


@settings(max_examples=200, deadline=None)
@given(
    is_ask=st.booleans(),
    bid=st.one_of(st.none(), st.integers(1, 400).map(lambda t: t * TICK)),
    spread=st.integers(1, 20),
    offset=st.integers(-30, 30),
    limit=st.one_of(st.none(), st.integers(1, 500)),
    start=st.one_of(st.none(), st.integers(1, 500).map(lambda t: t * TICK)),
    chase=st.one_of(st.none(), st.integers(0, 50)),
    post_only=st.booleans(),
)
def test_pricing_never_breaks_the_limit_the_chase_bound_or_post_only(
    is_ask, bid, spread, offset, limit, start, chase, post_only
):
    ask = None if bid is None else bid + spread * TICK
    q = desired_price(
        is_ask=is_ask,
        bid_i=bid,
        ask_i=ask,
        tick_i=TICK,
        offset_ticks=offset,
        post_only=post_only,
        limit_price_i=limit,
        start_price_i=start,
        max_chase_ticks=chase,
    )
    if bid is None:
        assert q is None
        return
    if q is None:
        return
    assert q.price_i % TICK == 0 and q.price_i > 0
    if limit is not None:
        assert (q.price_i >= limit) if is_ask else (q.price_i <= limit)
    if start is not None and chase is not None:
        assert (q.price_i >= start - chase * TICK) if is_ask else (q.price_i <= start + chase * TICK)
    if post_only and q.clamp is Clamp.NONE:
        assert (q.price_i > bid) if is_ask else (q.price_i < ask)


def test_touch_excluding_skips_a_level_that_is_ours_alone():
    assert touch_excluding([(1000, 3), (995, 7)], {1000: 3}) == 995


def test_touch_excluding_keeps_a_level_we_share():
    assert touch_excluding([(1000, 10), (995, 7)], {1000: 3}) == 1000


def test_touch_excluding_skips_every_level_of_ours_not_only_the_best():
    assert touch_excluding([(1005, 2), (1000, 3), (995, 7)], {1005: 2, 1000: 3}) == 995


def test_touch_excluding_returns_none_when_only_we_rest():
    assert touch_excluding([(1000, 3)], {1000: 3}) is None


def test_a_child_alone_at_the_best_price_is_not_stepped_back():
    assert should_hold(
        is_ask=False, child_price_i=1010, quote=Quote(1000), alone_at_best=True, limit_price_i=None, max_bound_i=None
    )


def test_a_child_that_shares_the_level_follows_the_touch_back():
    assert not should_hold(
        is_ask=False, child_price_i=1010, quote=Quote(1000), alone_at_best=False, limit_price_i=None, max_bound_i=None
    )


def test_a_child_alone_at_the_best_does_not_improve_on_itself():
    assert should_hold(
        is_ask=False, child_price_i=1000, quote=Quote(1010), alone_at_best=True, limit_price_i=None, max_bound_i=None
    )


def test_a_child_behind_the_touch_follows_it_up():
    assert not should_hold(
        is_ask=False, child_price_i=1000, quote=Quote(1010), alone_at_best=False, limit_price_i=None, max_bound_i=None
    )


def test_a_child_beyond_a_lowered_limit_is_always_repriced():
    assert not should_hold(
        is_ask=False, child_price_i=1010, quote=Quote(990), alone_at_best=True, limit_price_i=995, max_bound_i=None
    )


def test_ledger_counts_a_duplicate_fill_once():
    ledger = FillLedger(100)
    assert ledger.add_fill(_fill(1, "t1", 30, 1000))
    assert not ledger.add_fill(_fill(1, "t1", 30, 1000))
    assert ledger.filled_i == 30 and ledger.remainder_i == 70


def test_ledger_sums_fills_across_children():
    ledger = FillLedger(100)
    ledger.add_fills([_fill(1, "t1", 30, 1000), _fill(2, "t1", 20, 1010)])
    assert ledger.filled_i == 50
    assert ledger.avg_price_i == (30 * 1000 + 20 * 1010 + 25) // 50


def test_ledger_trusts_an_order_report_that_runs_ahead_of_lost_fill_events():
    ledger = FillLedger(100)
    ledger.add_fill(_fill(1, "t1", 30, 1000))
    ledger.report(1, 50, 1000)
    assert ledger.filled_i == 50 and ledger.remainder_i == 50


def test_ledger_report_never_moves_backwards():
    ledger = FillLedger(100)
    ledger.report(1, 50, 1000)
    ledger.report(1, 20, 1000)
    assert ledger.filled_i == 50


def test_ledger_does_not_double_count_a_report_that_matches_the_fills():
    ledger = FillLedger(100)
    ledger.add_fills([_fill(1, "t1", 30, 1000), _fill(1, "t2", 20, 1000)])
    ledger.report(1, 50, 1000)
    assert ledger.filled_i == 50


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 5), st.integers(1, 10)), max_size=40))
def test_ledger_remainder_equals_target_minus_unique_fills(raw):
    ledger = FillLedger(1000)
    unique: dict[tuple[int, str], int] = {}
    for coi, trade, size in raw:
        key = (coi, f"t{trade}")
        f = _fill(coi, key[1], unique.get(key, size), 1000)
        unique.setdefault(key, size)
        ledger.add_fill(f)
    assert ledger.filled_i == sum(unique.values())
    assert ledger.remainder_i == max(0, 1000 - sum(unique.values()))


def test_slippage_is_positive_when_a_buy_pays_above_the_arrival_mid():
    assert slippage_i(False, 1010, 1000) == 10
    assert slippage_i(True, 990, 1000) == 10
    assert slippage_ppm(10, 1000) == 10_000
    assert slippage_ppm(-10, 1000) == -10_000
    assert slippage_i(False, None, 1000) is None


async def test_budget_refuses_beyond_the_burst_and_refills_with_time(clock):
    budget = ActionBudget(clock, rate_per_s=4, burst=2)
    assert budget.try_take() and budget.try_take()
    assert not budget.try_take()
    assert budget.wait_ms() == 250
    await clock.advance(0.25)
    assert budget.try_take()
    assert not budget.try_take()


async def test_budget_never_accumulates_beyond_the_burst(clock):
    budget = ActionBudget(clock, rate_per_s=10, burst=3)
    await clock.advance(60)
    assert budget.available == 3
