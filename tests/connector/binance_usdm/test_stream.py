"""The local book kept by Binance's documented futures diff sync, and the bookTicker overlay."""

from __future__ import annotations

import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.binance_usdm import wire
from connector.binance_usdm.stream import LIVE, DepthSync, decode


def diff(U: int, u: int, pu: int, bids=(), asks=()) -> dict:
    return {"e": "depthUpdate", "E": u, "s": "BTCUSDT", "U": U, "u": u, "pu": pu,
            "b": [[f"{p / 10:.1f}", f"{q / 1000:.3f}"] for p, q in bids],
            "a": [[f"{p / 10:.1f}", f"{q / 1000:.3f}"] for p, q in asks]}  # fmt: skip


def snapshot(last_id: int, bids=(), asks=()) -> dict:
    return {"lastUpdateId": last_id, "E": 1, "T": 1,
            "bids": [[f"{p / 10:.1f}", f"{q / 1000:.3f}"] for p, q in bids],
            "asks": [[f"{p / 10:.1f}", f"{q / 1000:.3f}"] for p, q in asks]}  # fmt: skip


def ticker(u: int, bid: tuple[int, int], ask: tuple[int, int]) -> dict:
    return {"e": "bookTicker", "u": u, "s": "BTCUSDT", "b": f"{bid[0] / 10:.1f}", "B": f"{bid[1] / 1000:.3f}",
            "a": f"{ask[0] / 10:.1f}", "A": f"{ask[1] / 1000:.3f}"}  # fmt: skip


def book() -> DepthSync:
    return DepthSync("BTCUSDT", 1, 3)


def shown(sync: DepthSync) -> tuple[dict[int, int], dict[int, int]]:
    bids = {p: sync._shown(p, True) for p in sync.bids.levels.keys() | sync.over_bids.keys()}
    asks = {p: sync._shown(p, False) for p in sync.asks.levels.keys() | sync.over_asks.keys()}
    return {p: s for p, s in bids.items() if s}, {p: s for p, s in asks.items() if s}


def test_diffs_are_buffered_until_the_snapshot_and_older_ones_dropped():
    sync = book()
    assert sync.on_depth(diff(95, 99, 94, bids=[(1000, 5)])) == (None, True)  # asks for a snapshot once
    assert sync.on_depth(diff(100, 104, 99, bids=[(1001, 7)])) == (None, False)
    assert sync.on_depth(diff(105, 110, 104, asks=[(1003, 2)])) == (None, False)
    update, again = sync.on_snapshot(sync.gen, snapshot(102, bids=[(1000, 1)], asks=[(1004, 9)]))
    assert not again and update is not None and update.is_snapshot
    # the diff ending at 99 is older than the snapshot; 100..104 covers 102 and goes first
    assert dict(update.bids) == {1001: 7, 1000: 1}
    assert dict(update.asks) == {1003: 2, 1004: 9}
    assert sync.state == LIVE and sync.last_u == 110


def test_a_snapshot_older_than_every_buffered_diff_is_refetched():
    sync = book()
    sync.on_depth(diff(200, 205, 199))
    update, again = sync.on_snapshot(sync.gen, snapshot(150))
    assert update is None and again and not sync.live
    update, again = sync.on_snapshot(sync.gen, snapshot(203, bids=[(1000, 1)]))
    assert update is not None and not again and sync.live


def test_the_first_diff_after_an_idle_snapshot_must_cover_it():
    sync = book()
    sync.on_depth(diff(10, 12, 9))
    update, _ = sync.on_snapshot(sync.gen, snapshot(20, bids=[(1000, 1)], asks=[(1002, 1)]))
    assert update is not None  # nothing buffered is new enough: the book is the snapshot
    assert sync.on_depth(diff(13, 19, 12)) == (None, False)  # u < lastUpdateId: dropped
    update, need = sync.on_depth(diff(18, 25, 17, bids=[(1001, 3)]))
    assert not need and update is not None and update.bids == ((1001, 3),)


def test_a_diff_starting_right_after_the_snapshot_continues_it():
    sync = book()
    sync.on_depth(diff(10, 12, 9))
    sync.on_snapshot(sync.gen, snapshot(20, bids=[(1000, 1)]))
    update, need = sync.on_depth(diff(21, 22, 20, bids=[(1000, 0)]))
    assert not need and update is not None and update.bids == ((1000, 0),)


def test_a_first_diff_that_skips_past_the_snapshot_is_a_gap():
    sync = book()
    sync.on_depth(diff(10, 12, 9))
    sync.on_snapshot(sync.gen, snapshot(20))
    update, need = sync.on_depth(diff(30, 35, 29))
    assert need and update is not None and update.is_snapshot and not update.bids and "stale" in update.info


def test_a_broken_pu_chain_empties_the_book_and_asks_for_a_new_snapshot():
    sync = book()
    sync.on_depth(diff(1, 5, 0))
    sync.on_snapshot(sync.gen, snapshot(3, bids=[(1000, 1)], asks=[(1001, 1)]))
    assert sync.on_depth(diff(6, 8, 5, bids=[(999, 2)]))[0] is not None
    update, need = sync.on_depth(diff(12, 14, 11))  # the diff ending at 11 never arrived
    assert need and update is not None and update.is_snapshot and update.bids == () and update.asks == ()
    assert sync.gaps == 1 and not sync.live and sync.top() == (None, None)
    # the diff that broke the chain is kept and the next snapshot resumes from it
    update, again = sync.on_snapshot(sync.gen, snapshot(13, bids=[(1000, 4)], asks=[(1001, 1)]))
    assert not again and update is not None and sync.last_u == 14


def test_a_snapshot_fetched_before_a_reconnect_is_ignored():
    sync = book()
    sync.on_depth(diff(1, 5, 0))
    gen = sync.gen
    sync.reset()
    assert sync.on_snapshot(gen, snapshot(3, bids=[(1000, 1)])) == (None, False)


def test_a_newer_book_ticker_moves_the_touch_until_the_next_diff_replaces_it():
    sync = book()
    sync.on_depth(diff(1, 5, 0))
    sync.on_snapshot(sync.gen, snapshot(5, bids=[(1000, 1), (999, 2)], asks=[(1002, 1), (1003, 2)]))
    assert sync.top() == (1000, 1002)
    assert sync.on_ticker(ticker(4, (1001, 5), (1002, 1))) is None  # older than the book: ignored
    update = sync.on_ticker(ticker(7, (999, 3), (1001, 4)))
    assert update is not None and not update.is_snapshot
    assert dict(update.bids) == {1000: 0, 999: 3} and dict(update.asks) == {1001: 4}
    assert sync.top() == (999, 1001)
    # the diff up to 8 is the truth: the overlay goes and the exact levels come back
    update, _ = sync.on_depth(diff(6, 8, 5, bids=[(1000, 0), (999, 3)], asks=[(1001, 4)]))
    assert update is not None and dict(update.bids) == {1000: 0, 999: 3} and dict(update.asks) == {1001: 4}
    assert sync.ticker is None and sync.top() == (999, 1001)
    assert shown(sync) == ({999: 3}, {1001: 4, 1002: 1, 1003: 2})


def test_a_level_only_the_ticker_saw_does_not_stay_on_the_book():
    sync = book()
    sync.on_depth(diff(1, 5, 0))
    sync.on_snapshot(sync.gen, snapshot(5, bids=[(1000, 1)], asks=[(1002, 1)]))
    sync.on_ticker(ticker(6, (1001, 7), (1002, 1)))
    assert sync.top()[0] == 1001
    update, _ = sync.on_depth(diff(6, 9, 5))  # 1001 came and went inside the 100 ms window
    assert update is not None and (1001, 0) in update.bids
    assert shown(sync)[0] == {1000: 1}


def test_decode_unwraps_combined_stream_frames():
    assert decode(b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1}}') == {"e": "bookTicker", "u": 1}
    assert decode('{"result":null,"id":1}') == {"result": None, "id": 1}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), cut=st.integers(0, 30))
def test_any_stream_of_diffs_and_tickers_ends_with_the_venues_book(seed, cut):
    """The venue's book evolves; we see every diff (snapshot taken after ``cut`` of them) and tickers
    in between: after the last diff what we show equals the venue's book exactly."""
    rng = random.Random(seed)
    truth_b = {1000 - i: rng.randint(1, 9) for i in range(10)}
    truth_a = {1001 + i: rng.randint(1, 9) for i in range(10)}
    sync, uid, last_u, frames, snap_at = book(), 100, 100, [], None
    for n in range(40):
        changes_b, changes_a = [], []
        for _ in range(rng.randint(1, 4)):
            side, changes = (truth_b, changes_b) if rng.random() < 0.5 else (truth_a, changes_a)
            base = 1000 if side is truth_b else 1001
            p = base + rng.randint(-12, 12) * (1 if side is truth_a else -1)
            if (side is truth_b and p >= min(truth_a)) or (side is truth_a and p <= max(truth_b)):
                continue
            q = 0 if rng.random() < 0.3 else rng.randint(1, 9)
            if q:
                side[p] = q
            else:
                side.pop(p, None)
            changes.append((p, q))
        prev, uid = last_u, max(uid, last_u) + rng.randint(1, 3)
        frames.append(diff(prev + 1, uid, prev, changes_b, changes_a))
        last_u = uid
        if truth_b and truth_a:
            (b, bq), (a, aq) = max(truth_b.items()), min(truth_a.items())
            uid += 1  # inside the next diff's range, like the venue's own update ids
            frames.append(ticker(uid, (b, bq), (a, aq)))
        if n == cut:
            snap_at = (uid, dict(truth_b), dict(truth_a), len(frames))
    assert snap_at is not None
    snap_id, sb, sa, upto = snap_at
    for i, frame in enumerate(frames):
        if frame["e"] == "depthUpdate":
            sync.on_depth(frame)
        else:
            sync.on_ticker(frame)
        if i + 1 == upto:
            sync.on_snapshot(sync.gen, snapshot(snap_id, sorted(sb.items(), reverse=True), sorted(sa.items())))
    assert sync.live
    bids, asks = shown(sync)
    assert (bids, asks) == (truth_b, truth_a)


def _live(sync: DepthSync) -> DepthSync:
    sync.on_depth(diff(10, 12, 9))
    sync.on_snapshot(sync.gen, snapshot(20, bids=[(1000, 10), (999, 5)], asks=[(1002, 1)]))
    sync.on_depth(diff(21, 22, 20, bids=[(1001, 3)]))
    return sync


def test_diffs_decode_typed_and_build_what_plain_json_builds():
    texts = [orjson.dumps(d).decode() for d in (
        diff(23, 25, 22, bids=[(1001, 0), (998, 4)], asks=[(1003, 2)]),
        diff(26, 26, 25, asks=[(1002, 0)]),
        {**diff(27, 30, 26, bids=[(1000, 7)]), "T": 5},
    )]  # fmt: skip
    typed, plain = _live(book()), _live(book())
    for text in texts:
        ev = decode(text)
        assert type(ev) is wire.DepthUpdate
        got, want = typed.on_depth(ev), plain.on_depth(orjson.loads(text))
        assert got == want and got[0] is not None
    assert shown(typed) == shown(plain) == ({1000: 7, 999: 5, 998: 4}, {1003: 2})
    assert typed.bids.keys == [998, 999, 1000] and typed.last_u == 30


@pytest.mark.parametrize(
    "frame",
    [
        diff(23, 23, 22, bids=[(1001, 3)]) | {"b": [["100.1.1", "0.003"]]},  # not a number
        diff(23, 23, 22) | {"b": [["100.15", "0.003"]]},  # more decimals than the market
        diff(23, 23, 22) | {"a": [[100.3, "0.003"]]},  # a float, not the venue's text
        {k: v for k, v in diff(23, 23, 22).items() if k != "u"},
        diff(23, 23, 22) | {"pu": "x"},
    ],
)
def test_a_malformed_diff_raises_and_changes_nothing(frame):
    """The feed's supervisor counts what raises and goes on; the sync must be where it was."""
    sync = _live(book())
    before = (shown(sync), list(sync.bids.keys), sync.last_u, sync.state, sync.gaps)
    with pytest.raises(ValueError):
        sync.on_depth(decode(orjson.dumps(frame)))
    assert (shown(sync), list(sync.bids.keys), sync.last_u, sync.state, sync.gaps) == before
    update, need = sync.on_depth(decode(orjson.dumps(diff(23, 23, 22, asks=[(1004, 1)]))))
    assert update is not None and not need and update.asks == ((1004, 1),)


def test_a_truncated_diff_is_malformed():
    with pytest.raises(ValueError):
        decode('{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1')
