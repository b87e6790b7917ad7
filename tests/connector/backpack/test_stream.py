"""The depth chain (buffer, seed, replay, gaps) and the frame router, without a socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from connector.backpack import wire
from connector.backpack.stream import BackpackStream, BookGap, BookSync, SnapshotBehind, parse_frame
from connector.clock import VirtualClock
from connector.interface import MarketInfo

M = MarketInfo("SOL_USDC_PERP", "SOL", "USDC", 2, 3, 1)


def delta(first: int, last: int, bids=(), asks=()) -> dict[str, Any]:
    return {"e": "depth", "E": 1_694_687_965_941_000, "s": M.symbol, "U": first, "u": last,
            "b": [list(lv) for lv in bids], "a": [list(lv) for lv in asks], "T": 1_694_687_965_940_999}  # fmt: skip


SNAPSHOT = {"bids": [["18.60", "5"], ["18.67", "0.832"]], "asks": [["18.70", "1"], ["18.80", "0"]],
            "lastUpdateId": "100", "timestamp": 1_694_687_965_941_000}  # fmt: skip


def test_a_seeded_book_sorts_the_snapshot_and_drops_empty_levels():
    book = BookSync(M)
    update = book.on_snapshot(SNAPSHOT)
    assert update.is_snapshot and update.seq == 100
    assert update.bids == ((1867, 832), (1860, 5000)) and update.asks == ((1870, 1000),)
    assert book.top() == (1867, 1870)


def test_events_before_the_snapshot_are_buffered_then_replayed_past_its_update_id():
    book = BookSync(M)
    assert book.on_delta(delta(95, 99, bids=[("18.66", "1")])) is None  # older than the snapshot: dropped
    assert book.on_delta(delta(100, 102, bids=[("18.68", "2.000")])) is None  # straddles 101
    assert book.on_delta(delta(103, 103, asks=[("18.70", "0")])) is None
    update = book.on_snapshot(SNAPSHOT)
    assert update.seq == 103 and update.info["replayed"] == 2
    assert update.bids[0] == (1868, 2000) and update.asks == ()
    assert book.on_delta(delta(104, 106, asks=[("18.75", "3.50")])).asks == ((1875, 3500),)


def test_a_snapshot_older_than_the_buffer_is_refused_so_the_caller_fetches_again():
    book = BookSync(M)
    book.on_delta(delta(150, 152))
    with pytest.raises(SnapshotBehind):
        book.on_snapshot(SNAPSHOT)
    assert not book.synced and len(book.buffer) == 1


def test_the_first_live_event_may_straddle_the_snapshot_but_later_ones_must_chain():
    book = BookSync(M)
    book.on_snapshot(SNAPSHOT)
    assert book.on_delta(delta(90, 100)) is None  # nothing new for the book
    assert book.on_delta(delta(99, 101)).seq == 101
    with pytest.raises(BookGap, match="U=103"):
        book.on_delta(delta(103, 104))
    assert not book.synced and book.top() == (None, None) and not book.bids


def test_padded_stream_decimals_are_read_exactly():
    book = BookSync(M)
    book.on_snapshot(SNAPSHOT)
    update = book.on_delta(delta(101, 101, bids=[("18.6700", "0.8320")]))
    assert update.bids == ((1867, 832),)


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.snapshots_asked: list[str] = []
        self.account = 0

    def stream(self, book: BookSync) -> BackpackStream:
        stream = BackpackStream(
            emit=lambda kind, event: self.events.append((kind, event)), clock=VirtualClock(), markets={M.symbol: M},
            ids=wire.ClientIds(), fetch_depth=self._fetch, signature=lambda: None, recover_fills=self._recover,
            on_account=self._account, spawn=lambda coro, name: coro.close(),
        )  # fmt: skip
        stream.books[M.symbol] = book
        return stream

    async def _fetch(self, symbol: str) -> dict[str, Any]:
        self.snapshots_asked.append(symbol)
        return SNAPSHOT

    async def _recover(self, since_ms: int) -> int:
        return 0

    def _account(self) -> None:
        self.account += 1


async def test_a_gap_empties_the_book_on_screen_and_fetches_a_new_snapshot():
    sink, book = Sink(), BookSync(M)
    stream = sink.stream(book)
    book.on_snapshot(SNAPSHOT)
    stream.on_frame({"stream": f"depth.{M.symbol}", "data": delta(101, 101)})
    stream.on_frame({"stream": f"depth.{M.symbol}", "data": delta(105, 106)})
    assert stream.book_gaps == 1
    kind, cleared = sink.events[-1]
    assert kind == "book" and cleared.is_snapshot and not cleared.bids and not cleared.asks
    assert [d.U for d in book.buffer] == [105]  # the event after the gap seeds the next sync
    await asyncio.sleep(0)  # the re-seed runs as its own task
    await stream.stop()
    assert sink.snapshots_asked == [M.symbol]


@pytest.mark.parametrize("frame", [[1, 2], {"data": {}}, {"stream": "nope.X", "data": {}}, {"stream": "depth.X"}])
def test_frames_that_are_not_backpack_pushes_raise_so_the_supervisor_counts_them(frame):
    with pytest.raises((ValueError, KeyError)):
        Sink().stream(BookSync(M)).on_frame(frame)


def test_errors_and_acknowledgements_are_not_malformed():
    sink = Sink()
    stream = sink.stream(BookSync(M))
    stream.on_frame({"id": None, "error": {"code": 4006, "message": "Invalid stream"}})
    stream.on_frame({"id": 1, "result": None})
    assert stream.venue_errors == [{"code": 4006, "message": "Invalid stream"}] and sink.events == []


def test_a_fill_is_passed_on_once_whichever_way_it_arrives():
    sink = Sink()
    stream = sink.stream(BookSync(M))
    fill = {"e": "orderFill", "E": 1, "s": M.symbol, "S": "Ask", "o": "LIMIT", "q": "2", "X": "PartiallyFilled",
            "i": "77", "t": 9, "l": "1", "L": "18.70", "m": True, "n": "0.01", "N": "USDC", "z": "1", "p": "18.70"}  # fmt: skip
    stream.on_frame({"stream": "account.orderUpdate", "data": fill})
    stream.on_frame({"stream": "account.orderUpdate", "data": fill})
    kinds = [k for k, _ in sink.events]
    assert kinds == ["fill", "order", "order"] and sink.account == 2
    assert sink.events[0][1].client_order_index == -77  # no clientId on the order: named by its id


def _depth_text(first: int, last: int, bids=(), asks=()) -> str:
    return json.dumps({"stream": f"depth.{M.symbol}", "data": delta(first, last, bids, asks)})


def test_depth_frames_decode_typed_and_build_what_plain_json_builds():
    texts = [
        _depth_text(101, 101, bids=[("18.67", "0.900")], asks=[("18.80", "2.5")]),
        _depth_text(102, 104, bids=[("18.60", "0")], asks=[("18.70", "0.000")]),
        _depth_text(105, 105, asks=[("18.6900", "1.2500")]),  # padded
    ]
    typed, plain = Sink(), Sink()
    typed_book, plain_book = BookSync(M), BookSync(M)
    typed_stream, plain_stream = typed.stream(typed_book), plain.stream(plain_book)
    typed_book.on_snapshot(SNAPSHOT)
    plain_book.on_snapshot(SNAPSHOT)
    for text in texts:
        frame = parse_frame(text)
        assert type(frame) is wire.DepthFrame
        typed_stream.on_frame(frame)
        plain_stream.on_frame(json.loads(text))
    assert [e for _, e in typed.events] == [e for _, e in plain.events]
    assert typed_book.bids == {1867: 900} and typed_book.asks == {1869: 1250, 1880: 2500}
    assert [(u.seq, u.ts_ms) for _, u in typed.events] == [(101, 1_694_687_965_940), (104, 1_694_687_965_940),
                                                           (105, 1_694_687_965_940)]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        _depth_text(101, 101, bids=[("18.6.7", "1")]),  # not a number
        _depth_text(101, 101, bids=[("18.675", "1")]),  # more decimals than the market
        json.dumps({"stream": f"depth.{M.symbol}", "data": {"e": "depth", "s": M.symbol, "u": 101}}),  # no U
        json.dumps({"stream": f"depth.{M.symbol}", "data": {**delta(101, 101), "b": [[18.67, "1"]]}}),  # a float
        json.dumps({"stream": f"depth.{M.symbol}", "data": {**delta(101, 101), "U": "x"}}),
        json.dumps({"stream": f"depth.{M.symbol}"}),
        '{"stream": "depth.SOL_USDC_PERP", "data": {"U": 1',
    ],
)
def test_a_malformed_depth_frame_raises_changes_nothing_and_the_next_one_applies(text):
    """The supervisor counts what raises (parse or handling) and goes on; the book must be where it was."""
    sink, book = Sink(), BookSync(M)
    stream = sink.stream(book)
    book.on_snapshot(SNAPSHOT)
    before = (dict(book.bids), dict(book.asks), book.last_u)
    with pytest.raises((ValueError, KeyError)):
        stream.on_frame(parse_frame(text))
    assert (book.bids, book.asks, book.last_u) == before and not sink.events and stream.book_gaps == 0
    stream.on_frame(parse_frame(_depth_text(101, 101, asks=[("18.75", "3")])))
    assert book.last_u == 101 and sink.events[-1][1].asks == ((1875, 3000),)
