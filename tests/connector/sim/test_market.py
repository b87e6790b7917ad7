"""The synthetic book of one sim market: the fast snapshot path agrees with level-by-level sizes."""

from __future__ import annotations

import pytest

from connector.sim.market import DEFAULT_MARKETS, MarketState


def _slow_side(st: MarketState, is_ask: bool, depth: int) -> list[tuple[int, int]]:
    out = []
    for p in st.level_prices(is_ask):
        if st.level_size(p) > 0:
            out.append((p, st.level_size(p)))
            if len(out) == depth:
                break
    return out


@pytest.mark.parametrize("spec", DEFAULT_MARKETS, ids=lambda s: s.symbol)
def test_book_snapshot_matches_level_sizes_as_the_market_moves(spec):
    st = MarketState(spec, 7)
    for step in range(300):
        st.move(st.moves[step * 37 % len(st.moves)])
        if step % 10 == 0:
            st.next_epoch()
        for is_ask in (True, False):
            assert st.synthetic_side(is_ask, 20) == _slow_side(st, is_ask, 20)


def test_taken_liquidity_stays_gone_until_the_level_refreshes():
    st = MarketState(DEFAULT_MARKETS[0], 7)
    touch = st.ask_i
    size = st.level_size(touch)
    st.consume(touch, size)
    assert st.synthetic_side(True, 1)[0][0] > touch
    assert st.synthetic_side(True, 20) == _slow_side(st, True, 20)
    for _ in range(4):
        st.next_epoch()
    assert st.level_size(touch) > 0 and st.depleted == {}


def test_a_book_near_zero_stops_at_the_lowest_positive_price():
    st = MarketState(DEFAULT_MARKETS[0], 7)
    st.set_mid(35)
    bids = st.synthetic_side(False, 20)
    assert [p for p, _ in bids] == [35, 30, 20, 10]
