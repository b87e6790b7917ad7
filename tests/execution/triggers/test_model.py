"""The price arithmetic, by property: which way each kind fires, and a trailing stop only ever tightens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from execution.triggers.model import TriggerKind, better, crossed, trail_distance_i, trailing_trigger_i

prices = st.integers(min_value=1, max_value=10**9)


@given(kind=st.sampled_from(list(TriggerKind)), is_ask=st.booleans(), trigger=prices, price=prices)
def test_a_protective_order_fires_on_the_side_that_hurts_or_pays(kind, is_ask, trigger, price):
    fired = crossed(kind, is_ask, trigger, price)
    # a sell stop / buy take-profit fires at or below; a sell take-profit / buy stop at or above
    falls = is_ask == kind.is_stop
    assert fired == (price <= trigger if falls else price >= trigger)
    assert crossed(kind, is_ask, trigger, trigger)  # at the trigger is past it


@given(
    is_ask=st.booleans(),
    path=st.lists(prices, min_size=1, max_size=60),
    trail_ticks=st.one_of(st.none(), st.integers(1, 10_000)),
    ppm=st.integers(1, 999_999),
    tick=st.sampled_from([1, 5, 10]),
)
def test_a_trailing_stop_only_ever_tightens_and_stays_behind_the_best_price(is_ask, path, trail_ticks, ppm, tick):
    best = path[0]
    trigger = None
    for price in path:
        best = better(is_ask, best, price)
        distance = trail_distance_i(best, tick, trail_ticks=trail_ticks, trail_ppm=None if trail_ticks else ppm)
        assert distance >= tick and distance % tick == 0
        new = trailing_trigger_i(is_ask, best, distance)
        moved = new if trigger is None else better(is_ask, trigger, new)
        if trigger is not None:
            assert (moved >= trigger) if is_ask else (moved <= trigger)
        trigger = moved
        assert (trigger < best) if is_ask else (trigger > best)


def test_each_venue_says_whether_its_whole_position_trigger_follows_the_position():
    from connector.backpack.connector import BackpackConnector
    from connector.binance_usdm.connector import BinanceUsdmConnector
    from connector.hyperliquid.connector import HyperliquidConnector
    from connector.lighter.connector import LighterConnector
    from connector.sim.connector import SimConnector
    from execution.triggers.follow import follows

    # closePosition, positionTpsl, "100%" and the sim's close-position trigger close the position as it
    # is; Lighter holds the size it was given, so perpdesk re-arms it (execution.triggers.follow)
    assert [follows(c) for c in (SimConnector, BinanceUsdmConnector, HyperliquidConnector, BackpackConnector)] == [
        True, True, True, True,
    ]  # fmt: skip
    assert not follows(LighterConnector) and not follows(None)
