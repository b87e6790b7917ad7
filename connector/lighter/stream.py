"""Lighter's websocket: subscriptions, the books chained on nonces, and each frame as typed events.

One socket carries ``order_book/{id}`` and ``trade/{id}`` per market and, behind an auth token,
the account channels.  A book is a snapshot then updates chained on ``begin_nonce``; a break
drops the book (an empty snapshot tells the runtime) and resubscribes that market.  Every
(re)connect restarts the books from snapshots and subscribes everything again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import orjson

from connector.base import Emit
from connector.clock import Clock
from connector.interface import BookUpdate, MarketInfo
from connector.lighter import wire
from connector.scaling import scaled_memo
from connector.transport.ws import WsSupervisor

log = logging.getLogger(__name__)


_HEAD = 40
"""Where a frame names its channel: ``{"channel":"order_book:<id>"`` (with or without spaces)."""


def decode_frame(text: str | bytes) -> Any:
    """An ``order_book`` frame straight into ``wire.BookFrame`` (any other shape of one falls back to
    plain JSON, where the stream reads it or counts it malformed); any other frame as a dict;
    ValueError for anything else (counted as malformed)."""
    if ('"order_book:' in text[:_HEAD]) if isinstance(text, str) else (b'"order_book:' in text[:_HEAD]):
        try:  # not contextlib.suppress: its __exit__ is Python, ~0.3 µs a frame
            return wire.BOOK_DECODER.decode(text)
        except msgspec.DecodeError:  # ValidationError included
            pass
    msg = orjson.loads(text)
    if not isinstance(msg, dict):
        raise ValueError(f"frame is a {type(msg).__name__}, not an object")
    return msg


class BookGap(Exception):
    """An update did not chain onto the previous one: the book must be re-snapshotted."""


class BookChain:
    """One market's book stream: a snapshot, then updates with ``begin_nonce == previous nonce``.

    ``offset`` is not contiguous on Lighter; the nonce chain is the only gap signal.
    """

    def __init__(self, symbol: str, price_decimals: int, size_decimals: int) -> None:
        self.symbol = symbol
        self.pd, self.sd = price_decimals, size_decimals
        self.px, self.sz = scaled_memo(price_decimals), scaled_memo(size_decimals)
        self.nonce: int | None = None
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def reset(self) -> None:
        self.nonce = None
        self.bids.clear()
        self.asks.clear()

    def top(self) -> tuple[int | None, int | None]:
        """Best bid and ask while the chain is intact (None, None after a gap until the next snapshot)."""
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)

    def apply(self, frame: wire.BookFrame | dict[str, Any], *, snapshot: bool) -> BookUpdate | None:
        """Return the update to emit; None for an update before any snapshot; BookGap on a break.

        A malformed frame (no nonce, an update without ``begin_nonce``, a number that is not one)
        raises ValueError before anything changes."""
        if type(frame) is not wire.BookFrame:
            frame = wire.book_frame(frame)
        ob = frame.order_book
        nonce = ob.nonce
        if not snapshot:
            if self.nonce is None:
                return None
            if ob.begin_nonce != self.nonce:
                if ob.begin_nonce is None:
                    raise ValueError(f"{self.symbol}: an order_book update without begin_nonce")
                expected = self.nonce
                self.reset()
                raise BookGap(f"{self.symbol}: update begins at {ob.begin_nonce}, book is at {expected}")
        px, sz = self.px, self.sz
        bids, asks = wire.book_levels(ob.bids, px, sz), wire.book_levels(ob.asks, px, sz)
        if snapshot:
            self.bids.clear()
            self.asks.clear()
        side = self.bids
        for price_i, size_i in bids:
            if size_i:
                side[price_i] = size_i
            else:
                side.pop(price_i, None)
        side = self.asks
        for price_i, size_i in asks:
            if size_i:
                side[price_i] = size_i
            else:
                side.pop(price_i, None)
        self.nonce = nonce
        # info: the frame's order_book as decoded (offset, begin_nonce), no dict built per frame
        return BookUpdate(self.symbol, bids, asks, snapshot, frame.timestamp or 0, nonce, ob)


REPORTED_TRADES = 2000
"""Trade ids remembered for de-duplication (the venue's snapshot holds recent trades only)."""

ACCOUNT_CHANNELS = ("account_all_orders", "account_all_trades", "account_all_positions", "user_stats")


def account_events(
    name: str, msg: dict[str, Any], market: Callable[[int], MarketInfo | None], account_index: int, now_ms: int
) -> list[tuple[str, Any]]:
    """(kind, event) pairs from one account-channel frame; rows of markets we do not list are skipped.

    Built in full before anything is emitted, so a malformed frame delivers nothing.
    """
    out: list[tuple[str, Any]] = []
    if name == "account_all_orders":
        for market_id, rows in (msg.get("orders") or {}).items():
            if m := market(int(market_id)):
                out += [("order", wire.parse_order(raw, m.symbol, m.price_decimals, m.size_decimals)) for raw in rows]
    elif name == "account_all_trades":
        trades = msg.get("trades") or {}
        for raw in trades if isinstance(trades, list) else [t for ts in trades.values() for t in ts]:
            if m := market(int(raw["market_id"])):
                fills = wire.parse_fills(raw, account_index, m.symbol, m.price_decimals, m.size_decimals)
                out += [("fill", f) for f in fills]
    elif name == "account_all_positions":
        for market_id, raw in (msg.get("positions") or {}).items():
            if m := market(int(market_id)):
                out.append(("position", wire.parse_position(raw, m.symbol, m.price_decimals, m.size_decimals, now_ms)))
    elif name == "user_stats":
        out.append(("margin", wire.parse_margin(msg["stats"], now_ms)))
    return out


class LighterStream:
    """The subscriptions and the frame handling; ``ws`` is set by the connector once it is supervised."""

    def __init__(
        self, *, emit: Emit, clock: Clock, market: Callable[[int], MarketInfo | None], account_index: int
    ) -> None:
        self.emit, self.clock = emit, clock
        self.market = market
        """Market id -> its MarketInfo (None for a market we do not list)."""
        self.account_index = account_index
        self.auth_token: Callable[[], str] | None = None
        """Set while there is a signer: the account channels are subscribed with its tokens."""
        self.ws: WsSupervisor | None = None
        self.chains: dict[int, BookChain] = {}
        """Market id -> its book, for every market whose data was asked for."""
        self._market_ids: dict[str, int] = {}
        """``order_book:<id>`` channel -> market id, read once (bounded)."""
        self.book_gaps = 0
        self.venue_errors = 0
        self.reported_trades: dict[str, None] = {}
        """Trade ids of the fills emitted (or taken as history), oldest first, bounded."""
        self.trades_baseline = False
        """Set by the first ``account_all_trades`` snapshot: what it holds is history, not news."""
        self.on_market_stats: Callable[[dict[str, Any]], None] | None = None
        """Each ``market_stats`` frame (the connector's funding, ``connector.lighter.funding``)."""

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.connected.is_set()

    def top(self, market_id: int) -> tuple[int | None, int | None] | None:
        """The streamed best bid and ask while the chain is intact, else None (ask REST)."""
        chain = self.chains.get(market_id)
        return chain.top() if chain is not None and chain.nonce is not None else None

    async def subscribe(self, market_id: int, info: MarketInfo) -> None:
        if market_id in self.chains:
            return
        self.chains[market_id] = BookChain(info.symbol, info.price_decimals, info.size_decimals)
        if self.connected:
            await self._subscribe_market(market_id)

    async def _send(self, msg: dict[str, Any]) -> None:
        if self.ws is not None:
            await self.ws.send(msg)

    async def _subscribe_market(self, market_id: int) -> None:
        await self._send({"type": "subscribe", "channel": f"order_book/{market_id}"})
        await self._send({"type": "subscribe", "channel": f"trade/{market_id}"})

    async def subscribe_account(self, *, renew: bool = False) -> None:
        """Subscribe the account channels with a fresh token (``renew``: drop the old subscriptions first)."""
        if self.auth_token is None:
            return
        token = self.auth_token()
        for name in ACCOUNT_CHANNELS:
            channel = f"{name}/{self.account_index}"
            if renew:
                await self._send({"type": "unsubscribe", "channel": channel})
            await self._send({"type": "subscribe", "channel": channel, "auth": token})

    async def on_connect(self, _ws: WsSupervisor) -> None:
        """Every (re)connect: books restart from a snapshot, every channel is subscribed again."""
        for chain in self.chains.values():
            chain.reset()
        for market_id in sorted(self.chains):
            await self._subscribe_market(market_id)
        if self.on_market_stats is not None:  # one subscription for every market's funding and mark
            await self._send({"type": "subscribe", "channel": "market_stats/all"})
        await self.subscribe_account()

    def on_frame(self, msg: wire.BookFrame | dict[str, Any]) -> Coroutine[Any, Any, None] | None:
        """A typed book frame is handled here and now (a coroutine comes back only when a gap has
        the market resubscribed); any other frame as the coroutine ``on_message``."""
        if type(msg) is not wire.BookFrame:
            return self.on_message(msg)
        kind = msg.type
        if kind == "update/order_book" or kind == "subscribed/order_book":
            return self._on_book(msg, kind[0] == "s")
        if kind.startswith("unsubscribed"):
            return None
        raise ValueError(f"unknown order_book frame type {kind!r}")

    async def on_message(self, msg: dict[str, Any]) -> None:
        kind = str(msg.get("type", ""))
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind in ("connected", "pong") or kind.startswith("unsubscribed"):
            return
        if kind == "shutdown" and self.ws is not None:
            await self.ws.reconnect("venue shutdown")
            return
        if kind == "error":
            self.venue_errors += 1
            log.warning("lighter stream error: %s", str(msg)[:200])
            return
        action, _, name = kind.partition("/")
        if action not in ("subscribed", "update"):
            raise ValueError(f"unknown frame type {kind!r}")
        snapshot = action == "subscribed"
        if name == "order_book":
            resubscribe = self._on_book(msg, snapshot)
            if resubscribe is not None:
                await resubscribe
        elif name == "trade":
            m = self._market(int(str(msg["channel"]).split(":")[1]))
            for trade in wire.parse_public_trades(msg.get("trades") or [], m.symbol, m.price_decimals, m.size_decimals):
                self.emit("trade", trade)
        elif name == "market_stats":
            if self.on_market_stats is not None:
                self.on_market_stats(msg)
        elif name == "account_all_trades":
            self._on_trades(msg, snapshot)
        elif name in ACCOUNT_CHANNELS:
            now = self.clock.now_ms()
            for event_kind, event in account_events(name, msg, self.market, self.account_index, now):
                self.emit(event_kind, event)
        else:
            raise ValueError(f"unknown channel {name!r}")

    def _on_trades(self, msg: dict[str, Any], snapshot: bool) -> None:
        """Emit each fill once by trade id.  The snapshot after a reconnect brings the fills made while
        the socket was down; the first snapshot of all is history (the reconciler reads order status)."""
        events = account_events("account_all_trades", msg, self.market, self.account_index, self.clock.now_ms())
        history = snapshot and not self.trades_baseline
        self.trades_baseline = self.trades_baseline or snapshot
        for kind, fill in events:
            if fill.trade_id in self.reported_trades:
                continue
            self.reported_trades[fill.trade_id] = None
            if len(self.reported_trades) > REPORTED_TRADES:
                del self.reported_trades[next(iter(self.reported_trades))]
            if not history:
                self.emit(kind, fill)

    def _market(self, market_id: int) -> MarketInfo:
        info = self.market(market_id)
        if info is None:
            raise ValueError(f"unknown market {market_id}")
        return info

    def _on_book(self, msg: wire.BookFrame | dict[str, Any], snapshot: bool) -> Coroutine[Any, Any, None] | None:
        """Apply and emit; after a gap the empty book goes out and the market's resubscription comes back."""
        channel = msg.channel if type(msg) is wire.BookFrame else msg["channel"]
        market_id = self._market_ids.get(channel)
        if market_id is None:
            market_id = int(str(channel).split(":")[1])
            if len(self._market_ids) < 10_000:
                self._market_ids[channel] = market_id
        chain = self.chains.get(market_id)
        if chain is None:
            return None
        try:
            update = chain.apply(msg, snapshot=snapshot)
        except BookGap as gap:
            self.book_gaps += 1
            log.warning("lighter: %s; dropping the book and resubscribing", gap)
            self.emit("book", BookUpdate(chain.symbol, (), (), True, self.clock.now_ms(), None, {"gap": str(gap)}))
            return self._resubscribe_book(market_id)
        if update is not None:
            self.emit("book", update)
        return None

    async def _resubscribe_book(self, market_id: int) -> None:
        await self._send({"type": "unsubscribe", "channel": f"order_book/{market_id}"})
        await self._send({"type": "subscribe", "channel": f"order_book/{market_id}"})
