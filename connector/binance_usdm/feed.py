"""Market data for the Binance USDⓈ-M connector: the ``/public`` and ``/market`` websockets.

``/public`` carries ``<s>@depth@100ms`` (kept by ``stream.DepthSync`` with REST snapshots) and
``<s>@bookTicker`` (the touch); ``/market`` carries ``<s>@markPrice@1s`` (the band check) and
``<s>@aggTrade`` (the tape).  Both sockets open with the first subscribed symbol (an idle public
socket would only trip the stale watch) and resubscribe everything on every reconnect; each book
then starts a new sync and is shown stale until its snapshot lands.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from connector.binance_usdm import wire
from connector.binance_usdm.stream import DepthSync, decode
from connector.errors import VenueError
from connector.transport.ws import WsSupervisor

if TYPE_CHECKING:
    from connector.base import BaseConnector
    from connector.binance_usdm.rest import BinanceRest

log = logging.getLogger(__name__)

SUBSCRIBE_CHUNK = 50
"""Streams per SUBSCRIBE message (the venue takes 10 messages a second on a socket)."""
SYMBOLS_PER_SOCKET = 100
"""Two streams a symbol on each socket, and the venue allows 200 streams a connection."""
DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


class _Shard:
    """One public and one market socket for up to ``SYMBOLS_PER_SOCKET`` symbols."""

    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.public: WsSupervisor
        self.market: WsSupervisor


class MarketFeed:
    def __init__(
        self,
        owner: BaseConnector,
        *,
        url_for: Callable[[str], str],
        rest: Callable[[], BinanceRest],
        spawn: Callable[[Coroutine[Any, Any, Any]], Any],
        depth_limit: int = 1000,
        ws_options: dict[str, Any] | None = None,
    ) -> None:
        self.owner, self.url_for, self.rest, self.spawn = owner, url_for, rest, spawn
        self.depth_limit = depth_limit
        self.ws_options = ws_options or {}
        self.books: dict[str, DepthSync] = {}
        self.filters: dict[str, wire.Filters] = {}
        self.marks: dict[str, tuple[int, int]] = {}
        self.on_mark: Callable[[dict[str, Any], str, int], None] | None = None
        """Each ``markPriceUpdate`` with its symbol and price decimals (the connector's funding)."""
        """symbol -> (mark price_i, local ms received)."""
        self.shards: list[_Shard] = []
        self._resyncing: set[str] = set()
        self.venue_errors: list[Any] = []

    @property
    def public(self) -> WsSupervisor | None:
        """The first shard's public socket (most sessions have one shard)."""
        return self.shards[0].public if self.shards else None

    def detach(self) -> None:
        """The owner stopped (and closed the sockets): the next subscribe opens new ones."""
        self.shards = []
        self._resyncing.clear()
        for sync in self.books.values():
            sync.reset()

    def _shard_of(self, symbol: str) -> _Shard | None:
        for shard in self.shards:
            if symbol in shard.symbols:
                return shard
        return None

    def top(self, symbol: str) -> tuple[int | None, int | None] | None:
        """The touch as shown while the book is synced and its socket up; None otherwise."""
        sync, shard = self.books.get(symbol), self._shard_of(symbol)
        if sync is None or not sync.live or shard is None or not shard.public.connected.is_set():
            return None
        return sync.top()

    def mark(self, symbol: str, max_age_ms: int) -> int | None:
        known = self.marks.get(symbol)
        if known is None or self.owner.clock.now_ms() - known[1] > max_age_ms:
            return None
        return known[0]

    async def subscribe(self, markets: list[wire.Filters]) -> None:
        for f in markets:
            if f.symbol not in self.books:
                self.books[f.symbol] = DepthSync(f.symbol, f.price_decimals, f.size_decimals)
                self.filters[f.symbol] = f
        placed = {s for shard in self.shards for s in shard.symbols}
        fresh: list[_Shard] = []
        for symbol in [s for s in self.books if s not in placed]:
            if not self.shards or len(self.shards[-1].symbols) >= SYMBOLS_PER_SOCKET:
                self.shards.append(self._new_shard())
                fresh.append(self.shards[-1])
            shard = self.shards[-1]
            shard.symbols.append(symbol)
            if shard in fresh:
                continue
            for ws, streams in ((shard.public, _public_streams([symbol])), (shard.market, _market_streams([symbol]))):
                if ws.connected.is_set():
                    with contextlib.suppress(VenueError):  # a drop now resubscribes everything on reconnect
                        await _subscribe(ws, streams)
        for shard in fresh:
            await shard.public.start()
            await shard.market.start()

    def _new_shard(self) -> _Shard:
        n = len(self.shards) + 1
        suffix = "" if n == 1 else f"-{n}"
        shard = _Shard([])
        options = {"parse": decode, **self.ws_options}
        shard.public = self.owner.supervise_ws(
            f"public{suffix}", self.url_for("public"), on_message=self._on_public,
            on_connect=lambda ws: self._on_public_connect(ws, shard), **options,
        )  # fmt: skip
        shard.market = self.owner.supervise_ws(
            f"market{suffix}", self.url_for("market"), on_message=self._on_market,
            on_connect=lambda ws: _subscribe_all(ws, shard.symbols, _market_streams), **options,
        )  # fmt: skip
        return shard

    async def _on_public_connect(self, ws: WsSupervisor, shard: _Shard) -> None:
        """Every (re)connect: each book of the shard starts a new sync, shown stale until its snapshot lands."""
        now = self.owner.clock.now_ms()
        for symbol in shard.symbols:
            sync = self.books[symbol]
            was_live = sync.live
            sync.reset()
            if was_live:
                self.owner.emit("book", sync.stale_marker("reconnected; re-syncing from a snapshot", now))
        await _subscribe_all(ws, shard.symbols, _public_streams)

    def _ack(self, msg: dict[str, Any]) -> bool:
        if "id" in msg and ("result" in msg or "error" in msg):
            if msg.get("error") or msg.get("result") is not None:
                self.venue_errors.append(msg)
                log.warning("binance-usdm stream answered %.200s", msg)
            return True
        return False

    def _on_public(self, msg: wire.DepthUpdate | dict[str, Any]) -> None:
        kind = "depthUpdate" if type(msg) is wire.DepthUpdate else msg.get("e")
        if kind == "depthUpdate":
            if type(msg) is not wire.DepthUpdate:
                msg = wire.depth_update(msg)
            sync = self.books.get(msg.s)
            if sync is None:
                return
            update, need = sync.on_depth(msg)
            if update is not None:
                self.owner.emit("book", update)
            if need:
                self.request_snapshot(sync)
        elif kind == "bookTicker":
            sync = self.books.get(msg["s"])
            update = sync.on_ticker(msg) if sync is not None else None
            if update is not None:
                self.owner.emit("book", update)
        elif not self._ack(msg):
            raise ValueError(f"unexpected frame on the public stream: {str(msg)[:80]}")

    def _on_market(self, msg: dict[str, Any]) -> None:
        kind = msg.get("e")
        if kind == "markPriceUpdate":
            f = self.filters.get(msg["s"])
            if f is not None:
                self.marks[f.symbol] = (wire.rounded(msg["p"], f.price_decimals), self.owner.clock.now_ms())
                if self.on_mark is not None:
                    self.on_mark(msg, f.symbol, f.price_decimals)
        elif kind == "aggTrade":
            f = self.filters.get(msg["s"])
            if f is not None:
                self.owner.emit("trade", wire.parse_agg_trade(msg, f))
        elif not self._ack(msg):
            raise ValueError(f"unexpected frame on the market stream: {str(msg)[:80]}")

    def request_snapshot(self, sync: DepthSync) -> None:
        if sync.symbol not in self._resyncing:
            self._resyncing.add(sync.symbol)
            self.spawn(self._resync(sync))

    async def _resync(self, sync: DepthSync) -> None:
        """Fetch snapshots until the sync takes one (a reconnect meanwhile starts a new generation)."""
        delay = 0.05
        clock = self.owner.clock
        try:
            while not sync.live:
                gen = sync.gen
                try:
                    body = await self.rest().request(
                        "GET", "/fapi/v1/depth", {"symbol": sync.symbol, "limit": self.depth_limit},
                        weight=DEPTH_WEIGHT[self.depth_limit], background=True,
                    )  # fmt: skip
                except VenueError as exc:
                    log.warning("binance-usdm: depth snapshot for %s failed: %s", sync.symbol, exc)
                    await clock.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                update, again = sync.on_snapshot(gen, body)
                if update is not None:
                    self.owner.emit("book", update)
                if not again and (sync.live or gen == sync.gen):
                    break
                await clock.sleep(delay)
        finally:
            self._resyncing.discard(sync.symbol)


def _public_streams(symbols: list[str]) -> list[str]:
    return [f"{s.lower()}@{kind}" for s in symbols for kind in ("depth@100ms", "bookTicker")]


def _market_streams(symbols: list[str]) -> list[str]:
    return [f"{s.lower()}@{kind}" for s in symbols for kind in ("markPrice@1s", "aggTrade")]


async def _subscribe_all(ws: WsSupervisor, symbols: list[str], streams: Callable[[list[str]], list[str]]) -> None:
    """Subscribe ``symbols``, and any added while we were sending (until ``connected`` is set,
    ``subscribe`` leaves new symbols to this loop)."""
    sent: set[str] = set()
    while todo := [s for s in symbols if s not in sent]:
        await _subscribe(ws, streams(todo))
        sent.update(todo)


async def _subscribe(ws: WsSupervisor, streams: list[str]) -> None:
    for i in range(0, len(streams), SUBSCRIBE_CHUNK):
        await ws.send({"method": "SUBSCRIBE", "params": streams[i : i + SUBSCRIBE_CHUNK], "id": i + 1})
