"""Binance USDⓈ-M perpetual futures.

Three concerns, kept apart: metadata (``exchangeInfo``: ticks, steps, notional, the price band),
market data (``/public``: ``<s>@depth@100ms`` kept by the documented diff sync with ``bookTicker``
for the touch; ``/market``: ``<s>@markPrice@1s`` for the band and ``<s>@aggTrade`` for the tape)
and orders/account (signed REST; the ``/private`` user-data stream behind a listenKey).

Orders carry ``newClientOrderId = "pd-<client order index>"``, so every update maps back to the
order service's order; an order placed elsewhere is reported with ``-orderId`` as its index.
``modify_order`` is ``PUT /fapi/v1/order``, whose quantity is the *total* (filled part included):
we send what is filled plus the new remaining, never more than the order's size, so a fill that
lands while the amend travels is not grown back (``amend_fill_safe``).  The dead-man switch is
``countdownCancelAll``, which works per symbol: it is armed for every symbol with live orders.
Hedge mode is refused at start.  After any reconnect the runtime's reconciler asks REST what the
streams missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from connector.base import BaseConnector
from connector.binance_usdm import wire
from connector.binance_usdm.codes import HEDGE_MODE_HINT, SAME_ORDER
from connector.binance_usdm.feed import DEPTH_WEIGHT, MarketFeed
from connector.binance_usdm.fills import FillRecovery
from connector.binance_usdm.funding import BinanceFunding
from connector.binance_usdm.ledger import Ledger
from connector.binance_usdm.leverage import LeverageSettings
from connector.binance_usdm.limits import Budget
from connector.binance_usdm.rest import SIGNED, BinanceRest
from connector.binance_usdm.signing import DEFAULT_RECV_WINDOW_MS, MAX_RECV_WINDOW_MS, Signer
from connector.binance_usdm.stream import decode
from connector.binance_usdm.triggers import TriggerOrders
from connector.binance_usdm.userstream import ListenKeyKeeper, user_events
from connector.checks import require_ints
from connector.clock import Clock
from connector.errors import (
    AuthError,
    ConfigError,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    UnknownOrder,
    VenueError,
)
from connector.interface import ConnectionState, Margin, MarketInfo, OrderSnapshot, Position
from connector.keys import Secret, register_secret
from connector.transport.ws import WsSupervisor

log = logging.getLogger(__name__)


class BinanceUsdmConnector(LeverageSettings, TriggerOrders, BaseConnector):
    venue = "binance-usdm"
    capabilities = frozenset(
        {"amend", "amend_fill_safe", "dead_man_switch", "native_triggers", "funding", "leverage", "leverage_pushed"}
    )

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ws_url: str | None = None,
        testnet: bool = False,
        keys: dict[str, Any] | None = None,
        clock: Clock | None = None,
        request_timeout_s: float = 10.0,
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        time_sync_s: float = 300.0,
        listen_key_keepalive_s: float = 1800.0,
        depth_limit: int = 100,
        stale_after_s: float = 30.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        routed_streams: bool | None = None,
        account_refresh_s: float = 0.25,
        mark_max_age_s: float = 10.0,
    ) -> None:
        super().__init__(clock=clock)
        if depth_limit not in DEPTH_WEIGHT:
            raise ConfigError(f"binance-usdm depth_limit must be one of {sorted(DEPTH_WEIGHT)}, got {depth_limit}")
        if not 1 <= recv_window_ms <= MAX_RECV_WINDOW_MS:
            raise ConfigError(f"binance-usdm recv_window_ms must be 1..{MAX_RECV_WINDOW_MS}, got {recv_window_ms}")
        self.base_url = (base_url or (wire.TESTNET_URL if testnet else wire.MAINNET_URL)).rstrip("/")
        self.ws_url = (ws_url or (wire.TESTNET_WS_URL if testnet else wire.MAINNET_WS_URL)).rstrip("/")
        # the demo network still serves the legacy unrouted paths (see docs/venues/binance_usdm.md)
        self.routed = routed_streams if routed_streams is not None else not testnet
        self.request_timeout_s, self.recv_window_ms = request_timeout_s, recv_window_ms
        self.time_sync_s, self.keepalive_s = time_sync_s, listen_key_keepalive_s
        self.reconnect = {"backoff_base_s": reconnect_min_s, "backoff_max_s": reconnect_max_s}
        self.account_refresh_s, self.mark_max_age_s = account_refresh_s, mark_max_age_s
        self._api_key: Secret | None = None
        self._signer: Signer | None = None
        if keys:
            self._load_keys(keys)
        self.budget = Budget(self.clock)
        self.rest: BinanceRest | None = None
        self.listen_key: ListenKeyKeeper | None = None
        self._venue_filters: dict[str, wire.Filters] = {}
        """symbol -> what the venue checks on an order (``self._markets`` holds the MarketInfo)."""
        ws_options = {"stale_after_s": stale_after_s, "open_timeout_s": request_timeout_s, **self.reconnect}
        self.feed = MarketFeed(
            self, url_for=self._route, rest=self._need_rest, spawn=self._job, depth_limit=depth_limit,
            ws_options=ws_options,
        )  # fmt: skip
        self.funding = BinanceFunding(self.emit, self.clock)
        self.feed.on_mark = self.funding.on_mark
        self.ledger = Ledger()
        self.fills = FillRecovery(
            self._need_rest, lambda: self._venue_filters, self.ledger, self.emit, clock=self.clock,
            backoff_base_s=reconnect_min_s, backoff_max_s=reconnect_max_s,
        )  # fmt: skip
        self._armed: set[str] = set()
        self._dms_after_s: float | None = None
        self._jobs: set[asyncio.Task[Any]] = set()
        """Short tasks (a snapshot, a listenKey check, a margin read); loops go through ``spawn``."""
        self._account_dirty = False
        self._account_task: asyncio.Task[None] | None = None
        self._private: WsSupervisor | None = None

    def _load_keys(self, keys: dict[str, Any]) -> None:
        missing = [k for k in ("api_key", "api_secret") if not keys.get(k)]
        if missing:
            raise ConfigError(f"binance-usdm key file has no {', '.join(missing)} (see docs/venues/binance_usdm.md)")
        self._api_key = register_secret(keys["api_key"])
        self._signer = Signer(register_secret(keys["api_secret"]))

    def __repr__(self) -> str:
        return f"<BinanceUsdmConnector url={self.base_url} keys={'yes' if self._signer else 'no'}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        http = self.http_client(self.base_url, timeout_s=self.request_timeout_s, max_retries=2, max_429_retries=0)
        self.rest = BinanceRest(
            http, clock=self.clock, budget=self.budget, api_key=self._api_key, signer=self._signer,
            recv_window_ms=self.recv_window_ms, on_ban=self._on_ban, on_unban=self._on_unban,
        )  # fmt: skip
        try:
            await self.rest.sync_time()
            await self.list_markets()
            await self._load_funding_intervals()
            if self._signer is not None:
                await self._start_account()
        except BaseException:
            await self.stop()
            raise
        self.spawn(self._time_sync_loop(), "time-sync")
        self.started = True
        if self.feed.books:  # started again after a stop: the books subscribed before come back
            await self.feed.subscribe([])

    async def _load_funding_intervals(self) -> None:
        """The symbols whose funding interval is not eight hours; without them, every one is taken as eight."""
        try:
            self.funding.load_intervals(await self._need_rest().request("GET", "/fapi/v1/fundingInfo", {}, weight=1))
        except VenueError as exc:
            log.warning("binance-usdm: no funding intervals (%s); taking eight hours for every market", exc)

    async def _start_account(self) -> None:
        assert self.rest is not None
        mode = await self.rest.request("GET", "/fapi/v1/positionSide/dual", security=SIGNED, weight=30)
        if mode.get("dualSidePosition"):
            raise ConfigError(f"binance-usdm: the account is in hedge mode. {HEDGE_MODE_HINT}")
        self.listen_key = ListenKeyKeeper(
            self.rest, clock=self.clock, on_new_key=self._use_listen_key, keepalive_s=self.keepalive_s
        )
        key = await self.listen_key.create()
        self._private = self.supervise_ws(
            "private", self._private_url(key), on_message=self._on_private, parse=decode,
            on_connect=self._on_private_connect, open_timeout_s=self.request_timeout_s, **self.reconnect,
        )  # fmt: skip
        await self._private.start()
        self.spawn(self.listen_key.run(), "listen-key")

    async def stop(self) -> None:
        for task in list(self._jobs):
            task.cancel()
        for task in list(self._jobs):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._jobs.clear()
        await super().stop()
        self._private = None
        self.listen_key = None
        self.feed.detach()

    def _job(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    def _route(self, route: str) -> str:
        return f"{self.ws_url}/{route}/ws" if self.routed else f"{self.ws_url}/ws"

    def _private_url(self, key: str) -> str:
        return f"{self.ws_url}/private/stream?streams={key}" if self.routed else f"{self.ws_url}/ws/{key}"

    def _on_ban(self, message: str) -> None:
        self.set_connection("rest", ConnectionState.DISCONNECTED, message)

    def _on_unban(self) -> None:
        self.set_connection("rest", ConnectionState.CONNECTED, "the venue answers again")

    def set_connection(self, stream: str, state: ConnectionState, reason: str = "") -> None:
        super().set_connection(stream, state, reason)
        if stream == "private" and state is ConnectionState.DISCONNECTED and self.listen_key is not None:
            self._job(self.listen_key.check("the private stream dropped"))

    async def _time_sync_loop(self) -> None:
        while True:
            await self.clock.sleep(self.time_sync_s)
            if self.rest is not None:
                with contextlib.suppress(VenueError):
                    await self.rest.sync_time()

    def _need_rest(self) -> BinanceRest:
        if self.rest is None:
            raise VenueError("binance-usdm connector is not started")
        return self.rest

    # -- metadata --------------------------------------------------------------------------

    async def list_markets(self) -> list[MarketInfo]:
        body = await self._need_rest().request("GET", "/fapi/v1/exchangeInfo", weight=1)
        self.budget.configure_from(wire.parse_rate_limits(body))
        listed = wire.parse_exchange_info(body)
        self._markets = await self._with_max_leverage({info.symbol: info for info, _ in listed})
        self._venue_filters = {f.symbol: f for _, f in listed}
        return list(self._markets.values())

    def _filters(self, symbol: str) -> wire.Filters:
        f = self._venue_filters.get(symbol)
        if f is None:
            self._market(symbol)  # raises InvalidOrder naming markets that exist
            raise InvalidOrder(f"binance-usdm has no filters for {symbol!r}")
        return f

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        f = self._filters(symbol)
        shown = self.feed.top(symbol)
        if shown is not None:
            return (*shown, 10**f.price_decimals)
        body = await self._need_rest().request("GET", "/fapi/v1/ticker/bookTicker", {"symbol": symbol}, weight=2)
        bid, ask = body.get("bidPrice"), body.get("askPrice")
        pd = f.price_decimals
        return (wire.px(bid, pd) if bid else None, wire.px(ask, pd) if ask else None, 10**pd)

    async def _mark(self, symbol: str) -> int | None:
        """The mark price for the band check: the stream's if fresh, else ``premiumIndex``."""
        known = self.feed.mark(symbol, int(self.mark_max_age_s * 1000))
        if known is not None:
            return known
        try:
            body = await self._need_rest().request("GET", "/fapi/v1/premiumIndex", {"symbol": symbol}, weight=1)
        except VenueError as exc:
            log.warning("binance-usdm: no mark price for %s (%s); the venue checks the band", symbol, exc)
            return None
        mark = wire.rounded(body["markPrice"], self._filters(symbol).price_decimals)
        self.feed.marks[symbol] = (mark, self.clock.now_ms())
        return mark

    # -- market data -----------------------------------------------------------------------

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        await self.feed.subscribe([self._filters(s) for s in symbols])

    # -- the user-data stream ----------------------------------------------------------------

    async def _use_listen_key(self, key: str) -> None:
        if self._private is not None:
            self._private.url = self._private_url(key)
            await self._private.reconnect("new listenKey")

    def _on_private_connect(self, ws: WsSupervisor) -> None:
        """After a drop, the fills booked meanwhile are read back (``connector.binance_usdm.fills``)."""
        if ws.connects == 1 or self.fills.session_start_ms is None:
            self.fills.session_start_ms = self._need_rest().server_ms()
        if ws.connects > 1 and ws.last_message_ms is not None and self.fills.symbols():
            self.fills.after_reconnect(ws.last_message_ms, self._job)

    def _on_private(self, msg: dict[str, Any]) -> None:
        for kind, event in user_events(msg, self._venue_filters, self.feed.marks):
            if kind == "order":
                self.ledger.track(event)
            elif kind == "position":
                self.fills.watch(event.symbol)
            elif kind == "fill" and not self.ledger.first_sight(event):
                continue
            self.emit(kind, event)
        kind = msg.get("e")
        if kind in ("ACCOUNT_UPDATE", "MARGIN_CALL"):
            self._refresh_account()
        elif kind == "listenKeyExpired" and self.listen_key is not None:
            self._job(self.listen_key.renew("the venue sent listenKeyExpired"))

    def _refresh_account(self) -> None:
        """Margin from ``/fapi/v3/account`` shortly after account changes (the stream has no margin figures)."""
        self._account_dirty = True
        if self._account_task is None or self._account_task.done():
            self._account_task = self._job(self._account_refresher())

    async def _account_refresher(self) -> None:
        while self._account_dirty:
            await self.clock.sleep(self.account_refresh_s)
            self._account_dirty = False
            try:
                self.emit("margin", await self.get_margin())
            except VenueError as exc:
                log.warning("binance-usdm: margin refresh failed: %s", exc)
            await self.clock.sleep(self.account_refresh_s * 3)

    # -- orders ----------------------------------------------------------------------------

    def _order_ref(self, symbol: str, coi: int) -> dict[str, Any]:
        return (
            {"symbol": symbol, "orderId": -coi}
            if coi < 0
            else {"symbol": symbol, "origClientOrderId": wire.client_id(coi)}
        )

    async def _send_order(self, method: str, params: dict[str, Any]) -> OrderSnapshot:
        body = await self._need_rest().request(method, "/fapi/v1/order", params, security=SIGNED, weight=0, orders=1)
        snap = wire.parse_order(body, self._filters(params["symbol"]))
        self.ledger.track(snap)
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
        """LIMIT GTC, IOC or GTX (post-only); refused before sending when off the venue's filters or band."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        if post_only and ioc:
            raise InvalidOrder("an order cannot be both post-only and immediate-or-cancel")
        f = self._filters(symbol)
        wire.check_order(f, price_i=price, size_i=base_amount, reduce_only=reduce_only)
        wire.check_order(f, price_i=price, size_i=base_amount, reduce_only=reduce_only, mark_i=await self._mark(symbol))
        params = {
            "symbol": symbol, "side": "SELL" if is_ask else "BUY", "type": "LIMIT",
            "timeInForce": "GTX" if post_only else "IOC" if ioc else "GTC",
            "quantity": wire.to_wire(base_amount, f.size_decimals), "price": wire.to_wire(price, f.price_decimals),
            "newClientOrderId": wire.client_id(client_order_index), "reduceOnly": True if reduce_only else None,
        }  # fmt: skip
        self.ledger.placing(
            client_order_index, symbol, is_ask=is_ask, size_i=base_amount, post_only=post_only, reduce_only=reduce_only
        )
        snap = await self._place(client_order_index, params)
        self._arm_if_needed(symbol)
        return str(snap.order_id)

    async def submit_market_order(
        self, *, symbol: str, client_order_index: int, size_i: int, is_ask: bool, reduce_only: bool = False
    ) -> str:
        require_ints(client_order_index=client_order_index, size_i=size_i)
        f = self._filters(symbol)
        wire.check_order(f, price_i=0, size_i=size_i, is_market=True, reduce_only=reduce_only)
        params = {
            "symbol": symbol, "side": "SELL" if is_ask else "BUY", "type": "MARKET",
            "quantity": wire.to_wire(size_i, f.size_decimals), "newClientOrderId": wire.client_id(client_order_index),
            "reduceOnly": True if reduce_only else None,
        }  # fmt: skip
        self.ledger.placing(
            client_order_index, symbol, is_ask=is_ask, size_i=size_i, post_only=False, reduce_only=reduce_only
        )
        snap = await self._place(client_order_index, params)
        return str(snap.order_id)

    async def _place(self, coi: int, params: dict[str, Any]) -> OrderSnapshot:
        try:
            return await self._send_order("POST", params)
        except (OrderRejected, InvalidOrder, RateLimited, AuthError):
            self.ledger.orders.pop(coi, None)  # refused, so never live (an unknown outcome stays until reconciled)
            raise

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        """``PUT /fapi/v1/order``: the new total is what is filled plus ``base_amount``, capped at the size."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        f = self._filters(symbol)
        ref = self.ledger.orders.get(client_order_index)
        if ref is None or ref.symbol != symbol:
            snap = await self.get_order(symbol, client_order_index)
            if not snap.status.is_live:
                raise UnknownOrder(f"binance-usdm {symbol}: order {client_order_index} is {snap.status}, not open")
            ref = self.ledger.orders[client_order_index]
        total = min(ref.filled_i + base_amount, ref.size_i)
        if total <= ref.filled_i:
            raise InvalidOrder(f"binance-usdm {symbol}: nothing would be left of order {client_order_index}")
        wire.check_order(f, price_i=price, size_i=total, reduce_only=ref.reduce_only, mark_i=await self._mark(symbol))
        shown = self.feed.top(symbol)
        if ref.post_only and shown is not None:
            bid, ask = shown
            touch = bid if ref.is_ask else ask
            if touch is not None and (price <= touch if ref.is_ask else price >= touch):
                # the venue would cancel a GTX order whose new price crosses: refuse and keep it resting
                raise PostOnlyWouldCross(
                    f"binance-usdm {symbol}: post-only {'ask' if ref.is_ask else 'bid'} amended to "
                    f"{wire.to_wire(price, f.price_decimals)} would cross {wire.to_wire(touch, f.price_decimals)}"
                )
        params = {
            **self._order_ref(symbol, client_order_index), "side": "SELL" if ref.is_ask else "BUY",
            "quantity": wire.to_wire(total, f.size_decimals), "price": wire.to_wire(price, f.price_decimals),
        }  # fmt: skip
        try:
            snap = await self._send_order("PUT", params)
        except VenueError as exc:
            if exc.info.get("code") == SAME_ORDER:
                return str(ref.order_id or "")
            raise
        return str(snap.order_id)

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        body = await self._need_rest().request(
            "DELETE", "/fapi/v1/order", self._order_ref(symbol, client_order_index), security=SIGNED, weight=1
        )
        self.ledger.track(wire.parse_order(body, self._filters(symbol)))

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        try:
            oid = int(order_id)
        except ValueError:
            raise InvalidOrder(f"binance-usdm order ids are integers, got {order_id!r}") from None
        await self.cancel_by_client_id(symbol, -oid)

    async def cancel_all(self, symbol: str | None = None) -> None:
        """``DELETE /fapi/v1/allOpenOrders`` per symbol (the venue has no all-symbols form)."""
        symbols = [symbol] if symbol else sorted({o.symbol for o in await self.get_open_orders()})
        for s in symbols:
            self._filters(s)
            await self._need_rest().request("DELETE", "/fapi/v1/allOpenOrders", {"symbol": s}, security=SIGNED)

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """``countdownCancelAll`` on every symbol with live orders (and off where it was on); None disarms."""
        self._dms_after_s = after_s
        live = self.ledger.live_symbols()
        targets = sorted(self._armed) if after_s is None else sorted(self._armed | live)
        for symbol in targets:
            arm = after_s is not None and symbol in live
            await self._countdown(symbol, after_s if arm else None)

    def _arm_if_needed(self, symbol: str) -> None:
        if self._dms_after_s is not None and symbol not in self._armed:
            self._armed.add(symbol)  # claimed now, so a burst of orders arms it once
            self._job(self._countdown(symbol, self._dms_after_s, quiet=True))

    async def _countdown(self, symbol: str, after_s: float | None, *, quiet: bool = False) -> None:
        ms = 0 if after_s is None else max(1000, int(after_s * 1000))
        try:
            await self._need_rest().request(
                "POST", "/fapi/v1/countdownCancelAll", {"symbol": symbol, "countdownTime": ms},
                security=SIGNED, weight=10,
            )  # fmt: skip
        except VenueError:
            if not quiet:
                raise
            self._armed.discard(symbol)
            log.warning("binance-usdm: could not arm the dead-man switch on %s", symbol, exc_info=True)
            return
        if ms:
            self._armed.add(symbol)
        else:
            self._armed.discard(symbol)

    # -- account ---------------------------------------------------------------------------

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        body = await self._need_rest().request(
            "GET", "/fapi/v1/order", self._order_ref(symbol, client_order_index), security=SIGNED, weight=1
        )
        snap = wire.parse_order(body, self._filters(symbol))
        self.ledger.track(snap)
        return snap

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        params = {"symbol": symbol} if symbol else None
        if symbol:
            self._filters(symbol)
        rows = await self._need_rest().request(
            "GET", "/fapi/v1/openOrders", params, security=SIGNED, weight=1 if symbol else 40
        )
        out = []
        for raw in rows:
            if raw.get("symbol") in self._venue_filters:
                snap = wire.parse_order(raw, self._venue_filters[raw["symbol"]])
                self.ledger.track(snap)
                out.append(snap)
        return out

    async def get_positions(self) -> list[Position]:
        rows = await self._need_rest().request("GET", "/fapi/v3/positionRisk", security=SIGNED, weight=5)
        now = self.clock.now_ms()
        out = []
        for raw in rows:
            if raw.get("symbol") in self._venue_filters and raw.get("positionSide", "BOTH") == "BOTH":
                position = wire.position_from_risk(raw, self._venue_filters[raw["symbol"]], now)
                if position.size_i:
                    self.fills.watch(position.symbol)
                    out.append(position)
        return out

    async def get_margin(self) -> Margin:
        body = await self._need_rest().request("GET", "/fapi/v3/account", security=SIGNED, weight=5)
        return wire.parse_account(body, self.clock.now_ms())
