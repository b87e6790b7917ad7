"""The wire bench's streams and its sanity check (no timings asserted)."""

from __future__ import annotations

import pytest

from bench import wire
from connector.interface import BookUpdate
from execution.market import L2Book


@pytest.mark.parametrize(
    "venue, path",
    [
        ("hyperliquid", wire._ours_hyperliquid),
        ("lighter", wire._ours_lighter),
        ("backpack", wire._ours_backpack),
        ("binance-usdm", wire._ours_binance),
    ],
)
def test_the_connector_path_builds_the_book_the_stream_describes(venue, path):
    frames, expected = wire._frames(venue, 600)
    wire.check_book(wire.run_path(path(frames)), expected, venue)
    wire.check_book(wire.run_path(wire._naive(frames, venue)), expected, f"{venue} baseline")


def test_diff_frames_send_changed_levels_only_and_deletes_as_size_zero():
    frames, _ = wire._frames("lighter", 600)
    import json

    sizes = [len(json.loads(f)["order_book"]["bids"]) + len(json.loads(f)["order_book"]["asks"]) for f in frames]
    zeros = sum(
        lv["size"] == "0.00000" for f in frames for side in ("bids", "asks") for lv in json.loads(f)["order_book"][side]
    )
    assert max(sizes) < 2 * wire.DEPTH and zeros > 0


def test_a_touch_move_leaves_most_sizes_where_they_were():
    market = wire.Market(3)
    moved = 0
    for _ in range(300):
        bids_before, _ = market.shown()
        mid = market.mid
        market.step()
        bids_after, _ = market.shown()
        if market.mid != mid:
            moved += 1
            same = sum(bids_after.get(p) == s for p, s in bids_before.items())
            assert same >= wire.DEPTH - 8  # a few levels changed, the rest kept their size
    assert moved > 10


def test_a_book_unlike_the_stream_or_crossed_fails_the_check():
    frames, expected = wire._frames("lighter", 300)
    book = wire.run_path(wire._ours_lighter(frames))
    price, size = book.bids()[3]
    book.apply(BookUpdate("BTC", ((price, size + 1),), (), False, 0))  # one size the stream never sent
    with pytest.raises(wire.BenchInsane, match="1 levels unlike"):
        wire.check_book(book, expected, "one level off")
    crossed = L2Book("BTC")
    crossed.apply(BookUpdate("BTC", ((100, 1),), ((99, 1),), True, 0))
    with pytest.raises(wire.BenchInsane, match="crossed"):
        wire.check_book(crossed, ({100: 1}, {99: 1}), "crossed")


def test_the_stage_profile_names_every_part_of_every_venue_path():
    from bench import wire_profile

    for venue in wire.OURS:
        parts = wire_profile.profile(venue, 200)
        assert set(parts) == {"decode", "numbers", "stream", "of which BookUpdate", "book apply", "total"}
        assert parts["total"] > 0 and parts["decode"] > 0 and parts["numbers"] > 0
