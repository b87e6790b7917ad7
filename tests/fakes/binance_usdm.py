"""A protocol-faithful fake Binance USDⓈ-M venue on 127.0.0.1, backed by the sim engine.

REST under ``/fapi/...`` with the venue's security types (``NONE``, ``USER_STREAM`` = API key only,
``SIGNED``), its error bodies (``{"code": -2019, "msg": "Margin is insufficient."}``), weights and
counters (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``/``-1M``).  Every SIGNED request is
checked the venue's way: the API key header, ``timestamp`` against the server clock and
``recvWindow`` (``-1021``), and ``HMAC_SHA256(secret, query + body)`` over the exact bytes sent
(``-1022``).  Websockets on the routed paths (``/public``, ``/market``, ``/private``, raw ``/ws`` or
combined ``/stream``) and the legacy ``/ws`` and ``/ws/<listenKey>``: ``depthUpdate`` diffs every
``depth_interval_s`` chained on ``U``/``u``/``pu``, ``bookTicker`` on every touch change sharing the
update ids, ``markPriceUpdate`` and ``aggTrade``, and the user-data stream (``ORDER_TRADE_UPDATE``,
``ACCOUNT_UPDATE``, ``listenKeyExpired``) behind a listenKey that lives 60 minutes.
Conditional orders live on the algo-order endpoints (``tests.fakes.binance_usdm_algo``): the sim
engine's trigger book fires them on its mark, with ``ALGO_UPDATE`` events.

Faults: ``drop_sockets()``, ``send_malformed(n)``, ``skip_depth(symbol, n)`` (a lost diff breaks the
``pu`` chain), ``rate_limit(n)`` (429 ``-1003``), ``ban(seconds)`` (418), ``expire_listen_key()``,
``use_weight(n)`` (another client spent weight), ``clock_skew_ms`` (the server clock runs apart from
ours), ``hedge_mode``, ``hold_answers(path, seconds)`` (the next request there is acted on, its answer
held back past the client's timeout) and ``fail_requests(path, n)`` (the next ``n`` requests there
answer 503 unprocessed).  A process driving the fake from outside (the chaos suite) reaches the
same switches at ``POST /_fake/<fault>`` with JSON keyword arguments.

Standalone, for a console demo (prints the URLs, writes a fresh 0600 key file)::

    python -m tests.fakes.binance_usdm --port 8804 --key-file demo-keys/binance-usdm.toml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from connector.binance_usdm.signing import signature
from connector.clock import Clock, RealClock
from connector.interface import BookUpdate, Fill, Margin, OrderSnapshot, Position, Trade
from connector.sim.engine import SimEngine
from tests.fakes import binance_usdm_venue as venue
from tests.fakes import binance_usdm_wire as bw
from tests.fakes.binance_usdm_algo import AlgoOrders
from tests.fakes.binance_usdm_leverage import ENDPOINTS as LEVERAGE_ENDPOINTS
from tests.fakes.binance_usdm_leverage import LeverageEndpoints
from tests.fakes.binance_usdm_venue import VenueError

LISTEN_KEY_TTL_MS = 60 * 60_000
ROUTES = {"public": ("@depth", "@bookticker"), "market": ("@markprice", "@aggtrade")}
FAULTS = ("drop_sockets", "send_malformed", "skip_depth", "rate_limit", "ban", "expire_listen_key", "use_weight",
          "set_clock_skew", "set_hedge_mode", "hold_answers", "fail_requests")  # fmt: skip


@dataclass
class _Client:
    ws: web.WebSocketResponse
    route: str
    """public, market, private or legacy (unrouted: every market stream)."""
    combined: bool
    subs: set[str] = field(default_factory=set)
    key: str | None = None
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def wants(self, stream: str) -> bool:
        if stream not in self.subs:
            return False
        if self.route == "legacy":
            return True
        return any(tag in stream for tag in ROUTES.get(self.route, ()))

    def put(self, stream: str, payload: dict[str, Any]) -> None:
        body = {"stream": stream, "data": payload} if self.combined else payload
        self.queue.put_nowait(json.dumps(body, separators=(",", ":")))


@dataclass
class _Depth:
    update_id: int
    last_u: int
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    sent_bids: dict[int, int] = field(default_factory=dict)
    sent_asks: dict[int, int] = field(default_factory=dict)
    touch: tuple[Any, ...] = ()
    dirty: bool = False
    skip: int = 0


class FakeBinanceUsdm(AlgoOrders, LeverageEndpoints, venue.Trading):
    def __init__(
        self,
        engine: SimEngine | None = None,
        *,
        clock: Clock | None = None,
        seed: int = 7,
        step_s: float | None = 0.05,
        depth_interval_s: float = 0.1,
        mark_interval_s: float = 1.0,
        api_key: str | None = None,
        api_secret: str | None = None,
        rate_limits: dict[str, int] | None = None,
    ) -> None:
        self.clock = clock or RealClock()
        self.engine = engine or SimEngine(
            seed, clock=self.clock, markets=[lst.spec for lst in bw.MARKETS], maker_fee_ppm=200, taker_fee_ppm=500
        )
        self.listings = {lst.spec.symbol: lst for lst in bw.MARKETS if lst.spec.symbol in self.engine.markets}
        self.rng = random.Random(seed)
        self.step_s, self.depth_interval_s, self.mark_interval_s = step_s, depth_interval_s, mark_interval_s
        self.api_key = api_key or secrets.token_hex(32)
        self.api_secret = api_secret or secrets.token_hex(32)
        self.rate_limits = {"REQUEST_WEIGHT:1M": 2400, "ORDERS:10S": 300, "ORDERS:1M": 1200, **(rate_limits or {})}
        self.clock_skew_ms = 0
        self.hedge_mode = False
        self.funding: dict[str, str] = {}
        """symbol -> the funding rate the mark stream and ``premiumIndex`` report (default ``0.00010000``)."""
        self.funding_hours: dict[str, int] = {}
        """symbol -> its funding interval in hours where not eight (``/fapi/v1/fundingInfo``)."""
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.refused: list[tuple[int, str]] = []
        self.counters: dict[tuple[str, int], int] = {}
        self.listen_key: str | None = None
        self.listen_key_expires_ms = 0
        self.listen_keys_made = 0
        self.depth = {s: _Depth(u := 1_000_000 + self.rng.randrange(10**6), u) for s in self.listings}
        self.clients: list[_Client] = []
        self._rate_limited, self._retry_after, self._banned_until_ms = 0, 1.0, 0
        self._holds: dict[tuple[str, str], list[float]] = {}
        self._failing: dict[tuple[str, str], int] = {}
        self.failed: list[tuple[str, str, dict[str, str]]] = []
        """Requests ``fail_requests`` answered 503, as ``requests`` lists those served."""
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        venue.Trading.__init__(self)
        AlgoOrders.__init__(self)
        LeverageEndpoints.__init__(self)
        self.engine.subscribe(self._on_engine_event, None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def server_ms(self) -> int:
        return self.clock.now_ms() + self.clock_skew_ms

    def write_key_file(self, path: str | Path) -> Path:
        """The API key file, created 0600 (never readable by others, not even for a moment)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f'api_key = "{self.api_key}"\napi_secret = "{self.api_secret}"\n')
        os.chmod(path, 0o600)
        return path

    async def start(self, port: int = 0) -> FakeBinanceUsdm:
        app = web.Application()
        app.router.add_route("*", "/fapi/{tail:.*}", self._http)
        app.router.add_post("/_fake/{fault}", self._control)
        for path in ("/ws", "/ws/{key}", "/{route}/ws", "/{route}/ws/{key}", "/{route}/stream", "/stream"):
            app.router.add_get(path, self._stream)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.engine.advance_to(self.clock.now_ms())
        loop = asyncio.get_running_loop()
        if self.step_s:
            self._tasks.append(
                loop.create_task(self._every(self.step_s, lambda: self.engine.advance_to(self.clock.now_ms())))
            )
        self._tasks.append(loop.create_task(self._every(self.depth_interval_s, self._send_diffs)))
        self._tasks.append(loop.create_task(self._every(self.mark_interval_s, self._send_marks)))
        return self

    async def stop(self) -> None:
        for task in [*self._tasks, *self.countdowns.values()]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in list(self.clients):
            await client.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _every(self, seconds: float, action: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            action()

    # -- faults ----------------------------------------------------------------------------

    async def drop_sockets(self, route: str | None = None) -> None:
        for client in list(self.clients):
            if route is None or client.route == route:
                await client.ws.close(code=1011, message=b"fake: dropped")

    def send_malformed(self, n: int = 1, route: str = "public") -> None:
        junk = ["{not json", '{"e":"depthUpdate","s":"BTCUSDT","U":"x"}', '["a","list"]', '{"e":"bookTicker"}']
        for client in self.clients:
            if client.route in (route, "legacy"):
                for i in range(n):
                    client.queue.put_nowait(junk[i % len(junk)])

    def skip_depth(self, symbol: str = "BTCUSDT", n: int = 1) -> None:
        """The next ``n`` diffs of ``symbol`` are lost: the one after has a ``pu`` the client never saw."""
        self.depth[symbol].skip += n

    def rate_limit(self, n: int = 1, retry_after_s: float = 1.0) -> None:
        self._rate_limited, self._retry_after = n, retry_after_s

    def ban(self, seconds: float = 60.0) -> None:
        self._banned_until_ms = self.server_ms() + int(seconds * 1000)

    def use_weight(self, n: int) -> None:
        self._count("w", 60_000, n)

    def set_clock_skew(self, ms: int) -> None:
        self.clock_skew_ms = ms

    def set_hedge_mode(self, on: bool = True) -> None:
        self.hedge_mode = on

    def expire_listen_key(self, notify: bool = True) -> None:
        """The key dies; with ``notify`` its sockets get ``listenKeyExpired`` first (then go silent)."""
        key, self.listen_key = self.listen_key, None
        if key and notify:
            event = {"e": "listenKeyExpired", "E": self.server_ms(), "listenKey": key}
            for client in self.clients:
                if client.key == key:
                    client.put(key, event)

    def hold_answers(self, path: str, seconds: float, method: str = "POST", n: int = 1) -> None:
        """The next ``n`` requests to ``path`` are acted on; each answer is sent ``seconds`` late."""
        self._holds.setdefault((method, path), []).extend([seconds] * n)

    def fail_requests(self, path: str, n: int = 1, method: str = "GET") -> None:
        """The next ``n`` requests to ``path`` answer 503 without being processed."""
        self._failing[(method, path)] = self._failing.get((method, path), 0) + n

    async def _control(self, request: web.Request) -> web.Response:
        fault = request.match_info["fault"]
        if fault not in FAULTS:
            return web.json_response({"error": f"unknown fault {fault!r}", "faults": FAULTS}, status=404)
        kwargs = await request.json() if request.can_read_body else {}
        result = getattr(self, fault)(**kwargs)
        if asyncio.iscoroutine(result):
            await result
        return web.json_response({"ok": True})

    # -- engine events -> streams ----------------------------------------------------------

    def _push(self, stream: str, payload: dict[str, Any]) -> None:
        for client in self.clients:
            if client.wants(stream):
                client.put(stream, payload)

    def _push_user(self, payload: dict[str, Any]) -> None:
        key = self.listen_key
        if key is None or self.clock.now_ms() > self.listen_key_expires_ms:
            return
        for client in self.clients:
            if client.key == key:
                client.put(key, payload)

    def _on_engine_event(self, event: Any) -> None:
        if isinstance(event, BookUpdate):
            self._on_book(event)
        elif isinstance(event, Trade):
            s = event.symbol
            now = self.server_ms()
            self._push(f"{s.lower()}@aggtrade", {
                "e": "aggTrade", "E": now, "s": s, "a": int(event.trade_id or 0), "p": bw.px(self.engine, s, event.price_i),
                "q": bw.qty(self.engine, s, event.size_i), "f": 0, "l": 0, "T": event.ts_ms, "m": event.is_ask,
            })  # fmt: skip
        elif isinstance(event, (OrderSnapshot, Fill, Position, Margin)):
            self.sweep_algos()
            if isinstance(event, (OrderSnapshot, Fill)) and event.order_id not in self.meta:
                self.child_of(event.client_order_index, event.order_id)
            for payload in self.user_payloads(event):
                self._push_user(payload)

    def _on_book(self, event: BookUpdate) -> None:
        d = self.depth.get(event.symbol)
        if d is None:
            return
        bids, asks = dict(event.bids), dict(event.asks)
        if bids == d.bids and asks == d.asks:
            return
        d.bids, d.asks, d.dirty = bids, asks, True
        d.update_id += self.rng.randint(1, 3)
        touch = (event.bids[0] if event.bids else None, event.asks[0] if event.asks else None)
        if touch != d.touch and touch[0] and touch[1]:
            d.touch = touch
            s, e = event.symbol, self.engine
            (b, bq), (a, aq) = touch
            self._push(f"{s.lower()}@bookticker", {
                "e": "bookTicker", "u": d.update_id, "E": self.server_ms(), "T": self.server_ms(), "s": s,
                "b": bw.px(e, s, b), "B": bw.qty(e, s, bq), "a": bw.px(e, s, a), "A": bw.qty(e, s, aq),
            })  # fmt: skip

    def _send_diffs(self) -> None:
        now = self.server_ms()
        for s, d in self.depth.items():
            if not d.dirty:
                continue
            msg = {
                "e": "depthUpdate", "E": now, "T": now, "s": s, "U": d.last_u + 1, "u": d.update_id, "pu": d.last_u,
                "b": bw.diff(self.engine, s, d.sent_bids, d.bids, True),
                "a": bw.diff(self.engine, s, d.sent_asks, d.asks, False),
            }  # fmt: skip
            d.last_u, d.sent_bids, d.sent_asks, d.dirty = d.update_id, dict(d.bids), dict(d.asks), False
            if d.skip:
                d.skip -= 1
                continue
            for name in ("@depth@100ms", "@depth", "@depth@500ms"):
                self._push(f"{s.lower()}{name}", msg)

    def _send_marks(self, only: set[str] | None = None) -> None:
        now = self.server_ms()
        for s in self.listings:
            if only is not None and s not in only:
                continue
            mark = bw.px(self.engine, s, self.engine.mark_i(s))
            payload = {"e": "markPriceUpdate", "E": now, "s": s, "p": mark, "ap": mark, "P": mark, "i": mark,
                       "r": self.funding.get(s, "0.00010000"), "T": self.next_funding_ms(s)}  # fmt: skip
            for name in ("@markprice@1s", "@markprice"):
                self._push(f"{s.lower()}{name}", payload)

    # -- websocket -------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        route = request.match_info.get("route", "legacy")
        key = request.match_info.get("key") or request.query.get("listenKey")
        combined = request.path.endswith("/stream")
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        if route == "private" and combined and streams:
            key, streams = streams[0].split("@")[0], []
        if route not in ("public", "market", "private", "legacy"):
            raise web.HTTPNotFound()
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        client = _Client(ws, "private" if key else route, combined, {s.lower() for s in streams}, key)
        self.clients.append(client)
        writer = asyncio.create_task(self._writer(client))
        if client.subs:
            self._on_subscribed(client.subs)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                self._on_client_message(client, msg.data)
        finally:
            self.clients.remove(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _writer(self, client: _Client) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                await client.ws.send_str(await client.queue.get())

    def _on_client_message(self, client: _Client, text: str) -> None:
        try:
            msg = json.loads(text)
            method, ident = msg["method"], msg.get("id")
            params = [str(p).lower() for p in msg.get("params") or []]
        except (ValueError, KeyError, TypeError, AttributeError):
            client.queue.put_nowait(json.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": None}))
            return
        if method == "SUBSCRIBE":
            client.subs |= set(params)
            self._on_subscribed(set(params))
            client.queue.put_nowait(json.dumps({"result": None, "id": ident}))
        elif method == "UNSUBSCRIBE":
            client.subs -= set(params)
            client.queue.put_nowait(json.dumps({"result": None, "id": ident}))
        elif method == "LIST_SUBSCRIPTIONS":
            client.queue.put_nowait(json.dumps({"result": sorted(client.subs), "id": ident}))
        else:
            client.queue.put_nowait(json.dumps({"error": {"code": 1, "msg": f"Unknown method {method}"}, "id": ident}))

    def _on_subscribed(self, streams: set[str]) -> None:
        marks = {s for s in self.listings if any(x.startswith(f"{s.lower()}@markprice") for x in streams)}
        if marks:
            asyncio.get_running_loop().call_soon(self._send_marks, marks)

    # -- HTTP ------------------------------------------------------------------------------

    def _count(self, kind: str, window_ms: int, n: int) -> int:
        key = (kind, self.server_ms() // window_ms)
        self.counters[key] = self.counters.get(key, 0) + n
        return self.counters[key]

    def _headers(self) -> dict[str, str]:
        get = lambda kind, window: str(self.counters.get((kind, self.server_ms() // window), 0))  # noqa: E731
        return {"X-MBX-USED-WEIGHT-1M": get("w", 60_000), "X-MBX-ORDER-COUNT-10S": get("o10", 10_000),
                "X-MBX-ORDER-COUNT-1M": get("o60", 60_000)}  # fmt: skip

    def _error(self, err: VenueError, headers: dict[str, str] | None = None) -> web.Response:
        self.refused.append((err.code, err.msg))
        return web.json_response({"code": err.code, "msg": err.msg}, status=err.status, headers=headers)

    async def _http(self, request: web.Request) -> web.Response:
        now = self.server_ms()
        if now < self._banned_until_ms:
            msg = f"Way too many requests; IP(127.0.0.1) banned until {self._banned_until_ms}. Please use the websocket for live updates to avoid bans."
            retry = {"Retry-After": str(max(1, (self._banned_until_ms - now) // 1000))}
            return self._error(VenueError(-1003, msg, 418), retry)
        if self._rate_limited > 0:
            self._rate_limited -= 1
            msg = "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API."
            return self._error(VenueError(-1003, msg, 429), {"Retry-After": f"{self._retry_after:g}"})
        if self._failing.get((request.method, request.path)):
            self._failing[(request.method, request.path)] -= 1
            self.failed.append((request.method, request.path, venue.parse_params(request.rel_url.raw_query_string, "")))
            return web.Response(status=503, text="Service Unavailable")
        route = venue.ENDPOINTS.get((request.method, request.path)) or LEVERAGE_ENDPOINTS.get((request.method, request.path))
        if route is None:
            return web.Response(status=404, text="<html><body><h2>404 Not found</h2></body></html>")
        security, handler_name = route
        raw_query, body = request.rel_url.raw_query_string, await request.text()
        try:
            params = venue.parse_params(raw_query, body)
            weight, orders = venue.weight_of(request.method, request.path, params)
            if self._count("w", 60_000, weight) > self.rate_limits["REQUEST_WEIGHT:1M"]:
                raise VenueError(-1003, "Too many requests; current limit is exceeded.", 429)
            if orders:
                self._count("o10", 10_000, orders)
                self._count("o60", 60_000, orders)
            self._authenticate(request, security, raw_query, body, params)
            self.requests.append((request.method, request.path, params))
            self.engine.advance_to(self.clock.now_ms())
            answer = getattr(self, handler_name)(params)
            if asyncio.iscoroutine(answer):
                answer = await answer
        except VenueError as err:
            return self._error(err, self._headers())
        held = self._holds.get((request.method, request.path))
        if held:
            await asyncio.sleep(held.pop(0))
        return web.json_response(answer, headers=self._headers())

    def _authenticate(
        self, request: web.Request, security: str, raw_query: str, body: str, params: dict[str, str]
    ) -> None:
        if security == "NONE":
            return
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise VenueError(-2014, "API-key format invalid.", 401)
        if key != self.api_key:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        if security != "SIGNED":
            return
        for name in ("timestamp", "signature"):
            if not params.get(name):
                raise VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        window = int(params.get("recvWindow") or 5000)
        if not 0 < window <= 60_000:
            raise VenueError(-1130, "Data sent for parameter 'recvWindow' is not valid.")
        stamp, now = int(params["timestamp"]), self.server_ms()
        if stamp >= now + 1000:
            raise VenueError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - stamp > window:
            raise VenueError(-1021, "Timestamp for this request is outside of the recvWindow.")
        signed = venue.strip_signature(raw_query) + venue.strip_signature(body)
        if signature(self.api_secret.encode(), signed) != params["signature"].lower():
            raise VenueError(-1022, "Signature for this request is not valid.")


async def _serve(port: int, key_file: str | None, seed: int) -> None:
    fake = await FakeBinanceUsdm(seed=seed).start(port)
    print(f"fake Binance USDⓈ-M at {fake.base_url}  websockets {fake.ws_url}", flush=True)
    if key_file:
        print(f"API key file written to {fake.write_key_file(key_file)} (mode 0600)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Binance USDⓈ-M venue on 127.0.0.1 for demos and tests")
    parser.add_argument("--port", type=int, default=8804)
    parser.add_argument("--key-file", help="write a fresh API key file (0600) here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.key_file, args.seed))


if __name__ == "__main__":
    main()
