"""Backpack Exchange perpetuals.

Three concerns, kept apart: metadata (``/api/v1/markets``, PERP only: tick, step, bounds and
the book's state), market data (``depth.<symbol>`` chained on ``U == u + 1`` and seeded from
``/api/v1/depth``; ``trade.<symbol>``) and orders/account (ED25519-signed REST, the private
``account.orderUpdate`` / ``account.positionUpdate`` streams, fills from the stream and from
``/wapi/v1/history/fills``).

Requests are stamped with the venue's clock: the offset to ``/api/v1/time`` is measured at start
and again whenever the venue refuses a request's timestamp (the refused request did nothing, so
it is signed afresh and sent once more).  Orders carry ``clientId`` = the low 32 bits of the
client order index (``wire.ClientIds`` maps it back).  The venue has no amend: the tracking
limit re-prices by cancel-then-replace.  There is no margin stream: margin is read from
``/api/v1/capital/collateral`` shortly after fills and position changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

import httpx
import orjson

from connector.backpack import triggers, wire
from connector.backpack.funding import BackpackFunding
from connector.backpack.leverage import AccountLeverage
from connector.backpack.signing import DEFAULT_WINDOW_MS, MAX_WINDOW_MS, Signer, render, signer_from_keys
from connector.backpack.stream import BackpackStream, parse_frame
from connector.base import BaseConnector
from connector.checks import require_ints, require_native_trigger
from connector.clock import Clock
from connector.errors import AuthError, ConfigError, InvalidOrder, PostOnlyWouldCross, UnknownOrder, VenueError
from connector.funding import POLL_INTERVAL_S, poll_funding
from connector.interface import Margin, MarketInfo, OrderSnapshot, OrderStatus, Position, TriggerSnapshot
from connector.scaling import scaler
from connector.transport.http import HttpClient
from connector.transport.ratelimit import RateLimiter

log = logging.getLogger(__name__)

STREAM = "backpack"
_JSON = {"Content-Type": "application/json; charset=utf-8"}


class BackpackConnector(AccountLeverage, BaseConnector):
    venue = "backpack"
    capabilities = frozenset({"native_triggers", "funding", "leverage", "leverage_account_wide"})
    trigger_kinds = triggers.KINDS
    trigger_sources = frozenset(triggers.SOURCES)
    trigger_follows_position = True
    """``triggerQuantity: "100%"``: the position as it is when it fires (UNCONFIRMED, see ``connector.backpack.triggers``)."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ws_url: str | None = None,
        testnet: bool = False,
        keys: dict[str, Any] | None = None,
        clock: Clock | None = None,
        request_timeout_s: float = 10.0,
        stale_after_s: float | None = 60.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        window_ms: int = DEFAULT_WINDOW_MS,
        requests_per_s: float = 20.0,
        burst: float = 40.0,
        depth_limit: int = 100,
        margin_delay_s: float = 0.2,
        seed_wait_s: float = 0.5,
        funding_poll_s: float = POLL_INTERVAL_S,
    ) -> None:
        super().__init__(clock=clock)
        if testnet:
            raise ConfigError(
                "backpack has no testnet: remove testnet from [venue.backpack] (see docs/venues/backpack.md)"
            )
        if not 0 < window_ms <= MAX_WINDOW_MS:
            raise ConfigError(f"backpack window_ms must be 1..{MAX_WINDOW_MS}, got {window_ms}")
        self.base_url = (base_url or wire.MAINNET_URL).rstrip("/")
        self.ws_url = ws_url or wire.MAINNET_WS_URL
        self.request_timeout_s, self.stale_after_s = request_timeout_s, stale_after_s
        self.reconnect_min_s, self.reconnect_max_s = reconnect_min_s, reconnect_max_s
        self.window_ms, self.depth_limit = window_ms, depth_limit
        self.requests_per_s, self.burst = requests_per_s, burst
        self.margin_delay_s, self.seed_wait_s = margin_delay_s, seed_wait_s
        self._signer: Signer | None = signer_from_keys(keys) if keys else None
        self.offset_ms = 0
        """The venue's clock minus ours, from ``/api/v1/time``."""
        self.clock_syncs = 0
        self.ids = wire.ClientIds()
        self._trigger_kinds: dict[int, str] = {}
        """client index -> perpdesk kind of the triggers we armed (Backpack's orders carry no kind)."""
        self._limits: dict[str, wire.Limits] = {}
        self._margin_task: asyncio.Task[None] | None = None
        self._margin_dirty = False
        self._http: HttpClient | None = None
        self._limiter: RateLimiter | None = None
        self.stream = BackpackStream(
            emit=self.emit, clock=self.clock, markets=self._markets, ids=self.ids, fetch_depth=self._snapshot,
            signature=self._ws_signature, recover_fills=self.recover_fills, on_account=self._margin_soon,
            spawn=self.spawn, seed_wait_s=seed_wait_s,
        )  # fmt: skip
        self.funding = BackpackFunding(self._public, self._markets, self.clock)
        self.funding_poll_s = funding_poll_s
        self._funding_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<BackpackConnector url={self.base_url} key={self._signer.api_key[:8] + '…' if self._signer else None}>"

    @property
    def book_gaps(self) -> int:
        return self.stream.book_gaps

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self.stream.ws is None:
            # no published limits: a modest budget, lifted or lowered with requests_per_s / burst
            self._limiter = RateLimiter(self.requests_per_s, self.burst, clock=self.clock)
            self._http = self.http_client(self.base_url, timeout_s=self.request_timeout_s, rate_limiter=self._limiter)
            self.stream.ws = self.supervise_ws(
                STREAM, self.ws_url, on_message=self.stream.on_frame, on_connect=self.stream.on_connect,
                parse=parse_frame, stale_after_s=self.stale_after_s, open_timeout_s=self.request_timeout_s,
                backoff_base_s=self.reconnect_min_s, backoff_max_s=self.reconnect_max_s,
            )  # fmt: skip
        await self.sync_clock()
        await self.list_markets()
        await self.start_streams()
        self.started = True

    async def stop(self) -> None:
        await self.stream.stop()
        if self._margin_task is not None:
            self._margin_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._margin_task
            self._margin_task = None
        await super().stop()
        self._http = self.stream.ws = None

    # -- HTTP ------------------------------------------------------------------------------

    def _client(self) -> HttpClient:
        if self._http is None:
            raise VenueError("backpack connector is not started")
        return self._http

    def _now_ms(self) -> int:
        return self.clock.now_ms() + self.offset_ms

    async def sync_clock(self) -> None:
        """Measure the venue's clock (``/api/v1/time`` answers plain-text ms) against ours."""
        client = self._client()
        before = self.clock.now_ms()
        try:
            resp = await client.request("GET", "/api/v1/time")
            server_ms = int(resp.text.strip())
        except (VenueError, ValueError) as exc:
            log.warning("backpack: could not read the venue's clock (%s); keeping offset %d ms", exc, self.offset_ms)
            return
        after = self.clock.now_ms()
        self.offset_ms = server_ms - (before + after) // 2
        self.clock_syncs += 1

    @staticmethod
    def _body(resp: httpx.Response) -> Any:
        if resp.status_code == 202 or not resp.content:
            return None  # accepted, not yet executed
        try:
            return resp.json()
        except ValueError:
            return resp.text

    async def _public(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = await self._client().request("GET", path, params=params)
        body = self._body(resp)
        if resp.status_code >= 400:
            raise wire.error_for(resp.status_code, body, f"GET {path}")
        return body

    async def _signed(self, method: str, path: str, instruction: str, payload: dict[str, Any] | None = None) -> Any:
        """Sign with a fresh timestamp after the rate budget's wait; a refused timestamp re-syncs once."""
        if self._signer is None:
            raise AuthError(
                "backpack: no API key; account data and trading need a key file (see docs/venues/backpack.md)"
            )
        client = self._client()
        payload = {k: v for k, v in (payload or {}).items() if v is not None}
        for attempt in (1, 2):
            if self._limiter is not None:
                await self._limiter.acquire(1)
            headers = self._signer.headers(instruction, payload, self._now_ms(), self.window_ms)
            if method == "GET":
                resp = await client.request(
                    method, path, params={k: render(v) for k, v in payload.items()}, headers=headers, cost=0
                )
            else:
                resp = await client.request(
                    method, path, content=orjson.dumps(payload), headers={**headers, **_JSON}, cost=0
                )
            body = self._body(resp)
            if resp.status_code < 400:
                return body
            error = wire.error_for(resp.status_code, body, instruction)
            if isinstance(error, wire.RequestExpired) and attempt == 1:
                log.warning("backpack: %s refused for its timestamp; re-reading the venue's clock", instruction)
                await self.sync_clock()
                continue
            raise error
        raise AssertionError("unreachable")

    # -- metadata --------------------------------------------------------------------------

    async def list_markets(self) -> list[MarketInfo]:
        rows = await self._public("/api/v1/markets")
        for raw in rows or []:
            parsed = wire.parse_market(raw)
            if parsed is not None:
                self._markets[parsed[0].symbol], self._limits[parsed[0].symbol] = parsed
        return list(self._markets.values())

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        m = self._market(symbol)
        top = self.stream.top(symbol)
        if top is not None:
            return (*top, 10**m.price_decimals)
        raw = await self._public("/api/v1/depth", {"symbol": symbol, "limit": 5})
        px, sz = scaler(m.price_decimals), scaler(m.size_decimals)
        bids = [px(p) for p, q in raw.get("bids") or () if sz(q)]
        asks = [px(p) for p, q in raw.get("asks") or () if sz(q)]
        return (max(bids) if bids else None, min(asks) if asks else None, 10**m.price_decimals)

    # -- market data -----------------------------------------------------------------------

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            await self.stream.subscribe(self._market(symbol))
            self.funding.symbols.add(symbol)
        if self.started and (self._funding_task is None or self._funding_task.done()):
            poll = poll_funding(self.funding.fetch, self.emit, self.clock, venue=self.venue, interval_s=self.funding_poll_s)
            self._funding_task = self.spawn(poll, "funding")

    async def _snapshot(self, symbol: str) -> dict[str, Any]:
        return dict(await self._public("/api/v1/depth", {"symbol": symbol, "limit": self.depth_limit}))

    def _ws_signature(self) -> list[str] | None:
        return self._signer.ws_signature(self._now_ms(), self.window_ms) if self._signer is not None else None

    def _margin_soon(self) -> None:
        if self._signer is None:
            return
        self._margin_dirty = True
        if self._margin_task is None or self._margin_task.done():
            self._margin_task = asyncio.create_task(self._margin_loop(), name="backpack-margin")

    async def _margin_loop(self) -> None:
        """No margin stream: read it once the burst of fills and position updates has passed."""
        while self._margin_dirty:
            self._margin_dirty = False
            await self.clock.sleep(self.margin_delay_s)
            try:
                self.emit("margin", await self.get_margin())
            except VenueError as exc:
                log.warning("backpack: margin refresh failed (%s)", exc)

    async def recover_fills(self, since_ms: int) -> int:
        """Pass on the fills since ``since_ms`` that the stream did not deliver; returns how many."""
        rows = await self._signed(
            "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll",
            {"from": max(0, since_ms + self.offset_ms), "limit": 1000, "marketType": "PERP", "sortDirection": "Asc"},
        )  # fmt: skip
        now = self.clock.now_ms()
        found = 0
        for raw in rows or []:
            m = self._markets.get(raw.get("symbol"))
            if m is None or not self.stream.seen.add(str(raw["tradeId"])):
                continue
            index = self.ids.index(raw.get("clientId"), raw.get("orderId"), now)
            self.emit("fill", wire.parse_history_fill(raw, m, index))
            found += 1
        if found:
            self._margin_soon()
        return found

    # -- orders ----------------------------------------------------------------------------

    async def _execute(self, m: MarketInfo, index: int, body: dict[str, Any], *, post_only: bool) -> OrderSnapshot:
        raw = await self._signed("POST", "/api/v1/order", "orderExecute", body)
        snap = wire.parse_order(raw, m, index)
        self.ids.remember_order(index, snap.order_id)
        if post_only and snap.status in (OrderStatus.EXPIRED, OrderStatus.REJECTED) and not snap.filled_i:
            raise PostOnlyWouldCross(f"backpack {m.symbol}: post-only order would have taken liquidity", info=raw)
        return snap

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
        """Returns the venue's order id once the matching engine has taken the order."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        if post_only and ioc:
            raise InvalidOrder("an order cannot be both post-only and immediate-or-cancel")
        m = self._market(symbol)
        wire.check_book_state(symbol, self._limits[symbol], "post_only" if post_only else "limit")
        wire.check_order(m, self._limits[symbol], price_i=price, size_i=base_amount)
        body = wire.order_body(
            m, is_ask=is_ask, size_i=base_amount, price_i=price, client_id=self.ids.client_id(client_order_index),
            post_only=post_only, reduce_only=reduce_only, tif="IOC" if ioc else "GTC",
        )  # fmt: skip
        snap = await self._execute(m, client_order_index, body, post_only=post_only)
        return snap.order_id or ""

    async def submit_market_order(
        self, *, symbol: str, client_order_index: int, size_i: int, is_ask: bool, reduce_only: bool = False
    ) -> str:
        """A true market order (the venue walks its book); returns the venue's order id."""
        require_ints(client_order_index=client_order_index, size_i=size_i)
        m = self._market(symbol)
        wire.check_book_state(symbol, self._limits[symbol], "market")
        wire.check_order(m, self._limits[symbol], price_i=None, size_i=size_i)
        body = wire.order_body(
            m, is_ask=is_ask, size_i=size_i, price_i=None, client_id=self.ids.client_id(client_order_index),
            reduce_only=reduce_only,
        )  # fmt: skip
        snap = await self._execute(m, client_order_index, body, post_only=False)
        return snap.order_id or ""

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        if client_order_index < 0:  # placed without a clientId: named by its order id
            await self.cancel_by_order_id(symbol, str(-client_order_index))
            return
        self._market(symbol)
        cid = client_order_index % wire.CLIENT_ID_MOD
        await self._signed("DELETE", "/api/v1/order", "orderCancel", {"symbol": symbol, "clientId": cid})

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        self._market(symbol)
        await self._signed("DELETE", "/api/v1/order", "orderCancel", {"symbol": symbol, "orderId": str(order_id)})

    async def cancel_all(self, symbol: str | None = None) -> None:
        """The venue cancels per market: every market with an open order when no symbol is given."""
        if symbol is not None:
            self._market(symbol)
            symbols = [symbol]
        else:
            symbols = sorted({o.symbol for o in await self.get_open_orders()})
        for name in symbols:  # resting orders only: a cancel-all leaves the venue's protective triggers armed
            body = {"symbol": name, "orderType": "RestingLimitOrder"}
            await self._signed("DELETE", "/api/v1/orders", "orderCancelAll", body)

    # -- account ---------------------------------------------------------------------------

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        """A resting order from ``/order``; a finished one from the order history."""
        m = self._market(symbol)
        order_id = self.ids.order_id(client_order_index)
        if client_order_index < 0:
            order_id = str(-client_order_index)
            ref: dict[str, Any] = {"orderId": order_id}
        else:
            ref = {"clientId": client_order_index % wire.CLIENT_ID_MOD}
        try:
            raw = await self._signed("GET", "/api/v1/order", "orderQuery", {"symbol": symbol, **ref})
            return wire.parse_order(raw, m, client_order_index)
        except UnknownOrder:
            pass
        query: dict[str, Any] = {"symbol": symbol, "limit": 1000, "sortDirection": "Desc"}
        # by order id first; then by clientId alone: a fired trigger's child may carry an id of its own
        for by_id in ([True] if order_id else []) + ([False] if client_order_index >= 0 or not order_id else []):
            q = {**query, "orderId": order_id} if by_id else query
            for raw in await self._signed("GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", q) or []:
                if triggers.is_trigger(raw):
                    continue  # an armed trigger, not the order it places
                if (order_id and str(raw.get("id")) == order_id) or (
                    client_order_index >= 0 and raw.get("clientId") == ref.get("clientId")
                ):
                    return wire.parse_order(raw, m, client_order_index)
        raise UnknownOrder(f"backpack {symbol}: no order with client index {client_order_index}")

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        params: dict[str, Any] = {"marketType": "PERP"}
        if symbol is not None:
            self._market(symbol)
            params["symbol"] = symbol
        now = self.clock.now_ms()
        out = []
        for raw in await self._signed("GET", "/api/v1/orders", "orderQueryAll", params) or []:
            m = self._markets.get(raw.get("symbol"))
            if m is not None and not triggers.is_trigger(raw):  # armed triggers: get_trigger_orders
                out.append(wire.parse_order(raw, m, self.ids.index(raw.get("clientId"), raw.get("id"), now)))
        return out

    # -- trigger orders (native_triggers; see connector.backpack.triggers) ----------------------

    async def submit_trigger_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        kind: str,
        is_ask: bool,
        trigger_price: int | None,
        size_i: int | None,
        limit_price: int | None = None,
        trigger_on: str = "mark",
        trail_i: int | None = None,
        trail_ppm: int | None = None,
        reduce_only: bool = True,
    ) -> str:
        """Arm a trigger the venue holds; returns its order id."""
        require_ints(client_order_index=client_order_index)
        require_native_trigger(
            self.venue, kind, trigger_on, trigger_price, limit_price, kinds=self.trigger_kinds, sources=self.trigger_sources
        )
        if size_i is None and not reduce_only:
            raise InvalidOrder("a whole-position trigger is reduce-only")
        m = self._market(symbol)
        trigger_price = triggers.on_tick(trigger_price, m.tick_i, up=triggers.falls(kind, is_ask))  # fires no later
        if limit_price is not None:
            limit_price = triggers.on_tick(limit_price, m.tick_i, up=is_ask)  # never a worse limit
        if size_i is not None:
            wire.check_order(m, self._limits[symbol], price_i=limit_price, size_i=size_i)
        body = triggers.trigger_body(
            m, client_id=self.ids.client_id(client_order_index), is_ask=is_ask, trigger_i=trigger_price,
            size_i=size_i, limit_i=limit_price, trigger_on=trigger_on, reduce_only=reduce_only,
        )  # fmt: skip
        self.stream.trigger_cois.add(client_order_index)  # before the request: its stream update may come first
        try:
            raw = await self._signed("POST", "/api/v1/order", "orderExecute", body)
        except BaseException:
            self.stream.trigger_cois.discard(client_order_index)
            raise
        self._trigger_kinds[client_order_index] = kind
        order_id = str(raw.get("id") or "") if isinstance(raw, dict) else ""
        self.ids.remember_order(client_order_index, order_id or None)
        return order_id

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        """``UnknownOrder`` when the venue holds no such armed trigger (it fired, or never was)."""
        if not any(t.client_order_index == client_order_index for t in await self.get_trigger_orders(symbol)):
            raise UnknownOrder(f"backpack {symbol}: no armed trigger {client_order_index}")
        await self.cancel_by_client_id(symbol, client_order_index)

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        params: dict[str, Any] = {"marketType": "PERP"}
        if symbol is not None:
            self._market(symbol)
            params["symbol"] = symbol
        now = self.clock.now_ms()
        out = []
        for raw in await self._signed("GET", "/api/v1/orders", "orderQueryAll", params) or []:
            m = self._markets.get(raw.get("symbol"))
            if m is None or not triggers.is_trigger(raw):
                continue
            index = self.ids.index(raw.get("clientId"), raw.get("id"), now)
            kind = self._trigger_kinds.get(index)
            reference = None
            if kind is None:  # armed before a restart: the kind follows from the price (see triggers.kind_of)
                bid, ask, _ = await self.get_top_of_book(m.symbol)
                reference = (bid + ask) // 2 if bid is not None and ask is not None else bid or ask
            out.append(triggers.parse_trigger(raw, m, index, kind, reference))
        self.stream.trigger_cois.update(s.client_order_index for s in out)
        return out

    async def get_positions(self) -> list[Position]:
        now = self.clock.now_ms()
        out = []
        for raw in await self._signed("GET", "/api/v1/position", "positionQuery") or []:
            m = self._markets.get(raw.get("symbol"))
            if m is not None:
                position = wire.parse_position(raw, m, now)
                if position.size_i:
                    out.append(position)
        return out

    async def get_margin(self) -> Margin:
        raw = await self._signed("GET", "/api/v1/capital/collateral", "collateralQuery")
        return wire.parse_margin(raw or {}, self.clock.now_ms())
