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
``{"error": ...}`` is raised as the matching ``connector.errors`` type.  The websocket is
``connector.hyperliquid.stream``, the payloads ``wire`` and the signatures ``signing``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from connector.base import BaseConnector
from connector.checks import require_ints, require_native_trigger
from connector.clock import Clock
from connector.errors import AuthError, InvalidOrder, UnknownOrder, VenueError
from connector.funding import POLL_INTERVAL_S, poll_funding
from connector.hyperliquid import signing, triggers, wire
from connector.hyperliquid.funding import HyperliquidFunding
from connector.hyperliquid.stream import HyperliquidStream, conflation_key, parse_frame
from connector.interface import LeverageInfo, Margin, MarketInfo, OrderSnapshot, Position, TriggerSnapshot
from connector.transport.http import HttpClient
from connector.transport.ratelimit import RateLimiter

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
    capabilities = frozenset({"amend", "dead_man_switch", "native_triggers", "leverage", "funding"})
    trigger_kinds = frozenset(triggers.KINDS)
    """Stops and take-profits, market or limit; no trailing stop (perpdesk emulates it here)."""
    trigger_sources = triggers.SOURCES
    trigger_follows_position = True
    """``positionTpsl`` closes the position as it is when it fires (see ``connector.hyperliquid.triggers``)."""

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
        funding_poll_s: float = POLL_INTERVAL_S,
    ) -> None:
        super().__init__(clock=clock)
        signing.crypto()  # the install hint at construction, not at the first order
        self.base_url = (base_url or (wire.TESTNET_URL if testnet else wire.MAINNET_URL)).rstrip("/")
        self.ws_url = ws_url or "ws" + self.base_url[4:] + "/ws"
        self.is_mainnet = self.base_url == wire.MAINNET_URL  # the SDK's rule: every other URL signs as testnet
        self.request_timeout_s = request_timeout_s
        self.stale_after_s, self.ping_interval_s = stale_after_s, ping_interval_s
        self.reconnect_min_s, self.reconnect_max_s = reconnect_min_s, reconnect_max_s
        self.market_slippage_bps, self.info_retries = market_slippage_bps, info_retries
        self.vault_address = vault_address
        self._wallet: signing.Wallet | None = None
        self.account_address: str | None = None
        if keys:
            self._wallet, self.account_address = signing.load_wallet(keys)
        self.nonces = signing.NonceCounter()
        self._reads: HttpClient | None = None
        self._actions: HttpClient | None = None
        self._assets: dict[str, int] = {}
        self._coi_of_oid: dict[int, int] = {}
        self._orders: dict[int, tuple[bool, bool, str]] = {}
        """client order index -> (is_buy, reduce_only, tif) of orders we placed (what a modify resends)."""
        self.stream = HyperliquidStream(
            emit=self.emit, clock=self.clock, markets=self._markets, coi_of_oid=self._coi_of_oid,
            user=self.account_address,
        )  # fmt: skip
        self._trigger_cois: set[int] = self.stream.trigger_cois
        self.funding = HyperliquidFunding(self._info, self._markets, self.clock)
        self.funding_poll_s = funding_poll_s
        self._funding_task: asyncio.Task[None] | None = None
        """Client order indexes of the triggers the venue holds armed (their order updates are not orders)."""

    def __repr__(self) -> str:
        return f"<HyperliquidConnector url={self.base_url} account={self.account_address}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self.stream.ws is None:
            budget = RateLimiter(WEIGHT_PER_S, 10 * WEIGHT_PER_S, clock=self.clock)
            common = {"timeout_s": self.request_timeout_s, "rate_limiter": budget}
            # reads are safe to repeat, a 429 included; an action answered 429 was not acted on: say so at once
            self._reads = self.http_client(self.base_url, max_429_retries=self.info_retries, **common)
            self._actions = self.http_client(self.base_url, max_429_retries=0, **common)
            self.stream.ws = self.supervise_ws(
                STREAM, self.ws_url, on_message=self.stream.on_frame, on_connect=self.stream.on_connect,
                parse=parse_frame, conflate=conflation_key, stale_after_s=self.stale_after_s, ping_interval_s=None,
                open_timeout_s=self.request_timeout_s, backoff_base_s=self.reconnect_min_s,
                backoff_max_s=self.reconnect_max_s, max_frame_bytes=2**24,
            )  # fmt: skip
        await self.list_markets()
        self.stream.history_before_ms = self.clock.now_ms() - HISTORY_MARGIN_MS
        await self.start_streams()
        self.spawn(self.stream.keep_alive(self.ping_interval_s), "ping")
        self.started = True

    async def stop(self) -> None:
        await super().stop()
        self.stream.ws = self._reads = self._actions = None

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
            signature = signing.sign_l1_action(
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

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        m = self._market(symbol)
        book = self.stream.book(symbol)
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
            await self.stream.subscribe(symbol)
            self.funding.symbols.add(symbol)
        if self.started and (self._funding_task is None or self._funding_task.done()):
            poll = poll_funding(self.funding.fetch, self.emit, self.clock, venue=self.venue, interval_s=self.funding_poll_s)
            self._funding_task = self.spawn(poll, "funding")

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
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
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
        require_ints(client_order_index=client_order_index, size_i=size_i)
        if worst_price_i is not None:
            require_ints(worst_price_i=worst_price_i)
        if worst_price_i is None:
            worst_price_i = await self.market_worst_price(symbol, is_ask, self.market_slippage_bps)
        return await self.submit_limit_order(
            symbol=symbol, client_order_index=client_order_index, base_amount=size_i, price=worst_price_i,
            is_ask=is_ask, reduce_only=reduce_only, ioc=True,
        )  # fmt: skip

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        """``batchModify`` by cloid: same side, flags and cloid, new price and remaining size."""
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
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

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        """``updateLeverage``: a whole leverage and cross (``isCross``) or isolated margin for one asset."""
        require_ints(leverage=leverage)
        m = self._market(symbol)
        if not 1 <= leverage <= m.max_leverage:
            raise InvalidOrder(f"hyperliquid {symbol}: leverage is 1 to {m.max_leverage}, not {leverage}")
        await self._exchange(
            {"type": "updateLeverage", "asset": self._assets[m.symbol], "isCross": bool(cross), "leverage": leverage}
        )

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
        if triggers.is_trigger(entry["order"]) and entry["status"] not in ("triggered", "filled"):
            raise UnknownOrder(f"hyperliquid {symbol}: {client_order_index} is a trigger ({entry['status']}), no order")
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
            for raw in self._untriggered(rows)
            if raw["coin"] in self._markets and (symbol is None or raw["coin"] == symbol)
        ]

    def _untriggered(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows that are orders; armed triggers are noted (``get_trigger_orders`` lists them)."""
        for raw in rows:
            if triggers.is_trigger(raw):
                self._trigger_cois.add(wire.client_index(raw, self._coi_of_oid))
        return [raw for raw in rows if not triggers.is_trigger(raw)]

    # -- trigger orders (native_triggers) --------------------------------------------------

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
        """A trigger order (see ``connector.hyperliquid.triggers``); returns its oid."""
        require_ints(client_order_index=client_order_index)
        require_native_trigger(
            self.venue, kind, trigger_on, trigger_price, limit_price, kinds=self.trigger_kinds, sources=self.trigger_sources
        )
        m = self._market(symbol)
        grouping = "na"
        if size_i is None:
            size_i = await self.whole_position_size(m.symbol, kind, is_ask=is_ask, reduce_only=reduce_only)
            grouping = "positionTpsl"
        require_ints(size_i=size_i)
        if size_i <= 0:
            raise InvalidOrder(f"order size must be positive, got {size_i}")
        trigger_i, limit_i = triggers.prices(m, kind, is_ask, trigger_price, limit_price, self.market_slippage_bps)
        pd, sd = m.price_decimals, m.size_decimals
        order = triggers.trigger_wire(
            self._assets[m.symbol], not is_ask, wire.to_wire(limit_i, pd), wire.to_wire(size_i, sd), reduce_only,
            wire.to_wire(trigger_i, pd), kind, wire.cloid_from_index(client_order_index),
        )  # fmt: skip
        self._trigger_cois.add(client_order_index)  # before the request: its "open" update may come first
        try:
            data = await self._exchange({"type": "order", "orders": [order], "grouping": grouping})
            statuses = data.get("statuses") if isinstance(data, dict) else None
            if not statuses:
                raise VenueError("hyperliquid trigger: no order status in the answer", info={"response": data})
            error = wire.status_error(statuses[0], "trigger")
            if error is not None:
                raise error
        except BaseException:
            self._trigger_cois.discard(client_order_index)
            raise
        body = statuses[0].get("resting") if isinstance(statuses[0], dict) else None
        if not body:  # "waitingForTrigger": no oid in the answer (UNCONFIRMED); followed by cloid
            return ""
        oid = int(body["oid"])
        self._coi_of_oid[oid] = client_order_index
        return str(oid)

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        """``UnknownOrder`` when the venue holds no such armed trigger (it fired, or never was)."""
        m = self._market(symbol)
        if client_order_index not in self._trigger_cois:
            await self.get_trigger_orders(symbol)  # after a restart: learn what the venue holds
            if client_order_index not in self._trigger_cois:
                raise UnknownOrder(f"hyperliquid {symbol}: no armed trigger {client_order_index}")
        try:
            await self.cancel_by_client_id(m.symbol, client_order_index)
        except UnknownOrder:
            self._trigger_cois.discard(client_order_index)
            raise
        # still noted: its "canceled" update may come after this answer, and it is no order of ours

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        if symbol is not None:
            self._market(symbol)
        rows = await self._info({"type": "frontendOpenOrders", "user": self._user()})
        out = [
            triggers.parse_trigger(raw, self._markets[raw["coin"]], self._coi_of_oid)
            for raw in rows
            if triggers.is_trigger(raw) and raw["coin"] in self._markets and (symbol is None or raw["coin"] == symbol)
        ]
        self._trigger_cois.update(s.client_order_index for s in out)
        return out

    async def _clearinghouse(self) -> dict[str, Any]:
        return dict(await self._info({"type": "clearinghouseState", "user": self._user()}))

    async def get_positions(self) -> list[Position]:
        return wire.parse_positions(await self._clearinghouse(), self._markets, self.clock.now_ms())

    async def get_margin(self) -> Margin:
        return wire.parse_margin(await self._clearinghouse(), self.clock.now_ms())

    async def get_leverage(self) -> list[LeverageInfo]:
        """``ReadsLeverage``: the leverage and mode of each coin held (from the account's positions)."""
        return wire.parse_leverage(await self._clearinghouse(), self._markets)
