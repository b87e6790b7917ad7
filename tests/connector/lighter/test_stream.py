"""Lighter's stream without a socket: the book's nonce chain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.lighter.stream import BookChain, BookGap


def _book(kind: str, begin: int, nonce: int, bids=(), asks=()) -> dict:
    return {
        "channel": "order_book:0",
        "type": kind,
        "timestamp": 1,
        "order_book": {
            "code": 0,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "offset": 99,
            "nonce": nonce,
            "begin_nonce": begin,
        },
    }


def test_book_updates_chain_on_begin_nonce():
    chain = BookChain("ETH", 2, 4)
    snap = chain.apply(_book("subscribed/order_book", 0, 100, bids=[("2064.30", "1.0392")]), snapshot=True)
    assert snap.is_snapshot and snap.bids == ((206430, 10392),) and snap.seq == 100
    upd = chain.apply(_book("update/order_book", 100, 107, asks=[("2064.54", "0")]), snapshot=False)
    assert not upd.is_snapshot and upd.asks == ((206454, 0),) and chain.nonce == 107


def test_book_gap_raises_and_forgets_the_chain():
    chain = BookChain("ETH", 2, 4)
    chain.apply(_book("subscribed/order_book", 0, 100), snapshot=True)
    with pytest.raises(BookGap):
        chain.apply(_book("update/order_book", 101, 105), snapshot=False)
    assert chain.nonce is None
    assert chain.apply(_book("update/order_book", 105, 106), snapshot=False) is None


def test_update_before_snapshot_is_ignored():
    chain = BookChain("ETH", 2, 4)
    assert chain.apply(_book("update/order_book", 5, 6), snapshot=False) is None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.integers(1, 30), st.integers(0, 4), max_size=6),
            st.integers(1, 5),
            st.sampled_from(["chain", "chain", "chain", "gap", "snapshot"]),
        ),
        max_size=40,
    )
)
def test_the_chain_mirrors_the_venue_book_and_never_applies_across_a_gap(steps):
    """A reference book driven by random updates; the chain must equal it whenever it claims a nonce."""
    chain = BookChain("ETH", 2, 4)
    venue: dict[int, int] = {}
    nonce = 100
    chain.apply(_book("subscribed/order_book", 0, nonce), snapshot=True)
    for changes, step, kind in steps:
        for price, size in changes.items():
            if size:
                venue[price] = size
            else:
                venue.pop(price, None)
        begin, nonce = nonce, nonce + step
        levels = [(f"{p / 100:.2f}", f"{s / 10_000:.4f}") for p, s in changes.items()]
        if kind == "snapshot":
            full = [(f"{p / 100:.2f}", f"{s / 10_000:.4f}") for p, s in venue.items()]
            chain.apply(_book("subscribed/order_book", 0, nonce, bids=full), snapshot=True)
        elif kind == "gap":
            was_live = chain.nonce is not None
            try:
                result = chain.apply(_book("update/order_book", begin + 1, nonce, bids=levels), snapshot=False)
            except BookGap:
                assert was_live
            else:
                assert not was_live and result is None
        else:
            expected_live = chain.nonce == begin
            result = chain.apply(_book("update/order_book", begin, nonce, bids=levels), snapshot=False)
            assert (result is not None) == expected_live
        if chain.nonce is not None:
            assert chain.bids == venue
        else:
            assert chain.bids == {} and chain.top() == (None, None)
