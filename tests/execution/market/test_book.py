"""L2Book: snapshots replace, deltas upsert/remove, the touch is always the true best."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.interface import BookUpdate
from execution.market.book import L2Book


def snap(bids=(), asks=(), ts=1, seq=None) -> BookUpdate:
    return BookUpdate("BTC-PERP", tuple(bids), tuple(asks), True, ts, seq)


def delta(bids=(), asks=(), ts=2, seq=None) -> BookUpdate:
    return BookUpdate("BTC-PERP", tuple(bids), tuple(asks), False, ts, seq)


def test_empty_book_has_no_touch():
    book = L2Book("BTC")
    assert book.best_bid() is None and book.best_ask() is None
    assert book.best_bid_i() is None and book.best_ask_i() is None
    assert book.bids(5) == [] and book.asks(5) == []


def test_snapshot_levels_are_read_best_first():
    book = L2Book("BTC")
    book.apply(snap(bids=[(99, 1), (101, 2), (100, 3)], asks=[(105, 1), (103, 2), (104, 3)], ts=7, seq=3))
    assert book.best_bid() == (101, 2)
    assert book.best_ask() == (103, 2)
    assert book.bids(2) == [(101, 2), (100, 3)]
    assert book.asks() == [(103, 2), (104, 3), (105, 1)]
    assert (book.ts_ms, book.seq, book.updates) == (7, 3, 1)


def test_snapshot_replaces_every_level_and_drops_zero_sizes():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 1), (99, 1)], asks=[(101, 1)]))
    book.apply(snap(bids=[(98, 5), (97, 0)], asks=[]))
    assert book.bids() == [(98, 5)]
    assert book.asks() == []
    assert book.depth == (1, 0)


def test_delta_updates_inserts_and_removes_levels():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 1), (99, 1)], asks=[(101, 1), (102, 1)]))
    book.apply(delta(bids=[(100, 7), (98, 2), (99, 0)], asks=[(101, 0), (100_5, 0), (103, 4)]))
    assert book.bids() == [(100, 7), (98, 2)]
    assert book.asks() == [(102, 1), (103, 4)]


def test_removing_an_absent_level_is_harmless():
    book = L2Book("BTC")
    book.apply(delta(bids=[(100, 0)], asks=[(101, 0)]))
    assert book.depth == (0, 0)


def test_seq_is_kept_only_from_updates_that_carry_one():
    book = L2Book("BTC")
    book.apply(snap(seq=10))
    book.apply(delta(seq=None, ts=9))
    assert book.seq == 10 and book.ts_ms == 9 and book.updates == 2


def test_bids_with_zero_or_negative_n_is_empty():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 1)], asks=[(101, 1)]))
    assert book.bids(0) == [] and book.asks(0) == []


def test_clear_forgets_levels_and_seq():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 1)], asks=[(101, 1)], seq=4))
    book.clear()
    assert book.best_bid() is None and book.best_ask() is None and book.seq is None


def test_crossed_book_is_detected():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 1)], asks=[(101, 1)]))
    assert not book.is_crossed
    book.apply(delta(bids=[(101, 1)]))
    assert book.is_crossed


def test_level_sizes_are_looked_up_by_price():
    book = L2Book("BTC")
    book.apply(snap(bids=[(100, 3)], asks=[(101, 4)]))
    assert book.bid_size(100) == 3 and book.ask_size(101) == 4 and book.bid_size(1) == 0


prices = st.integers(min_value=1, max_value=60)
levels = st.lists(st.tuples(prices, st.integers(min_value=0, max_value=5)), max_size=6)
updates = st.lists(st.tuples(st.booleans(), levels, levels), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(updates)
def test_book_matches_a_naive_reference_model(script):
    book = L2Book("BTC")
    ref_bids: dict[int, int] = {}
    ref_asks: dict[int, int] = {}
    for is_snapshot, bids, asks in script:
        book.apply(BookUpdate("X", tuple(bids), tuple(asks), is_snapshot, 0))
        if is_snapshot:
            ref_bids, ref_asks = {}, {}
        for ref, side in ((ref_bids, bids), (ref_asks, asks)):
            for p, s in side:
                if s:
                    ref[p] = s
                else:
                    ref.pop(p, None)
        want_bids = sorted(ref_bids.items(), reverse=True)
        want_asks = sorted(ref_asks.items())
        assert book.bids() == want_bids
        assert book.asks() == want_asks
        assert book.best_bid() == (want_bids[0] if want_bids else None)
        assert book.best_ask() == (want_asks[0] if want_asks else None)
        assert book.bids(3) == want_bids[:3]
        assert book.asks(3) == want_asks[:3]
