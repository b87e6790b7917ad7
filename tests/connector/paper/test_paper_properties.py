"""Whatever the venue's data does, a paper order fills honestly: only in an event that reaches its
price, never for more than that event offers, always at its own price as a maker, never past its size."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.interface import BookUpdate, Fill, Trade
from connector.paper.engine import PaperEngine
from tests.connector.paper.test_paper_fills import BTC

PRICES = st.integers(990_0, 1010_0)
SIZES = st.integers(1, 3_000)
books = st.builds(
    lambda bids, asks: ("book", sorted(bids.items(), reverse=True), sorted(asks.items())),
    st.dictionaries(PRICES, SIZES, max_size=4),
    st.dictionaries(PRICES, SIZES, max_size=4),
)
trades = st.tuples(st.just("trade"), PRICES, SIZES, st.booleans())


@settings(max_examples=150, deadline=None)
@given(
    first=books,
    bid=st.integers(995_0, 1005_0),
    size=st.integers(1_000, 6_000),
    events=st.lists(st.one_of(books, trades), max_size=30),
)
def test_a_resting_bid_fills_only_as_the_venue_allows(first, bid, size, events):
    engine = PaperEngine(clock=VirtualClock(), venue="stub")
    engine.install([BTC])
    fills: list[Fill] = []
    engine.subscribe(lambda e: fills.append(e) if isinstance(e, Fill) else None, ())
    _, bids, asks = first
    engine.on_book(BookUpdate("BTC", tuple(bids), tuple(asks), True, 0))
    best_ask = min((p for p, _ in asks), default=None)
    if best_ask is not None and best_ask <= bid:
        return  # it would take on entry: a taker, not a resting order
    engine.place("BTC", client_order_index=1, is_ask=False, price_i=bid, size_i=size, tif="GTC")
    for event in events:
        before = len(fills)
        if event[0] == "book":
            _, bids, asks = event
            engine.on_book(BookUpdate("BTC", tuple(bids), tuple(asks), True, 0))
            offered = sum(s for p, s in asks if p <= bid)
        else:
            _, price, qty, taker_sold = event
            engine.on_trade(Trade("BTC", price, qty, taker_sold, 0, "t"))
            offered = qty if price < bid or (price == bid and taker_sold) else 0
        new = fills[before:]
        assert sum(f.size_i for f in new) <= offered
        assert all(f.price_i == bid and f.is_maker and not f.is_ask for f in new)
    assert sum(f.size_i for f in fills) <= size
    assert engine.order("BTC", client_order_index=1).filled_i == sum(f.size_i for f in fills)
