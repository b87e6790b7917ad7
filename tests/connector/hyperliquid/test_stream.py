"""Hyperliquid's stream without a socket: the greeting, books and bbo, history fills, closed positions."""

from __future__ import annotations

from typing import Any

import pytest

from connector.clock import VirtualClock
from connector.hyperliquid import wire
from connector.hyperliquid.stream import HyperliquidStream, parse_frame

BTC = wire.parse_meta({"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}]})[0][1]


class Recorded(HyperliquidStream):
    """The stream with what it emitted kept in ``events``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        super().__init__(
            emit=lambda kind, event: self.events.append((kind, event)),
            clock=VirtualClock(),
            markets={"BTC": BTC},
            coi_of_oid={},
            user="0x" + "1" * 40,
        )
        self.coins.add("BTC")


@pytest.fixture
def stream() -> Recorded:
    return Recorded()


def _levels(*pairs: tuple[str, str]) -> list[dict[str, object]]:
    return [{"px": px, "sz": sz, "n": 1} for px, sz in pairs]


def test_the_greeting_is_not_a_frame():
    assert parse_frame("Websocket connection established.") is None
    assert parse_frame('{"channel":"pong"}') == {"channel": "pong"}


def test_an_l2book_frame_is_decoded_into_typed_structs_and_makes_the_same_book_as_plain_json(stream):
    import json

    from connector.hyperliquid import wire

    book = {"coin": "BTC", "time": 7, "levels": [_levels(("65000", "1.5"), ("64999.5", "2")), _levels(("65001", "3"))]}
    for text in (
        json.dumps({"channel": "l2Book", "data": book}),
        json.dumps({"channel": "l2Book", "data": book}, separators=(",", ":")),
    ):
        frame = parse_frame(text)
        assert isinstance(frame, wire.BookFrame)
        stream.on_frame(frame)
        assert isinstance(parse_frame(text.encode()), wire.BookFrame)
    stream.on_frame({"channel": "l2Book", "data": book})  # the plain-JSON path
    books = [e for kind, e in stream.events if kind == "book"]
    assert len(books) == 3
    assert {(b.bids, b.asks, b.ts_ms) for b in books} == {
        (((650000, 150000), (649995, 200000)), ((650010, 300000),), 7)
    }


def test_an_l2book_frame_of_another_shape_falls_back_to_plain_json():
    odd = '{"channel": "l2Book", "data": {"coin": "BTC", "levels": "oops"}}'
    assert parse_frame(odd) == {"channel": "l2Book", "data": {"coin": "BTC", "levels": "oops"}}
    with pytest.raises(ValueError):
        parse_frame('{"channel": "l2Book", "data": {')


def test_a_bbo_takes_out_the_levels_it_passed_and_keeps_the_depth_behind_it(stream):
    bids, asks = _levels(("65000", "1"), ("64999", "2")), _levels(("65001", "3"), ("65003", "6"))
    book = {"coin": "BTC", "time": 1, "levels": [bids, asks]}
    stream.on_frame({"channel": "l2Book", "data": book})
    stream.on_frame({"channel": "bbo", "data": {"coin": "BTC", "time": 2, "bbo": [None, *_levels(("65002", "4"))]}})
    stream.on_frame({"channel": "bbo", "data": {"coin": "BTC", "time": 3, "bbo": [*_levels(("64999", "5")), None]}})
    books = [e for kind, e in stream.events if kind == "book"]
    assert [(b.bids, b.asks) for b in books] == [
        (((650000, 100000), (649990, 200000)), ((650010, 300000), (650030, 600000))),
        (((650000, 100000), (649990, 200000)), ((650020, 400000), (650030, 600000))),
        (((649990, 500000),), ((650020, 400000), (650030, 600000))),
    ]


def test_a_fills_snapshot_passes_on_only_fills_since_shortly_before_the_start(stream):
    stream.history_before_ms = 1_000
    fill = {"coin": "BTC", "oid": 7, "tid": 1, "side": "B", "px": "65000", "sz": "0.001", "fee": "0.1"}
    old, new = {**fill, "time": 999}, {**fill, "tid": 2, "time": 1_000}
    stream.on_frame({"channel": "userFills", "data": {"isSnapshot": True, "fills": [old, new]}})
    stream.on_frame({"channel": "userFills", "data": {"fills": [old]}})
    assert [e.trade_id for kind, e in stream.events if kind == "fill"] == ["2", "1"]


def test_a_position_closed_since_the_last_state_is_reported_flat_once(stream):
    def state(*positions: dict[str, str]) -> dict[str, object]:
        rows = [{"position": p} for p in positions]
        return {"clearinghouseState": {"assetPositions": rows, "marginSummary": {"accountValue": "100"}, "time": 5}}

    stream.on_frame({"channel": "clearinghouseState", "data": state({"coin": "BTC", "szi": "0.01"})})
    stream.on_frame({"channel": "clearinghouseState", "data": state()})
    stream.on_frame({"channel": "clearinghouseState", "data": state()})
    positions = [e for kind, e in stream.events if kind == "position"]
    assert [(p.symbol, p.size_i) for p in positions] == [("BTC", 1000), ("BTC", 0)]
    assert sum(kind == "margin" for kind, _ in stream.events) == 3


def test_an_unknown_channel_is_malformed(stream):
    with pytest.raises(ValueError, match="unknown channel"):
        stream.on_frame({"channel": "surprise", "data": {}})


def test_levels_unchanged_since_the_last_frame_are_taken_as_they_were(stream):
    """A repeated level costs no conversion and no new pair (counted by identity); a changed size or a new
    price is read afresh; the levels equal what plain JSON gives."""
    import json

    first = {"coin": "BTC", "time": 1, "levels": [_levels(("65000", "1.5"), ("64999.5", "2")), _levels(("65001", "3"))]}
    second = {"coin": "BTC", "time": 2, "levels": [_levels(("65000", "1.5"), ("64999.5", "2.5")),
                                                   _levels(("65001", "3"), ("65002", "0.1"))]}  # fmt: skip
    for book in (first, second):
        stream.on_frame(parse_frame(json.dumps({"channel": "l2Book", "data": book})))
    plain = Recorded()
    for book in (first, second):
        plain.on_frame({"channel": "l2Book", "data": book})
    (_, a), (_, b) = [e for e in stream.events if e[0] == "book"]
    assert [(u.bids, u.asks) for _, u in plain.events] == [(a.bids, a.asks), (b.bids, b.asks)]
    assert b.bids[0] is a.bids[0] and b.asks[0] is a.asks[0]  # unchanged: the same pair
    assert b.bids[1] == (649995, 250000) and b.asks[1] == (650020, 10000)


def test_the_level_memo_is_bounded():
    px, sz = wire.ScaledMemo(1), wire.ScaledMemo(5)
    memo = wire.LevelMemo(px, sz)
    for i in range(3 * wire.LEVEL_MEMO_MAX):
        level = wire.BookLevel(f"{60000 + i}.5", "1.00000")
        assert wire.book_levels((level,), memo) == ((600005 + 10 * i, 100000),)
        assert len(memo) <= wire.LEVEL_MEMO_MAX


def test_both_sides_in_one_call_read_as_each_side_alone():
    frames = [
        (
            ((f"{60000 - k}.5", f"{1 + (k * i) % 7}.00000") for k in range(5)),
            ((f"{60001 + k}.5", "2.5") for k in range(5)),
        )
        for i in range(6)
    ]
    one, each = (
        wire.LevelMemo(wire.ScaledMemo(1), wire.ScaledMemo(5)),
        wire.LevelMemo(wire.ScaledMemo(1), wire.ScaledMemo(5)),
    )
    for bids, asks in frames:
        levels = (tuple(wire.BookLevel(p, s) for p, s in bids), tuple(wire.BookLevel(p, s) for p, s in asks))
        got = wire.book_sides(levels, one)
        assert got == (wire.book_levels(levels[0], each), wire.book_levels(levels[1], each))
        assert all(type(x) is int for side in got for pair in side for x in pair) and got[1][0] == (600015, 250000)
