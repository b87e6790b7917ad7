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
"""Streams per SUBSCRIBE message (the venue takes 10 messages a second and 200 streams a socket)."""
DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


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
        """symbol -> (mark price_i, local ms received)."""
        self.public: WsSupervisor | None = None
        self.market: WsSupervisor | None = None
        self._resyncing: set[str] = set()
        self.venue_errors: list[Any] = []

    def detach(self) -> None:
        """The owner stopped (and closed the sockets): the next subscribe opens new ones."""
        self.public = self.market = None
        self._resyncing.clear()
        for sync in self.books.values():
            sync.reset()

    def top(self, symbol: str) -> tuple[int | None, int | None] | None:
        """The touch as shown while the book is synced and its socket up; None otherwise."""
        sync = self.books.get(symbol)
        if sync is None or not sync.live or self.public is None or not self.public.connected.is_set():
            return None
        return sync.top()

    def mark(self, symbol: str, max_age_ms: int) -> int | None:
        known = self.marks.get(symbol)
        if known is None or self.owner.clock.now_ms() - known[1] > max_age_ms:
            return None
        return known[0]

    async def subscribe(self, markets: list[wire.Filters]) -> None:
        new = []
        for f in markets:
            if f.symbol not in self.books:
                self.books[f.symbol] = DepthSync(f.symbol, f.price_decimals, f.size_decimals)
                self.filters[f.symbol] = f
                new.append(f.symbol)
        if self.public is None:
            if not self.books:
                return
            options = {"parse": decode, **self.ws_options}
            self.public = self.owner.supervise_ws(
                "public", self.url_for("public"), on_message=self._on_public, on_connect=self._on_public_connect,
                **options,
            )  # fmt: skip
            self.market = self.owner.supervise_ws(
                "market", self.url_for("market"), on_message=self._on_market, on_connect=self._on_market_connect,
                **options,
            )  # fmt: skip
            await self.public.start()
            await self.market.start()
            return
        if not new:
            return
        for ws, streams in ((self.public, _public_streams(new)), (self.market, _market_streams(new))):
            if ws is not None and ws.connected.is_set():
                with contextlib.suppress(VenueError):  # a drop now resubscribes everything on reconnect
                    await _subscribe(ws, streams)

    async def _on_public_connect(self, ws: WsSupervisor) -> None:
        now = self.owner.clock.now_ms()
        for sync in self.books.values():
            was_live = sync.live
            sync.reset()
            if was_live:
                self.owner.emit("book", sync.stale_marker("reconnected; re-syncing from a snapshot", now))
        await _subscribe(ws, _public_streams(sorted(self.books)))

    async def _on_market_connect(self, ws: WsSupervisor) -> None:
        await _subscribe(ws, _market_streams(sorted(self.books)))

    def _ack(self, msg: dict[str, Any]) -> bool:
        if "id" in msg and ("result" in msg or "error" in msg):
            if msg.get("error") or msg.get("result") is not None:
                self.venue_errors.append(msg)
                log.warning("binance-usdm stream answered %.200s", msg)
            return True
        return False

    def _on_public(self, msg: dict[str, Any]) -> None:
        kind = msg.get("e")
        if kind == "depthUpdate":
            sync = self.books.get(msg["s"])
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
                        weight=DEPTH_WEIGHT[self.depth_limit],
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


async def _subscribe(ws: WsSupervisor, streams: list[str]) -> None:
    for i in range(0, len(streams), SUBSCRIBE_CHUNK):
        await ws.send({"method": "SUBSCRIBE", "params": streams[i : i + SUBSCRIBE_CHUNK], "id": i + 1})
