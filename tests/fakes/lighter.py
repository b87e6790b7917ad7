"""A protocol-faithful fake Lighter venue on 127.0.0.1, backed by the sim engine.

REST under ``/api/v1/...`` and a websocket at ``/stream`` with Lighter's payload shapes
(decimal strings on the wire, ``sendTx`` as form fields, ``order_book/{id}`` snapshots and
updates chained on ``begin_nonce``, account channels behind an auth token, server pings).

Every ``tx_info`` is checked the way the venue's API layer would: its structure (the
fields each transaction type carries), ranges (client order index, amounts, price,
expiries), the account and API key, and the key's nonce sequence (strictly +1; a wrong
nonce answers HTTP 400 code 21104 ``invalid nonce`` without consuming one).  The Schnorr
signature (``Sig``) cannot be verified outside the venue (no verifier is exported), so the
fake checks only that it is 80 bytes of base64.

Like the venue, ``sendTx`` answering 200 means only "accepted": an order the matching
engine refuses (post-only that would cross, margin) comes back on the order channel as
``canceled-post-only`` / ``canceled-margin-not-allowed``.  A cancel or modify of an order
that is not open is refused by the API layer (HTTP 400 ``order not found``, nonce not
consumed); whether the real venue checks this before sequencing is not documented.

Faults for tests: ``drop_sockets()``, ``skip_book_nonce()``, ``stall(seconds)``,
``send_malformed(n)``, ``rate_limit(n)``, ``set_next_nonce(n)`` (another client used the key).

Standalone, for a console demo::

    python -m tests.fakes.lighter --port 8802 --key-file demo-keys/lighter.toml
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from connector.clock import Clock, RealClock
from connector.errors import InsufficientMargin, InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder
from connector.interface import QUOTE_DECIMALS, Fill, Margin, OrderSnapshot, OrderStatus, Position, Trade
from connector.lighter.signing import load_sdk
from connector.scaling import scaled_to_str
from connector.sim.engine import SimEngine
from tests.fakes.lighter_leverage import LEVERAGE_FIELDS, TX_UPDATE_LEVERAGE, LeverageSettings

ORDER_INDEX_BASE = 2**48
"""Exchange order indices start here; smaller ``Index`` values in cancel/modify are client indices."""
MAX_48 = 2**48 - 1
MAX_PRICE = 2**32 - 1
DAY_MS = 86_400_000
PREFERRED_IDS = {"ETH": 0, "BTC": 1, "SOL": 2}
OTHER_ACCOUNT = 91249

_COMMON = {"AccountIndex", "ApiKeyIndex", "ExpiredAt", "Nonce", "Sig"}
TX_FIELDS = {
    14: _COMMON
    | {
        "MarketIndex",
        "ClientOrderIndex",
        "BaseAmount",
        "Price",
        "IsAsk",
        "Type",
        "TimeInForce",
        "ReduceOnly",
        "TriggerPrice",
        "OrderExpiry",
    },
    15: _COMMON | {"MarketIndex", "Index"},
    16: _COMMON | {"TimeInForce", "Time"},
    17: _COMMON | {"MarketIndex", "Index", "BaseAmount", "Price", "TriggerPrice"},
    TX_UPDATE_LEVERAGE: _COMMON | LEVERAGE_FIELDS,
}
OPTIONAL_FIELDS = {"L2TxAttributes", "L1Sig"}
TIF_NAMES = {0: "immediate-or-cancel", 1: "good-till-time", 2: "post-only"}
TRIGGER_TYPES = {2: ("stop-loss", "stop_market"), 3: ("stop-loss-limit", "stop_limit"),
                 4: ("take-profit", "take_profit_market"), 5: ("take-profit-limit", "take_profit_limit")}  # fmt: skip
"""Order ``Type`` of a trigger -> (the order object's ``type``, the sim engine's kind)."""
TRIGGER_INDEX_BASE = ORDER_INDEX_BASE + 10**13
""""Exchange order index of an armed trigger: this plus its client order index (the fake's choice)."""


class TxInvalid(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass
class _Client:
    ws: web.WebSocketResponse
    subs: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    pong_due_ms: int | None = None


@dataclass
class _Book:
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    nonce: int = 1000
    offset: int = 1


class FakeLighter(LeverageSettings):
    def __init__(
        self,
        engine: SimEngine | None = None,
        *,
        clock: Clock | None = None,
        account_index: int = 1001,
        api_key_index: int = 4,
        start_nonce: int = 1,
        step_s: float = 0.05,
        ping_interval_s: float = 20.0,
        pong_timeout_s: float = 10.0,
        depth: int = 20,
        tx_delay_s: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.clock = clock or RealClock()
        self.engine = engine or SimEngine(seed, clock=self.clock)
        self.account_index, self.api_key_index = account_index, api_key_index
        self.step_s, self.depth, self.tx_delay_s = step_s, depth, tx_delay_s
        self.ping_interval_s, self.pong_timeout_s = ping_interval_s, pong_timeout_s
        self.rng = random.Random(seed)
        self.markets: dict[int, str] = {}  # market id -> engine symbol
        self.ids: dict[str, int] = {}
        next_id = max(PREFERRED_IDS.values()) + 1
        for symbol, info in self.engine.markets.items():
            mid = PREFERRED_IDS.get(info.base)
            if mid is None or mid in self.markets:
                mid, next_id = next_id, next_id + 1
            self.markets[mid], self.ids[symbol] = symbol, mid
        self.next_nonce: dict[int, int] = {api_key_index: start_nonce}
        self.accepted: list[tuple[int, dict[str, Any]]] = []
        self.refused: list[tuple[int, str]] = []
        self.orders: dict[int, dict[str, Any]] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._placing: dict[str, Any] | None = None
        self._books: dict[int, _Book] = {}
        self._trades: dict[int, list[dict[str, Any]]] = {}
        self._own_trades: list[dict[str, Any]] = []
        self._clients: list[_Client] = []
        self._stall_until = 0.0
        self._skip_nonce: set[int] = set()
        self._rate_limited = 0
        self._retry_after = 1
        self._dms_at_ms: int | None = None
        self._triggers: dict[int, dict[str, Any]] = {}
        """Armed triggers by client order index: the tx fields (the engine's trigger book fires them)."""
        self.pongs = 0
        self.subscribes: list[tuple[str, str | None]] = []
        self.funding: dict[str, str] = {}
        """symbol -> the funding rate ``market_stats`` reports (percent an hour; default ``0.0012``)."""
        self.http_log: list[tuple[str, str]] = []
        """Every HTTP request: (method, path)."""
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self._md_symbols: set[str] = set()
        self._listener = self._on_engine_event  # one bound method: re-subscribing replaces, not adds
        self.engine.subscribe(self._listener, self._md_symbols)
        LeverageSettings.__init__(self)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    async def start(self, port: int = 0) -> FakeLighter:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/stream", self._stream)
        app.router.add_get("/api/v1/orderBooks", self._order_books)
        app.router.add_get("/api/v1/orderBookDetails", self._order_books)
        app.router.add_get("/api/v1/orderBookOrders", self._order_book_orders)
        app.router.add_get("/api/v1/nextNonce", self._next_nonce)
        app.router.add_post("/api/v1/sendTx", self._send_tx)
        app.router.add_get("/api/v1/account", self._account)
        app.router.add_get("/api/v1/accountActiveOrders", self._active_orders)
        app.router.add_get("/api/v1/accountInactiveOrders", self._inactive_orders)
        app.router.add_get("/api/v1/accountOrders", self._orders_by_client_index)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.engine.advance_to(self.clock.now_ms())
        self._tasks = [asyncio.create_task(self._tick()), asyncio.create_task(self._pinger())]
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in list(self._clients):
            await client.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeLighter:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- faults ----------------------------------------------------------------------------

    async def drop_sockets(self) -> None:
        for client in list(self._clients):
            await client.ws.close(code=1011, message=b"fake: dropped")

    def skip_book_nonce(self, market_id: int | None = None) -> None:
        """The next book update of the market (all subscribed markets if None) will not chain."""
        self._skip_nonce |= {market_id} if market_id is not None else set(self._books)

    def stall(self, seconds: float) -> None:
        """Send nothing on any socket (no pings either) for a while."""
        self._stall_until = time.monotonic() + seconds

    def send_malformed(self, n: int = 1) -> None:
        junk = ["{not json", '["a", "list"]', '{"type": "update/order_book", "channel": "order_book:x"}', ""]
        for client in self._clients:
            for i in range(n):
                client.queue.put_nowait(junk[i % len(junk)])

    def rate_limit(self, n: int = 1, retry_after_s: int = 1) -> None:
        self._rate_limited, self._retry_after = n, retry_after_s

    def set_next_nonce(self, nonce: int, api_key_index: int | None = None) -> None:
        self.next_nonce[self.api_key_index if api_key_index is None else api_key_index] = nonce

    # -- formatting ------------------------------------------------------------------------

    def _dec(self, symbol: str) -> tuple[int, int]:
        info = self.engine.markets[symbol]
        return info.price_decimals, info.size_decimals

    def _order_payload(self, snap: OrderSnapshot, status: str | None = None) -> dict[str, Any]:
        pd, sd = self._dec(snap.symbol)
        meta = self._meta.get(str(snap.order_id)) or {}
        index = ORDER_INDEX_BASE + int(snap.order_id or 0)
        quote_q = snap.filled_i * snap.price_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
        return {
            "order_index": index,
            "client_order_index": snap.client_order_index,
            "order_id": str(index),
            "client_order_id": str(snap.client_order_index),
            "market_index": self.ids[snap.symbol],
            "owner_account_index": self.account_index,
            "initial_base_amount": scaled_to_str(snap.size_i, sd),
            "remaining_base_amount": scaled_to_str(snap.size_i - snap.filled_i, sd),
            "filled_base_amount": scaled_to_str(snap.filled_i, sd),
            "filled_quote_amount": scaled_to_str(quote_q, QUOTE_DECIMALS),
            "price": scaled_to_str(snap.price_i, pd),
            "is_ask": snap.is_ask,
            "type": meta.get("type", "limit"),
            "time_in_force": meta.get("tif", "post-only" if snap.post_only else "good-till-time"),
            "reduce_only": snap.reduce_only,
            "trigger_price": scaled_to_str(meta.get("trigger_price", 0), pd),
            "order_expiry": meta.get("expiry", 0),
            "status": status or _lighter_status(snap),
            "timestamp": snap.ts_ms or self.clock.now_ms(),
        }

    def _position_payload(self, pos: Position) -> dict[str, Any]:
        pd, sd = self._dec(pos.symbol)
        value_q = abs(pos.size_i) * pos.mark_price_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
        opens = sum(1 for o in self.engine.open_orders(pos.symbol))
        return {
            "market_id": self.ids[pos.symbol],
            "symbol": self.engine.markets[pos.symbol].base,
            "open_order_count": opens,
            "pending_order_count": len(self.engine.triggers.snapshots(pos.symbol)),  # armed triggers (UNCONFIRMED)
            "sign": -1 if pos.size_i < 0 else 1,
            "position": scaled_to_str(abs(pos.size_i), sd),
            "avg_entry_price": scaled_to_str(pos.entry_price_i, pd),
            "position_value": scaled_to_str(value_q, QUOTE_DECIMALS),
            "unrealized_pnl": scaled_to_str(pos.unrealized_pnl_q, QUOTE_DECIMALS),
            "realized_pnl": scaled_to_str(pos.realized_pnl_q, QUOTE_DECIMALS),
            "liquidation_price": scaled_to_str(pos.liquidation_price_i or 0, pd),
            **self.leverage_row(pos.symbol),
            "allocated_margin": scaled_to_str(0, QUOTE_DECIMALS),
        }

    @staticmethod
    def _stats_payload(m: Margin) -> dict[str, Any]:
        q = QUOTE_DECIMALS
        return {
            "collateral": scaled_to_str(m.collateral_q, q),
            "portfolio_value": scaled_to_str(m.equity_q, q),
            "available_balance": scaled_to_str(m.available_q, q),
            "initial_margin_requirement": scaled_to_str(m.used_q, q),
            "maintenance_margin_requirement": scaled_to_str(m.maintenance_q, q),
            "leverage": "0",
            "margin_usage": "0",
        }

    def _fill_payload(self, fill: Fill) -> dict[str, Any]:
        pd, sd = self._dec(fill.symbol)
        notional_q = fill.price_i * fill.size_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
        rate = fill.fee_q * 1_000_000 // notional_q if notional_q else 0
        index = ORDER_INDEX_BASE + int(fill.order_id or 0)
        side, other = ("ask", "bid") if fill.is_ask else ("bid", "ask")
        trade_id = int(fill.trade_id) if str(fill.trade_id).isdigit() else _stable_int(fill.trade_id)
        return {
            "trade_id": trade_id,
            "tx_hash": f"{trade_id:080x}",
            "type": "trade",
            "market_id": self.ids[fill.symbol],
            "size": scaled_to_str(fill.size_i, sd),
            "price": scaled_to_str(fill.price_i, pd),
            f"{side}_id": index,
            f"{other}_id": 0,
            f"{side}_client_id": fill.client_order_index,
            f"{other}_client_id": 0,
            f"{side}_account_id": self.account_index,
            f"{other}_account_id": OTHER_ACCOUNT,
            "is_maker_ask": fill.is_maker == fill.is_ask,
            "timestamp": fill.ts_ms or self.clock.now_ms(),
            "taker_fee": 0 if fill.is_maker else rate,
            "maker_fee": rate if fill.is_maker else 0,
        }

    # -- engine events -> channels ---------------------------------------------------------

    def _on_engine_event(self, event: Any) -> None:
        acct = self.account_index
        if isinstance(event, OrderSnapshot):
            if self._placing is not None:
                if event.status is OrderStatus.REJECTED:
                    self._placing["rejected"] = event  # republished with Lighter's reason by _place
                    return
                self._meta.setdefault(str(event.order_id), dict(self._placing))
            elif (fired := self._triggers.pop(event.client_order_index, None)) is not None:
                # a trigger the engine fired: its order goes on under the same client index, typed as the trigger
                name = TRIGGER_TYPES[fired["Type"]][0]
                self.orders.pop(TRIGGER_INDEX_BASE + event.client_order_index, None)  # its waiting row is gone
                self._meta.setdefault(str(event.order_id), {"type": name, "trigger_price": fired["TriggerPrice"],
                                                            "tif": TIF_NAMES[fired["TimeInForce"]]})  # fmt: skip
            self._publish_order(self._order_payload(event))
        elif isinstance(event, Fill):
            trade = self._fill_payload(event)
            self._own_trades.append(trade)
            del self._own_trades[:-20]
            trades = {str(trade["market_id"]): [trade]}
            self._publish(f"account_all_trades/{acct}", "account_all_trades", {"trades": trades})
        elif isinstance(event, Position):
            positions = {str(self.ids[event.symbol]): self._position_payload(event)}
            self._publish(f"account_all_positions/{acct}", "account_all_positions", {"positions": positions})
        elif isinstance(event, Margin):
            self._publish(f"user_stats/{acct}", "user_stats", {"stats": self._stats_payload(event)})
        elif isinstance(event, Trade):
            mid = self.ids[event.symbol]
            pd, sd = self._dec(event.symbol)
            trade = {
                "trade_id": _stable_int(event.trade_id or f"{event.ts_ms}:{event.price_i}"),
                "type": "trade",
                "market_id": mid,
                "size": scaled_to_str(event.size_i, sd),
                "price": scaled_to_str(event.price_i, pd),
                "is_maker_ask": not event.is_ask,
                "timestamp": event.ts_ms,
            }
            recent = self._trades.setdefault(mid, [])
            recent.append(trade)
            del recent[:-20]
            self._publish(f"trade/{mid}", "trade", {"trades": [trade]})

    def _publish(self, sub: str, name: str, body: dict[str, Any], *, snapshot_to: _Client | None = None) -> None:
        channel = sub.replace("/", ":")
        frame = {"channel": channel, "type": f"{'subscribed' if snapshot_to else 'update'}/{name}", **body}
        text = json.dumps(frame)
        for client in [snapshot_to] if snapshot_to else self._clients:
            if sub in client.subs:
                client.queue.put_nowait(text)

    def _book_frame(self, mid: int, kind: str, begin: int, bids: dict[int, int], asks: dict[int, int]) -> str:
        pd, sd = self._dec(self.markets[mid])
        book = self._books[mid]
        now = self.clock.now_ms()
        levels = {
            "bids": [{"price": scaled_to_str(p, pd), "size": scaled_to_str(s, sd)} for p, s in bids.items()],
            "asks": [{"price": scaled_to_str(p, pd), "size": scaled_to_str(s, sd)} for p, s in asks.items()],
        }
        ob = {"code": 0, **levels, "offset": book.offset, "nonce": book.nonce, "begin_nonce": begin}
        ob["last_updated_at"] = now * 1000
        return json.dumps(
            {
                "channel": f"order_book:{mid}",
                "offset": book.offset,
                "order_book": ob,
                "timestamp": now,
                "type": kind,
                "last_updated_at": now * 1000,
            }
        )

    def _refresh_book(self, mid: int) -> None:
        book = self._books.setdefault(mid, _Book())
        bids, asks = self.engine.book(self.markets[mid], self.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        changed_b = _diff(book.bids, new_bids)
        changed_a = _diff(book.asks, new_asks)
        if not changed_b and not changed_a:
            return
        begin = book.nonce + (1 if mid in self._skip_nonce else 0)
        self._skip_nonce.discard(mid)
        book.bids, book.asks = new_bids, new_asks
        book.nonce += self.rng.randint(1, 5)
        book.offset += self.rng.randint(1, 3)
        text = self._book_frame(mid, "update/order_book", begin, changed_b, changed_a)
        for client in self._clients:
            if f"order_book/{mid}" in client.subs:
                client.queue.put_nowait(text)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.step_s)
            now = self.clock.now_ms()
            if self._dms_at_ms is not None and now >= self._dms_at_ms:
                self._dms_at_ms = None
                self.engine.cancel_all()
            self.engine.advance_to(now)
            for mid in list(self._books):
                self._refresh_book(mid)

    async def _pinger(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval_s)
            if time.monotonic() < self._stall_until:
                continue  # a stalled venue neither pings nor expects pongs
            now = self.clock.now_ms()
            for client in list(self._clients):
                if client.pong_due_ms is not None and now > client.pong_due_ms:
                    await client.ws.close(code=1008, message=b"no pong")
                    continue
                if client.pong_due_ms is None:
                    client.pong_due_ms = now + int(self.pong_timeout_s * 1000)
                client.queue.put_nowait('{"type":"ping"}')

    # -- websocket -------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.append(client)
        client.queue.put_nowait(json.dumps({"type": "connected", "session_id": f"{id(client):x}"}))
        writer = asyncio.create_task(self._writer(client))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                    await self._on_client_message(client, data)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    client.queue.put_nowait(json.dumps({"type": "error", "code": 30005, "message": f"bad: {exc}"}))
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

    async def _on_client_message(self, client: _Client, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "pong":
            self.pongs += 1
            client.pong_due_ms = None
            return
        if kind == "ping":
            client.queue.put_nowait('{"type":"pong"}')
            return
        channel = str(data["channel"])
        if kind == "unsubscribe":
            client.subs.discard(channel)
            return
        if kind != "subscribe":
            raise ValueError(f"unknown message type {kind!r}")
        name, _, arg = channel.partition("/")
        self.subscribes.append((channel, data.get("auth")))
        if name in ("account_all_orders", "account_all_trades", "account_all_positions", "user_stats"):
            if int(arg) != self.account_index or not self._token_ok(data.get("auth")):
                client.queue.put_nowait(json.dumps({"type": "error", "code": 20013, "message": "invalid auth"}))
                return
            client.subs.add(channel)
            self._snapshot_account(client, name, channel)
        elif name == "market_stats" and arg == "all":
            client.subs.add(channel)
            stats = {str(mid): self._stats(mid) for mid in self.markets}
            self._publish(channel, "market_stats", {"market_stats": stats}, snapshot_to=client)
        elif name == "market_stats" and arg.isdigit() and int(arg) in self.markets:
            client.subs.add(channel)
            self._publish(channel, "market_stats", {"market_stats": self._stats(int(arg))}, snapshot_to=client)
        elif name in ("order_book", "trade") and int(arg) in self.markets:
            client.subs.add(channel)
            mid = int(arg)
            if name == "trade" and self.markets[mid] not in self._md_symbols:
                self._md_symbols.add(self.markets[mid])
                self.engine.subscribe(self._listener, self._md_symbols)
            if name == "trade":
                self._publish(channel, "trade", {"trades": self._trades.get(mid, [])}, snapshot_to=client)
                return
            if mid not in self._books:
                self._refresh_book(mid)
            book = self._books[mid]
            client.queue.put_nowait(self._book_frame(mid, "subscribed/order_book", 0, book.bids, book.asks))
        else:
            client.queue.put_nowait(json.dumps({"type": "error", "code": 30012, "message": "failed to subscribe"}))

    def _stats(self, mid: int) -> dict[str, Any]:
        symbol = self.markets[mid]
        pd, _ = self._dec(symbol)
        mark = scaled_to_str(self.engine.mark_i(symbol), pd)
        rate = self.funding.get(symbol, "0.0012")
        now = self.clock.now_ms()
        return {"market_id": mid, "index_price": mark, "mark_price": mark, "open_interest": "0",
                "last_trade_price": mark, "current_funding_rate": rate, "funding_rate": rate,
                "funding_timestamp": now - now % 3_600_000 + 3_600_000, "daily_base_token_volume": 0,
                "daily_quote_token_volume": 0, "daily_price_low": 0, "daily_price_high": 0, "daily_price_change": 0}

    def set_funding(self, symbol: str, rate: str) -> None:
        """A new rate for ``symbol``, pushed at once to whoever reads its ``market_stats``."""
        self.funding[symbol] = rate
        mid = self.ids[symbol]
        self._publish(f"market_stats/{mid}", "market_stats", {"market_stats": self._stats(mid)})
        self._publish("market_stats/all", "market_stats", {"market_stats": {str(mid): self._stats(mid)}})

    def _snapshot_account(self, client: _Client, name: str, channel: str) -> None:
        acct = self.account_index
        if name == "account_all_orders":
            orders: dict[str, list[dict[str, Any]]] = {}
            for snap in self.engine.open_orders():
                payload = self._order_payload(snap)
                orders.setdefault(str(payload["market_index"]), []).append(payload)
            body: dict[str, Any] = {"account": acct, "orders": orders}
        elif name == "account_all_trades":
            recent: dict[str, list[dict[str, Any]]] = {}
            for trade in self._own_trades:  # like the venue, the snapshot is recent history
                recent.setdefault(str(trade["market_id"]), []).append(trade)
            body = {"trades": recent, "total_volume": 0}
        elif name == "account_all_positions":
            body = {"positions": {str(self.ids[p.symbol]): self._position_payload(p) for p in self.engine.positions()}}
        else:
            body = {"stats": self._stats_payload(self.engine.margin())}
        self._publish(channel, name, body, snapshot_to=client)

    def _token_ok(self, token: Any) -> bool:
        try:
            expiry, acct, key, sig = str(token).split(":")
            binascii.unhexlify(sig)
        except (ValueError, binascii.Error):
            return False
        now_s = self.clock.now_ms() // 1000
        return (
            int(acct) == self.account_index and int(key) in self.next_nonce and now_s < int(expiry) <= now_s + 8 * 3600
        )

    # -- REST ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.http_log.append((request.method, request.path))
        if request.path.startswith("/api/") and self._rate_limited > 0:
            self._rate_limited -= 1
            return web.json_response(
                {"code": 429, "message": "Too Many Requests"},
                status=429,
                headers={"Retry-After": str(self._retry_after)},
            )
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.json_response({"code": 404, "message": "not found"}, status=404)
        except TxInvalid as exc:
            return web.json_response({"code": exc.code, "message": str(exc)}, status=exc.status)

    def _need_auth(self, request: web.Request) -> None:
        if not self._token_ok(request.headers.get("Authorization")):
            raise TxInvalid(20013, "invalid auth", status=401)

    def _account_arg(self, request: web.Request, name: str = "account_index") -> None:
        if request.query.get(name) != str(self.account_index):
            raise TxInvalid(21100, f"account not found: {request.query.get(name)}")

    async def _order_books(self, request: web.Request) -> web.Response:
        rows = []
        for mid, symbol in sorted(self.markets.items()):
            info = self.engine.markets[symbol]
            pd, sd = info.price_decimals, info.size_decimals
            rows.append(
                {
                    "symbol": info.base,
                    "market_id": mid,
                    "market_type": "perp",
                    "status": "active",
                    "taker_fee": "0.0000",
                    "maker_fee": "0.0000",
                    "min_base_amount": scaled_to_str(info.min_size_i, sd),
                    "min_quote_amount": scaled_to_str(info.min_notional_q, QUOTE_DECIMALS),
                    "supported_size_decimals": sd,
                    "supported_price_decimals": pd,
                    "supported_quote_decimals": QUOTE_DECIMALS,
                    "size_decimals": sd,
                    "price_decimals": pd,
                    "default_initial_margin_fraction": 10_000 // max(1, info.max_leverage),
                    "maintenance_margin_fraction": 5_000 // max(1, info.max_leverage),
                    "last_trade_price": scaled_to_str(self.engine.mid_i(symbol), pd),
                }
            )
        key = "order_book_details" if request.path.endswith("Details") else "order_books"
        return web.json_response(
            {"code": 200, key: rows, **({"spot_order_book_details": []} if "Details" in key else {})}
        )

    async def _order_book_orders(self, request: web.Request) -> web.Response:
        mid = int(request.query["market_id"])
        limit = int(request.query.get("limit", 20))
        symbol = self.markets[mid]
        pd, sd = self._dec(symbol)
        bids, asks = self.engine.book(symbol, limit)

        def rows(levels: list[tuple[int, int]]) -> list[dict[str, Any]]:
            return [
                {"order_index": 0, "price": scaled_to_str(p, pd), "remaining_base_amount": scaled_to_str(s, sd)}
                for p, s in levels
            ]

        body = {"code": 200, "total_asks": len(asks), "asks": rows(asks), "total_bids": len(bids), "bids": rows(bids)}
        return web.json_response(body)

    async def _next_nonce(self, request: web.Request) -> web.Response:
        self._account_arg(request)
        key = int(request.query["api_key_index"])
        if key not in self.next_nonce:
            raise TxInvalid(21109, f"api key {key} not found")
        return web.json_response({"code": 200, "nonce": self.next_nonce[key]})

    async def _account(self, request: web.Request) -> web.Response:
        if request.query.get("by") != "index" or request.query.get("value") != str(self.account_index):
            return web.json_response({"code": 21100, "message": "account not found"}, status=400)
        m = self.engine.margin()
        q = QUOTE_DECIMALS
        positions = {p.symbol: p for p in self.engine.positions()}
        rows = [
            self._position_payload(positions.get(s) or Position(s, 0, 0, self.engine.mark_i(s), 0)) for s in self.ids
        ]
        account = {
            "index": self.account_index,
            "l1_address": "0x" + "11" * 20,
            "collateral": scaled_to_str(m.collateral_q, q),
            "available_balance": scaled_to_str(m.available_q, q),
            "total_asset_value": scaled_to_str(m.equity_q, q),
            "cross_asset_value": scaled_to_str(m.equity_q, q),
            "cross_initial_margin_requirement": scaled_to_str(m.used_q, q),
            "cross_maintenance_margin_requirement": scaled_to_str(m.maintenance_q, q),
            "pending_order_count": 0,
            "positions": rows,
            "assets": [],
        }
        return web.json_response({"code": 200, "total": 1, "accounts": [account]})

    async def _active_orders(self, request: web.Request) -> web.Response:
        self._need_auth(request)
        self._account_arg(request)
        symbol = self.markets[int(request.query["market_id"])]
        orders = [self._order_payload(s) for s in self.engine.open_orders(symbol)] + self._armed_payloads(symbol)
        return web.json_response({"code": 200, "orders": orders})

    async def _inactive_orders(self, request: web.Request) -> web.Response:
        self._need_auth(request)
        self._account_arg(request)
        mid = int(request.query["market_id"])
        limit = min(100, int(request.query.get("limit", 100)))
        done = [o for o in self.orders.values() if o["market_index"] == mid and o["status"] not in ("open", "pending")]
        done.sort(key=lambda o: o["timestamp"], reverse=True)
        return web.json_response({"code": 200, "orders": done[:limit], "next_cursor": None})

    async def _orders_by_client_index(self, request: web.Request) -> web.Response:
        self._need_auth(request)
        self._account_arg(request)
        wanted = {int(c) for c in request.query["client_order_indexes"].split(",")}
        if len(wanted) > 20:
            raise TxInvalid(21100, "at most 20 client order indexes")
        found = [o for o in self.orders.values() if o["client_order_index"] in wanted]
        return web.json_response({"code": 200, "orders": found})

    async def _send_tx(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            tx_type = int(str(form["tx_type"]))
            info = json.loads(str(form["tx_info"]))
        except (KeyError, ValueError) as exc:
            raise TxInvalid(21700, f"invalid tx: {exc}") from None
        self._check_tx(tx_type, info)
        key = info["ApiKeyIndex"]
        if info["Nonce"] != self.next_nonce[key]:
            self.refused.append((info["Nonce"], "invalid nonce"))
            raise TxInvalid(21104, "invalid nonce")
        if tx_type in (15, 17) and not self._is_open(info["MarketIndex"], info["Index"]):
            self.refused.append((info["Nonce"], "order not found"))
            raise TxInvalid(21501, "order not found")
        self.next_nonce[key] += 1
        self.accepted.append((tx_type, info))
        if self.tx_delay_s > 0:
            asyncio.get_running_loop().call_later(self.tx_delay_s, self._apply, tx_type, info)
        else:
            self._apply(tx_type, info)
        tx_hash = hashlib.sha256(str(form["tx_info"]).encode()).hexdigest()[:80]
        return web.json_response(
            {
                "code": 200,
                "message": '{"ratelimit": "didn\'t use volume quota"}',
                "tx_hash": tx_hash,
                "predicted_execution_time_ms": self.clock.now_ms() + 3,
                "volume_quota_remaining": None,
            }
        )

    def _check_tx(self, tx_type: int, info: Any) -> None:
        if tx_type not in TX_FIELDS or not isinstance(info, dict):
            raise TxInvalid(21700, f"unsupported tx_type {tx_type}")
        fields = set(info)
        missing, extra = TX_FIELDS[tx_type] - fields, fields - TX_FIELDS[tx_type] - OPTIONAL_FIELDS
        if missing or extra:
            raise TxInvalid(21701, f"invalid tx_info: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for name in TX_FIELDS[tx_type] - {"Sig"}:
            if type(info[name]) is not int:
                raise TxInvalid(21701, f"invalid tx_info: {name} must be an integer")
        try:
            sig_ok = len(base64.b64decode(info["Sig"], validate=True)) == 80
        except (binascii.Error, TypeError):
            sig_ok = False
        if not sig_ok:
            raise TxInvalid(21120, "invalid signature")
        if info["AccountIndex"] != self.account_index or info["ApiKeyIndex"] not in self.next_nonce:
            raise TxInvalid(21120, "invalid signature")
        now = self.clock.now_ms()
        if not now < info["ExpiredAt"] <= now + DAY_MS:
            raise TxInvalid(21702, "tx expired")
        if "MarketIndex" in info and info["MarketIndex"] not in self.markets:
            raise TxInvalid(21703, f"invalid market index {info['MarketIndex']}")
        if tx_type in (14, 17):
            if not 1 <= info["BaseAmount"] <= MAX_48 or not 1 <= info["Price"] <= MAX_PRICE:
                raise TxInvalid(21704, "invalid base amount or price")
        if tx_type == 14:
            if not 0 <= info["ClientOrderIndex"] <= MAX_48:
                raise TxInvalid(21705, "invalid client order index")
            if info["Type"] not in range(6) or info["TimeInForce"] not in TIF_NAMES or info["IsAsk"] not in (0, 1):
                raise TxInvalid(21706, "invalid order type or time in force")
            if (info["Type"] in TRIGGER_TYPES) != (info["TriggerPrice"] > 0) or info["TriggerPrice"] > MAX_PRICE:
                raise TxInvalid(21709, "invalid trigger price")
            expiry = info["OrderExpiry"]
            if info["TimeInForce"] == 0 and info["Type"] not in TRIGGER_TYPES:
                if expiry != 0:
                    raise TxInvalid(21707, "OrderExpiry must be 0 for immediate-or-cancel")
            elif not now + 4 * 60_000 <= expiry <= now + 30 * DAY_MS + 60_000:
                raise TxInvalid(21707, "OrderExpiry is invalid")
        if tx_type == TX_UPDATE_LEVERAGE and (error := self.leverage_tx_error(info)) is not None:
            raise TxInvalid(*error)
        if tx_type == 16:
            tif, when = info["TimeInForce"], info["Time"]
            if tif not in (0, 1, 2) or (tif == 1 and not now + 4 * 60_000 <= when <= now + 15 * DAY_MS + 60_000):
                raise TxInvalid(21708, "invalid cancel-all time")

    def _is_open(self, market_id: int, index: int) -> bool:
        if self._armed_coi(market_id, index) is not None:
            return True
        try:
            snap = self.engine.order(self.markets[market_id], **self._target(index))
        except UnknownOrder:
            return False
        return snap.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)

    def _target(self, index: int) -> dict[str, Any]:
        if index >= ORDER_INDEX_BASE:
            return {"order_id": str(index - ORDER_INDEX_BASE)}
        return {"client_order_index": index}

    def _armed_coi(self, market_id: int, index: int) -> int | None:
        """The client order index of the armed trigger ``index`` (client or exchange index) names."""
        coi = index - TRIGGER_INDEX_BASE if index >= TRIGGER_INDEX_BASE else index
        armed = self._triggers.get(coi)
        if armed is None or armed["MarketIndex"] != market_id:
            return None
        return coi if any(s.client_order_index == coi for s in self.engine.triggers.snapshots()) else None

    def _trigger_payload(self, info: dict[str, Any], status: str) -> dict[str, Any]:
        """An armed trigger as the venue's order object (``type`` names it, ``status`` "pending" while it waits)."""
        symbol = self.markets[info["MarketIndex"]]
        pd = self._dec(symbol)[0]
        coi = info["ClientOrderIndex"]
        snap = OrderSnapshot(symbol, coi, str(TRIGGER_INDEX_BASE + coi - ORDER_INDEX_BASE), bool(info["IsAsk"]),
                             info["Price"], info["BaseAmount"], 0, OrderStatus.OPEN, reduce_only=bool(info["ReduceOnly"]),
                             ts_ms=info["_ts"])  # fmt: skip
        payload = self._order_payload(snap, status)
        payload.update(type=TRIGGER_TYPES[info["Type"]][0], time_in_force=TIF_NAMES[info["TimeInForce"]])
        payload.update(trigger_price=scaled_to_str(info["TriggerPrice"], pd), order_expiry=info["OrderExpiry"])
        return payload

    def _arm(self, symbol: str, info: dict[str, Any]) -> None:
        """A stop-loss / take-profit order: held in the engine's trigger book, fired on its mark."""
        kind = TRIGGER_TYPES[info["Type"]][1]
        info = {**info, "_ts": self.clock.now_ms()}
        try:
            self.engine.triggers.add(
                symbol, client_order_index=info["ClientOrderIndex"], kind=kind, is_ask=bool(info["IsAsk"]),
                trigger_price=info["TriggerPrice"], size_i=info["BaseAmount"],
                limit_price=info["Price"] if kind.endswith("_limit") else None, trigger_on="mark", trail_i=None,
                trail_ppm=None, reduce_only=bool(info["ReduceOnly"]),
            )  # fmt: skip
        except (InvalidOrder, OrderRejected) as exc:
            self.refused.append((info["Nonce"], str(exc)))
            self._publish_order(self._trigger_payload(info, "canceled-invalid-balance"))
            return
        self._triggers[info["ClientOrderIndex"]] = info
        self._publish_order(self._trigger_payload(info, "pending"))

    def _armed_payloads(self, symbol: str) -> list[dict[str, Any]]:
        """The armed triggers the engine still holds (those it fired are gone from its book)."""
        held = {s.client_order_index for s in self.engine.triggers.snapshots(symbol)}
        for coi in [c for c, i in self._triggers.items() if self.markets[i["MarketIndex"]] == symbol]:
            if coi not in held:
                del self._triggers[coi]
        return [self._trigger_payload(i, "pending") for c, i in self._triggers.items() if c in held]

    def _apply(self, tx_type: int, info: dict[str, Any]) -> None:
        """The sequencer: failures here are silent to the sender, as on the venue."""
        symbol = self.markets.get(info.get("MarketIndex", -1), "")
        try:
            if tx_type == 14 and info["Type"] in TRIGGER_TYPES:
                self._arm(symbol, info)
            elif tx_type == 14:
                self._place(symbol, info)
            elif tx_type == 15 and (coi := self._armed_coi(info["MarketIndex"], info["Index"])) is not None:
                self.engine.triggers.cancel(symbol, coi)
                self._publish_order(self._trigger_payload(self._triggers.pop(coi), "canceled"))
            elif tx_type == 15:
                self.engine.cancel(symbol, **self._target(info["Index"]))
            elif tx_type == 17:
                self.engine.amend(
                    symbol, **self._target(info["Index"]), price_i=info["Price"], size_i=info["BaseAmount"]
                )
            elif tx_type == TX_UPDATE_LEVERAGE:
                self.apply_leverage(symbol, info)
            elif tx_type == 16:
                market = (info.get("L2TxAttributes") or {}).get("5")
                if info["TimeInForce"] == 0:
                    self.engine.cancel_all(self.markets.get(int(market)) if market is not None else None)
                else:
                    self._dms_at_ms = info["Time"] if info["TimeInForce"] == 1 else None
        except (UnknownOrder, InvalidOrder, OrderRejected) as exc:
            self.refused.append((info["Nonce"], str(exc)))

    def _place(self, symbol: str, info: dict[str, Any]) -> None:
        tif = "MARKET" if info["Type"] == 1 else {0: "IOC", 1: "GTC", 2: "POST_ONLY"}[info["TimeInForce"]]
        meta = {"type": "market" if info["Type"] == 1 else "limit", "tif": TIF_NAMES[info["TimeInForce"]]}
        meta["expiry"] = info["OrderExpiry"]
        self._placing = meta
        try:
            self.engine.place(
                symbol,
                client_order_index=info["ClientOrderIndex"],
                is_ask=bool(info["IsAsk"]),
                price_i=info["Price"],
                size_i=info["BaseAmount"],
                tif=tif,
                reduce_only=bool(info["ReduceOnly"]),
            )
        except (PostOnlyWouldCross, InsufficientMargin, OrderRejected, InvalidOrder) as exc:
            self.refused.append((info["Nonce"], str(exc)))
            if isinstance(exc, PostOnlyWouldCross):
                status = "canceled-post-only"
            elif isinstance(exc, InsufficientMargin):
                status = "canceled-margin-not-allowed"
            else:
                status = "canceled-reduce-only" if info["ReduceOnly"] else "canceled-invalid-balance"
            snap = meta.get("rejected") or OrderSnapshot(
                symbol,
                info["ClientOrderIndex"],
                str(10**12 + len(self.refused)),
                bool(info["IsAsk"]),
                info["Price"],
                info["BaseAmount"],
                0,
                OrderStatus.REJECTED,
                ts_ms=self.clock.now_ms(),
            )
            self._meta[str(snap.order_id)] = meta
            self._publish_order(self._order_payload(snap, status))
        finally:
            self._placing = None

    def _publish_order(self, payload: dict[str, Any]) -> None:
        self.orders[payload["order_index"]] = payload
        acct = self.account_index
        orders = {str(payload["market_index"]): [payload]}
        self._publish(f"account_all_orders/{acct}", "account_all_orders", {"account": acct, "orders": orders})


def _diff(old: dict[int, int], new: dict[int, int]) -> dict[int, int]:
    changed = {p: s for p, s in new.items() if old.get(p) != s}
    changed.update({p: 0 for p in old if p not in new})
    return changed


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(str(text).encode()).digest()[:6], "big")


def _lighter_status(snap: OrderSnapshot) -> str:
    return {
        OrderStatus.OPEN: "open",
        OrderStatus.PARTIALLY_FILLED: "open",
        OrderStatus.FILLED: "filled",
        OrderStatus.CANCELLED: "canceled",
        OrderStatus.EXPIRED: "canceled-expired",
        OrderStatus.REJECTED: "canceled-invalid-balance",
        OrderStatus.SUBMITTING: "pending",
        OrderStatus.NEW: "pending",
    }.get(snap.status, "canceled" if snap.filled_i < snap.size_i else "filled")


def write_key_file(path: Path, *, account_index: int, api_key_index: int) -> str:
    """Generate a fresh API key with the SDK and write a 0600 key file; returns the public key."""
    lighter, _ = load_sdk()
    private_key, public_key, err = lighter.signer_client.create_api_key()
    if err:
        raise SystemExit(f"could not generate an API key: {err}")
    text = (
        "# perpdesk key file for the fake Lighter venue (a throwaway key)\n"
        f'api_private_key = "{private_key}"\n'
        f"account_index = {account_index}\n"
        f"api_key_index = {api_key_index}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return public_key


async def _serve(port: int, key_file: Path | None, account_index: int, api_key_index: int) -> None:
    if key_file is not None:
        public_key = write_key_file(key_file, account_index=account_index, api_key_index=api_key_index)
        print(
            f"key file {key_file} (0600) for account {account_index}, API key {api_key_index}, public key {public_key[:18]}…"
        )
    fake = await FakeLighter(account_index=account_index, api_key_index=api_key_index).start(port)
    markets = ", ".join(f"{fake.engine.markets[s].base} (market_id {i})" for s, i in fake.ids.items())
    print(f"fake Lighter on {fake.base_url} (websocket {fake.ws_url}); markets: {markets}")
    print("run the console against it in another terminal:")
    print(f"  PERPDESK_VENUE__LIGHTER__BASE_URL={fake.base_url} PERPDESK_VENUE__LIGHTER__WS_URL={fake.ws_url} \\")
    if key_file is not None:
        print(f"  PERPDESK_VENUE__LIGHTER__KEY_FILE={key_file} \\")
    print("  perpdesk --venue lighter")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Lighter venue on 127.0.0.1 backed by the sim engine")
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--key-file", type=Path, help="write a fresh throwaway API key file here (mode 0600)")
    parser.add_argument("--account-index", type=int, default=1001)
    parser.add_argument("--api-key-index", type=int, default=4)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.key_file, args.account_index, args.api_key_index))


if __name__ == "__main__":
    main()
