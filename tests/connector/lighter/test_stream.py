"""Lighter's stream without a socket: the book's nonce chain, the account's fills once by trade id."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.interface import MarketInfo
from connector.lighter.stream import BookChain, BookGap, LighterStream

ACCOUNT = 1234
BTC = MarketInfo(symbol="BTC", base="BTC", quote="USDC", price_decimals=1, size_decimals=5, min_size_i=1)


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


def _trade(trade_id: int, both_sides: bool = False) -> dict:
    return {
        "trade_id": trade_id,
        "type": "trade",
        "market_id": 1,
        "size": "0.00010",
        "price": "60000.0",
        "ask_id": 2**48 + trade_id,
        "bid_id": 2**48 + trade_id + 1,
        "ask_client_id": 7 if both_sides else 0,
        "bid_client_id": 8,
        "ask_account_id": ACCOUNT if both_sides else 99,
        "bid_account_id": ACCOUNT,
        "is_maker_ask": True,
        "timestamp": 1000 + trade_id,
        "taker_fee": 0,
        "maker_fee": 0,
    }


def _stream() -> tuple[LighterStream, list]:
    out: list = []
    stream = LighterStream(
        emit=lambda kind, event: out.append((kind, event)),
        clock=VirtualClock(start_ms=0),
        market=lambda mid: BTC if mid == 1 else None,
        account_index=ACCOUNT,
    )
    return stream, out


def _frame(snapshot: bool, trades: list[dict]) -> dict:
    kind = "subscribed" if snapshot else "update"
    return {"type": f"{kind}/account_all_trades", "channel": f"account_all_trades:{ACCOUNT}", "trades": {"1": trades}}


@given(
    frames=st.lists(
        st.tuples(st.booleans(), st.lists(st.tuples(st.integers(1, 12), st.booleans()), max_size=6)), max_size=12
    )
)
@settings(max_examples=150, deadline=None)
async def test_each_fill_is_emitted_once_by_trade_id_and_the_first_snapshot_is_history(frames):
    stream, out = _stream()
    expected: list[str] = []
    seen: set[str] = set()
    had_snapshot = False
    for snapshot, rows in frames:
        history = snapshot and not had_snapshot
        had_snapshot = had_snapshot or snapshot
        trades = [_trade(tid, both) for tid, both in rows]
        for tid, both in rows:
            for trade_id in ([f"{tid}", f"{tid}:a"] if both else [f"{tid}"]):
                if trade_id not in seen:
                    seen.add(trade_id)
                    if not history:
                        expected.append(trade_id)
        await stream.on_frame(_frame(snapshot, trades))
    assert all(kind == "fill" for kind, _ in out)
    assert [fill.trade_id for _, fill in out] == expected


async def test_the_snapshot_after_a_reconnect_brings_the_fill_made_while_down():
    stream, out = _stream()
    await stream.on_frame(_frame(True, [_trade(1)]))  # history at start
    await stream.on_frame(_frame(False, [_trade(2)]))  # live
    await stream.on_frame(_frame(True, [_trade(1), _trade(2), _trade(3)]))  # after a reconnect: 3 is news
    assert [(f.trade_id, f.client_order_index, f.size_i, f.price_i) for _, f in out] == [
        ("2", 8, 10, 600000),
        ("3", 8, 10, 600000),
    ]
