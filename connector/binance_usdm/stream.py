"""Websocket frames -> typed events: the local order book kept by Binance's documented futures sync.

``DepthSync`` follows the venue's procedure for ``<symbol>@depth@100ms``: buffer the diffs, take
a REST snapshot, drop diffs with ``u < lastUpdateId``, apply first the diff with
``U <= lastUpdateId <= u``, then require every diff's ``pu`` to equal the previous ``u``.  A broken
chain empties the book (the runtime shows it stale) and starts over from a new snapshot while the
diffs buffer again.  Quantities are absolute; 0 removes a level; removing an unknown level is normal.

``bookTicker`` arrives in real time, the diffs every 100 ms, and both carry the book's update id.  A
ticker newer than the book is laid over it as an *overlay* (levels it has taken out go, its touch
is set); the next diff replaces the overlay with the exact levels, so the book never keeps a level
only the ticker saw.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any

import msgspec
import orjson

from connector.binance_usdm import wire
from connector.interface import BookUpdate
from connector.scaling import scaled_memo, scaler

BUFFERING, FIRST, LIVE = "buffering", "first", "live"


_HEAD = 24
"""Where a diff says what it is: ``{"e":"depthUpdate"`` (with or without spaces)."""


def decode(raw: str | bytes) -> Any:
    """A ``depthUpdate`` straight into ``wire.DepthUpdate`` (any other shape of one falls back to plain
    JSON, where the sync reads it or the feed counts it malformed); any other frame as a dict,
    combined-stream envelopes unwrapped; ValueError for anything else."""
    if ('"depthUpdate"' in raw[:_HEAD]) if isinstance(raw, str) else (b'"depthUpdate"' in raw[:_HEAD]):
        try:  # not contextlib.suppress: its __exit__ is Python, ~0.3 µs a frame
            return wire.DEPTH_DECODER.decode(raw)
        except msgspec.DecodeError:  # ValidationError included
            pass
    msg = orjson.loads(raw)
    if not isinstance(msg, dict):
        raise ValueError(f"frame is a {type(msg).__name__}, not an object")
    data = msg.get("data")
    if "stream" in msg and isinstance(data, dict):
        return data
    return msg


def _covers(ev: wire.DepthUpdate, last_id: int) -> bool:
    """The documented first-diff rule ``U <= lastUpdateId <= u``; a diff that starts right where
    the snapshot ends (``pu == lastUpdateId``: the snapshot fell on a diff boundary) continues it too."""
    return ev.U <= last_id <= ev.u or ev.pu == last_id


class Side:
    """One side's levels: a dict for sizes and a sorted price list for ranges and the touch."""

    __slots__ = ("desc", "keys", "levels")

    def __init__(self, *, desc: bool) -> None:
        self.desc = desc
        self.levels: dict[int, int] = {}
        self.keys: list[int] = []

    def load(self, pairs: list[tuple[int, int]]) -> None:
        self.levels = {p: s for p, s in pairs if s}
        self.keys = sorted(self.levels)

    def clear(self) -> None:
        self.levels = {}
        self.keys = []

    def set(self, price: int, size: int) -> None:
        if size:
            if price not in self.levels:
                insort(self.keys, price)
            self.levels[price] = size
        elif self.levels.pop(price, None) is not None:
            del self.keys[bisect_left(self.keys, price)]

    def apply(self, pairs: tuple[tuple[int, int], ...]) -> None:
        """``set`` for each ``(price, size)`` of a diff, in one call."""
        levels, keys = self.levels, self.keys
        for price, size in pairs:
            if size:
                if price not in levels:
                    insort(keys, price)
                levels[price] = size
            elif levels.pop(price, None) is not None:
                del keys[bisect_left(keys, price)]

    def best(self) -> int | None:
        if not self.keys:
            return None
        return self.keys[-1] if self.desc else self.keys[0]

    def better_than(self, price: int) -> list[int]:
        """Prices on the book's side of ``price``: bids above it, asks below it."""
        if self.desc:
            return self.keys[bisect_right(self.keys, price) :]
        return self.keys[: bisect_left(self.keys, price)]

    def sorted_levels(self) -> tuple[tuple[int, int], ...]:
        keys = reversed(self.keys) if self.desc else self.keys
        return tuple([(p, self.levels[p]) for p in keys])


class DepthSync:
    """One symbol's book.  Methods return ``(update to emit or None, whether a snapshot is needed)``."""

    def __init__(self, symbol: str, price_decimals: int, size_decimals: int, *, max_buffer: int = 5000) -> None:
        self.symbol = symbol
        self.px, self.sz = scaler(price_decimals), scaler(size_decimals)
        self.px_memo, self.sz_memo = scaled_memo(price_decimals), scaled_memo(size_decimals)
        self.max_buffer = max_buffer
        self.bids, self.asks = Side(desc=True), Side(desc=False)
        self.over_bids: dict[int, int] = {}
        self.over_asks: dict[int, int] = {}
        self.ticker: tuple[int, int, int, int, int] | None = None
        """(u, bid, bid size, ask, ask size) of the newest bookTicker."""
        self.state = BUFFERING
        self.buffer: list[wire.DepthUpdate] = []
        self.snapshot_id = 0
        self.last_u: int | None = None
        self.gen = 0
        """Bumped by every reset; a snapshot fetched for an older generation is ignored."""
        self.requested = False
        self.gaps = 0
        self.snapshots = 0

    @property
    def live(self) -> bool:
        return self.state != BUFFERING

    def reset(self) -> None:
        """Forget everything (a reconnect): the next diff starts a new sync."""
        self.gen += 1
        self.state, self.buffer, self.last_u, self.requested = BUFFERING, [], None, False
        self.bids.clear()
        self.asks.clear()
        self._clear_overlay()

    def _clear_overlay(self) -> None:
        self.over_bids, self.over_asks, self.ticker = {}, {}, None

    def stale_marker(self, reason: str, ts_ms: int) -> BookUpdate:
        return BookUpdate(self.symbol, (), (), True, ts_ms, None, {"stale": reason})

    # -- diffs -------------------------------------------------------------------------

    def on_depth(self, ev: wire.DepthUpdate | dict[str, Any]) -> tuple[BookUpdate | None, bool]:
        """A malformed diff (no ids, a number that is not one) raises ValueError before anything changes."""
        if type(ev) is not wire.DepthUpdate:
            ev = wire.depth_update(ev)
        if ev.pu == self.last_u and self.state == LIVE:  # the steady state: the diff after the last
            return self._apply_live(ev), False
        if self.state == BUFFERING:
            if len(self.buffer) >= self.max_buffer:
                del self.buffer[0]  # the snapshot is late; the chain rule catches what this loses
            self.buffer.append(ev)
            need, self.requested = not self.requested, True
            return None, need
        if self.state == FIRST:
            u = ev.u
            if u < self.snapshot_id:
                return None, False
            if not _covers(ev, self.snapshot_id):
                return self._gap(ev, f"first diff {ev.U}..{u} does not cover snapshot {self.snapshot_id}")
            self.state = LIVE
        elif ev.pu != self.last_u:
            return self._gap(ev, f"diff pu={ev.pu} does not follow u={self.last_u}")
        return self._apply_live(ev), False

    def _gap(self, ev: wire.DepthUpdate, reason: str) -> tuple[BookUpdate, bool]:
        self.gaps += 1
        ts = ev.E or 0
        self.reset()
        self.buffer, self.requested = [ev], True
        return self.stale_marker(f"{self.symbol}: {reason}; re-syncing from a snapshot", ts), True

    def _apply_diff(self, ev: wire.DepthUpdate) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        px, sz = self.px_memo, self.sz_memo
        bids, asks = wire.book_levels(ev.b, px, sz), wire.book_levels(ev.a, px, sz)
        self.bids.apply(bids)
        self.asks.apply(asks)
        self.last_u = ev.u
        return bids, asks

    def _apply_live(self, ev: wire.DepthUpdate) -> BookUpdate:
        # _apply_diff inlined (the hot path: a call less), a side without levels not visited
        px, sz = self.px_memo, self.sz_memo
        bids, asks = wire.book_levels(ev.b, px, sz), wire.book_levels(ev.a, px, sz)
        if bids:
            self.bids.apply(bids)
        if asks:
            self.asks.apply(asks)
        self.last_u = u = ev.u
        ts = ev.E or 0
        if not self.over_bids and not self.over_asks and self.ticker is None:
            return BookUpdate(self.symbol, bids, asks, False, ts, u)
        touched_b = {p for p, _ in bids} | self.over_bids.keys()
        touched_a = {p for p, _ in asks} | self.over_asks.keys()
        self.over_bids, self.over_asks = {}, {}
        if self.ticker is not None and u is not None and self.ticker[0] > u:
            self._overlay()
            touched_b |= self.over_bids.keys()
            touched_a |= self.over_asks.keys()
        else:
            self.ticker = None
        return BookUpdate(
            self.symbol,
            tuple([(p, self._shown(p, True)) for p in sorted(touched_b, reverse=True)]),
            tuple([(p, self._shown(p, False)) for p in sorted(touched_a)]),
            False,
            ts,
            u,
        )

    # -- snapshots ---------------------------------------------------------------------

    def on_snapshot(self, gen: int, body: dict[str, Any]) -> tuple[BookUpdate | None, bool]:
        """Apply ``GET /fapi/v1/depth``'s answer fetched for generation ``gen``."""
        if gen != self.gen or self.state != BUFFERING:
            return None, False
        self.requested = False
        self.snapshots += 1
        last_id = int(body["lastUpdateId"])
        px, sz = self.px, self.sz
        self.bids.load([(px(p), sz(q)) for p, q in body.get("bids") or ()])
        self.asks.load([(px(p), sz(q)) for p, q in body.get("asks") or ()])
        self._clear_overlay()
        pending = [e for e in self.buffer if e.u >= last_id]
        ts = int(body.get("E") or 0)
        if not pending:
            self.state, self.snapshot_id, self.last_u, self.buffer = FIRST, last_id, last_id, []
            return self._full(ts), False
        first = pending[0]
        if not _covers(first, last_id):
            # the snapshot is older than the diffs we hold: ask again, keep buffering
            self.buffer, self.requested = pending, True
            return None, True
        prev: int | None = None
        for i, ev in enumerate(pending):
            if prev is not None and ev.pu != prev:
                self.gaps += 1
                self.buffer, self.requested = pending[i:], True
                return None, True
            self._apply_diff(ev)
            prev = ev.u
            ts = ev.E or ts
        self.state, self.buffer = LIVE, []
        return self._full(ts), False

    def _full(self, ts: int) -> BookUpdate:
        return BookUpdate(
            self.symbol, self.bids.sorted_levels(), self.asks.sorted_levels(), True, ts, self.last_u, {"synced": True}
        )

    # -- the touch from bookTicker -----------------------------------------------------

    def _shown(self, price: int, is_bid: bool) -> int:
        over, side = (self.over_bids, self.bids) if is_bid else (self.over_asks, self.asks)
        size = over.get(price)
        return side.levels.get(price, 0) if size is None else size

    def _overlay(self) -> None:
        assert self.ticker is not None
        _, bid, bid_sz, ask, ask_sz = self.ticker
        if bid_sz:
            self.over_bids = dict.fromkeys(self.bids.better_than(bid), 0)
            self.over_bids[bid] = bid_sz
        if ask_sz:
            self.over_asks = dict.fromkeys(self.asks.better_than(ask), 0)
            self.over_asks[ask] = ask_sz

    def on_ticker(self, msg: dict[str, Any]) -> BookUpdate | None:
        """A ``bookTicker``; returns the change to what is shown, or None (older than the book, or no change)."""
        if self.state != LIVE or self.last_u is None:
            return None
        u = int(msg["u"])
        if u <= self.last_u or (self.ticker is not None and u <= self.ticker[0]):
            return None
        before_b, before_a = self.over_bids, self.over_asks
        shown_b = {p: self._shown(p, True) for p in before_b}
        shown_a = {p: self._shown(p, False) for p in before_a}
        self.ticker = (u, self.px(msg["b"]), self.sz(msg["B"]), self.px(msg["a"]), self.sz(msg["A"]))
        self.over_bids, self.over_asks = {}, {}
        self._overlay()
        bids = self._changes(shown_b, self.over_bids, True)
        asks = self._changes(shown_a, self.over_asks, False)
        if not bids and not asks:
            return None
        return BookUpdate(self.symbol, bids, asks, False, int(msg.get("E") or msg.get("T") or 0), u, {"ticker": True})

    def _changes(self, before: dict[int, int], over: dict[int, int], is_bid: bool) -> tuple[tuple[int, int], ...]:
        out = []
        for p in sorted(before.keys() | over.keys(), reverse=is_bid):
            was = before.get(p)
            if was is None:
                was = (self.bids if is_bid else self.asks).levels.get(p, 0)
            now = self._shown(p, is_bid)
            if now != was:
                out.append((p, now))
        return tuple(out)

    def top(self) -> tuple[int | None, int | None]:
        """The touch as shown (the overlay's when a ticker is newer than the diffs); None, None while syncing."""
        if self.state == BUFFERING:
            return None, None
        bid, ask = self.bids.best(), self.asks.best()
        if self.ticker is not None:
            _, tb, tbs, ta, tas = self.ticker
            bid = tb if tbs else bid
            ask = ta if tas else ask
        return bid, ask
