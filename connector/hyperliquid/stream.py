"""Hyperliquid's websocket: what every (re)connect subscribes, and each frame as typed events.

One socket carries the public channels (``l2Book`` full snapshots, ``bbo``, ``trades``) and the
account's (``orderUpdates``, ``userFills``, ``clearinghouseState``, keyed by the *master*
address).  The venue replays nothing: after a reconnect everything is subscribed again (books and
fills come back as snapshots) and the runtime's reconciler asks REST about orders.

Every ``l2Book`` frame is a full snapshot, so when frames queue up faster than the console handles
them the reader parses only the newest snapshot of each coin in its backlog (``conflation_key``;
``WsSupervisor``'s backlog conflation); trades and the account's channels are always handled, in order.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import msgspec
import orjson

from connector.base import Emit
from connector.clock import Clock
from connector.errors import VenueError
from connector.hyperliquid import wire
from connector.interface import BookUpdate, MarketInfo, Position
from connector.scaling import scaled_memo
from connector.transport.ws import WsSupervisor

log = logging.getLogger(__name__)

Levels = tuple[tuple[int, int], ...]

_QUIET = frozenset({"subscriptionResponse", "pong", "post"})
_HEAD = 24
"""Where a frame says its channel: ``{"channel":"l2Book"`` (with or without spaces)."""
_IGNORED = frozenset({"user", "notification", "webData2", "openOrders", "activeAssetData"})


def parse_frame(raw: str | bytes) -> Any:
    """JSON, except the plain-text greeting the venue sends on connect; an ``l2Book`` frame
    straight into ``wire.BookFrame`` (any other shape of it falls back to plain JSON)."""
    if isinstance(raw, str):
        if '"l2Book"' in raw[:_HEAD]:  # the hot path first (the greeting is not one)
            try:  # not contextlib.suppress: its __exit__ is Python, ~0.3 µs a frame
                return wire.BOOK_DECODER.decode(raw)
            except msgspec.DecodeError:  # ValidationError included
                pass
        elif raw.startswith("Websocket connection established"):
            return None
    elif b'"l2Book"' in raw[:_HEAD]:
        try:
            return wire.BOOK_DECODER.decode(raw)
        except msgspec.DecodeError:
            pass
    return orjson.loads(raw)


_COIN = re.compile(r'"coin"\s*:\s*"([^"\\]+)"')
_COIN_BYTES = re.compile(rb'"coin"\s*:\s*"([^"\\]+)"')
_COIN_WITHIN = 64
"""How far into a frame its ``"coin"`` is looked for (the data object's first field)."""


def conflation_key(raw: str | bytes) -> tuple[str, bool] | None:
    """For the reader's backlog conflation (``WsSupervisor``): an ``l2Book`` frame is a full snapshot of
    its coin's book (``(coin, True)``: it supersedes every earlier book frame of that coin in the batch), a
    ``bbo`` only updates the touch (``(coin, False)``: a later snapshot supersedes it); anything else
    (trades, the account's channels) is always handled, in order."""
    if isinstance(raw, str):
        head = raw[:_HEAD]
        if '"l2Book"' in head:
            replaces = True
        elif '"bbo"' in head:
            replaces = False
        else:
            return None
        match = _COIN.search(raw, 0, _HEAD + _COIN_WITHIN)
        return (match.group(1), replaces) if match else None
    head_b = raw[:_HEAD]
    if b'"l2Book"' in head_b:
        replaces = True
    elif b'"bbo"' in head_b:
        replaces = False
    else:
        return None
    found = _COIN_BYTES.search(raw, 0, _HEAD + _COIN_WITHIN)
    return (found.group(1).decode(), replaces) if found else None


class HyperliquidStream:
    """The subscriptions and the frame handling; ``ws`` is set by the connector once it is supervised."""

    def __init__(
        self,
        *,
        emit: Emit,
        clock: Clock,
        markets: dict[str, MarketInfo],
        coi_of_oid: dict[int, int],
        user: str | None,
    ) -> None:
        self.emit, self.clock = emit, clock
        self.markets = markets
        self.coi_of_oid = coi_of_oid
        self.user = user
        """The master address whose account channels are subscribed (None: market data only)."""
        self.ws: WsSupervisor | None = None
        self.coins: set[str] = set()
        """Coins whose market data was asked for."""
        self.books: dict[str, tuple[Levels, Levels]] = {}
        self.level_memos: dict[str, wire.LevelMemo] = {}
        """Coin -> its last levels' pairs (``wire.LevelMemo``)."""
        self.positions: set[str] = set()
        self.venue_errors: list[Any] = []
        self.history_before_ms = 0
        """Snapshot fills older than this are history, not news (see ``userFills``)."""
        self.trigger_cois: set[int] = set()
        """Armed trigger orders (the connector's): their updates are not orders until they fire."""

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.connected.is_set()

    def book(self, coin: str) -> tuple[Levels, Levels] | None:
        """The streamed book while it is live, else None (ask REST)."""
        return self.books.get(coin) if coin in self.coins and self.connected else None

    async def subscribe(self, coin: str) -> None:
        if coin in self.coins:
            return
        self.coins.add(coin)
        if self.ws is not None and self.connected:
            with contextlib.suppress(VenueError):  # a drop now resubscribes everything anyway
                await self._subscribe_coin(self.ws, coin)

    @staticmethod
    async def _subscribe(ws: WsSupervisor, kind: str, **key: str) -> None:
        await ws.send({"method": "subscribe", "subscription": {"type": kind, **key}})

    async def _subscribe_coin(self, ws: WsSupervisor, coin: str) -> None:
        for kind in ("l2Book", "bbo", "trades"):
            await self._subscribe(ws, kind, coin=coin)

    async def on_connect(self, ws: WsSupervisor) -> None:
        """Every (re)connect: nothing is replayed, so subscribe to everything again."""
        self.books.clear()
        for coin in sorted(self.coins):
            await self._subscribe_coin(ws, coin)
        if self.user is not None:
            for kind in ("orderUpdates", "userFills", "clearinghouseState"):
                await self._subscribe(ws, kind, user=self.user)

    async def keep_alive(self, interval_s: float) -> None:
        """The venue closes a socket it has not heard from in 60 s; its pong also feeds the stale watch."""
        while True:
            await self.clock.sleep(interval_s)
            if self.ws is not None and self.connected:
                with contextlib.suppress(VenueError):
                    await self.ws.send({"method": "ping"})

    def on_frame(self, msg: Any) -> None:
        if type(msg) is wire.BookFrame:
            self._on_book_frame(msg.data)
        elif msg is not None:
            self._dispatch(msg["channel"], msg.get("data"))

    def _dispatch(self, channel: str, data: Any) -> None:
        now = self.clock.now_ms()
        if channel in _QUIET:
            return
        if channel == "error":
            self.venue_errors.append(data)
            log.warning("hyperliquid stream error: %.200s", data)
        elif channel == "l2Book":
            self._on_book(data)
        elif channel == "bbo":
            self._on_bbo(data)
        elif channel == "trades":
            for raw in data:
                if raw["coin"] in self.markets:
                    self.emit("trade", wire.parse_trade(raw, self.markets[raw["coin"]]))
        elif channel == "orderUpdates":
            for raw in data:
                order = raw["order"]
                m = self._market(order["coin"])
                ts = int(raw.get("statusTimestamp") or now)
                if self.trigger_cois and self._trigger_update(order, raw["status"]):
                    continue
                self.emit("order", wire.parse_order(order, raw["status"], m, ts, self.coi_of_oid))
        elif channel == "userFills":
            # a snapshot repeats up to 2000 old fills: pass on only those since shortly before we started
            since = self.history_before_ms if data.get("isSnapshot") else 0
            for raw in data["fills"]:
                if raw["coin"] in self.markets and int(raw["time"]) >= since:
                    self.emit("fill", wire.parse_fill(raw, self.markets[raw["coin"]], self.coi_of_oid))
        elif channel == "clearinghouseState":
            self._on_account(data["clearinghouseState"], now)
        elif channel not in _IGNORED:
            raise ValueError(f"unknown channel {channel!r}")

    def _trigger_update(self, order: dict[str, Any], status: str) -> bool:
        """True for an update of an armed trigger itself (open, cancelled, or ``triggered``: its child's
        updates follow under the same cloid); any other status is its child's, and passes."""
        coi = wire.client_index(order, self.coi_of_oid)
        if coi not in self.trigger_cois:
            return False
        if status == "open":
            return True
        self.trigger_cois.discard(coi)
        return status == "triggered" or (status != "filled" and wire.order_status(status, 0).is_final)

    def _market(self, coin: str) -> MarketInfo:
        try:
            return self.markets[coin]
        except KeyError:
            raise ValueError(f"unknown coin {coin!r}") from None

    def _on_book(self, data: dict[str, Any]) -> None:
        coin = data["coin"]
        if coin not in self.coins:
            return
        m = self.markets[coin]
        bids = wire.parse_levels(data["levels"][0], m.price_decimals, m.size_decimals)
        asks = wire.parse_levels(data["levels"][1], m.price_decimals, m.size_decimals)
        self.books[coin] = (bids, asks)
        self.emit("book", BookUpdate(coin, bids, asks, True, int(data["time"]), None, data))

    def _on_book_frame(self, data: wire.BookData) -> None:
        """``_on_book`` for a frame decoded into ``wire.BookFrame``."""
        coin = data.coin
        if coin not in self.coins:
            return
        memo = self.level_memos.get(coin)
        if memo is None:
            m = self.markets[coin]
            memo = self.level_memos[coin] = wire.LevelMemo(scaled_memo(m.price_decimals), scaled_memo(m.size_decimals))
        bids, asks = self.books[coin] = wire.book_sides(data.levels, memo)
        self.emit("book", BookUpdate(coin, bids, asks, True, data.time, None, data))

    def _on_bbo(self, data: dict[str, Any]) -> None:
        """A fresher touch than the last ``l2Book``: levels it has taken out go, the depth behind stays."""
        coin = data["coin"]
        if coin not in self.coins or coin not in self.books:
            return
        m = self.markets[coin]
        bid, ask = data["bbo"]
        bids, asks = self.books[coin]
        if bid is not None:
            b = wire.parse_levels([bid], m.price_decimals, m.size_decimals)[0]
            bids = (b, *(lv for lv in bids if lv[0] < b[0]))
        if ask is not None:
            a = wire.parse_levels([ask], m.price_decimals, m.size_decimals)[0]
            asks = (a, *(lv for lv in asks if lv[0] > a[0]))
        if (bids, asks) == self.books[coin]:
            return
        self.books[coin] = (bids, asks)
        self.emit("book", BookUpdate(coin, bids, asks, True, int(data["time"]), None, data))

    def _on_account(self, state: dict[str, Any], now: int) -> None:
        seen = set()
        for position in wire.parse_positions(state, self.markets, now):
            seen.add(position.symbol)
            self.emit("position", position)
        for gone in sorted(self.positions - seen):  # closed since the last state: say so once
            self.emit("position", Position(gone, 0, 0, 0, 0, ts_ms=now))
        self.positions = seen
        self.emit("margin", wire.parse_margin(state, now))
