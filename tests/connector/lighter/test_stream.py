"""Lighter's stream without a socket: the book's nonce chain, the account's fills once by trade id."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.interface import MarketInfo
from connector.lighter import wire
from connector.lighter.stream import BookChain, BookGap, LighterStream, decode_frame

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


def _book_text(kind: str, begin, nonce, bids=(), asks=(), channel="order_book:1") -> str:
    frame = _book(kind, begin, nonce, bids, asks)
    frame["channel"] = channel
    if begin is None:
        del frame["order_book"]["begin_nonce"]
    return json.dumps(frame)


def _stream_on_book() -> tuple[LighterStream, list]:
    stream, out = _stream()
    stream.chains[1] = BookChain("BTC", 1, 5)
    sent: list = []

    async def send(msg: dict) -> None:
        sent.append(msg)

    stream._send = send  # type: ignore[method-assign]
    stream.sent = sent  # type: ignore[attr-defined]
    return stream, out


async def test_book_frames_decode_typed_and_build_what_plain_json_builds():
    frames = [
        _book_text("subscribed/order_book", 0, 10, bids=[("64000.5", "0.12000"), ("63999.0", "1.00000")],
                   asks=[("64001.0", "0.50000")]),
        _book_text("update/order_book", 10, 14, bids=[("64000.5", "0")], asks=[("64000.9", "2.25000")]),
        _book_text("update/order_book", 14, 15, asks=[("64001.0", "0.00000")]),
    ]  # fmt: skip
    typed, plain = _stream_on_book(), _stream_on_book()
    for text in frames:
        msg = decode_frame(text)
        assert type(msg) is wire.BookFrame
        assert typed[0].on_frame(msg) is None  # handled at once, nothing to await
        await plain[0].on_message(json.loads(text))
    assert [e for _, e in typed[1]] == [e for _, e in plain[1]]
    assert typed[0].chains[1].bids == {639990: 100000} and typed[0].chains[1].asks == {640009: 225000}
    assert [(u.is_snapshot, u.seq, u.ts_ms) for _, u in typed[1]] == [(True, 10, 1), (False, 14, 1), (False, 15, 1)]


_NUMBER_NOT_TEXT = {"nonce": 11, "begin_nonce": 10, "bids": [{"price": 1}]}


@pytest.mark.parametrize(
    "text",
    [
        _book_text("update/order_book", 10, 11, bids=[("64000.5.1", "1.00000")]),  # not a number
        _book_text("update/order_book", 10, 11, bids=[("64000.55", "1.00000")]),  # more decimals than the market
        _book_text("update/order_book", None, 11, bids=[("64000.5", "1.00000")]),  # no begin_nonce
        json.dumps({"channel": "order_book:1", "type": "update/order_book", "order_book": {"begin_nonce": 10}}),
        json.dumps({"channel": "order_book:1", "type": "update/order_book", "order_book": _NUMBER_NOT_TEXT}),
        '{"type": "update/order_book", "channel": "order_book:x"}',
        '{"channel": "order_book:1", "type": "update/order_book", "order_book": {"nonce": 1',
    ],
)
async def test_a_malformed_book_frame_raises_changes_nothing_and_the_next_one_applies(text):
    """The supervisor counts what raises (parse or handling) and goes on; the chain must be where it was."""
    stream, out = _stream_on_book()
    stream.on_frame(decode_frame(_book_text("subscribed/order_book", 0, 10, bids=[("64000.0", "1.00000")])))
    with pytest.raises(ValueError):
        result = stream.on_frame(decode_frame(text))
        if result is not None:
            await result
    chain = stream.chains[1]
    assert chain.nonce == 10 and chain.bids == {640000: 100000} and len(out) == 1
    stream.on_frame(decode_frame(_book_text("update/order_book", 10, 12, asks=[("64001.0", "2.00000")])))
    assert chain.nonce == 12 and out[-1][1].asks == ((640010, 200000),)


async def test_a_gap_on_the_typed_path_empties_the_book_and_resubscribes():
    stream, out = _stream_on_book()
    stream.on_frame(decode_frame(_book_text("subscribed/order_book", 0, 10, bids=[("64000.0", "1.00000")])))
    resubscribe = stream.on_frame(decode_frame(_book_text("update/order_book", 11, 12)))
    assert resubscribe is not None and stream.book_gaps == 1 and stream.chains[1].nonce is None
    await resubscribe
    assert [m["type"] for m in stream.sent] == ["unsubscribe", "subscribe"]  # type: ignore[attr-defined]
    assert out[-1][1].is_snapshot and not out[-1][1].bids
