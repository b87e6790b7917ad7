"""A protocol-faithful fake Backpack Exchange on 127.0.0.1, backed by the sim engine.

REST under ``/api/v1/...`` and ``/wapi/v1/...`` and the websocket at ``/`` (one socket for public
and private streams), with Backpack's payload shapes: decimal strings, ``Bid``/``Ask``, order
objects discriminated by ``orderType``, JSON error bodies ``{"code", "message"}``, ``/api/v1/time``
as text/plain, REST depth with ascending bids and a string ``lastUpdateId``, ``depth.<symbol>``
events chained on ``U``/``u`` with padded decimals, µs stamps, and ``account.*`` streams behind
a signed SUBSCRIBE.

Every signed request is verified the venue's way: the instruction for its method and path, the
sorted body or query, ``timestamp`` and ``window`` (refused outside the window of the fake's own
clock, which can be skewed), and the ED25519 signature against the registered public key.

Where the venue's behaviour is not documented the fake picks one and says so: a cancel of an
unknown order answers 400 ``INVALID_CLIENT_REQUEST`` "Order not found" (as a third-party client
observed), a stale timestamp 400 "Invalid timestamp: must be within ..." , a post-only that would
take 400 ``INVALID_ORDER`` "Order would immediately match and take." (or, with
``post_only_mode = "expire"``, an order that comes back ``Expired`` with reason ``PostOnlyTaker``).

Fault switches (for the tests and the chaos suite, which runs the fake as its own process):
``drop_sockets()``, ``skip_depth_seq(symbol)``, ``send_malformed(n)``, ``rate_limit(n)``,
``stall(seconds)``, ``clock_skew_ms``, ``set_book_state(symbol, state)``, ``post_only_mode``,
``depth_lag`` (REST snapshots lag the stream by that many events).  From another process:
``POST /_fake/<switch>`` with the arguments as JSON (``/_fake/set`` for the attributes); every
answer, and ``POST /_fake/state``, lists the open orders and positions the venue holds.

Standalone, for a console demo::

    python -m tests.fakes.backpack --port 8803 --key-file demo-keys/backpack.toml
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing
from aiohttp import WSMsgType, web

from connector.clock import Clock, RealClock
from connector.errors import InsufficientMargin, InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder
from connector.interface import QUOTE_DECIMALS, Fill, Margin, OrderSnapshot, OrderStatus, Position, Trade
from connector.scaling import scaled_to_str
from connector.sim.engine import SimEngine, SimMarketSpec
from tests.fakes.backpack_leverage import AccountSettings

MARKETS = (
    SimMarketSpec("BTC_USDC_PERP", "BTC", 1, 5, min_size_i=10, start_price_i=650_000, max_leverage=50,
                  level_size_i=50_000, trade_size_i=10_000, level_gap_ticks=5, vol_ticks=3.0),
    SimMarketSpec("ETH_USDC_PERP", "ETH", 2, 4, min_size_i=10, start_price_i=340_000, max_leverage=50,
                  level_size_i=50_000, trade_size_i=10_000, level_gap_ticks=3, vol_ticks=2.0, tick_i=5),
    SimMarketSpec("SOL_USDC_PERP", "SOL", 2, 2, min_size_i=1, start_price_i=15_000, max_leverage=20,
                  level_size_i=20_000, trade_size_i=2_000, level_gap_ticks=5, vol_ticks=2.0),
)  # fmt: skip
"""ETH's tick is 0.05: not a power of ten."""

INSTRUCTIONS = {
    ("POST", "/api/v1/order"): "orderExecute",
    ("POST", "/api/v1/orders"): "orderExecute",
    ("DELETE", "/api/v1/order"): "orderCancel",
    ("DELETE", "/api/v1/orders"): "orderCancelAll",
    ("GET", "/api/v1/order"): "orderQuery",
    ("GET", "/api/v1/orders"): "orderQueryAll",
    ("GET", "/api/v1/position"): "positionQuery",
    ("GET", "/api/v1/capital/collateral"): "collateralQuery",
    ("GET", "/api/v1/account"): "accountQuery",
    ("PATCH", "/api/v1/account"): "accountUpdate",
    ("GET", "/wapi/v1/history/orders"): "orderHistoryQueryAll",
    ("GET", "/wapi/v1/history/fills"): "fillHistoryQueryAll",
}
NO_CLIENT_ID = 2**33
"""Engine indices for orders sent without a clientId start here (never a uint32)."""
_STATUS = {
    OrderStatus.OPEN: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.EXPIRED: "Expired",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _scalar(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _query(instruction: str, params: dict[str, Any]) -> str:
    parts = [f"instruction={instruction}"] + [f"{k}={_scalar(params[k])}" for k in sorted(params)]
    return "&".join(parts)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass
class _Client:
    ws: web.WebSocketResponse
    subs: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


@dataclass
class _Book:
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    u: int = 10_000
    history: deque[tuple[int, dict[int, int], dict[int, int]]] = field(default_factory=lambda: deque(maxlen=64))


class FakeBackpack(AccountSettings):
    def __init__(
        self,
        engine: SimEngine | None = None,
        *,
        clock: Clock | None = None,
        step_s: float = 0.05,
        depth: int = 20,
        heartbeat_s: float = 60.0,
        seed: int = 7,
    ) -> None:
        self.clock = clock or RealClock()
        self.engine = engine or SimEngine(seed, clock=self.clock, markets=list(MARKETS))
        self.step_s, self.depth, self.heartbeat_s = step_s, depth, heartbeat_s
        self.rng = random.Random(seed)
        self.keys: dict[str, nacl.signing.VerifyKey] = {}
        self.book_state = {s: "Open" for s in self.engine.markets}
        self.funding: dict[str, str] = {}
        """symbol -> the funding rate ``/api/v1/markPrices`` reports."""
        self.clock_skew_ms = 0
        self.post_only_mode = "error"
        self.depth_lag = 0
        self.pad_decimals = True
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        """Accepted signed requests: (method, path, params or body)."""
        self.refused: list[tuple[str, str]] = []
        """Refused requests: (path, error code)."""
        self.subscribes: list[str] = []
        self.http_log: list[tuple[str, str]] = []
        """Every HTTP request: (method, path)."""
        self.ws_asked: list[str] = []
        """Every stream a client asked to subscribe, granted or not."""
        self._meta: dict[str, dict[str, Any]] = {}
        self._fills: list[dict[str, Any]] = []
        self._placing: list[Any] | None = None
        self._positions: dict[str, int] = {}
        self._books: dict[str, _Book] = {}
        self._skip: set[str] = set()
        self._clients: list[_Client] = []
        self._stall_until = 0.0
        self._rate_limited, self._retry_after = 0, 1
        self._oids = itertools.count(4_228_978_330)
        self._armed: dict[int, str] = {}
        """Trigger orders the engine holds armed: client index -> the trigger's order id."""
        self._no_cid = itertools.count(NO_CLIENT_ID)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self.engine.subscribe(self._on_engine_event, set(self.engine.markets))
        AccountSettings.__init__(self)

    # -- lifecycle, keys, faults ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def server_ms(self) -> int:
        return self.clock.now_ms() + self.clock_skew_ms

    def new_key(self) -> tuple[str, str]:
        """A fresh API key the fake accepts: (base64 public key, base64 32-byte seed)."""
        key = nacl.signing.SigningKey.generate()
        public = base64.b64encode(bytes(key.verify_key)).decode()
        self.keys[public] = key.verify_key
        return public, base64.b64encode(bytes(key)).decode()

    def write_key_file(self, path: str | Path) -> Path:
        """A throwaway key file for this fake, created 0600 (never readable by others, not even briefly)."""
        public, secret = self.new_key()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f'# perpdesk key file for the fake Backpack venue (a throwaway key)\napi_key = "{public}"\n'
                         f'api_secret = "{secret}"\n')  # fmt: skip
        os.chmod(path, 0o600)
        return path

    async def start(self, port: int = 0) -> FakeBackpack:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/", self._stream)
        app.router.add_get("/api/v1/time", self._time)
        app.router.add_get("/api/v1/markets", self._markets)
        app.router.add_get("/api/v1/depth", self._depth)
        app.router.add_get("/api/v1/markPrices", self._mark_prices)
        app.router.add_post("/_fake/{switch}", self._control)
        for (method, path), _ in INSTRUCTIONS.items():
            app.router.add_route(method, path, self._signed)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.engine.advance_to(self.clock.now_ms())
        self._tasks = [asyncio.create_task(self._tick())]
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in list(self._clients):
            await client.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def drop_sockets(self) -> None:
        for client in list(self._clients):
            await client.ws.close(code=1011, message=b"fake: dropped")

    def skip_depth_seq(self, symbol: str | None = None) -> None:
        """The next depth event of ``symbol`` (every market if None) skips one update id."""
        self._skip |= {symbol} if symbol else set(self.engine.markets)

    def send_malformed(self, n: int = 1) -> None:
        junk = ["{not json", "[1, 2]", '{"stream": "depth.BTC_USDC_PERP"}', '{"stream": "nope.X", "data": {}}']
        for client in self._clients:
            for i in range(n):
                client.queue.put_nowait(junk[i % len(junk)])

    def rate_limit(self, n: int = 1, retry_after_s: int = 1) -> None:
        self._rate_limited, self._retry_after = n, retry_after_s

    def stall(self, seconds: float) -> None:
        self._stall_until = time.monotonic() + seconds

    def set_book_state(self, symbol: str, state: str) -> None:
        self.book_state[symbol] = state

    async def _control(self, request: web.Request) -> web.Response:
        """The fault switches over HTTP, for a runner in another process (the chaos suite), and the
        venue's view of the account (what it still holds after our side was killed)."""
        switch = request.match_info["switch"]
        args = await request.json() if request.can_read_body else {}
        if switch == "drop_sockets":
            await self.drop_sockets()
        elif switch == "skip_depth_seq":
            self.skip_depth_seq(args.get("symbol"))
        elif switch == "send_malformed":
            self.send_malformed(int(args.get("n", 1)))
        elif switch == "rate_limit":
            self.rate_limit(int(args.get("n", 1)), int(args.get("retry_after_s", 1)))
        elif switch == "stall":
            self.stall(float(args["seconds"]))
        elif switch == "book_state":
            self.set_book_state(args["symbol"], args["state"])
        elif switch == "set":
            for name in ("clock_skew_ms", "post_only_mode", "depth_lag", "pad_decimals"):
                if name in args:
                    setattr(self, name, args[name])
        elif switch != "state":
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"no fault switch {switch!r}")
        return web.json_response({
            "open_orders": [self._order(o) for o in self.engine.open_orders()],
            "positions": [self._position_row(p) for p in self.engine.positions()],
            "clients": len(self._clients),
        })  # fmt: skip

    # -- REST: public --------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.http_log.append((request.method, request.path))
        if request.path.startswith(("/api/", "/wapi/")) and self._rate_limited > 0:
            self._rate_limited -= 1
            self.refused.append((request.path, "TOO_MANY_REQUESTS"))
            return web.json_response({"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}, status=429,
                                     headers={"Retry-After": str(self._retry_after)})  # fmt: skip
        try:
            return await handler(request)
        except ApiError as exc:
            self.refused.append((request.path, exc.code))
            return web.json_response({"code": exc.code, "message": str(exc)}, status=exc.status)

    async def _time(self, request: web.Request) -> web.Response:
        return web.Response(text=str(self.server_ms()), content_type="text/plain")

    def _dec(self, symbol: str) -> tuple[int, int]:
        m = self.engine.markets[symbol]
        return m.price_decimals, m.size_decimals

    async def _markets(self, request: web.Request) -> web.Response:
        rows = []
        for symbol, m in self.engine.markets.items():
            pd, sd = m.price_decimals, m.size_decimals
            rows.append({
                "symbol": symbol, "baseSymbol": m.base, "quoteSymbol": "USDC", "marketType": "PERP",
                "filters": {
                    "price": {"minPrice": scaled_to_str(m.tick_i, pd), "maxPrice": scaled_to_str(10**(pd + 7), pd),
                              "tickSize": scaled_to_str(m.tick_i, pd), "maxMultiplier": "1.1", "minMultiplier": "0.9"},
                    "quantity": {"minQuantity": scaled_to_str(m.min_size_i, sd), "maxQuantity": None,
                                 "stepSize": scaled_to_str(m.step_i, sd)},
                },
                "imfFunction": {"type": "sqrt", "base": str(1 / m.max_leverage), "factor": "0.00015"},
                "mmfFunction": {"type": "sqrt", "base": "0.0125", "factor": "0.000092"},
                "fundingInterval": 28_800_000, "openInterestLimit": "600000",
                "orderBookState": self.book_state[symbol], "visible": True, "createdAt": "2025-01-21T06:34:54.691858",
            })  # fmt: skip
        rows.append({"symbol": "SOL_USDC", "baseSymbol": "SOL", "quoteSymbol": "USDC", "marketType": "SPOT",
                     "filters": {"price": {"tickSize": "0.01"}, "quantity": {"stepSize": "0.01"}},
                     "orderBookState": "Open", "visible": True})  # fmt: skip
        return web.json_response(rows)

    def _book(self, symbol: str) -> _Book:
        if symbol not in self._books:
            self._books[symbol] = _Book()
            self._refresh_book(symbol)
        return self._books[symbol]

    async def _mark_prices(self, request: web.Request) -> web.Response:
        """Every perp's mark and funding (``funding``: symbol -> rate, default ``0.0000125``), funding
        every eight hours like ``fundingInterval`` in ``/api/v1/markets`` says."""
        now = self.server_ms()
        wanted = request.query.get("symbol")
        rows = [{
            "symbol": s, "markPrice": scaled_to_str(self.engine.mark_i(s), m.price_decimals),
            "indexPrice": scaled_to_str(self.engine.mark_i(s), m.price_decimals),
            "fundingRate": self.funding.get(s, "0.0000125"), "nextFundingTimestamp": now - now % 28_800_000 + 28_800_000,
        } for s, m in self.engine.markets.items() if wanted in (None, s)]  # fmt: skip
        return web.json_response(rows)

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.engine.markets:
            raise ApiError(400, "INVALID_SYMBOL", f"Invalid symbol {symbol}")
        book = self._book(symbol)
        u, bids, asks = book.u, book.bids, book.asks
        if self.depth_lag and book.history:  # history[-1] is one event behind the stream
            u, bids, asks = book.history[max(0, len(book.history) - self.depth_lag)]
        pd, sd = self._dec(symbol)
        return web.json_response({
            "asks": [[scaled_to_str(p, pd), scaled_to_str(s, sd)] for p, s in sorted(asks.items())],
            "bids": [[scaled_to_str(p, pd), scaled_to_str(s, sd)] for p, s in sorted(bids.items())],
            "lastUpdateId": str(u), "timestamp": self.server_ms() * 1000,
        })  # fmt: skip

    # -- REST: signed --------------------------------------------------------------------

    async def _signed(self, request: web.Request) -> web.Response:
        instruction = INSTRUCTIONS[(request.method, request.path)]
        if request.method == "GET":
            payload: Any = dict(request.query)
        else:
            try:
                payload = json.loads(await request.text() or "{}")
            except ValueError:
                raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid JSON body") from None
        self._verify(request, instruction, payload)
        self.requests.append((request.method, request.path, payload))
        handler = {
            ("POST", "/api/v1/order"): self._execute, ("POST", "/api/v1/orders"): self._execute_batch,
            ("DELETE", "/api/v1/order"): self._cancel, ("DELETE", "/api/v1/orders"): self._cancel_all,
            ("GET", "/api/v1/order"): self._get_order, ("GET", "/api/v1/orders"): self._open_orders,
            ("GET", "/api/v1/position"): self._position, ("GET", "/api/v1/capital/collateral"): self._collateral,
            ("GET", "/api/v1/account"): self.account_settings, ("PATCH", "/api/v1/account"): self.update_account,
            ("GET", "/wapi/v1/history/orders"): self._order_history,
            ("GET", "/wapi/v1/history/fills"): self._fill_history,
        }[(request.method, request.path)]  # fmt: skip
        return web.json_response(handler(payload))

    def _verify(self, request: web.Request, instruction: str, payload: Any) -> None:
        h = request.headers
        key, signature, stamp = h.get("X-API-Key"), h.get("X-Signature"), h.get("X-Timestamp")
        if not key or not signature or not stamp:
            raise ApiError(401, "UNAUTHORIZED", "Missing signature headers")
        verify_key = self.keys.get(key)
        if verify_key is None:
            raise ApiError(401, "UNAUTHORIZED", "Unknown API key")
        try:
            ts, window = int(stamp), int(h.get("X-Window", "5000"))
        except ValueError:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid timestamp or window") from None
        if not 0 < window <= 60_000:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid window: maximum is 60000")
        now = self.server_ms()
        if now - ts > window or ts - now > 1000:
            raise ApiError(
                400, "INVALID_CLIENT_REQUEST", f"Invalid timestamp: must be within {window}ms of server time"
            )
        if isinstance(payload, list):
            message = "&".join(_query(instruction, item) for item in payload)
        else:
            message = _query(instruction, payload)
        try:
            verify_key.verify(f"{message}&timestamp={ts}&window={window}".encode(), base64.b64decode(signature))
        except (nacl.exceptions.BadSignatureError, ValueError):
            raise ApiError(401, "INVALID_SIGNATURE", "Invalid signature") from None

    def _symbol(self, payload: dict[str, Any], required: bool = True) -> str | None:
        symbol = payload.get("symbol")
        if symbol is None and not required:
            return None
        if symbol not in self.engine.markets:
            raise ApiError(400, "INVALID_SYMBOL", f"Invalid symbol {symbol}")
        return str(symbol)

    def _amount(self, text: Any, decimals: int, what: str, code: str) -> int:
        value = str(text or "")
        whole, _, frac = value.partition(".")
        if not whole.isdigit() or (frac and not frac.isdigit()):
            raise ApiError(400, code, f"Invalid {what}")
        if len(frac.rstrip("0")) > decimals:
            raise ApiError(400, code, f"{what.capitalize()} decimal too long")
        return int(whole + frac.rstrip("0").ljust(decimals, "0"))

    def _execute(self, body: dict[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(body)
        assert symbol is not None
        m, (pd, sd) = self.engine.markets[symbol], self._dec(symbol)
        cid = body.get("clientId")
        if cid is not None and (type(cid) is not int or not 0 <= cid < 2**32):
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "clientId must be a uint32")
        kind, side = body.get("orderType"), body.get("side")
        if kind not in ("Limit", "Market") or side not in ("Bid", "Ask"):
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid orderType or side")
        if body.get("triggerPrice") is not None:
            return self._execute_trigger(body, symbol, cid)
        post_only, tif = bool(body.get("postOnly")), body.get("timeInForce", "GTC")
        state = self.book_state[symbol]
        if (
            state != "Open"
            and not (state == "PostOnly" and post_only)
            and not (state == "LimitOnly" and kind == "Limit")
        ):
            raise ApiError(400, "INVALID_ORDER", f"Order book is {state}")
        size = self._amount(body.get("quantity"), sd, "quantity", "INVALID_QUANTITY")
        if size < m.min_size_i or size % m.step_i:
            raise ApiError(400, "INVALID_QUANTITY", "Quantity is below the minimum or off the step size")
        price = 0
        if kind == "Limit":
            price = self._amount(body.get("price"), pd, "price", "INVALID_PRICE")
            if price <= 0 or price % m.tick_i:
                raise ApiError(400, "INVALID_PRICE", "Price is not a multiple of the tick size")
            mid = self.engine.mid_i(symbol)
            if not mid * 9 // 10 <= price <= mid * 11 // 10:
                raise ApiError(400, "INVALID_PRICE", "Price is outside the allowed band around the mark price")
        engine_tif = "MARKET" if kind == "Market" else "POST_ONLY" if post_only else "IOC" if tif == "IOC" else "GTC"
        index = cid if cid is not None else next(self._no_cid)
        meta = {"orderType": kind, "timeInForce": tif if kind == "Limit" else "GTC", "postOnly": post_only,
                "clientId": cid, "createdAt": self.server_ms(), "quantity": size, "z": 0}  # fmt: skip
        self._placing = []
        try:
            snap = self.engine.place(symbol, client_order_index=index, is_ask=side == "Ask", price_i=price,
                                     size_i=size, tif=engine_tif, reduce_only=bool(body.get("reduceOnly")))  # fmt: skip
        except PostOnlyWouldCross:
            if self.post_only_mode != "expire":
                raise ApiError(400, "INVALID_ORDER", "Order would immediately match and take.") from None
            snap = OrderSnapshot(symbol, index, str(next(self._oids)), side == "Ask", price, size, 0,
                                 OrderStatus.EXPIRED, True, False, "PostOnlyTaker", self.clock.now_ms())  # fmt: skip
        except InsufficientMargin:
            raise ApiError(400, "INSUFFICIENT_MARGIN", "Insufficient margin") from None
        except OrderRejected as exc:
            if "already used" in str(exc):
                raise ApiError(400, "INVALID_ORDER", f"Order with client ID already exists: {cid}") from None
            raise ApiError(400, "INVALID_ORDER", "Reduce only order not reduced") from None
        except InvalidOrder as exc:
            raise ApiError(400, "INVALID_ORDER", str(exc)) from None
        finally:
            events, self._placing = self._placing, None
        oid = str(snap.order_id)
        self._meta[oid] = meta
        if snap.status is OrderStatus.EXPIRED:
            meta["expiryReason"] = "PostOnlyTaker"
        self._publish_order(snap, "orderAccepted", status="New", filled_i=0)
        for event in events:
            if isinstance(event, OrderSnapshot) and event.order_id == oid:
                continue
            self._on_engine_event(event)
        if snap.status is OrderStatus.CANCELLED or snap.status is OrderStatus.EXPIRED:
            meta.setdefault("expiryReason", "ImmediateOrCancel")
            self._publish_order(snap, "orderExpired", status="Expired", reason=meta["expiryReason"])
        self._meta[oid]["last"] = snap
        return self._order(snap)

    # -- trigger orders: the engine holds and fires them (connector.sim.triggers) --------------

    def _execute_trigger(self, body: dict[str, Any], symbol: str, cid: int | None) -> dict[str, Any]:
        """A trigger order: no kind on the wire; below the mark a sell is a stop (a buy a take-profit)."""
        m, (pd, sd) = self.engine.markets[symbol], self._dec(symbol)
        trigger = self._amount(body["triggerPrice"], pd, "triggerPrice", "INVALID_PRICE")
        if trigger <= 0 or trigger % m.tick_i:
            raise ApiError(400, "INVALID_PRICE", "Trigger price is not a multiple of the tick size")
        by = body.get("triggerBy", "LastPrice")
        if by not in ("MarkPrice", "LastPrice"):
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid triggerBy")
        qty = body.get("triggerQuantity", body.get("quantity"))
        size = None if qty == "100%" else self._amount(qty, sd, "triggerQuantity", "INVALID_QUANTITY")
        if size is not None and (size < m.min_size_i or size % m.step_i):
            raise ApiError(400, "INVALID_QUANTITY", "Quantity is below the minimum or off the step size")
        limit = None
        if body["orderType"] == "Limit":
            limit = self._amount(body.get("price"), pd, "price", "INVALID_PRICE")
            if limit <= 0 or limit % m.tick_i:
                raise ApiError(400, "INVALID_PRICE", "Price is not a multiple of the tick size")
        is_ask = body["side"] == "Ask"
        stop = (trigger < self.engine.mark_i(symbol)) == is_ask
        kind = ("stop" if stop else "take_profit") + ("_limit" if limit is not None else "_market")
        index = cid if cid is not None else next(self._no_cid)
        try:  # the sim has no last-price trigger: LastPrice watches its mid (the sim's mark is its mid)
            self.engine.triggers.add(symbol, client_order_index=index, kind=kind, is_ask=is_ask, trigger_price=trigger,
                                     size_i=size, limit_price=limit, trigger_on="mark" if by == "MarkPrice" else "mid",
                                     trail_i=None, trail_ppm=None, reduce_only=bool(body.get("reduceOnly")))  # fmt: skip
        except OrderRejected as exc:
            raise ApiError(400, "INVALID_ORDER", str(exc)) from None
        except InvalidOrder as exc:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", str(exc)) from None
        oid = str(next(self._oids))
        self._armed[index] = oid
        self._meta[oid] = {"orderType": body["orderType"], "timeInForce": "GTC", "postOnly": False, "clientId": cid,
                           "createdAt": self.server_ms(), "quantity": size or 0, "z": 0, "symbol": symbol,
                           "trigger": {"triggerPrice": body["triggerPrice"], "triggerBy": by, "triggerQuantity": qty,
                                       "side": body["side"], "price": body.get("price"), "reduceOnly": bool(body.get("reduceOnly"))}}  # fmt: skip
        self._publish_trigger(oid, "orderAccepted", "TriggerPending")
        return self._trigger_row(oid, "TriggerPending")

    def _trigger_row(self, oid: str, status: str) -> dict[str, Any]:
        meta = self._meta[oid]
        t = meta["trigger"]
        row = {
            "orderType": meta["orderType"], "id": oid, "clientId": meta["clientId"], "symbol": meta["symbol"],
            "side": t["side"], "executedQuantity": "0", "executedQuoteQuantity": "0", "status": status,
            "triggerPrice": t["triggerPrice"], "triggerBy": t["triggerBy"], "triggerQuantity": t["triggerQuantity"],
            "timeInForce": "GTC", "postOnly": False, "reduceOnly": t["reduceOnly"], "selfTradePrevention": "RejectTaker",
            "relatedOrderId": None, "createdAt": meta["createdAt"],
        }  # fmt: skip
        if meta["orderType"] == "Limit":
            row["price"] = t["price"]
        return row

    def _publish_trigger(self, oid: str, kind: str, status: str) -> None:
        row, now = self._trigger_row(oid, status), self.server_ms() * 1000
        data = {"e": kind, "E": now, "s": row["symbol"], "S": row["side"], "o": row["orderType"].upper(), "f": "GTC",
                "X": status, "i": oid, "z": "0", "Z": "0", "V": "RejectTaker", "r": row["reduceOnly"], "y": False,
                "O": "USER", "T": now, "P": row["triggerPrice"], "B": row["triggerBy"], "Y": row["triggerQuantity"]}  # fmt: skip
        if row["clientId"] is not None:
            data["c"] = row["clientId"]
        if "price" in row:
            data["p"] = row["price"]
        self._publish("account.orderUpdate", data)

    def _armed_rows(self, symbol: str | None) -> list[dict[str, Any]]:
        held = {t.client_order_index for t in self.engine.triggers.snapshots(symbol)}
        return [self._trigger_row(oid, "TriggerPending") for coi, oid in self._armed.items() if coi in held]

    def _cancel_trigger(self, symbol: str, payload: dict[str, Any]) -> dict[str, Any]:
        target = self._target(payload)
        coi = target.get("client_order_index")
        if coi is None:
            coi = next((c for c, oid in self._armed.items() if oid == target["order_id"]), None)
        oid = self._armed.get(coi) if coi is not None else None
        if coi is None or oid is None:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Order not found")
        try:
            self.engine.triggers.cancel(symbol, coi)
        except UnknownOrder:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Order not found") from None
        del self._armed[coi]
        self._publish_trigger(oid, "orderCancelled", "Cancelled")
        return self._trigger_row(oid, "Cancelled")

    def _adopt(self, order_id: str, coi: int) -> None:
        """A fired trigger's child (a new engine order under the trigger's client index): it takes the
        trigger's meta; ``triggerPlaced`` goes out before the child's own updates."""
        oid = self._armed.pop(coi, None) if str(order_id) not in self._meta else None
        if oid is None:
            return
        meta = self._meta[oid]
        self._publish_trigger(oid, "triggerPlaced", "Triggered")
        child = {k: v for k, v in meta.items() if k != "trigger"}
        child["createdAt"] = self.server_ms()
        self._meta[str(order_id)] = child
        snap = self.engine.order(meta["symbol"], order_id=str(order_id))
        child["quantity"] = snap.size_i
        if snap.status is OrderStatus.REJECTED:
            self._publish_trigger(oid, "triggerFailed", "TriggerFailed")
            return
        self._publish_order(snap, "orderAccepted", status="New", filled_i=0)

    def _execute_batch(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for body in items:
            try:
                out.append({"operation": "Ok", **self._execute(body)})
            except ApiError as exc:
                out.append({"operation": "Err", "code": exc.code, "message": str(exc)})
        return out

    def _target(self, payload: dict[str, Any]) -> dict[str, Any]:
        if ("orderId" in payload) == ("clientId" in payload):
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Must specify either `clientId` or `orderId`")
        if "orderId" in payload:
            return {"order_id": str(payload["orderId"])}
        return {"client_order_index": int(payload["clientId"])}

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(body)
        try:
            snap = self.engine.cancel(str(symbol), **self._target(body))
        except UnknownOrder:
            return self._cancel_trigger(str(symbol), body)
        return self._order(snap)

    def _cancel_all(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """``orderType`` narrows it: ``RestingLimitOrder`` or ``ConditionalOrder`` (armed triggers); none: both."""
        symbol, only = self._symbol(body), body.get("orderType")
        out = [] if only == "ConditionalOrder" else [self._order(s) for s in self.engine.cancel_all(symbol)]
        if only != "RestingLimitOrder":
            for t in self.engine.triggers.snapshots(symbol):
                out.append(self._cancel_trigger(t.symbol, {"clientId": t.client_order_index}))
        return out

    def _get_order(self, query: dict[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(query)
        try:
            snap = self.engine.order(str(symbol), **self._target(query))
        except UnknownOrder:
            snap = None
        if snap is None or snap.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            raise ApiError(404, "RESOURCE_NOT_FOUND", "Order not found")
        return self._order(snap)

    def _open_orders(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        symbol = self._symbol(query, required=False)
        return [self._order(s) for s in self.engine.open_orders(symbol)] + self._armed_rows(symbol)

    def _order_history(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for oid, meta in self._meta.items():
            snap = meta.get("last")
            if snap is None or (query.get("symbol") and snap.symbol != query["symbol"]):
                continue
            if query.get("orderId") and oid != query["orderId"]:
                continue
            row = self._order(snap)
            row["createdAt"] = _utc(meta["createdAt"])
            if meta.get("expiryReason"):
                row["expiryReason"] = meta["expiryReason"]
            rows.append(row)
        rows.sort(key=lambda r: int(r["id"]), reverse=query.get("sortDirection", "Desc") == "Desc")
        offset = int(query.get("offset", 0))
        return rows[offset : offset + min(1000, int(query.get("limit", 100)))]

    def _fill_history(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        start, end = int(query.get("from", 0)), int(query.get("to", 2**62))
        rows = [f for f in self._fills if start <= f["_ms"] <= end and (not query.get("symbol") or f["symbol"] == query["symbol"])
                and (not query.get("orderId") or f["orderId"] == query["orderId"])]  # fmt: skip
        rows.sort(key=lambda f: f["tradeId"], reverse=query.get("sortDirection", "Desc") == "Desc")
        offset = int(query.get("offset", 0))
        return [
            {k: v for k, v in f.items() if k != "_ms"} for f in rows[offset : offset + int(query.get("limit", 100))]
        ]

    def _position(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._position_row(p) for p in self.engine.positions()]

    def _collateral(self, query: dict[str, Any]) -> dict[str, Any]:
        m = self.engine.margin()
        exposure = sum(abs(p.size_i) * p.mark_price_i * 10**QUOTE_DECIMALS // 10 ** sum(self._dec(p.symbol))
                       for p in self.engine.positions())  # fmt: skip
        q = QUOTE_DECIMALS
        mmf = f"{m.maintenance_q / exposure:.8f}" if exposure else "0"
        return {
            "assetsValue": scaled_to_str(m.collateral_q, q), "liabilitiesValue": "0",
            "netEquity": scaled_to_str(m.equity_q, q), "netEquityAvailable": scaled_to_str(m.available_q, q),
            "netEquityLocked": scaled_to_str(m.used_q, q), "pnlUnrealized": scaled_to_str(m.equity_q - m.collateral_q, q),
            "netExposureFutures": scaled_to_str(exposure, q), "mmf": mmf, "imf": "0.02", "marginFraction": None,
            "collateral": [{"symbol": "USDC", "totalQuantity": scaled_to_str(m.collateral_q, q),
                            "availableQuantity": scaled_to_str(m.available_q, q), "collateralWeight": "1"}],
        }  # fmt: skip

    # -- payloads ------------------------------------------------------------------------

    def _order(self, snap: OrderSnapshot) -> dict[str, Any]:
        pd, sd = self._dec(snap.symbol)
        meta = self._meta.get(str(snap.order_id)) or {}
        status = _STATUS.get(snap.status, "Expired")
        if snap.status is OrderStatus.CANCELLED and (
            meta.get("timeInForce") == "IOC" or meta.get("orderType") == "Market"
        ):
            status = "Expired"  # the unfilled rest of an IOC or market order expires
        quote = snap.filled_i * snap.price_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
        row = {
            "orderType": meta.get("orderType", "Limit"), "id": str(snap.order_id), "clientId": meta.get("clientId"),
            "symbol": snap.symbol, "side": "Ask" if snap.is_ask else "Bid",
            "quantity": scaled_to_str(snap.size_i, sd), "executedQuantity": scaled_to_str(snap.filled_i, sd),
            "executedQuoteQuantity": scaled_to_str(quote, QUOTE_DECIMALS), "status": status,
            "timeInForce": meta.get("timeInForce", "GTC"), "postOnly": snap.post_only, "reduceOnly": snap.reduce_only,
            "selfTradePrevention": "RejectTaker", "relatedOrderId": None, "createdAt": meta.get("createdAt", snap.ts_ms),
        }  # fmt: skip
        if row["orderType"] == "Limit":
            row["price"] = scaled_to_str(snap.price_i, pd)
        return row

    def _position_row(self, p: Position) -> dict[str, Any]:
        pd, sd = self._dec(p.symbol)
        q = QUOTE_DECIMALS
        notional = p.size_i * p.mark_price_i * 10**q // 10 ** (pd + sd)
        return {
            "symbol": p.symbol, "netQuantity": scaled_to_str(p.size_i, sd), "netExposureQuantity": scaled_to_str(p.size_i, sd),
            "netExposureNotional": scaled_to_str(notional, q), "entryPrice": scaled_to_str(p.entry_price_i, pd),
            "breakEvenPrice": scaled_to_str(p.entry_price_i, pd), "markPrice": scaled_to_str(p.mark_price_i, pd),
            "estLiquidationPrice": scaled_to_str(p.liquidation_price_i or 0, pd),
            "pnlUnrealized": scaled_to_str(p.unrealized_pnl_q, q), "pnlRealized": scaled_to_str(p.realized_pnl_q, q),
            "imf": "0.02", "mmf": "0.0125", "positionId": str(abs(hash(p.symbol)) % 10**10), "subaccountId": None,
        }  # fmt: skip

    # -- engine events -> streams ---------------------------------------------------------

    def _on_engine_event(self, event: Any) -> None:
        if self._placing is not None:
            self._placing.append(event)
            return
        if isinstance(event, Fill):
            self._on_fill(event)
        elif isinstance(event, OrderSnapshot):
            self._adopt(str(event.order_id), event.client_order_index)
            meta = self._meta.get(str(event.order_id))
            if meta is None:
                return
            meta["last"] = event
            if event.status is OrderStatus.CANCELLED:
                self._publish_order(event, "orderCancelled", status="Cancelled")
        elif isinstance(event, Position):
            self._on_position(event)
        elif isinstance(event, Trade):
            pd, sd = self._dec(event.symbol)
            now = self.server_ms() * 1000
            self._publish(f"trade.{event.symbol}", {
                "e": "trade", "E": now, "s": event.symbol, "p": scaled_to_str(event.price_i, pd),
                "q": scaled_to_str(event.size_i, sd), "b": "0", "a": "0", "t": int(event.trade_id or 0), "T": now,
                "m": event.is_ask,
            })  # fmt: skip
        elif isinstance(event, Margin):
            pass  # Backpack has no margin stream

    def _on_fill(self, fill: Fill) -> None:
        self._adopt(str(fill.order_id), fill.client_order_index)
        meta = self._meta.get(str(fill.order_id))
        if meta is None:
            return  # a liquidation: no order of ours
        pd, sd = self._dec(fill.symbol)
        meta["z"] += fill.size_i
        self._fills.append({
            "symbol": fill.symbol, "orderId": str(fill.order_id),
            "clientId": str(meta["clientId"]) if meta["clientId"] is not None else None, "tradeId": int(fill.trade_id),
            "price": scaled_to_str(fill.price_i, pd), "quantity": scaled_to_str(fill.size_i, sd),
            "fee": scaled_to_str(fill.fee_q, QUOTE_DECIMALS), "feeSymbol": "USDC", "side": "Ask" if fill.is_ask else "Bid",
            "isMaker": fill.is_maker, "systemOrderType": None, "timestamp": _utc(self.server_ms()), "_ms": self.server_ms(),
        })  # fmt: skip
        status = "Filled" if meta["z"] >= meta["quantity"] else "PartiallyFilled"
        snap = self.engine.order(fill.symbol, order_id=str(fill.order_id))
        self._publish_order(snap, "orderFill", status=status, filled_i=meta["z"], fill=fill)

    def _on_position(self, p: Position) -> None:
        before = self._positions.get(p.symbol, 0)
        self._positions[p.symbol] = p.size_i
        kind = "positionClosed" if p.size_i == 0 else "positionOpened" if before == 0 else "positionAdjusted"
        if p.size_i == 0 and before == 0:
            return
        self._publish("account.positionUpdate", self._position_event(p, kind))

    def _position_event(self, p: Position, kind: str | None) -> dict[str, Any]:
        row = self._position_row(p)
        now = self.server_ms() * 1000
        event = {"E": now, "s": p.symbol, "b": row["breakEvenPrice"], "B": row["entryPrice"], "M": row["markPrice"],
                 "q": row["netQuantity"], "Q": row["netExposureQuantity"], "n": row["netExposureNotional"],
                 "p": row["pnlRealized"], "P": row["pnlUnrealized"], "f": "0.02", "m": "0.0125", "l": "0",
                 "i": int(row["positionId"]), "T": now}  # fmt: skip
        return {"e": kind, **event} if kind else event

    def _publish_order(
        self,
        snap: OrderSnapshot,
        kind: str,
        *,
        status: str,
        filled_i: int | None = None,
        reason: str = "",
        fill: Fill | None = None,
    ) -> None:
        meta = self._meta.get(str(snap.order_id)) or {}
        pd, sd = self._dec(snap.symbol)
        now = self.server_ms() * 1000
        filled = snap.filled_i if filled_i is None else filled_i
        data: dict[str, Any] = {
            "e": kind, "E": now, "s": snap.symbol, "S": "Ask" if snap.is_ask else "Bid",
            "o": str(meta.get("orderType", "Limit")).upper(), "f": meta.get("timeInForce", "GTC"),
            "q": scaled_to_str(snap.size_i, sd), "X": status, "i": str(snap.order_id),
            "z": scaled_to_str(filled, sd), "Z": scaled_to_str(filled * snap.price_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd), QUOTE_DECIMALS),
            "V": "RejectTaker", "r": snap.reduce_only, "y": snap.post_only, "O": "USER", "T": now,
        }  # fmt: skip
        if meta.get("clientId") is not None:
            data["c"] = meta["clientId"]
        if meta.get("orderType", "Limit") == "Limit":
            data["p"] = scaled_to_str(snap.price_i, pd)
        if reason:
            data["R"] = reason
        if fill is not None:
            data.update({"t": int(fill.trade_id), "l": scaled_to_str(fill.size_i, sd), "L": scaled_to_str(fill.price_i, pd),
                         "m": fill.is_maker, "n": scaled_to_str(fill.fee_q, QUOTE_DECIMALS), "N": "USDC"})  # fmt: skip
        self._publish("account.orderUpdate", data)

    def _publish(self, stream: str, data: dict[str, Any]) -> None:
        text = json.dumps({"stream": stream, "data": data})
        for client in self._clients:
            if stream in client.subs:
                client.queue.put_nowait(text)

    # -- depth -----------------------------------------------------------------------------

    def _pad(self, text: str) -> str:
        return text + ("0" if "." in text else ".0") if self.pad_decimals and self.rng.random() < 0.3 else text

    def _refresh_book(self, symbol: str) -> None:
        book = self._books[symbol]
        bids, asks = self.engine.book(symbol, self.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        changed_b = {p: s for p, s in new_bids.items() if book.bids.get(p) != s} | {
            p: 0 for p in book.bids if p not in new_bids
        }
        changed_a = {p: s for p, s in new_asks.items() if book.asks.get(p) != s} | {
            p: 0 for p in book.asks if p not in new_asks
        }
        if not changed_b and not changed_a:
            return
        first = book.u + (2 if symbol in self._skip else 1)
        self._skip.discard(symbol)
        book.history.append((book.u, book.bids, book.asks))
        book.bids, book.asks, book.u = new_bids, new_asks, first + self.rng.randint(0, 2)
        pd, sd = self._dec(symbol)
        now = self.server_ms() * 1000
        self._publish(f"depth.{symbol}", {
            "e": "depth", "E": now, "s": symbol,
            "a": [[self._pad(scaled_to_str(p, pd)), self._pad(scaled_to_str(s, sd))] for p, s in sorted(changed_a.items())],
            "b": [[self._pad(scaled_to_str(p, pd)), self._pad(scaled_to_str(s, sd))] for p, s in sorted(changed_b.items())],
            "U": first, "u": book.u, "T": now - 1,
        })  # fmt: skip

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.step_s)
            self.engine.advance_to(self.clock.now_ms())
            for symbol in list(self._books):
                self._refresh_book(symbol)

    # -- websocket -------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=self.heartbeat_s)
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.append(client)
        writer = asyncio.create_task(self._writer(client))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    self._on_client_message(client, json.loads(msg.data))
                except (ValueError, KeyError, TypeError, AttributeError):
                    client.queue.put_nowait(
                        json.dumps({"id": None, "error": {"code": 4000, "message": "Invalid request"}})
                    )
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._clients.remove(client)
        return ws

    async def _writer(self, client: _Client) -> None:
        while not client.ws.closed:
            text = await client.queue.get()
            while time.monotonic() < self._stall_until:
                await asyncio.sleep(0.01)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await client.ws.send_str(text)

    def _error(self, client: _Client, code: int, message: str) -> None:
        client.queue.put_nowait(json.dumps({"id": None, "error": {"code": code, "message": message}}))

    def _on_client_message(self, client: _Client, data: dict[str, Any]) -> None:
        method, params = data["method"], list(data["params"])
        if method == "UNSUBSCRIBE":
            client.subs.difference_update(params)
            return
        if method != "SUBSCRIBE":
            raise ValueError(method)
        self.ws_asked.extend(params)
        private = [p for p in params if p.startswith("account.")]
        if private and not self._ws_signature_ok(data.get("signature")):
            self._error(client, 4001, "Invalid signature")
            return
        for name in params:
            kind, _, symbol = name.partition(".")
            if name in ("account.orderUpdate", "account.positionUpdate") or (
                kind in ("depth", "trade", "bookTicker") and symbol in self.engine.markets
            ):
                client.subs.add(name)
                self.subscribes.append(name)
                if kind == "depth":
                    self._book(symbol)
            else:
                self._error(client, 4006, "Invalid stream")
        if "account.positionUpdate" in params:
            for p in self.engine.positions():  # the snapshot on subscribe carries no event type
                client.queue.put_nowait(
                    json.dumps({"stream": "account.positionUpdate", "data": self._position_event(p, None)})
                )

    def _ws_signature_ok(self, signature: Any) -> bool:
        try:
            key, sig, stamp, window = (str(x) for x in signature)
            ts, win = int(stamp), int(window)
            verify_key = self.keys[key]
            if abs(self.server_ms() - ts) > win:
                return False
            verify_key.verify(f"instruction=subscribe&timestamp={ts}&window={win}".encode(), base64.b64decode(sig))
        except (TypeError, ValueError, KeyError, nacl.exceptions.BadSignatureError):
            return False
        return True


async def _serve(port: int, key_file: Path | None) -> None:
    fake = FakeBackpack()
    if key_file is not None:
        fake.write_key_file(key_file)
        print(f"key file {key_file} (0600) with a fresh throwaway API key")
    await fake.start(port)
    print(f"fake Backpack on {fake.base_url} (websocket {fake.ws_url}); markets: {', '.join(fake.engine.markets)}")
    print("run the console against it in another terminal:")
    print(f"  PERPDESK_VENUE__BACKPACK__BASE_URL={fake.base_url} PERPDESK_VENUE__BACKPACK__WS_URL={fake.ws_url} \\")
    if key_file is not None:
        print(f"  PERPDESK_BACKPACK_KEY_FILE={key_file} \\")
    print("  perpdesk --venue backpack")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Backpack Exchange on 127.0.0.1 backed by the sim engine")
    parser.add_argument("--port", type=int, default=8803)
    parser.add_argument("--key-file", type=Path, help="write a fresh throwaway API key file here (mode 0600)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.key_file))


if __name__ == "__main__":
    main()
