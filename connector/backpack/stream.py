"""Backpack's websocket frames -> typed events, and the order book kept in sequence.

One socket carries everything: ``depth.<symbol>`` and ``trade.<symbol>`` (public) and
``account.orderUpdate`` / ``account.positionUpdate`` (signed subscribe).  Every push is
``{"stream": name, "data": {...}}``; anything else that is not an error or an acknowledgement
is malformed (the supervisor counts and drops it).

The depth stream is chained: each event's ``U`` is the previous event's ``u + 1``.  A book is
seeded from a REST snapshot: events are buffered until the snapshot arrives, events with
``u <= lastUpdateId`` are dropped, and the first one applied must straddle ``lastUpdateId + 1``.
A break in the chain clears the book (an empty snapshot goes out, so the screen shows no stale
levels) and the connector fetches a new snapshot while the stream buffers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec
import orjson

from connector.backpack import wire
from connector.base import Emit
from connector.clock import Clock
from connector.errors import VenueError
from connector.interface import BookUpdate, MarketInfo
from connector.scaling import scaled_memo, scaler
from connector.transport.ws import WsSupervisor

log = logging.getLogger(__name__)


class BookGap(Exception):
    """The depth chain broke; the book was cleared and needs a new snapshot."""


class SnapshotBehind(Exception):
    """The REST snapshot is older than the first buffered event: fetch again."""


def _levels(raw: Any, pd: int, sd: int) -> list[tuple[int, int]]:
    px, sz = scaler(pd), scaler(sd)
    return [(px(p), sz(q)) for p, q in raw or ()]


class BookSync:
    """One market's book: buffered until seeded, then chained on ``U == previous u + 1``."""

    def __init__(self, m: MarketInfo, max_buffer: int = 5000) -> None:
        self.m = m
        self.max_buffer = max_buffer
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.last_u: int | None = None
        self.synced = False
        self.px, self.sz = scaled_memo(m.price_decimals), scaled_memo(m.size_decimals)
        self.buffer: list[wire.DepthEvent] = []
        self._loose = False
        """Right after a snapshot with nothing buffered, the first event may begin before it."""

    def reset(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.last_u = None
        self.synced = False
        self.buffer.clear()
        self._loose = False

    def top(self) -> tuple[int | None, int | None]:
        if not self.synced:
            return None, None
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)

    def empty(self, reason: str) -> BookUpdate:
        return BookUpdate(self.m.symbol, (), (), True, 0, None, {"reset": reason})

    def on_delta(self, data: wire.DepthEvent | dict[str, Any]) -> BookUpdate | None:
        """The update to emit; None while buffering or for an event the book already has.

        A malformed event (no ids, a number that is not one) raises ValueError before anything changes."""
        if type(data) is not wire.DepthEvent:
            data = wire.depth_event(data)
        if not self.synced:
            self.buffer.append(data)
            if len(self.buffer) > self.max_buffer:
                del self.buffer[0]
            return None
        first, last = data.U, data.u
        expected = self.last_u + 1  # synced: the snapshot set it
        if last < expected:
            return None
        if first != expected and not (self._loose and first <= expected):
            was = self.last_u
            self.reset()
            raise BookGap(f"{self.m.symbol}: depth event starts at U={first}, the book is at u={was}")
        self._loose = False
        return self._apply(data)

    def _apply(self, data: wire.DepthEvent) -> BookUpdate:
        px, sz = self.px, self.sz
        bids, asks = wire.book_levels(data.b, px, sz), wire.book_levels(data.a, px, sz)
        side = self.bids
        for price, size in bids:
            if size:
                side[price] = size
            else:
                side.pop(price, None)
        side = self.asks
        for price, size in asks:
            if size:
                side[price] = size
            else:
                side.pop(price, None)
        self.last_u = last = data.u
        # info: the event as decoded (its U), no dict built per event
        return BookUpdate(self.m.symbol, bids, asks, False, (data.T or data.E or 0) // 1000, last, data)

    def on_snapshot(self, raw: dict[str, Any]) -> BookUpdate:
        """Seed from ``/api/v1/depth`` (bids come ascending there), then replay the buffer."""
        snap_u = int(raw["lastUpdateId"])
        pending = [d for d in self.buffer if d.u > snap_u]
        if pending and pending[0].U > snap_u + 1:
            raise SnapshotBehind(f"{self.m.symbol}: snapshot at {snap_u}, stream already at U={pending[0].U}")
        pd, sd = self.m.price_decimals, self.m.size_decimals
        self.bids = {p: s for p, s in _levels(raw.get("bids"), pd, sd) if s}
        self.asks = {p: s for p, s in _levels(raw.get("asks"), pd, sd) if s}
        self.last_u, self.synced, self._loose = snap_u, True, True
        self.buffer.clear()
        ts = wire.micros_to_ms(raw.get("timestamp"))
        for data in pending:
            first = data.U
            if not (first == self.last_u + 1 or (self._loose and first <= self.last_u + 1)):
                was = self.last_u
                self.reset()
                raise BookGap(f"{self.m.symbol}: buffered depth event starts at U={first}, the book is at u={was}")
            self._loose = False
            ts = self._apply(data).ts_ms
        return BookUpdate(
            self.m.symbol,
            tuple(sorted(self.bids.items(), reverse=True)),
            tuple(sorted(self.asks.items())),
            True,
            ts,
            self.last_u,
            {"lastUpdateId": snap_u, "replayed": len(pending)},
        )


class SeenTrades:
    """Trade ids already passed on (stream and REST history both deliver fills), bounded."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, trade_id: str) -> bool:
        """True when the id is new."""
        if trade_id in self._ids:
            return False
        self._ids[trade_id] = None
        if len(self._ids) > self.max_entries:
            self._ids.popitem(last=False)
        return True


FetchDepth = Callable[[str], Awaitable[dict[str, Any]]]
Spawn = Callable[[Coroutine[Any, Any, Any], str], Any]
PRIVATE_STREAMS = ("account.orderUpdate", "account.positionUpdate")


class BackpackStream:
    """Subscriptions, frames -> events and the books in sequence; ``ws`` is set by the connector.

    The connector hands in what needs REST or the key: ``fetch_depth`` (a snapshot),
    ``signature`` (the private subscribe's signature, None without a key), ``recover_fills``
    (read the fills since a time) and ``on_account`` (something changed the margin).
    """

    def __init__(
        self,
        *,
        emit: Emit,
        clock: Clock,
        markets: dict[str, MarketInfo],
        ids: wire.ClientIds,
        fetch_depth: FetchDepth,
        signature: Callable[[], list[str] | None],
        recover_fills: Callable[[int], Coroutine[Any, Any, int]],
        on_account: Callable[[], None],
        spawn: Spawn,
        seed_wait_s: float = 0.5,
        seed_attempts: int = 20,
    ) -> None:
        self.emit, self.clock, self.markets, self.ids = emit, clock, markets, ids
        self.fetch_depth, self.signature, self.recover_fills = fetch_depth, signature, recover_fills
        self.on_account, self.spawn = on_account, spawn
        self.seed_wait_s, self.seed_attempts = seed_wait_s, seed_attempts
        self.ws: WsSupervisor | None = None
        self.books: dict[str, BookSync] = {}
        self.seen = SeenTrades()
        self.trigger_cois: set[int] = set()
        """Armed trigger orders (the connector's): their updates are not orders until they fire."""
        self.book_gaps = 0
        self.venue_errors: list[Any] = []
        self.recovery: asyncio.Task[Any] | None = None
        self._buffered: dict[str, asyncio.Event] = {}
        self._seeding: dict[str, asyncio.Task[None]] = {}

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.connected.is_set()

    def top(self, symbol: str) -> tuple[int | None, int | None] | None:
        """Best bid and ask from the synced book while the socket is up; None otherwise."""
        book = self.books.get(symbol)
        return book.top() if book is not None and book.synced and self.connected else None

    async def subscribe(self, m: MarketInfo) -> None:
        if m.symbol in self.books:
            return
        self.books[m.symbol] = BookSync(m)
        if self.ws is not None and self.connected:
            with contextlib.suppress(VenueError):  # a drop now resubscribes everything anyway
                await self.ws.send({"method": "SUBSCRIBE", "params": [f"depth.{m.symbol}", f"trade.{m.symbol}"]})
                self._seed_soon(m.symbol, self.seed_wait_s)

    async def on_connect(self, ws: WsSupervisor) -> None:
        """Every (re)connect: books start over from a snapshot, every stream is subscribed again,
        and after a drop the fills missed meanwhile are read from the fill history."""
        last_seen_ms = ws.last_message_ms
        for symbol, book in self.books.items():
            book.reset()
            task = self._seeding.pop(symbol, None)
            if task is not None:
                task.cancel()
        public = [f"{kind}.{s}" for s in sorted(self.books) for kind in ("depth", "trade")]
        if public:
            await ws.send({"method": "SUBSCRIBE", "params": public})
        signature = self.signature()
        if signature is not None:
            await ws.send({"method": "SUBSCRIBE", "params": list(PRIVATE_STREAMS), "signature": signature})
            if ws.connects > 1 and last_seen_ms is not None:
                self.recovery = self.spawn(self._recover(last_seen_ms - 60_000), "fills")
        for symbol in self.books:
            self._seed_soon(symbol, self.seed_wait_s)

    async def _recover(self, since_ms: int) -> None:
        try:
            found = await self.recover_fills(since_ms)
        except VenueError as exc:  # the reconciler asks the venue about every open order anyway
            log.warning("backpack: could not read the fills missed while disconnected (%s)", exc)
        else:
            if found:
                log.info("backpack: %d fill(s) missed while disconnected recovered from the history", found)

    async def stop(self) -> None:
        tasks = list(self._seeding.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._seeding.clear()

    # -- frames -----------------------------------------------------------------------------

    def on_frame(self, frame: Any) -> None:
        if type(frame) is wire.DepthFrame:
            if not frame.stream.startswith("depth."):
                raise ValueError(f"a depth event on stream {frame.stream!r}")
            self._depth(frame.data)
            return
        if not isinstance(frame, dict):
            raise ValueError(f"frame is a {type(frame).__name__}, not an object")
        stream = frame.get("stream")
        if stream is None:
            if "error" in frame:
                self.venue_errors.append(frame["error"])
                log.warning("backpack stream error: %.200s", frame["error"])
                return
            if "result" in frame or "id" in frame:
                return  # a subscribe acknowledgement, where the venue sends one
            raise ValueError("frame has no stream")
        data = frame["data"]
        kind = str(stream).partition(".")[0]
        if kind == "depth":
            self._depth(data)
        elif kind == "trade":
            m = self.markets.get(data["s"])
            if m is not None:
                self.emit("trade", wire.parse_trade(data, m))
        elif stream.startswith("account.orderUpdate"):
            self._order(data)
        elif stream.startswith("account.positionUpdate"):
            m = self.markets.get(data["s"])
            if m is not None:
                self.emit("position", wire.parse_position_update(data, m))
                self.on_account()
        elif kind not in ("bookTicker", "ticker", "markPrice", "openInterest", "kline", "liquidation"):
            raise ValueError(f"unknown stream {stream!r}")

    def _depth(self, data: wire.DepthEvent | dict[str, Any]) -> None:
        if type(data) is not wire.DepthEvent:
            data = wire.depth_event(data)
        book = self.books.get(data.s)
        if book is None:
            return
        try:
            update = book.on_delta(data)
        except BookGap as gap:
            self.book_gaps += 1
            log.warning("backpack: %s; clearing the book and fetching a new snapshot", gap)
            self.emit("book", book.empty(str(gap)))
            book.buffer.append(data)  # the event that broke the chain seeds the next sync
            self._seed_soon(book.m.symbol, 0)
            return
        if update is not None:
            self.emit("book", update)
        elif not book.synced and len(book.buffer) == 1:
            event = self._buffered.get(book.m.symbol)
            if event is not None:
                event.set()

    def _order(self, d: dict[str, Any]) -> None:
        m = self.markets.get(d["s"])
        if m is None:
            return
        index = self.ids.index(d.get("c"), d.get("i"), self.clock.now_ms())
        self.ids.remember_order(index, str(d["i"]))
        if index in self.trigger_cois and self._trigger_update(index, d):
            return
        if d.get("e") == "orderFill" and d.get("t") not in (None, "", 0, "0"):
            fill = wire.parse_fill_update(d, m, index)
            if self.seen.add(fill.trade_id):
                self.emit("fill", fill)
            self.on_account()
        self.emit("order", wire.parse_order_update(d, m, index))

    def _trigger_update(self, index: int, d: dict[str, Any]) -> bool:
        """Whether an update belongs to an armed trigger rather than an order: ``TriggerPending`` while
        armed; ``triggerPlaced`` when it fires (its child's updates follow under the same clientId); a
        trigger cancelled or failed before it fired ends there."""
        if str(d.get("X")) == "TriggerPending":
            return True
        self.trigger_cois.discard(index)
        return d.get("e") in ("triggerPlaced", "orderCancelled", "orderExpired", "triggerFailed")

    # -- seeding the books --------------------------------------------------------------------

    def _seed_soon(self, symbol: str, wait_s: float) -> None:
        running = self._seeding.get(symbol)
        if running is None or running.done():
            self._buffered[symbol] = asyncio.Event()
            self._seeding[symbol] = asyncio.create_task(self._seed(symbol, wait_s), name=f"backpack-seed-{symbol}")

    async def _seed(self, symbol: str, wait_s: float) -> None:
        """Fetch the REST snapshot once the stream buffers (or after ``wait_s`` on a quiet book)."""
        book = self.books[symbol]
        if wait_s and not book.buffer:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._buffered[symbol].wait(), wait_s)
        for attempt in range(1, self.seed_attempts + 1):
            try:
                update = book.on_snapshot(await self.fetch_depth(symbol))
            except SnapshotBehind as exc:
                log.info("backpack: %s; fetching again", exc)
            except BookGap as exc:
                self.book_gaps += 1
                log.warning("backpack: %s; fetching a new snapshot", exc)
            except VenueError as exc:
                log.warning("backpack: depth snapshot for %s failed (%s)", symbol, exc)
            else:
                self.emit("book", update)
                return
            await self.clock.sleep(min(1.0, 0.05 * attempt))
        if self.ws is not None:
            await self.ws.reconnect(f"{symbol}: the book could not be seeded from {self.seed_attempts} snapshots")


def parse_frame(raw: str | bytes) -> Any:
    """A ``depth.<symbol>`` push straight into ``wire.DepthFrame`` (any other shape of one falls back
    to plain JSON, where the stream reads it or counts it malformed); anything else as plain JSON."""
    if ('"depth.' in raw) if isinstance(raw, str) else (b'"depth.' in raw):
        try:  # not contextlib.suppress: its __exit__ is Python, ~0.3 µs a frame
            return wire.DEPTH_DECODER.decode(raw)
        except msgspec.DecodeError:  # ValidationError included
            pass
    return orjson.loads(raw)
