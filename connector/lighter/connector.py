"""Lighter (zkLighter) perpetuals.

Three concerns, kept apart: metadata (markets from ``orderBookDetails``), market data
(the ``order_book/{id}`` stream chained on nonces) and orders/account (signed
transactions sent with ``sendTx``, account channels, account REST).

``sendTx`` answering 200 means only that the venue accepted the transaction; whether the
order rests, fills or is refused arrives later on ``account_all_orders`` or from
``get_order``.  The connector declares this with the ``"async_ack"`` capability: the order
service keeps such an order SUBMITTING until the venue's order update (or a status query)
says more.  ``submit_*`` then return the client order index as the order id: Lighter's
cancel and modify take it in place of the exchange's order index, and the exchange's index
arrives with the first order update.  The websocket is ``connector.lighter.stream``, the
payloads ``wire``, the signer ``signing`` and the per-key nonces ``nonces``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from connector.base import BaseConnector
from connector.checks import require_ints, require_native_trigger
from connector.clock import Clock
from connector.errors import (
    AuthError,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    UnknownOrder,
    VenueError,
)
from connector.interface import Margin, MarketInfo, OrderSnapshot, Position, TriggerSnapshot
from connector.lighter import signing, triggers, wire
from connector.lighter.funding import LighterFunding
from connector.lighter.leverage import LeverageTx
from connector.lighter.nonces import InvalidNonce, NonceManager, NonceNotConsumed
from connector.lighter.stream import LighterStream, decode_frame
from connector.scaling import str_to_scaled
from connector.transport.http import HttpClient
from connector.transport.ratelimit import RateLimiter

MAINNET_URL = "https://mainnet.zklighter.elliot.ai"
TESTNET_URL = "https://testnet.zklighter.elliot.ai"
STREAM = "lighter"


class LighterConnector(LeverageTx, BaseConnector):
    venue = "lighter"
    capabilities = frozenset({"amend", "dead_man_switch", "async_ack", "native_triggers", "funding", "leverage"})
    trigger_kinds = frozenset(triggers.KINDS)
    trigger_sources = triggers.SOURCES
    trigger_follows_position = False
    """A whole-position trigger is sized to the position when placed; perpdesk re-arms it when the size changes."""

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
        auth_ttl_s: int = 3600,
        auth_renew_before_s: int = 300,
        market_slippage_bps: int = 500,
        requests_per_min: float = 60,
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = (base_url or (TESTNET_URL if testnet else MAINNET_URL)).rstrip("/")
        self.ws_url = ws_url or self.base_url.replace("http", "ws", 1) + "/stream"
        self.chain_id = signing.TESTNET_CHAIN_ID if testnet else signing.MAINNET_CHAIN_ID
        self.request_timeout_s = request_timeout_s
        self.stale_after_s = stale_after_s
        self.reconnect_min_s, self.reconnect_max_s = reconnect_min_s, reconnect_max_s
        self.auth_ttl_s, self.auth_renew_before_s = auth_ttl_s, auth_renew_before_s
        self.market_slippage_bps = market_slippage_bps
        self.requests_per_min = requests_per_min
        parsed = signing.parse_keys(keys) if keys else (None, None, None)
        self.account_index, self.api_key_index, self._private_key = parsed
        if keys:
            signing.load_sdk()  # fail at construction, with the install hint, not at the first order
        self._signer: signing.LighterSigner | None = None
        self.nonces = NonceManager(self._fetch_nonce)
        self._http: HttpClient | None = None
        self._entries: dict[str, tuple[int, MarketInfo]] = {}
        """symbol -> (Lighter's market index, the market); the base's ``_markets`` holds the markets alone."""
        self._by_id: dict[int, str] = {}
        self._order_ids: set[int] = set()
        """Markets we placed orders in this session."""
        self._token: tuple[str, int] | None = None
        self._trigger_cois: set[int] = set()
        """Triggers we armed or saw armed: their waiting and cancelled rows are no orders of ours."""
        self.stream = LighterStream(
            emit=self._emit_event, clock=self.clock, market=self._market_by_id, account_index=self.account_index or 0
        )
        self.stream.on_market_stats = LighterFunding(self.emit, self.clock, self._market_by_id).on_stats

    def __repr__(self) -> str:
        return f"<LighterConnector url={self.base_url} account={self.account_index} key={self.api_key_index}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self.stream.ws is None:
            # the standard tier allows 60 requests in any rolling minute: half as a burst, half spread out
            limiter = RateLimiter(self.requests_per_min / 120, self.requests_per_min / 2, clock=self.clock)
            self._http = self.http_client(self.base_url, timeout_s=self.request_timeout_s, rate_limiter=limiter)
            self.stream.ws = self.supervise_ws(
                STREAM, self.ws_url, on_message=self.stream.on_frame, on_connect=self.stream.on_connect,
                parse=decode_frame, backoff_base_s=self.reconnect_min_s, backoff_max_s=self.reconnect_max_s,
                stale_after_s=self.stale_after_s, open_timeout_s=self.request_timeout_s,
            )  # fmt: skip
        await self.list_markets()
        if self._private_key is not None and self._signer is None:
            # the SDK builds an HTTP session in its constructor: it must run inside the loop
            self._signer = signing.LighterSigner(
                self.base_url, self.account_index or 0, self.api_key_index or 0, self._private_key, self.chain_id
            )
            self.stream.auth_token = self._auth_token
            self.spawn(self._renew_auth(), "auth")
        await self.start_streams()
        self.started = True

    async def stop(self) -> None:
        await super().stop()
        self._http = self.stream.ws = self.stream.auth_token = None
        if self._signer is not None:
            await self._signer.close()
            self._signer = None

    # -- HTTP ------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        auth: bool = False,
    ) -> dict[str, Any]:
        if self._http is None:
            raise VenueError("lighter connector is not started")
        headers = {"Authorization": self._auth_token()} if auth else {}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        content = urlencode(data) if data is not None else None
        resp = await self._http.request(method, f"/api/v1/{path}", params=params, content=content, headers=headers)
        try:
            body = resp.json()
        except ValueError:
            body = {"code": resp.status_code, "message": resp.text[:200]}
        if resp.status_code == 200 and isinstance(body, dict) and int(body.get("code", 200)) == wire.CODE_OK:
            return body
        raise wire.error_for(path, resp.status_code, body, resp.headers.get("Retry-After"))

    def _auth_token(self) -> str:
        if self._signer is None:
            raise AuthError("lighter: no API key configured; account data and trading need a key file")
        now_s = self.clock.now_ms() // 1000
        if self._token is None or self._token[1] - now_s <= self.auth_renew_before_s:
            self._token = (self._signer.auth_token(now_s=now_s, ttl_s=self.auth_ttl_s), now_s + self.auth_ttl_s)
        return self._token[0]

    async def _fetch_nonce(self, key: int) -> int:
        body = await self._request(
            "GET", "nextNonce", params={"account_index": self.account_index, "api_key_index": key}
        )
        return int(body["nonce"])

    async def _send_tx(self, build: Callable[[int], signing.SignedTx]) -> dict[str, Any]:
        """Sign with the next nonce and send; the nonce manager serialises per key."""
        if self._signer is None:
            raise AuthError("lighter: no API key configured (see docs/venues/lighter.md to create a key file)")

        signer = self._signer

        async def attempt(nonce: int) -> dict[str, Any]:
            try:
                tx = await signer.sign(build, nonce)  # on the key's signing thread
            except InvalidOrder as exc:
                raise NonceNotConsumed(exc) from None
            try:
                return await self._request("POST", "sendTx", data={"tx_type": tx.tx_type, "tx_info": tx.tx_info})
            except InvalidNonce:
                raise
            except (OrderRejected, RateLimited, AuthError, UnknownOrder) as exc:
                raise NonceNotConsumed(exc) from None

        return await self.nonces.send(self.api_key_index or 0, attempt)

    # -- metadata --------------------------------------------------------------------------

    async def list_markets(self) -> list[MarketInfo]:
        body = await self._request("GET", "orderBookDetails")
        rows = body.get("order_book_details") or body.get("order_books") or []
        for raw in rows:
            if raw.get("market_type", "perp") != "perp" or raw.get("status", "active") != "active":
                continue
            market_id, info = wire.parse_market(raw)
            self._entries[info.symbol] = (market_id, info)
            self._markets[info.symbol] = info
            self._by_id[market_id] = info.symbol
        return [info for _, info in self._entries.values()]

    def _entry(self, symbol: str) -> tuple[int, MarketInfo]:
        try:
            return self._entries[symbol]
        except KeyError:
            raise InvalidOrder(
                f"lighter has no market {symbol!r}"
                + (f"; known: {', '.join(sorted(self._entries)[:12])}" if self._entries else "")
            ) from None

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        market_id, info = self._entry(symbol)
        scale = 10**info.price_decimals
        top = self.stream.top(market_id)
        if top is not None:
            return (*top, scale)
        body = await self._request("GET", "orderBookOrders", params={"market_id": market_id, "limit": 1})
        bid, ask = (body.get("bids") or [None])[0], (body.get("asks") or [None])[0]
        pd = info.price_decimals
        return (
            str_to_scaled(bid["price"], pd) if bid else None,
            str_to_scaled(ask["price"], pd) if ask else None,
            scale,
        )

    # -- market data stream ----------------------------------------------------------------

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            await self.stream.subscribe(*self._entry(symbol))

    def _market_by_id(self, market_id: int) -> MarketInfo | None:
        symbol = self._by_id.get(market_id)
        return self._entries[symbol][1] if symbol else None

    def _by_market(self, market_id: int) -> tuple[str, MarketInfo]:
        symbol = self._by_id[market_id]
        return symbol, self._entries[symbol][1]

    async def _renew_auth(self) -> None:
        """Re-authenticate the account channels before the token expires."""
        while True:
            self._auth_token()
            expiry = self._token[1] if self._token else 0
            wait_s = expiry - self.auth_renew_before_s - self.clock.now_ms() // 1000
            await self.clock.sleep(max(1.0, wait_s + 1))
            if self.stream.connected:
                with contextlib.suppress(VenueError):  # a drop now resubscribes with a fresh token anyway
                    await self.stream.subscribe_account(renew=True)

    # -- orders ----------------------------------------------------------------------------

    async def _create(
        self, symbol: str, coi: int, size_i: int, price_i: int, is_ask: bool, kind: int, tif: int, reduce_only: bool,
        trigger_price: int = 0,
    ) -> str:  # fmt: skip
        market_id, _ = self._entry(symbol)
        self._order_ids.add(market_id)
        expiry = 0 if tif == wire.TIF_IOC and not trigger_price else wire.EXPIRY_28_DAYS

        def build(nonce: int) -> signing.SignedTx:
            assert self._signer is not None
            return self._signer.create_order(
                market_id=market_id,
                client_order_index=coi,
                base_amount=size_i,
                price=price_i,
                is_ask=is_ask,
                order_type=kind,
                time_in_force=tif,
                reduce_only=reduce_only,
                order_expiry=expiry,
                nonce=nonce,
                trigger_price=trigger_price,
            )

        await self._send_tx(build)
        return str(coi)

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
        """Returns once the venue accepted the transaction (see the module docstring for the id)."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        if post_only and ioc:
            raise InvalidOrder("an order cannot be both post-only and immediate-or-cancel")
        if post_only:
            chain = self.stream.chains.get(self._entry(symbol)[0])
            touch = chain.top()[0 if is_ask else 1] if chain is not None else None
            if touch is not None and (price <= touch if is_ask else price >= touch):
                # the venue would cancel it as canceled-post-only; refusing here saves a nonce and a round trip
                raise PostOnlyWouldCross(
                    f"lighter {symbol}: post-only {'ask' if is_ask else 'bid'} at {price} "
                    f"would cross the {'bid' if is_ask else 'ask'} at {touch}"
                )
        tif = wire.TIF_IOC if ioc else wire.TIF_POST_ONLY if post_only else wire.TIF_GTT
        return await self._create(
            symbol, client_order_index, base_amount, price, is_ask, wire.ORDER_LIMIT, tif, reduce_only
        )

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
        """A market order needs a worst acceptable price: by default the touch ± ``market_slippage_bps``."""
        require_ints(client_order_index=client_order_index, size_i=size_i)
        if worst_price_i is not None:
            require_ints(worst_price_i=worst_price_i)
        if worst_price_i is None:
            worst_price_i = await self.market_worst_price(symbol, is_ask, self.market_slippage_bps)
        return await self._create(
            symbol, client_order_index, size_i, worst_price_i, is_ask, wire.ORDER_MARKET, wire.TIF_IOC, reduce_only
        )

    async def _cancel_index(self, symbol: str, index: int) -> None:
        market_id, _ = self._entry(symbol)

        def build(nonce: int) -> signing.SignedTx:
            assert self._signer is not None
            return self._signer.cancel_order(market_id=market_id, order_index=index, nonce=nonce)

        await self._send_tx(build)

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        """Lighter's cancel takes either the venue's order index or our client index."""
        await self._cancel_index(symbol, client_order_index)

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        try:
            index = int(order_id)
        except ValueError:
            raise InvalidOrder(f"lighter order ids are integers, got {order_id!r}") from None
        await self._cancel_index(symbol, index)

    async def cancel_all(self, symbol: str | None = None) -> None:
        market_id = self._entry(symbol)[0] if symbol else wire.ALL_MARKETS

        def build(nonce: int) -> signing.SignedTx:
            assert self._signer is not None
            return self._signer.cancel_all(
                time_in_force=wire.CANCEL_ALL_NOW, timestamp_ms=0, nonce=nonce, market_id=market_id
            )

        await self._send_tx(build)

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        """Amend in place (``base_amount`` = new remaining size); accepted, not yet confirmed ("")."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        market_id, _ = self._entry(symbol)

        def build(nonce: int) -> signing.SignedTx:
            assert self._signer is not None
            return self._signer.modify_order(
                market_id=market_id, order_index=client_order_index, base_amount=base_amount, price=price, nonce=nonce
            )

        await self._send_tx(build)
        return ""

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """Dead man's switch; ``None`` disarms.  Lighter schedules 5 minutes .. 15 days ahead, so a
        shorter window is armed at 5 minutes (weaker than asked, better than none)."""
        if after_s is not None and after_s > wire.DMS_MAX_S:
            raise InvalidOrder(f"lighter schedules cancel-all at most 15 days ahead, got {after_s:g} s")
        tif = wire.CANCEL_ALL_ABORT if after_s is None else wire.CANCEL_ALL_SCHEDULED
        when = 0 if after_s is None else self.clock.now_ms() + int(max(after_s, wire.DMS_MIN_S) * 1000)

        def build(nonce: int) -> signing.SignedTx:
            assert self._signer is not None
            return self._signer.cancel_all(time_in_force=tif, timestamp_ms=when, nonce=nonce)

        await self._send_tx(build)

    # -- trigger orders (native_triggers; see connector.lighter.triggers) -------------------

    def _emit_event(self, kind: str, event: Any) -> None:
        """The stream's events; a trigger's waiting or cancelled rows are no orders of ours."""
        if kind == "order" and triggers.is_trigger(event.info):
            coi = event.client_order_index
            if triggers.is_armed(event.info):
                self._trigger_cois.add(coi)
                return
            if coi in self._trigger_cois and event.info.get("status") == "canceled" and not event.filled_i:
                self._trigger_cois.discard(coi)
                return
            self._trigger_cois.discard(coi)  # it fired: from here on its order is the child
        self.emit(kind, event)

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
        """A stop-loss / take-profit order; returns the client order index (accepted, not yet armed)."""
        require_ints(client_order_index=client_order_index)
        require_native_trigger(
            self.venue, kind, trigger_on, trigger_price, limit_price, kinds=self.trigger_kinds, sources=self.trigger_sources
        )
        assert trigger_price is not None
        order_type = triggers.KINDS[kind]
        _, m = self._entry(symbol)
        if size_i is None:
            size_i = await self.whole_position_size(m.symbol, kind, is_ask=is_ask, reduce_only=reduce_only)
        require_ints(size_i=size_i)
        if size_i <= 0:
            raise InvalidOrder(f"order size must be positive, got {size_i}")
        stop = kind.startswith("stop")
        trigger_i = triggers.round_trigger(trigger_price, m.tick_i, up=is_ask if stop else not is_ask)
        if limit_price is not None:
            price_i, tif = triggers.round_trigger(limit_price, m.tick_i, up=is_ask), wire.TIF_GTT
        else:
            worst = triggers.worst_price(trigger_i, is_ask, self.market_slippage_bps)
            price_i, tif = triggers.round_trigger(worst, m.tick_i, up=not is_ask), wire.TIF_IOC
        self._trigger_cois.add(client_order_index)  # before the request: its "pending" update may come first
        try:
            return await self._create(
                symbol, client_order_index, size_i, price_i, is_ask, order_type, tif, reduce_only, trigger_i
            )
        except BaseException:
            self._trigger_cois.discard(client_order_index)
            raise

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        """``UnknownOrder`` when the venue holds no such armed trigger (it fired, or never was).

        One we sent or listed and have not seen fire is cancelled at once (no listing request in a
        60-a-minute budget); any other is looked up at the venue first (after a restart)."""
        if client_order_index not in self._trigger_cois:
            await self.get_trigger_orders(symbol)
            if client_order_index not in self._trigger_cois:
                raise UnknownOrder(f"lighter {symbol}: no armed trigger {client_order_index}")
        try:
            await self.cancel_by_client_id(symbol, client_order_index)
        except UnknownOrder:
            self._trigger_cois.discard(client_order_index)
            raise
        # still noted: its "canceled" update may come after this answer, and it is no order of ours

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        market_ids = [self._entry(symbol)[0]] if symbol is not None else await self._order_markets()
        out: list[TriggerSnapshot] = []
        for market_id in market_ids:
            if market_id in self._by_id:
                pd = self._by_market(market_id)[1].price_decimals
                rows = [raw for raw in await self._active_orders(market_id) if triggers.is_armed(raw)]
                out.extend(triggers.parse_trigger(self._snapshot(raw), pd) for raw in rows)
        self._trigger_cois.update(s.client_order_index for s in out)
        return out

    # -- account ---------------------------------------------------------------------------

    async def _active_orders(self, market_id: int) -> list[dict[str, Any]]:
        body = await self._request(
            "GET",
            "accountActiveOrders",
            params={"account_index": self.account_index, "market_id": market_id},
            auth=True,
        )
        return list(body.get("orders") or [])

    def _snapshot(self, raw: dict[str, Any]) -> OrderSnapshot:
        symbol, info = self._by_market(int(raw["market_index"]))
        return wire.parse_order(raw, symbol, info.price_decimals, info.size_decimals)

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        market_id, _ = self._entry(symbol)
        for raw in await self._active_orders(market_id):
            if int(raw.get("client_order_index") or 0) == client_order_index and not triggers.is_armed(raw):
                return self._snapshot(raw)
        account = self.account_index
        lookups = (  # the latest finished orders first, then a direct lookup for an older one
            ("accountInactiveOrders", {"account_index": account, "market_id": market_id, "limit": 100}),
            ("accountOrders", {"account_index": account, "client_order_indexes": str(client_order_index)}),
        )
        for path, params in lookups:
            body = await self._request("GET", path, params=params, auth=True)
            for raw in body.get("orders") or []:
                if int(raw.get("client_order_index") or 0) != client_order_index or raw["market_index"] != market_id:
                    continue
                snap = self._snapshot(raw)  # a trigger cancelled before it fired is no order:
                unfired = triggers.is_trigger(raw) and raw.get("status") == "canceled" and not snap.filled_i
                if not triggers.is_armed(raw) and not unfired:
                    return snap
        raise UnknownOrder(f"lighter {symbol}: no order with client index {client_order_index}")

    async def _order_markets(self) -> list[int]:
        """Only the markets where the account reports open (or pending: armed trigger) orders: there are 100+."""
        account = await self._account()
        market_ids = [
            int(p["market_id"])
            for p in account.get("positions") or []
            if int(p.get("open_order_count") or 0) + int(p.get("pending_order_count") or 0) > 0
        ]
        return market_ids + sorted(self._order_ids - set(market_ids))  # in case the account lags behind

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        """Orders only: armed triggers are listed by ``get_trigger_orders``."""
        market_ids = [self._entry(symbol)[0]] if symbol is not None else await self._order_markets()
        out: list[OrderSnapshot] = []
        for market_id in market_ids:
            if market_id in self._by_id:
                rows = await self._active_orders(market_id)
                out.extend(self._snapshot(raw) for raw in rows if not triggers.is_armed(raw))
        return out

    async def _account(self) -> dict[str, Any]:
        if self.account_index is None:
            raise AuthError("lighter: no account configured; add a key file (see docs/venues/lighter.md)")
        body = await self._request("GET", "account", params={"by": "index", "value": self.account_index})
        accounts = body.get("accounts") or []
        if not accounts:
            raise AuthError(f"lighter: account {self.account_index} not found; check account_index in the key file")
        return dict(accounts[0])

    async def get_positions(self) -> list[Position]:
        account = await self._account()
        now = self.clock.now_ms()
        out = []
        for raw in account.get("positions") or []:
            market_id = int(raw["market_id"])
            if market_id not in self._by_id:
                continue
            symbol, info = self._by_market(market_id)
            position = wire.parse_position(raw, symbol, info.price_decimals, info.size_decimals, now)
            if position.size_i:
                out.append(position)
        return out

    async def get_margin(self) -> Margin:
        return wire.parse_margin(await self._account(), self.clock.now_ms())
