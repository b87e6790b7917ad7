"""Where a wire frame's time goes, venue by venue: µs per frame for each stage of ``bench/wire.py``'s path.

``python -m bench.wire_profile [FRAMES]`` (about 20 s of CPU) runs each venue's frames (``wire._frames``,
4,000 by default) through ever longer prefixes of what the connector does, and reports the
differences, in µs per frame:

- **decode**: the supervisor's parse function alone (typed msgspec decode of a book frame);
- **numbers**: the venue's level conversion on the decoded frame (text to scaled ``(price, size)``
  pairs, through the shared memos);
- **stream**: the rest of the stream's own handling (sequence checks, the sync's copy of the book,
  ``BookUpdate``, the emit), the whole stream with a no-op sink minus the two above;
- of which **BookUpdate**: building one with the frame's arguments, timed alone;
- **book apply**: ``L2Book.apply`` of the update (the path as ``bench/wire.py`` times it, minus the
  no-op sink's).

Each stage is the minimum over ``PASSES`` passes of thread CPU time, memo warm (a pass has run
first).  Minimums of differences: the parts do not add up to the total exactly, and a part under
~0.1 µs is noise.  Nothing is asserted; nothing outlives it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench import wire
from connector.interface import BookUpdate

PASSES = 7


def _best(setup: Callable[[], Callable[[], object]], frames: int) -> float:
    """µs per frame: the fastest of ``PASSES`` passes, thread CPU time (``setup`` untimed)."""
    setup()()  # memos and caches warm
    best = float("inf")
    for _ in range(PASSES):
        run = setup()
        t0 = time.thread_time()
        run()
        best = min(best, time.thread_time() - t0)
    return best * 1e6 / frames


def _decoder_and_levels(venue: str) -> tuple[Callable[[str], Any], Callable[[Any], object]]:
    """The venue's parse function and its level conversion of one decoded book frame."""
    from connector.scaling import scaled_memo

    px, sz = scaled_memo(wire.PD), scaled_memo(wire.SD)
    if venue == "hyperliquid":
        from connector.hyperliquid import wire as hl
        from connector.hyperliquid.stream import parse_frame

        memo = hl.LevelMemo(px, sz)
        return parse_frame, lambda f: hl.book_sides(f.data.levels, memo)
    if venue == "lighter":
        from connector.lighter import wire as lt
        from connector.lighter.stream import decode_frame

        return decode_frame, lambda f: (
            lt.book_levels(f.order_book.bids, px, sz),
            lt.book_levels(f.order_book.asks, px, sz),
        )
    if venue == "backpack":
        from connector.backpack import wire as bp
        from connector.backpack.stream import parse_frame as bp_parse

        return bp_parse, lambda f: (bp.book_levels(f.data.b, px, sz), bp.book_levels(f.data.a, px, sz))
    from connector.binance_usdm import wire as bn
    from connector.binance_usdm.stream import decode

    return decode, lambda f: (bn.book_levels(f.b, px, sz), bn.book_levels(f.a, px, sz))


def profile(venue: str, n: int) -> dict[str, float]:
    """µs per frame of each stage of ``venue``'s path (see the module's docstring)."""
    frames, _ = wire._frames(venue, n)
    parse, levels = _decoder_and_levels(venue)
    ours = wire.OURS[venue]
    count = len(frames) - (venue == "binance-usdm")  # the Binance path takes its first frame untimed
    decoded = [parse(text) for text in frames]
    updates: list[BookUpdate] = []
    wire.run_path(ours(frames, updates.append))  # the updates the stream emits, for BookUpdate alone and the apply
    args = [(u.symbol, u.bids, u.asks, u.is_snapshot, u.ts_ms, u.seq, u.info) for u in updates]

    def decode_only() -> None:
        for text in frames:
            parse(text)

    def numbers_only() -> None:
        for frame in decoded:
            levels(frame)

    def book_updates() -> None:
        for a in args:
            BookUpdate(*a)

    def no_sink(_: BookUpdate) -> None:
        return None

    def path(sink: Callable[[BookUpdate], object] | None) -> Callable[[], Callable[[], None]]:
        def setup() -> Callable[[], None]:
            handle, _, fs = ours(frames, sink)

            def run() -> None:
                for text in fs:
                    handle(text)

            return run

        return setup

    t_decode = _best(lambda: decode_only, len(frames))
    t_numbers = _best(lambda: numbers_only, len(frames))
    t_update = _best(lambda: book_updates, count)
    t_stream = _best(path(no_sink), count)
    t_whole = _best(path(None), count)
    return {
        "decode": t_decode,
        "numbers": t_numbers,
        "stream": t_stream - t_decode - t_numbers,
        "of which BookUpdate": t_update,
        "book apply": t_whole - t_stream,
        "total": t_whole,
    }


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 4_000
    for venue in wire.OURS:
        parts = profile(venue, n)
        total = parts["total"]
        shown = ", ".join(f"{name} {us:.2f} ({100 * us / total:.0f}%)" for name, us in parts.items() if name != "total")
        print(f"{venue:13s} {total:5.2f} µs/frame: {shown}")


if __name__ == "__main__":
    main(sys.argv[1:])
