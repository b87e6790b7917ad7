"""Hyperliquid perpetuals.

Three concerns, kept apart: metadata (``meta`` + asset contexts: asset ids, decimals, the
5-significant-figure tick), market data (one websocket carrying ``l2Book`` full snapshots,
``bbo`` and ``trades``) and orders/account (L1 actions signed by an API wallet and POSTed to
``/exchange``; reads and private streams keyed by the *master* address).

Prices: the venue accepts at most 5 significant figures (integers always) and ``6 - szDecimals``
decimals.  A price off that grid is rounded to the nearest valid price on the trader's side (a
buy down, a sell up: never a worse limit than asked) before signing; a price with nothing valid
on that side is refused with ``InvalidOrder``.  Orders carry a cloid derived from the client
order index, so every update maps back to the order service's order.

The venue answers ``"ok"`` even when an order inside the request failed; each per-order
``{"error": ...}`` is raised as the matching ``connector.errors`` type.  The streams have no
replay: after a reconnect the connector resubscribes (the book and fills arrive as snapshots) and
the runtime's reconciler asks REST for what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

import orjson

from connector.base import BaseConnector
from connector.clock import Clock
from connector.errors import AuthError, ConfigError, InvalidOrder, UnknownOrder, VenueError
from connector.hyperliquid import wire
from connector.interface import BookUpdate, Margin, MarketInfo, OrderSnapshot, Position, Trade
from connector.scaling import str_to_scaled
from connector.transport.http import HttpClient
from connector.transport.ratelimit import RateLimiter
from connector.transport.ws import WsSupervisor

log = logging.getLogger(__name__)

STREAM = "hyperliquid"
WEIGHT_PER_S = 20
"""The venue allows 1200 request weight a minute per IP."""
HISTORY_MARGIN_MS = 60_000
"""Snapshot fills older than the start minus this are history (the account snapshot covers them)."""
_INFO_WEIGHT = {"l2Book": 2, "allMids": 2, "clearinghouseState": 2, "orderStatus": 2}
"""Every other ``/info`` request weighs 20; an action 1 (+1 per 40 orders in a batch)."""
_AUTH_HINTS = ("does not exist", "Must deposit before performing actions")


class HyperliquidConnector(BaseConnector):
    venue = "hyperliquid"
    capabilities = frozenset({"amend", "dead_man_switch"})

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ws_url: str | None = None,
        testnet: bool = False,
        keys: dict[str, Any] | None = None,
        clock: Clock | None = None,
        request_timeout_s: float = 10.0,
        stale_after_s: float = 60.0,
        ping_interval_s: float = 50.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        market_slippage_bps: int = 500,
        info_retries: int = 3,
        vault_address: str | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self._crypto = wire.crypto()  # the install hint at construction, not at the first order
        self.base_url = (base_url or (wire.TESTNET_URL if testnet else wire.MAINNET_URL)).rstrip("/")
        self.ws_url = ws_url or "ws" + self.base_url[4:] + "/ws"
        self.is_mainnet = self.base_url == wire.MAINNET_URL  # the SDK's rule: every other URL signs as testnet
        self.request_timeout_s = request_timeout_s
        self.stale_after_s, self.ping_interval_s = stale_after_s, ping_interval_s
        self.reconnect_min_s, self.reconnect_max_s = reconnect_min_s, reconnect_max_s
        self.market_slippage_bps, self.info_retries = market_slippage_bps, info_retries
        self.vault_address = vault_address
        self._wallet: Any = None
        self.account_address: str | None = None
        if keys:
            self._load_keys(keys)
        self.nonces = wire.NonceCounter()
        self._reads: HttpClient | None = None
        self._actions: HttpClient | None = None
        self._stream: WsSupervisor | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._markets: dict[str, MarketInfo] = {}
        self._assets: dict[str, int] = {}
        self._coi_of_oid: dict[int, int] = {}
        self._orders: dict[int, tuple[bool, bool, str]] = {}
        """client order index -> (is_buy, reduce_only, tif) of orders we placed (what a modify resends)."""
        self._books: dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {}
        self._md: set[str] = set()
        self._positions: set[str] = set()
        self.venue_errors: list[Any] = []
        self._history_before_ms = 0

    def _load_keys(self, keys: dict[str, Any]) -> None:
        secret = keys.get("private_key")
        if not secret:
            raise ConfigError(
                "hyperliquid key file has no 'private_key': add the API wallet's key (see docs/venues/hyperliquid.md)"
            )
        raw = secret.reveal() if hasattr(secret, "reveal") else str(secret)
        try:
            self._wallet = self._crypto.Account.from_key(raw)
        except Exception:
            raise ConfigError("hyperliquid key file: 'private_key' is not a valid 32-byte hex key") from None
        address = keys.get("account_address") or self._wallet.address
        if not (isinstance(address, str) and address.startswith("0x") and len(address) == 42):
            raise ConfigError("hyperliquid key file: 'account_address' must be the master account's 0x address")
        self.account_address = address

    def __repr__(self) -> str:
        return f"<HyperliquidConnector url={self.base_url} account={self.account_address}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self._stream is None:
            budget = RateLimiter(WEIGHT_PER_S, 10 * WEIGHT_PER_S, clock=self.clock)
            common = {"timeout_s": self.request_timeout_s, "rate_limiter": budget}
            # reads are safe to repeat, a 429 included; an action answered 429 was not acted on: say so at once
            self._reads = self.http_client(self.base_url, max_429_retries=self.info_retries, **common)
            self._actions = self.http_client(self.base_url, max_429_retries=0, **common)
            self._stream = self.supervise_ws(
                STREAM, self.ws_url, on_message=self._on_frame, on_connect=self._on_connect, parse=_parse_frame,
                stale_after_s=self.stale_after_s, ping_interval_s=None, open_timeout_s=self.request_timeout_s,
                backoff_base_s=self.reconnect_min_s, backoff_max_s=self.reconnect_max_s, max_frame_bytes=2**24,
            )  # fmt: skip
        await self.list_markets()
        self._history_before_ms = self.clock.now_ms() - HISTORY_MARGIN_MS
        await self.start_streams()
        self._pinger = asyncio.create_task(self._ping(), name="hyperliquid-ping")
        self.started = True

    async def stop(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None
        await super().stop()
        self._stream = self._reads = self._actions = None

    @property
    def malformed_frames(self) -> int:
        return self.stream_malformed_frames()

    @property
    def reconnects(self) -> int:
        return max(0, self._stream.connects - 1) if self._stream is not None else 0

    def _connected(self) -> bool:
        return self._stream is not None and self._stream.connected.is_set()

    # -- HTTP ------------------------------------------------------------------------------

    async def _post(self, client: HttpClient | None, path: str, body: dict[str, Any], cost: int) -> Any:
        if client is None:
            raise VenueError("hyperliquid connector is not started")
        return await client.post_json(path, body, cost=cost, idempotent=path == "/info")

    async def _info(self, body: dict[str, Any]) -> Any:
        return await self._post(self._reads, "/info", body, _INFO_WEIGHT.get(body["type"], 20))

    def _user(self) -> str:
        if self.account_address is None:
            raise AuthError(
                "hyperliquid: no key file; account data and trading need one (see docs/venues/hyperliquid.md)"
            )
        return self.account_address

    async def _exchange(self, action: dict[str, Any]) -> Any:
        """Sign and send one L1 action; returns ``response.data`` (or the whole response) of an "ok"."""
        if self._wallet is None:
            raise AuthError("hyperliquid: no API wallet key; trading needs a key file (see docs/venues/hyperliquid.md)")
        if self._actions is None:
            raise VenueError("hyperliquid connector is not started")
        batch = len(action.get("orders") or action.get("cancels") or action.get("modifies") or ())
        # Wait for the rate budget *before* taking a nonce: the venue only accepts a nonce above the
        # lowest of the last 100 it saw, so a nonce that queued behind others arrives stale.
        for attempt in (1, 2):
            if self._actions.rate_limiter is not None:
                await self._actions.rate_limiter.acquire(1 + batch // 40)
            nonce = self.nonces.next(self.clock.now_ms())
            signature = wire.sign_l1_action(
                self._wallet, action, nonce, is_mainnet=self.is_mainnet, vault_address=self.vault_address
            )
            body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": self.vault_address}
            answer = await self._post(self._actions, "/exchange", body, 0)
            # A nonce refused as stale (it waited behind 100 newer ones) means nothing was done: sign afresh once.
            if attempt == 1 and isinstance(answer, dict) and str(answer.get("response", "")).startswith("Invalid nonce"):
                continue
            break
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            message = str(answer.get("response") if isinstance(answer, dict) else answer)[:300]
            info = {"response": answer, "action": action["type"]}
            if any(hint in message for hint in _AUTH_HINTS):
                raise AuthError(
                    f"hyperliquid refused the signature ({message}): check that the API wallet is approved for "
                    f"{self.account_address} and that the URL is the network the key was approved on",
                    info=info,
                )
            raise wire.order_error(message, info)
        response = answer.get("response") or {}
        return response.get("data", response) if isinstance(response, dict) else response

    # -- metadata --------------------------------------------------------------------------

    async def list_markets(self) -> list[MarketInfo]:
        body = await self._info({"type": "metaAndAssetCtxs"})
        meta, ctxs = (body[0], body[1]) if isinstance(body, list) else (body, None)
        for asset, info in wire.parse_meta(meta, ctxs):
            self._markets[info.symbol] = info
            self._assets[info.symbol] = asset
        return list(self._markets.values())

    def _market(self, symbol: str) -> MarketInfo:
        try:
            return self._markets[symbol]
        except KeyError:
            known = ", ".join(sorted(self._markets)[:12])
            raise InvalidOrder(f"hyperliquid has no perp {symbol!r}" + (f"; e.g. {known}" if known else "")) from None

    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]:
        m = self._market(symbol)
        return m.price_decimals, m.size_decimals

    async def get_min_size_i(self, symbol: str) -> int:
        return self._market(symbol).min_size_i

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        m = self._market(symbol)
        book = self._books.get(symbol) if symbol in self._md and self._connected() else None
        if book is None:
            raw = await self._info({"type": "l2Book", "coin": symbol})
            levels = raw["levels"]
            book = (
                wire.parse_levels(levels[0], m.price_decimals, m.size_decimals),
                wire.parse_levels(levels[1], m.price_decimals, m.size_decimals),
            )
        bids, asks = book
        return (bids[0][0] if bids else None, asks[0][0] if asks else None, 10**m.price_decimals)

    # -- streams ---------------------------------------------------------------------------

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._market(symbol)
            if symbol in self._md:
                continue
            self._md.add(symbol)
            if self._stream is not None and self._connected():
                with contextlib.suppress(VenueError):
                    await self._subscribe_coin(self._stream, symbol)

    @staticmethod
    async def _subscribe(ws: WsSupervisor, kind: str, **key: str) -> None:
        await ws.send({"method": "subscribe", "subscription": {"type": kind, **key}})

    async def _subscribe_coin(self, ws: WsSupervisor, coin: str) -> None:
        for kind in ("l2Book", "bbo", "trades"):
            await self._subscribe(ws, kind, coin=coin)

    async def _on_connect(self, ws: WsSupervisor) -> None:
        """Every (re)connect: nothing is replayed, so subscribe to everything again (books and fills
        come back as snapshots; the reconciler asks REST about orders)."""
        self._books.clear()
        for coin in sorted(self._md):
            await self._subscribe_coin(ws, coin)
        if self.account_address is not None:
            for kind in ("orderUpdates", "userFills", "clearinghouseState"):
                await self._subscribe(ws, kind, user=self.account_address)

    async def _ping(self) -> None:
        """The venue closes a socket it has not heard from in 60 s; its pong also feeds the stale watch."""
        while True:
            await self.clock.sleep(self.ping_interval_s)
            if self._stream is not None and self._connected():
                with contextlib.suppress(VenueError):
                    await self._stream.send({"method": "ping"})

    def _on_frame(self, msg: Any) -> None:
        if msg is not None:
            self._dispatch(msg["channel"], msg.get("data"))

    def _dispatch(self, channel: str, data: Any) -> None:
        now = self.clock.now_ms()
        if channel in ("subscriptionResponse", "pong", "post"):
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
                if raw["coin"] in self._markets:
                    m = self._markets[raw["coin"]]
                    self.emit("trade", Trade(
                        m.symbol, str_to_scaled(raw["px"], m.price_decimals), str_to_scaled(raw["sz"], m.size_decimals),
                        raw["side"] == "A", int(raw["time"]), str(raw.get("tid", "")), raw,
                    ))  # fmt: skip
        elif channel == "orderUpdates":
            for raw in data:
                order = raw["order"]
                m = self._market(order["coin"])
                self.emit(
                    "order",
                    wire.parse_order(order, raw["status"], m, int(raw.get("statusTimestamp") or now), self._coi_of_oid),
                )
        elif channel == "userFills":
            # a snapshot repeats up to 2000 old fills: pass on only those since shortly before we started
            since = self._history_before_ms if data.get("isSnapshot") else 0
            for raw in data["fills"]:
                if raw["coin"] in self._markets and int(raw["time"]) >= since:
                    self.emit("fill", wire.parse_fill(raw, self._markets[raw["coin"]], self._coi_of_oid))
        elif channel == "clearinghouseState":
            self._on_account(data["clearinghouseState"], now)
        elif channel not in ("user", "notification", "webData2", "openOrders", "activeAssetData"):
            raise ValueError(f"unknown channel {channel!r}")

    def _on_book(self, data: dict[str, Any]) -> None:
        coin = data["coin"]
        if coin not in self._md:
            return
        m = self._markets[coin]
        bids = wire.parse_levels(data["levels"][0], m.price_decimals, m.size_decimals)
        asks = wire.parse_levels(data["levels"][1], m.price_decimals, m.size_decimals)
        self._books[coin] = (bids, asks)
        self.emit("book", BookUpdate(coin, bids, asks, True, int(data["time"]), None, data))

    def _on_bbo(self, data: dict[str, Any]) -> None:
        """A fresher touch than the last ``l2Book``: levels it has taken out go, the depth behind stays."""
        coin = data["coin"]
        if coin not in self._md or coin not in self._books:
            return
        m = self._markets[coin]
        bid, ask = data["bbo"]
        bids, asks = self._books[coin]
        if bid is not None:
            b = wire.parse_levels([bid], m.price_decimals, m.size_decimals)[0]
            bids = (b, *(lv for lv in bids if lv[0] < b[0]))
        if ask is not None:
            a = wire.parse_levels([ask], m.price_decimals, m.size_decimals)[0]
            asks = (a, *(lv for lv in asks if lv[0] > a[0]))
        if (bids, asks) == self._books[coin]:
            return
        self._books[coin] = (bids, asks)
        self.emit("book", BookUpdate(coin, bids, asks, True, int(data["time"]), None, data))

    def _on_account(self, state: dict[str, Any], now: int) -> None:
        seen = set()
        for position in self._parse_positions(state, now):
            seen.add(position.symbol)
            self.emit("position", position)
        for gone in sorted(self._positions - seen):  # closed since the last state: say so once
            self.emit("position", Position(gone, 0, 0, 0, 0, ts_ms=now))
        self._positions = seen
        self.emit("margin", wire.parse_margin(state, now))

    def _parse_positions(self, state: dict[str, Any], now: int) -> list[Position]:
        out = []
        for raw in state.get("assetPositions") or []:
            coin = raw.get("position", raw)["coin"]
            if coin in self._markets:
                position = wire.parse_position(raw, self._markets[coin], int(state.get("time") or now))
                if position.size_i:
                    out.append(position)
        return out

    # -- orders ----------------------------------------------------------------------------

    def _wire_order(
        self, symbol: str, coi: int, size_i: int, price_i: int, is_buy: bool, reduce_only: bool, tif: str
    ) -> dict[str, Any]:
        m = self._market(symbol)
        if size_i <= 0:
            raise InvalidOrder(f"order size must be positive, got {size_i}")
        price_i = wire.round_price(price_i, m.price_decimals, up=not is_buy)
        return wire.order_wire(
            self._assets[symbol], is_buy, wire.to_wire(price_i, m.price_decimals),
            wire.to_wire(size_i, m.size_decimals), reduce_only, tif, wire.cloid_from_index(coi) if coi >= 0 else None,
        )  # fmt: skip

    async def _place(self, action: dict[str, Any], coi: int, what: str) -> str:
        data = await self._exchange(action)
        statuses = data.get("statuses") if isinstance(data, dict) else None
        if not statuses:
            raise VenueError(f"hyperliquid {what}: no order status in the answer", info={"response": data})
        status = statuses[0]
        error = wire.status_error(status, what)
        if error is not None:
            raise error
        body = status.get("resting") or status.get("filled") or {}
        oid = int(body["oid"])
        self._coi_of_oid[oid] = coi
        return str(oid)

    async def submit_limit_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        post_only: bool = False,
        reduce_only: bool = False,
        ioc: bool = False,
    ) -> str:
        """Returns the venue's oid once the order rests or filled; a per-order error is raised."""
        if post_only and ioc:
            raise InvalidOrder("an order cannot be both post-only and immediate-or-cancel")
        tif = "Ioc" if ioc else "Alo" if post_only else "Gtc"
        order = self._wire_order(symbol, client_order_index, base_amount, price, not is_ask, reduce_only, tif)
        self._orders[client_order_index] = (not is_ask, reduce_only, tif)
        return await self._place(wire.order_action([order]), client_order_index, "order")

    async def submit_market_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        size_i: int,
        is_ask: bool,
        reduce_only: bool = False,
        worst_price_i: int | None = None,
    ) -> str:
        """An IOC limit at the touch ± ``market_slippage_bps`` (or ``worst_price_i``): the venue has no market type."""
        if worst_price_i is None:
            worst_price_i = await self.market_worst_price(symbol, is_ask, self.market_slippage_bps)
        return await self.submit_limit_order(
            symbol=symbol, client_order_index=client_order_index, base_amount=size_i, price=worst_price_i,
            is_ask=is_ask, reduce_only=reduce_only, ioc=True,
        )  # fmt: skip

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        """``batchModify`` by cloid: same side, flags and cloid, new price and remaining size."""
        spec = self._orders.get(client_order_index)
        if spec is None:
            snap = await self.get_order(symbol, client_order_index)
            if not snap.status.is_live:
                raise UnknownOrder(f"hyperliquid {symbol}: order {client_order_index} is {snap.status}, not open")
            spec = (not snap.is_ask, snap.reduce_only, "Alo" if snap.post_only else "Gtc")
        is_buy, reduce_only, tif = spec
        order = self._wire_order(symbol, client_order_index, base_amount, price, is_buy, reduce_only, tif)
        action = {"type": "batchModify", "modifies": [{"oid": wire.order_ref(client_order_index), "order": order}]}
        return await self._place(action, client_order_index, "modify")

    async def _cancel(self, action: dict[str, Any], what: str) -> list[Any]:
        data = await self._exchange(action)
        return list(data.get("statuses") or []) if isinstance(data, dict) else []

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        if client_order_index < 0:  # placed elsewhere without a cloid: named by its oid
            await self.cancel_by_order_id(symbol, str(-client_order_index))
            return
        cloid = wire.cloid_from_index(client_order_index)
        asset = self._assets[self._market(symbol).symbol]
        statuses = await self._cancel(
            {"type": "cancelByCloid", "cancels": [{"asset": asset, "cloid": cloid}]}, "cancel"
        )
        self._raise_first(statuses, "cancel")

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        try:
            oid = int(order_id)
        except ValueError:
            raise InvalidOrder(f"hyperliquid order ids are integers, got {order_id!r}") from None
        asset = self._assets[self._market(symbol).symbol]
        statuses = await self._cancel({"type": "cancel", "cancels": [{"a": asset, "o": oid}]}, "cancel")
        self._raise_first(statuses, "cancel")

    @staticmethod
    def _raise_first(statuses: list[Any], what: str) -> None:
        for status in statuses:
            error = wire.status_error(status, what)
            if error is not None:
                raise error

    async def cancel_all(self, symbol: str | None = None) -> None:
        """The venue has no cancel-all: cancel every listed open order in one batch (gone ones are fine)."""
        open_orders = await self.get_open_orders(symbol)
        if not open_orders:
            return
        cancels = [{"a": self._assets[o.symbol], "o": int(o.order_id or 0)} for o in open_orders]
        for status in await self._cancel({"type": "cancel", "cancels": cancels}, "cancel-all"):
            error = wire.status_error(status, "cancel-all")
            if error is not None and not isinstance(error, UnknownOrder):
                raise error

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """Dead man's switch (``scheduleCancel``): at least 5 s ahead; None disarms.  The venue allows
        10 triggers a day."""
        action: dict[str, Any] = {"type": "scheduleCancel"}
        if after_s is not None:
            if after_s < 5:
                raise InvalidOrder(f"hyperliquid schedules cancel-all at least 5 s ahead, got {after_s:g} s")
            action["time"] = self.clock.now_ms() + int(after_s * 1000)
        await self._exchange(action)

    # -- account ---------------------------------------------------------------------------

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        m = self._market(symbol)
        body = await self._info(
            {"type": "orderStatus", "user": self._user(), "oid": wire.order_ref(client_order_index)}
        )
        if not isinstance(body, dict) or body.get("status") != "order":
            raise UnknownOrder(
                f"hyperliquid {symbol}: no order with client index {client_order_index}", info={"response": body}
            )
        entry = body["order"]
        if entry["order"]["coin"] != symbol:
            raise UnknownOrder(f"hyperliquid: order {client_order_index} is on {entry['order']['coin']}, not {symbol}")
        snap = wire.parse_order(
            entry["order"], entry["status"], m, int(entry.get("statusTimestamp") or 0), self._coi_of_oid
        )
        self._coi_of_oid[int(snap.order_id or 0)] = client_order_index
        return snap

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        if symbol is not None:
            self._market(symbol)
        rows = await self._info({"type": "frontendOpenOrders", "user": self._user()})
        now = self.clock.now_ms()
        return [
            wire.parse_order(raw, "open", self._markets[raw["coin"]], now, self._coi_of_oid)
            for raw in rows
            if raw["coin"] in self._markets and (symbol is None or raw["coin"] == symbol)
        ]

    async def _clearinghouse(self) -> dict[str, Any]:
        return dict(await self._info({"type": "clearinghouseState", "user": self._user()}))

    async def get_positions(self) -> list[Position]:
        return self._parse_positions(await self._clearinghouse(), self.clock.now_ms())

    async def get_margin(self) -> Margin:
        return wire.parse_margin(await self._clearinghouse(), self.clock.now_ms())


def _parse_frame(raw: str | bytes) -> Any:
    """JSON, except the plain-text greeting the venue sends on connect."""
    if isinstance(raw, str) and raw.startswith("Websocket connection established"):
        return None
    return orjson.loads(raw)
