"""A protocol-faithful fake Hyperliquid venue on 127.0.0.1, backed by the sim engine.

POST ``/info`` and ``/exchange`` and a websocket at ``/ws`` with Hyperliquid's payload shapes
(decimal strings, ``{"status": "ok", "response": {"type", "data": {"statuses": [...]}}}`` with
per-order errors inside an "ok", ``l2Book`` full snapshots, ``bbo``, ``trades``, ``orderUpdates``,
``userFills`` with a first ``isSnapshot`` message, ``clearinghouseState``).

Every ``/exchange`` request is checked the way the venue does it: the action is rebuilt in the
venue's canonical form (documented key order, numbers without trailing zeros, ``f``/``a`` flags
omitted when false) and the signer is *recovered* from the signature over that form; a signer that
is neither the master account nor one of its approved API wallets gets the venue's misleading
``User or API Wallet 0x... does not exist.``  Nonces: per signer, the 100 highest are kept; a new
one must be unused, above the smallest kept, and within (now - 2 days, now + 1 day).  The fake
serves as testnet (it verifies ``source: "b"``), like any URL but the mainnet one.

Faults for tests: ``drop_sockets()``, ``stall(seconds)`` (send nothing, pongs included),
``send_malformed(n)``, ``rate_limit(n)`` (HTTP 429).

Standalone, for a console demo (prints the base URL, writes a fresh 0600 key file)::

    python -m tests.fakes.hyperliquid --port 8801 --key-file demo-keys/hyperliquid.toml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from eth_account import Account

from connector.clock import Clock, RealClock
from connector.errors import InsufficientMargin, InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder
from connector.hyperliquid import signing, triggers, wire
from connector.interface import QUOTE_DECIMALS, BookUpdate, Fill, Margin, OrderSnapshot, OrderStatus, Trade
from connector.scaling import scaled_to_str
from connector.sim.engine import SimEngine, SimMarketSpec

DAY_MS = 86_400_000
NO_CLOID_BASE = 2**130
TRIGGER_OID_BASE = 9_000_000_000
"""Oids of trigger orders (the engine numbers its orders from 1)."""
"""Engine client indices for orders placed without a cloid (never a valid cloid)."""

MARKETS: tuple[tuple[SimMarketSpec, int], ...] = (
    # (engine market, szDecimals): price decimals = 6 - szDecimals; ticks keep 5 significant figures
    (SimMarketSpec("BTC", "BTC", 1, 5, min_size_i=1, start_price_i=650_000, max_leverage=40, level_size_i=50_000,
                   trade_size_i=10_000, level_gap_ticks=5, vol_ticks=3.0, tick_i=10), 5),
    (SimMarketSpec("ETH", "ETH", 2, 4, min_size_i=1, start_price_i=340_000, max_leverage=25, level_size_i=50_000,
                   trade_size_i=10_000, level_gap_ticks=5, vol_ticks=3.0, tick_i=10), 4),
    (SimMarketSpec("SOL", "SOL", 4, 2, min_size_i=1, start_price_i=1_500_000, max_leverage=20, level_size_i=20_000,
                   trade_size_i=2_000, level_gap_ticks=5, vol_ticks=2.0, tick_i=100), 2),
)  # fmt: skip


class ActionError(Exception):
    """A whole-request failure: ``{"status": "err", "response": message}``."""


@dataclass
class _Client:
    ws: web.WebSocketResponse
    subs: list[dict[str, Any]] = field(default_factory=list)
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    stalled_until: float = 0.0


def _num(text: Any) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return value


def _canonical_number(text: Any) -> str:
    """What the venue re-serializes: the SDK's float_to_wire form (trailing zeros change the hash)."""
    value = _num(text).normalize()
    return f"{value:f}" if value else "0"


def _canonical_type(t: dict[str, Any]) -> dict[str, Any]:
    if "trigger" in t:  # the SDK's order_type_to_wire key order
        trig = t["trigger"]
        return {"trigger": {"isMarket": bool(trig["isMarket"]), "triggerPx": _canonical_number(trig["triggerPx"]),
                            "tpsl": str(trig["tpsl"])}}  # fmt: skip
    return {"limit": {"tif": str(t["limit"]["tif"])}}


def _canonical_order(o: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"a": int(o["a"]), "b": bool(o["b"]), "p": _canonical_number(o["p"]),
                           "s": _canonical_number(o["s"]), "r": bool(o["r"]), "t": _canonical_type(o["t"])}  # fmt: skip
    if o.get("c") is not None:
        out["c"] = str(o["c"])
    return out


def canonical_action(action: dict[str, Any]) -> dict[str, Any]:
    """The action as the venue rebuilds it before checking the signature."""
    kind = action["type"]
    if kind == "order":
        out = {
            "type": "order",
            "orders": [_canonical_order(o) for o in action["orders"]],
            "grouping": action["grouping"],
        }
        if action.get("builder"):
            out["builder"] = action["builder"]
        return out
    if kind == "cancel":
        return {"type": "cancel", "cancels": [{"a": int(c["a"]), "o": int(c["o"])} for c in action["cancels"]]}
    if kind == "cancelByCloid":
        out = {"type": "cancelByCloid", "cancels": [{"asset": int(c["asset"]), "cloid": str(c["cloid"])}
                                                    for c in action["cancels"]]}  # fmt: skip
        if action.get("f"):
            out["f"] = True
        return out
    if kind == "batchModify":
        mods = [{"oid": m["oid"], "order": _canonical_order(m["order"])} for m in action["modifies"]]
        return {"type": "batchModify", "modifies": mods}
    if kind == "scheduleCancel":
        return {"type": "scheduleCancel", **({"time": int(action["time"])} if action.get("time") is not None else {})}
    if kind == "updateLeverage":
        return {"type": "updateLeverage", "asset": int(action["asset"]), "isCross": bool(action["isCross"]),
                "leverage": int(action["leverage"])}  # fmt: skip
    if kind == "noop":
        return {"type": "noop"}
    raise ValueError(f"unknown action type {kind!r}")


class FakeHyperliquid:
    def __init__(
        self,
        engine: SimEngine | None = None,
        *,
        clock: Clock | None = None,
        seed: int = 7,
        step_s: float | None = 0.05,
        agent_key: str | None = None,
        master_address: str | None = None,
    ) -> None:
        self.clock = clock or RealClock()
        self.engine = engine or SimEngine(seed, clock=self.clock, markets=[spec for spec, _ in MARKETS])
        self.sz_decimals = {spec.symbol: sd for spec, sd in MARKETS}
        for symbol, info in self.engine.markets.items():
            self.sz_decimals.setdefault(symbol, info.size_decimals)
        self.coins = list(self.engine.markets)
        self.funding: dict[str, str] = {}
        """coin -> the hourly rate ``metaAndAssetCtxs`` reports (default the baseline ``0.0000125``)."""
        self.step_s = step_s
        self.agent = Account.from_key(agent_key) if agent_key else Account.create()
        self.master = master_address or Account.create().address
        self.agents = {self.agent.address.lower()}
        self.nonces: dict[str, list[int]] = {}
        self.actions: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        """Every HTTP request that reached a handler: (path, JSON body)."""
        self.subscriptions: list[dict[str, Any]] = []
        """Every websocket subscription asked for."""
        self.fills: list[dict[str, Any]] = []
        self._tif: dict[str, str] = {}
        self._placing: list[Fill] | None = None
        self._bbo: dict[str, tuple[Any, Any]] = {}
        self._clients: list[_Client] = []
        self._rate_limited = 0
        self._retry_after = 1.0
        self._dms: asyncio.Task[None] | None = None
        self._no_cloid = NO_CLOID_BASE
        self._armed: dict[int, dict[str, Any]] = {}
        """client index -> the frontend row of an armed trigger order (the engine's trigger book fires it)."""
        self._trigger_ends: dict[int, tuple[dict[str, Any], str]] = {}
        """client index -> (row, status) of a trigger no longer armed (``triggered`` or ``canceled``)."""
        self._trigger_oid = TRIGGER_OID_BASE
        self.margin_modes: dict[str, str] = {}
        """coin -> the margin mode ``updateLeverage`` last set (reported; the engine margins everything cross)."""
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self._md: set[str] = set()
        self._listener = self._on_engine_event
        self.engine.subscribe(self._listener, self._md)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def key_file_text(self) -> str:
        key = self.agent.key.hex()
        key = key if key.startswith("0x") else "0x" + key
        return f'private_key = "{key}"\naccount_address = "{self.master}"\n'

    def write_key_file(self, path: str | Path) -> Path:
        """The API wallet's key file, created 0600 (never world-readable, not even for a moment)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.key_file_text())
        os.chmod(path, 0o600)
        return path

    async def start(self, port: int = 0) -> FakeHyperliquid:
        app = web.Application()
        app.router.add_post("/info", self._info)
        app.router.add_post("/exchange", self._exchange)
        app.router.add_get("/ws", self._stream)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.engine.advance_to(self.clock.now_ms())
        if self.step_s:
            self._tasks.append(asyncio.create_task(self._tick()))
        return self

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._dms] if self._dms else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in list(self._clients):
            await client.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.step_s or 0.05)
            self.engine.advance_to(self.clock.now_ms())

    # -- faults ----------------------------------------------------------------------------

    async def drop_sockets(self) -> None:
        for client in list(self._clients):
            await client.ws.close(code=1011, message=b"fake: dropped")

    def stall(self, seconds: float) -> None:
        """The open sockets send nothing (pongs included) for a while; what they would have sent is lost.
        A socket opened meanwhile is served normally."""
        for client in self._clients:
            client.stalled_until = time.monotonic() + seconds

    def send_malformed(self, n: int = 1) -> None:
        junk = ["{not json", '{"channel": "l2Book", "data": {"coin": "BTC", "levels": "oops"}}', '["a", "list"]',
                '{"channel": "orderUpdates", "data": [{"order": {}}]}']  # fmt: skip
        for client in self._clients:
            for i in range(n):
                client.queue.put_nowait(junk[i % len(junk)])

    def rate_limit(self, n: int = 1, retry_after_s: float = 1.0) -> None:
        """The next ``n`` HTTP requests are answered 429 (with ``Retry-After``; the venue's 429 body is
        undocumented)."""
        self._rate_limited, self._retry_after = n, retry_after_s

    # -- payloads --------------------------------------------------------------------------

    def _dec(self, coin: str) -> tuple[int, int]:
        info = self.engine.markets[coin]
        return info.price_decimals, info.size_decimals

    def _px(self, coin: str, price_i: int) -> str:
        return wire.to_wire(price_i, self._dec(coin)[0])

    def _sz(self, coin: str, size_i: int) -> str:
        return wire.to_wire(size_i, self._dec(coin)[1])

    @staticmethod
    def _cloid(coi: int) -> str | None:
        return wire.cloid_from_index(coi) if 0 <= coi <= wire.MAX_CLOID else None

    def _order_basic(self, snap: OrderSnapshot) -> dict[str, Any]:
        c = snap.symbol
        out = {"coin": c, "side": "A" if snap.is_ask else "B", "limitPx": self._px(c, snap.price_i),
               "sz": self._sz(c, snap.size_i - snap.filled_i), "oid": int(snap.order_id or 0),
               "timestamp": snap.ts_ms, "origSz": self._sz(c, snap.size_i)}  # fmt: skip
        cloid = self._cloid(snap.client_order_index)
        if cloid:
            out["cloid"] = cloid
        fired = self._trigger_ends.get(snap.client_order_index)
        if fired is not None and snap.price_i == 0:  # a market trigger's child: its worst price
            out["limitPx"] = fired[0]["limitPx"]
        return out

    def _order_frontend(self, snap: OrderSnapshot) -> dict[str, Any]:
        tif = self._tif.get(str(snap.order_id), "Alo" if snap.post_only else "Gtc")
        return {**self._order_basic(snap), "cloid": self._cloid(snap.client_order_index), "isPositionTpsl": False,
                "isTrigger": False, "orderType": "Limit", "reduceOnly": snap.reduce_only, "tif": tif,
                "triggerCondition": "N/A", "triggerPx": "0.0", "children": []}  # fmt: skip

    @staticmethod
    def _status(snap: OrderSnapshot) -> str:
        if snap.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            return "open"
        if snap.status is OrderStatus.FILLED:
            return "filled"
        if snap.status is OrderStatus.REJECTED:
            return "rejected"
        if "liquidation" in snap.reason:
            return "liquidatedCanceled"
        if snap.reason.startswith("IOC") and not snap.filled_i:
            return "iocCancelRejected"
        return "scheduledCancel" if "dead man" in snap.reason else "canceled"

    def _fill_payload(self, fill: Fill) -> dict[str, Any]:
        c = fill.symbol
        out = {"coin": c, "px": self._px(c, fill.price_i), "sz": self._sz(c, fill.size_i),
               "side": "A" if fill.is_ask else "B", "time": fill.ts_ms, "startPosition": "0.0",
               "dir": "Open Short" if fill.is_ask else "Open Long", "closedPnl": "0.0",
               "hash": f"0x{int(fill.trade_id):064x}", "oid": int(fill.order_id or 0), "crossed": not fill.is_maker,
               "fee": scaled_to_str(fill.fee_q, QUOTE_DECIMALS), "tid": int(fill.trade_id), "feeToken": "USDC"}  # fmt: skip
        cloid = self._cloid(fill.client_order_index)
        if cloid:
            out["cloid"] = cloid
        if fill.info.get("liquidation"):
            out["liquidation"] = {"markPx": out["px"], "method": "market"}
        return out

    def clearinghouse_state(self) -> dict[str, Any]:
        q = QUOTE_DECIMALS
        money = lambda v: scaled_to_str(v, q)  # noqa: E731
        margin = self.engine.margin()
        positions = []
        ntl = 0
        for p in self.engine.positions():
            pd, sd = self._dec(p.symbol)
            value_q = abs(p.size_i) * p.mark_price_i * 10**q // 10 ** (pd + sd)
            ntl += value_q
            lev = self.engine.account.leverage.get(p.symbol, self.engine.markets[p.symbol].max_leverage)
            positions.append({"type": "oneWay", "position": {
                "coin": p.symbol, "szi": wire.to_wire(p.size_i, sd), "entryPx": self._px(p.symbol, p.entry_price_i),
                "leverage": {"type": self.margin_modes.get(p.symbol, "cross"), "value": lev},
                "liquidationPx": self._px(p.symbol, p.liquidation_price_i) if p.liquidation_price_i else None,
                "marginUsed": money(p.margin_q), "maxLeverage": self.engine.markets[p.symbol].max_leverage,
                "positionValue": money(value_q), "returnOnEquity": "0.0", "unrealizedPnl": money(p.unrealized_pnl_q),
                "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"}}})  # fmt: skip
        summary = {"accountValue": money(margin.equity_q), "totalMarginUsed": money(margin.used_q),
                   "totalNtlPos": money(ntl), "totalRawUsd": money(margin.collateral_q)}  # fmt: skip
        return {"assetPositions": positions, "crossMaintenanceMarginUsed": money(margin.maintenance_q),
                "crossMarginSummary": summary, "marginSummary": summary, "time": self.clock.now_ms(),
                "withdrawable": money(margin.available_q)}  # fmt: skip

    def _levels(self, coin: str, levels: Any) -> list[dict[str, Any]]:
        return [{"px": self._px(coin, p), "sz": self._sz(coin, s), "n": 1} for p, s in levels]

    def l2_book(self, coin: str) -> dict[str, Any]:
        bids, asks = self.engine.book(coin)
        return {
            "coin": coin,
            "time": self.clock.now_ms(),
            "levels": [self._levels(coin, bids), self._levels(coin, asks)],
        }

    # -- engine events -> channels ---------------------------------------------------------

    def _push(self, match: dict[str, Any], channel: str, data: Any) -> None:
        frame = None
        for client in self._clients:
            if any(all(sub.get(k) == v for k, v in match.items()) for sub in client.subs):
                frame = frame or json.dumps({"channel": channel, "data": data})
                client.queue.put_nowait(frame)

    def _on_engine_event(self, event: Any) -> None:
        user = {"user": self.master.lower()}
        if self._armed:
            self._sweep_triggers()
        if isinstance(event, BookUpdate):
            c = event.symbol
            self._push({"type": "l2Book", "coin": c}, "l2Book", {"coin": c, "time": event.ts_ms,
                       "levels": [self._levels(c, event.bids), self._levels(c, event.asks)]})  # fmt: skip
            bbo = tuple(self._levels(c, side[:1])[0] if side else None for side in (event.bids, event.asks))
            if bbo != self._bbo.get(c):
                self._bbo[c] = bbo
                self._push({"type": "bbo", "coin": c}, "bbo", {"coin": c, "time": event.ts_ms, "bbo": list(bbo)})
        elif isinstance(event, Trade):
            c = event.symbol
            self._push({"type": "trades", "coin": c}, "trades", [{"coin": c, "side": "A" if event.is_ask else "B",
                       "px": self._px(c, event.price_i), "sz": self._sz(c, event.size_i), "time": event.ts_ms,
                       "hash": "0x" + "0" * 64, "tid": int(event.trade_id or 0), "users": []}])  # fmt: skip
        elif isinstance(event, OrderSnapshot):
            fired = self._trigger_ends.get(event.client_order_index)
            if event.order_id is None and (fired is None or fired[1] != "triggered"):
                return  # refused before it had an id: the venue answers that in the request's statuses
            if event.order_id is None:  # a fired trigger's child refused (reduce-only, nothing to close): no
                # request to answer, so the stream says it, under the trigger's oid
                basic = {**self._order_basic(event), "oid": fired[0]["oid"]}
                update = {"order": basic, "status": "reduceOnlyRejected", "statusTimestamp": event.ts_ms}
            else:
                update = {"order": self._order_basic(event), "status": self._status(event), "statusTimestamp": event.ts_ms}
            self._push({"type": "orderUpdates", **user}, "orderUpdates", [update])
        elif isinstance(event, Fill):
            if self._placing is not None:
                self._placing.append(event)
            payload = self._fill_payload(event)
            self.fills.append(payload)
            self._push({"type": "userFills", **user}, "userFills", {"user": self.master, "fills": [payload]})
        elif isinstance(event, Margin):
            data = {"dex": "", "user": self.master, "clearinghouseState": self.clearinghouse_state()}
            self._push({"type": "clearinghouseState", **user}, "clearinghouseState", data)

    # -- HTTP ------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        if self._rate_limited > 0:
            self._rate_limited -= 1
            headers = {"Retry-After": f"{self._retry_after:g}"}
            return web.Response(status=429, text="null", content_type="application/json", headers=headers)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")
        if not isinstance(body, dict):
            return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")
        self.requests.append((request.path, body))
        self.engine.advance_to(self.clock.now_ms())
        return body

    def _find(self, ref: Any) -> OrderSnapshot | None:
        """An order by oid (int) or cloid (0x string), or None."""
        for coin in self.coins:
            try:
                if isinstance(ref, str):
                    snap = self.engine.order(coin, client_order_index=int(ref, 16))
                else:
                    snap = self.engine.order(coin, order_id=str(int(ref)))
            except (UnknownOrder, ValueError):
                continue
            if snap.order_id is not None:
                return snap
        return None

    async def _info(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        kind = body.get("type")
        mine = str(body.get("user", "")).lower() == self.master.lower()
        if kind in ("meta", "metaAndAssetCtxs"):
            universe = [{"name": c, "szDecimals": self.sz_decimals[c], "maxLeverage": self.engine.markets[c].max_leverage,
                         "marginTableId": 0} for c in self.coins]  # fmt: skip
            meta = {"universe": universe, "marginTables": []}
            if kind == "meta":
                return web.json_response(meta)
            ctxs = []
            for c in self.coins:
                mark = self._px(c, self.engine.mark_i(c))
                prev = self._px(c, self.engine.markets[c].prev_day_price_i or self.engine.mark_i(c))
                ctxs.append({"funding": self.funding.get(c, "0.0000125"), "openInterest": "1000.0", "prevDayPx": prev, "dayNtlVlm": "0.0",
                             "premium": "0.0", "oraclePx": mark, "markPx": mark, "midPx": mark,
                             "impactPxs": [mark, mark], "dayBaseVlm": "0.0"})  # fmt: skip
            return web.json_response([meta, ctxs])
        if kind == "l2Book" and body.get("coin") in self.engine.markets:
            return web.json_response(self.l2_book(body["coin"]))
        if kind == "allMids":
            return web.json_response({c: self._px(c, self.engine.mid_i(c)) for c in self.coins})
        if kind == "clearinghouseState":
            state = self.clearinghouse_state() if mine else {**self.clearinghouse_state(), "assetPositions": []}
            return web.json_response(state)
        if kind in ("openOrders", "frontendOpenOrders"):
            snaps = self.engine.open_orders() if mine else []
            shape = self._order_basic if kind == "openOrders" else self._order_frontend
            rows = [shape(s) for s in snaps]
            for row in self._armed.values() if mine else ():
                rows.append(dict(row) if kind == "frontendOpenOrders" else
                            {k: row[k] for k in ("coin", "side", "limitPx", "sz", "oid", "timestamp")})  # fmt: skip
            return web.json_response(rows)
        if kind == "orderStatus":
            snap = self._find(body.get("oid")) if mine else None
            found = self._find_trigger(body.get("oid")) if mine and snap is None else None
            if found is not None:
                entry = {"order": found[0], "status": found[1], "statusTimestamp": self.clock.now_ms()}
                return web.json_response({"status": "order", "order": entry})
            if snap is None:
                return web.json_response({"status": "unknownOid"})
            entry = {"order": self._order_frontend(snap), "status": self._status(snap), "statusTimestamp": snap.ts_ms}
            return web.json_response({"status": "order", "order": entry})
        if kind == "userFills":
            return web.json_response(list(reversed(self.fills[-2000:])) if mine else [])
        return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")

    async def _exchange(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            result = self._act(body)
        except ActionError as exc:
            self.refused.append(str(exc))
            return web.json_response({"status": "err", "response": str(exc)})
        except (KeyError, TypeError, ValueError) as exc:
            return web.Response(status=422, text=f"Failed to deserialize the JSON body into the target type: {exc}")
        return web.json_response({"status": "ok", "response": result})

    def _act(self, body: dict[str, Any]) -> dict[str, Any]:
        action, nonce = canonical_action(body["action"]), int(body["nonce"])
        signer = signing.recover_l1_signer(
            action, nonce, body["signature"], is_mainnet=False,
            vault_address=body.get("vaultAddress"), expires_after=body.get("expiresAfter"),
        )  # fmt: skip
        if signer.lower() not in self.agents and signer.lower() != self.master.lower():
            raise ActionError(f"User or API Wallet {signer.lower()} does not exist.")
        self._check_nonce(signer.lower(), nonce)
        self.actions.append(action)
        kind = action["type"]
        if kind == "order":
            grouping = action["grouping"]
            return {"type": "order", "data": {"statuses": [self._place(o, grouping) for o in action["orders"]]}}
        if kind in ("cancel", "cancelByCloid"):
            return {"type": "cancel", "data": {"statuses": [self._cancel(c) for c in action["cancels"]]}}
        if kind == "batchModify":
            return {"type": "batchModify", "data": {"statuses": [self._modify(m) for m in action["modifies"]]}}
        if kind == "scheduleCancel":
            self._schedule_cancel(action.get("time"))
        elif kind == "updateLeverage":
            try:
                self.engine.set_leverage(self.coins[action["asset"]], action["leverage"])
            except InvalidOrder as exc:
                raise ActionError(str(exc)) from None
            self.margin_modes[self.coins[action["asset"]]] = "cross" if action["isCross"] else "isolated"
        return {"type": "default"}

    def _check_nonce(self, signer: str, nonce: int) -> None:
        now = self.clock.now_ms()
        if not now - 2 * DAY_MS < nonce < now + DAY_MS:
            raise ActionError(f"Invalid nonce: {nonce} is outside the allowed time window")
        kept = self.nonces.setdefault(signer, [])
        if nonce in kept or (len(kept) >= 100 and nonce <= kept[0]):
            raise ActionError(f"Invalid nonce: duplicate or too low ({nonce})")
        kept.append(nonce)
        kept.sort()
        del kept[:-100]

    def _parse_order(self, o: dict[str, Any]) -> tuple[str, int, int, str]:
        """Coin, price_i, size_i, engine tif of one order wire, or ``OrderRejected`` with the venue's text."""
        coin, price_i, size_i = self._parse_px_sz(o)
        tif = o["t"]["limit"]["tif"]
        engine_tif = {"Gtc": "GTC", "Alo": "POST_ONLY", "Ioc": "IOC"}.get(tif)
        if engine_tif is None:
            raise OrderRejected(f"Invalid TIF {tif}. asset={o['a']}")
        return coin, price_i, size_i, engine_tif

    def _parse_px_sz(self, o: dict[str, Any]) -> tuple[str, int, int]:
        asset = int(o["a"])
        if not 0 <= asset < len(self.coins):
            raise OrderRejected(f"Invalid asset {asset}")
        coin = self.coins[asset]
        pd, sd = self._dec(coin)
        tag = f" asset={asset}"
        size, price = _num(o["s"]), _num(o["p"])
        if size <= 0:
            raise OrderRejected("Order has zero size." + tag)
        if size.scaleb(sd) != size.scaleb(sd).to_integral_value():
            raise OrderRejected("Order has invalid size." + tag)
        scaled = price.scaleb(pd)
        if price <= 0 or scaled != scaled.to_integral_value() or not wire.is_valid_price(int(scaled), pd):
            raise OrderRejected("Price must be divisible by tick size." + tag)
        price_i, size_i = int(scaled), int(size.scaleb(sd))
        if not o["r"] and price_i * size_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd) < wire.MIN_NOTIONAL_Q:
            raise OrderRejected("Order must have minimum value of $10." + tag)
        return coin, price_i, size_i

    def _engine_error(self, exc: Exception, coin: str, asset: int) -> dict[str, Any]:
        tag = f" asset={asset}"
        if isinstance(exc, PostOnlyWouldCross):
            bid, ask = self.engine.top(coin)
            return {"error": f"Post only order would have immediately matched, bbo was "
                             f"{self._px(coin, bid)}@{self._px(coin, ask)}.{tag}"}  # fmt: skip
        if isinstance(exc, InsufficientMargin):
            return {"error": "Insufficient margin to place order." + tag}
        if isinstance(exc, OrderRejected) and "reduce-only" in str(exc):
            return {"error": "Reduce only order would increase position." + tag}
        return {"error": f"{exc}{tag}"}

    def _result(self, snap: OrderSnapshot, fills: list[Fill], asset: int) -> dict[str, Any]:
        oid = int(snap.order_id or 0)
        if snap.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            return {"resting": {"oid": oid}}
        if snap.filled_i:
            notional = sum(Decimal(f.price_i) * f.size_i for f in fills)
            total = sum(f.size_i for f in fills) or 1
            pd = self._dec(snap.symbol)[0]
            avg = _canonical_number((notional / total).scaleb(-pd).quantize(Decimal(10) ** -(pd + 2)))
            return {"filled": {"totalSz": self._sz(snap.symbol, snap.filled_i), "avgPx": avg, "oid": oid}}
        return {"error": f"Order could not immediately match against any resting orders. asset={asset}"}

    def _place(self, o: dict[str, Any], grouping: str = "na") -> dict[str, Any]:
        if "trigger" in o["t"]:
            return self._place_trigger(o, grouping)
        try:
            coin, price_i, size_i, tif = self._parse_order(o)
        except OrderRejected as exc:
            return {"error": str(exc)}
        coi = wire.index_from_cloid(o.get("c"))
        if coi is None:
            coi, self._no_cloid = self._no_cloid, self._no_cloid + 1
        self._placing = []
        try:
            snap = self.engine.place(coin, client_order_index=coi, is_ask=not o["b"], price_i=price_i, size_i=size_i,
                                     tif=tif, reduce_only=o["r"])  # fmt: skip
        except (OrderRejected, InvalidOrder) as exc:
            return self._engine_error(exc, coin, o["a"])
        finally:
            fills, self._placing = self._placing or [], None
        self._tif[str(snap.order_id)] = o["t"]["limit"]["tif"]
        return self._result(snap, fills, o["a"])

    # -- trigger orders ---------------------------------------------------------------------

    def _place_trigger(self, o: dict[str, Any], grouping: str) -> dict[str, Any]:
        """Armed in the engine's trigger book (it watches the mark and places the child under the
        trigger's cloid).  ``positionTpsl``: the child closes the whole position when it fires."""
        try:
            coin, price_i, size_i = self._parse_px_sz(o)
        except OrderRejected as exc:
            return {"error": str(exc)}
        asset = int(o["a"])
        tag = f" asset={asset}"
        trig = o["t"]["trigger"]
        pd = self._dec(coin)[0]
        trigger = _num(trig["triggerPx"]).scaleb(pd)
        if trigger <= 0 or trigger != trigger.to_integral_value() or not wire.is_valid_price(int(trigger), pd):
            return {"error": "Price must be divisible by tick size." + tag}
        trigger_i, is_ask, is_market = int(trigger), not o["b"], bool(trig["isMarket"])
        if trig["tpsl"] not in ("tp", "sl"):
            return {"error": f"Invalid tpsl {trig['tpsl']!r}." + tag}
        if trig["tpsl"] == "sl" and (price_i > trigger_i if is_ask else price_i < trigger_i):
            return {"error": "Invalid TP/SL price." + tag}  # a stop's limit may not be better than its trigger
        kind = ("stop" if trig["tpsl"] == "sl" else "take_profit") + ("_market" if is_market else "_limit")
        coi = wire.index_from_cloid(o.get("c"))
        if coi is None:
            coi, self._no_cloid = self._no_cloid, self._no_cloid + 1
        whole = grouping == "positionTpsl"
        try:
            snap = self.engine.triggers.add(
                coin, client_order_index=coi, kind=kind, is_ask=is_ask, trigger_price=trigger_i,
                size_i=None if whole else size_i, limit_price=None if is_market else price_i, trigger_on="mark",
                trail_i=None, trail_ppm=None, reduce_only=bool(o["r"]),
            )  # fmt: skip
        except (OrderRejected, InvalidOrder) as exc:
            return {"error": f"{exc}{tag}"}
        self._trigger_oid += 1
        falls = is_ask == (kind.startswith("stop"))
        row = {"coin": coin, "side": "A" if is_ask else "B", "limitPx": self._px(coin, price_i),
               "sz": self._sz(coin, size_i), "oid": self._trigger_oid, "timestamp": snap.ts_ms,
               "origSz": self._sz(coin, size_i), "cloid": self._cloid(coi), "isPositionTpsl": whole, "isTrigger": True,
               "orderType": triggers.order_type_name(kind), "reduceOnly": bool(o["r"]), "tif": None,
               "triggerCondition": f"Price {'below' if falls else 'above'} {self._px(coin, trigger_i)}",
               "triggerPx": self._px(coin, trigger_i), "children": []}  # fmt: skip
        self._armed[coi] = row
        self._push_trigger(row, "open")
        return {"resting": {"oid": self._trigger_oid}}

    def _push_trigger(self, row: dict[str, Any], status: str) -> None:
        basic = {k: row[k] for k in ("coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz")}
        if row.get("cloid"):
            basic["cloid"] = row["cloid"]
        update = {"order": basic, "status": status, "statusTimestamp": self.clock.now_ms()}
        self._push({"type": "orderUpdates", "user": self.master.lower()}, "orderUpdates", [update])

    def _sweep_triggers(self) -> None:
        """Triggers the engine's book fired since the last look: ``triggered`` (before their child's news)."""
        held = {s.client_order_index for s in self.engine.triggers.snapshots()}
        for coi in [c for c in self._armed if c not in held]:
            row = self._armed.pop(coi)
            self._trigger_ends[coi] = (row, "triggered")
            self._push_trigger(row, "triggered")

    def _cancel_trigger(self, c: dict[str, Any]) -> bool:
        if "cloid" in c:
            coi = wire.index_from_cloid(str(c["cloid"]))
        else:
            coi = next((k for k, row in self._armed.items() if row["oid"] == int(c["o"])), None)
        if coi is None or coi not in self._armed:
            return False
        row = self._armed.pop(coi)
        self.engine.triggers.cancel(row["coin"], coi)
        self._trigger_ends[coi] = (row, "canceled")
        self._push_trigger(row, "canceled")
        return True

    def _find_trigger(self, ref: Any) -> tuple[dict[str, Any], str] | None:
        rows = [*((row, "open") for row in self._armed.values()), *self._trigger_ends.values()]
        for row, status in rows:
            if (isinstance(ref, str) and row.get("cloid") == ref) or (not isinstance(ref, str) and row["oid"] == ref):
                return row, status
        return None

    def _cancel(self, c: dict[str, Any]) -> Any:
        asset = int(c.get("a", c.get("asset", -1)))
        coin = self.coins[asset] if 0 <= asset < len(self.coins) else None
        try:
            if coin is None:
                raise UnknownOrder("no such asset")
            if self._cancel_trigger(c):
                return "success"
            if "cloid" in c:
                self.engine.cancel(coin, client_order_index=int(c["cloid"], 16))
            else:
                self.engine.cancel(coin, order_id=str(c["o"]))
        except UnknownOrder:
            return {"error": f"Order was never placed, already canceled, or filled. asset={asset}"}
        return "success"

    def _modify(self, m: dict[str, Any]) -> dict[str, Any]:
        o = m["order"]
        snap = self._find(m["oid"])
        if snap is None or snap.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            return {"error": "Cannot modify canceled or filled order"}
        try:
            coin, price_i, size_i, _ = self._parse_order(o)
        except OrderRejected as exc:
            return {"error": str(exc)}
        if coin != snap.symbol:
            return {"error": "Cannot modify an order to another asset"}
        self._placing = []
        try:
            new = self.engine.amend(coin, order_id=snap.order_id, price_i=price_i, size_i=size_i)
        except (OrderRejected, InvalidOrder) as exc:
            return self._engine_error(exc, coin, o["a"])
        finally:
            fills, self._placing = self._placing or [], None
        return self._result(new, fills, o["a"])

    def _schedule_cancel(self, at_ms: int | None) -> None:
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        if at_ms is None:
            return
        delay_ms = at_ms - self.clock.now_ms()
        if delay_ms < 5000:
            raise ActionError("Scheduled cancel time too early, must be at least 5 seconds from now.")
        self._dms = asyncio.get_running_loop().create_task(self._cancel_at(delay_ms / 1000))

    async def _cancel_at(self, delay_s: float) -> None:
        await self.clock.sleep(delay_s)
        self._dms = None
        self.engine.advance_to(self.clock.now_ms())
        self.engine.cancel_all()

    # -- websocket -------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.append(client)
        writer = asyncio.create_task(self._writer(client))
        await ws.send_str("Websocket connection established.")
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                self._on_client_message(client, msg.data)
        finally:
            self._clients.remove(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _writer(self, client: _Client) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                frame = await client.queue.get()
                if time.monotonic() < client.stalled_until:
                    continue
                await client.ws.send_str(frame)

    def _on_client_message(self, client: _Client, text: str) -> None:
        try:
            msg = json.loads(text)
            method = msg["method"]
            if method == "ping":
                client.queue.put_nowait('{"channel":"pong"}')
                return
            sub = dict(msg["subscription"])
            self.subscriptions.append(dict(sub))
            kind = sub["type"]
            if "user" in sub:
                sub["user"] = str(sub["user"]).lower()
            if kind in ("l2Book", "bbo", "trades") and sub.get("coin") not in self.engine.markets:
                raise ValueError(f"unknown coin {sub.get('coin')!r}")
            if kind not in ("l2Book", "bbo", "trades", "orderUpdates", "userFills", "clearinghouseState"):
                raise ValueError(f"unsupported subscription {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            client.queue.put_nowait(
                json.dumps({"channel": "error", "data": f"Invalid subscription: {exc}: {text[:100]}"})
            )
            return
        if method == "unsubscribe":
            client.subs = [s for s in client.subs if s != sub]
        else:
            client.subs.append(sub)
        client.queue.put_nowait(json.dumps({"channel": "subscriptionResponse", "data": msg}))
        if method != "subscribe":
            return
        self._md = {s["coin"] for c in self._clients for s in c.subs if "coin" in s}
        self.engine.subscribe(self._listener, self._md)
        mine = sub.get("user") == self.master.lower()
        if kind == "l2Book":
            client.queue.put_nowait(json.dumps({"channel": "l2Book", "data": self.l2_book(sub["coin"])}))
        elif kind == "userFills":
            fills = self.fills[-2000:] if mine else []
            data = {"isSnapshot": True, "user": sub["user"], "fills": fills}
            client.queue.put_nowait(json.dumps({"channel": "userFills", "data": data}))
        elif kind == "clearinghouseState" and mine:
            data = {"dex": "", "user": self.master, "clearinghouseState": self.clearinghouse_state()}
            client.queue.put_nowait(json.dumps({"channel": "clearinghouseState", "data": data}))


async def _serve(port: int, key_file: str | None, seed: int) -> None:
    fake = await FakeHyperliquid(seed=seed).start(port)
    print(f"fake Hyperliquid (testnet signing) at {fake.base_url}  websocket {fake.ws_url}", flush=True)
    if key_file:
        print(f"API-wallet key file written to {fake.write_key_file(key_file)} (mode 0600)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Hyperliquid venue on 127.0.0.1 for demos and tests")
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--key-file", help="write a fresh API-wallet key file (0600) here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.key_file, args.seed))


if __name__ == "__main__":
    main()
