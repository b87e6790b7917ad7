"""The fake Binance USDⓈ-M venue's REST endpoints and user-data events (a mixin of ``FakeBinanceUsdm``).

Each endpoint checks its parameters the way the venue documents it and answers with the venue's
error codes: filters (``-1111`` precision, ``-4014`` tick, ``-4023`` step, ``-4004`` minimum,
``-4164`` notional, ``-4016``/``-4024`` the PERCENT_PRICE band around the mark), ``-5022`` for a
post-only that would take, ``-2019`` margin, ``-2022`` reduce-only, ``-2011``/``-2013`` unknown
orders, ``-4061`` in hedge mode, ``-1125`` for a dead listenKey.  A GTX order refused with ``-5022``
is not recorded: querying it answers ``-2013``.  ``PUT /fapi/v1/order`` takes the new total
quantity; a GTX order whose new price would cross is cancelled (status EXPIRED: which status the
venue reports is UNCONFIRMED), and an order whose new quantity is at or below its filled part is
cancelled, as the venue documents.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from connector.errors import InsufficientMargin, InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder
from connector.interface import Fill, Margin, OrderSnapshot, OrderStatus, Position
from tests.fakes import binance_usdm_wire as bw

_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_OURS = re.compile(r"^pd-(\d{1,30})$")
DEPTH_WEIGHTS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}

ENDPOINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/fapi/v1/ping"): ("NONE", "ep_ping"),
    ("GET", "/fapi/v1/time"): ("NONE", "ep_time"),
    ("GET", "/fapi/v1/exchangeInfo"): ("NONE", "ep_exchange_info"),
    ("GET", "/fapi/v1/depth"): ("NONE", "ep_depth"),
    ("GET", "/fapi/v1/ticker/bookTicker"): ("NONE", "ep_book_ticker"),
    ("GET", "/fapi/v1/premiumIndex"): ("NONE", "ep_premium_index"),
    ("GET", "/fapi/v1/fundingInfo"): ("NONE", "ep_funding_info"),
    ("GET", "/fapi/v1/positionSide/dual"): ("SIGNED", "ep_dual"),
    ("POST", "/fapi/v1/listenKey"): ("KEY", "ep_listen_key_new"),
    ("PUT", "/fapi/v1/listenKey"): ("KEY", "ep_listen_key_keepalive"),
    ("DELETE", "/fapi/v1/listenKey"): ("KEY", "ep_listen_key_close"),
    ("POST", "/fapi/v1/order"): ("SIGNED", "ep_new_order"),
    ("PUT", "/fapi/v1/order"): ("SIGNED", "ep_modify_order"),
    ("DELETE", "/fapi/v1/order"): ("SIGNED", "ep_cancel_order"),
    ("GET", "/fapi/v1/order"): ("SIGNED", "ep_query_order"),
    ("GET", "/fapi/v1/openOrders"): ("SIGNED", "ep_open_orders"),
    ("GET", "/fapi/v1/userTrades"): ("SIGNED", "ep_user_trades"),
    ("DELETE", "/fapi/v1/allOpenOrders"): ("SIGNED", "ep_cancel_all"),
    ("POST", "/fapi/v1/countdownCancelAll"): ("SIGNED", "ep_countdown"),
    ("POST", "/fapi/v1/algoOrder"): ("SIGNED", "ep_algo_new"),
    ("DELETE", "/fapi/v1/algoOrder"): ("SIGNED", "ep_algo_cancel"),
    ("GET", "/fapi/v1/openAlgoOrders"): ("SIGNED", "ep_algo_open"),
    ("GET", "/fapi/v3/positionRisk"): ("SIGNED", "ep_position_risk"),
    ("GET", "/fapi/v2/positionRisk"): ("SIGNED", "ep_position_risk"),
    ("GET", "/fapi/v3/account"): ("SIGNED", "ep_account"),
    ("GET", "/fapi/v2/account"): ("SIGNED", "ep_account"),
}


class VenueError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def parse_params(query: str, body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in (query, body):
        for part in text.split("&") if text else ():
            name, _, value = part.partition("=")
            if name in out:
                raise VenueError(-1101, "Duplicate values for a parameter detected.")
            out[name] = unquote(value)
    return out


def strip_signature(text: str) -> str:
    """The signed part of a query string or body: everything but the ``signature`` parameter."""
    return "&".join(p for p in text.split("&") if not p.startswith("signature=")) if text else ""


def weight_of(method: str, path: str, params: dict[str, str]) -> tuple[int, int]:
    """(IP weight, order count) of one request, as the venue documents them."""
    if path in ("/fapi/v1/order", "/fapi/v1/algoOrder") and method in ("POST", "PUT"):
        return 0, 1
    if path == "/fapi/v1/depth":
        return DEPTH_WEIGHTS.get(int(params.get("limit") or 500), 10), 0
    weights = {"/fapi/v1/openOrders": 1 if params.get("symbol") else 40, "/fapi/v1/positionSide/dual": 30,
               "/fapi/v1/countdownCancelAll": 10, "/fapi/v3/positionRisk": 5, "/fapi/v2/positionRisk": 5,
               "/fapi/v3/account": 5, "/fapi/v2/account": 5, "/fapi/v1/ticker/bookTicker": 2}  # fmt: skip
    return weights.get(path, 1), 0


def _required(p: dict[str, str], name: str) -> str:
    value = p.get(name)
    if not value:
        raise VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


class Trading:
    """Orders, account and market-data endpoints, and the user-data events they cause."""

    engine: Any
    listings: dict[str, bw.Listing]
    depth: dict[str, Any]
    hedge_mode: bool
    listen_key: str | None
    listen_key_expires_ms: int
    listen_keys_made: int
    rate_limits: dict[str, int]

    def __init__(self) -> None:
        self.meta: dict[str, bw.OrderMeta] = {}
        self.client_coi: dict[str, int] = {}
        self._foreign = itertools.count(10**15)
        self._pending: bw.OrderMeta | None = None
        self._amending = False
        self._positions: list[Position] = []
        self._wallet_q: int | None = None
        self.countdowns: dict[str, asyncio.Task[None]] = {}
        self.countdown_calls: list[tuple[str, int]] = []
        self.user_trades: dict[str, list[dict[str, Any]]] = {}
        """symbol -> the account's trades, as ``GET /fapi/v1/userTrades`` lists them (oldest first)."""

    def server_ms(self) -> int:
        raise NotImplementedError

    # -- parameters --------------------------------------------------------------------

    def _symbol(self, p: dict[str, str]) -> str:
        symbol = _required(p, "symbol")
        if symbol not in self.listings:
            raise VenueError(-1121, "Invalid symbol.")
        return symbol

    def _scaled(self, text: str, decimals: int) -> int:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise VenueError(-1102, f"Mandatory parameter was malformed: {text!r}") from None
        scaled = value.scaleb(decimals)
        if not value.is_finite() or scaled != scaled.to_integral_value():
            raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
        return int(scaled)

    def _price(self, symbol: str, text: str) -> int:
        price_i = self._scaled(text, self.engine.markets[symbol].price_decimals)
        if price_i <= 0:
            raise VenueError(-4001, "Price less than 0.")
        if price_i % self.engine.markets[symbol].tick_i:
            raise VenueError(-4014, "Price not increased by tick size.")
        return price_i

    def _qty(self, symbol: str, text: str) -> int:
        info = self.engine.markets[symbol]
        size_i = self._scaled(text, info.size_decimals)
        if size_i <= 0:
            raise VenueError(-4003, "Quantity less than or equal to zero.")
        if size_i % info.step_i:
            raise VenueError(-4023, "Qty not increased by step size.")
        if size_i < info.min_size_i:
            raise VenueError(-4004, "Quantity less than min quantity.")
        return size_i

    def _check_limit(self, symbol: str, price_i: int, size_i: int, reduce_only: bool) -> None:
        info, lst = self.engine.markets[symbol], self.listings[symbol]
        notional = Decimal(price_i * size_i).scaleb(-(info.price_decimals + info.size_decimals))
        if not reduce_only and notional < Decimal(lst.notional):
            raise VenueError(
                -4164, f"Order's notional must be no smaller than {lst.notional} (unless you choose reduce only)."
            )
        mark = self.engine.mark_i(symbol)
        if price_i > Decimal(bw.BAND_UP) * mark:
            raise VenueError(-4016, "Price is higher than mark price multiplier cap.")
        if price_i < Decimal(bw.BAND_DOWN) * mark:
            raise VenueError(-4024, "Price is lower than mark price multiplier floor.")

    def _find(self, p: dict[str, str], missing: tuple[int, str]) -> tuple[str, OrderSnapshot, bw.OrderMeta]:
        symbol = self._symbol(p)
        try:
            if p.get("orderId"):
                snap = self.engine.order(symbol, order_id=p["orderId"])
            elif p.get("origClientOrderId"):
                coi = self.client_coi.get(p["origClientOrderId"])
                if coi is None:
                    raise UnknownOrder("no such client id")
                snap = self.engine.order(symbol, client_order_index=coi)
            else:
                raise VenueError(
                    -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
                )
        except UnknownOrder:
            raise VenueError(*missing) from None
        if snap.order_id is None or snap.order_id not in self.meta:
            raise VenueError(*missing)  # a refused GTX is not recorded in the order history
        return symbol, snap, self.meta[snap.order_id]

    # -- market data -----------------------------------------------------------------------

    def ep_ping(self, p: dict[str, str]) -> dict[str, Any]:
        return {}

    def ep_time(self, p: dict[str, str]) -> dict[str, Any]:
        return {"serverTime": self.server_ms()}

    def ep_exchange_info(self, p: dict[str, str]) -> dict[str, Any]:
        return bw.exchange_info(tuple(self.listings.values()), self.rate_limits, self.server_ms())

    def ep_depth(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        limit = int(p.get("limit") or 500)
        if limit not in DEPTH_WEIGHTS:
            raise VenueError(-4021, f"'{limit}' is not valid depth limit.")
        d = self.depth[symbol]
        if not d.bids and not d.asks:
            bids, asks = self.engine.book(symbol)
            d.bids, d.asks, d.dirty = dict(bids), dict(asks), True
            d.update_id += 1
        now = self.server_ms()
        bids = sorted(d.bids.items(), reverse=True)[:limit]
        asks = sorted(d.asks.items())[:limit]
        return {"lastUpdateId": d.update_id, "E": now, "T": now,
                "bids": bw.levels(self.engine, symbol, bids), "asks": bw.levels(self.engine, symbol, asks)}  # fmt: skip

    def ep_book_ticker(self, p: dict[str, str]) -> dict[str, Any]:
        symbol, e = self._symbol(p), self.engine
        bids, asks = e.book(symbol, 1)
        (b, bq), (a, aq) = bids[0], asks[0]
        return {"symbol": symbol, "bidPrice": bw.px(e, symbol, b), "bidQty": bw.qty(e, symbol, bq),
                "askPrice": bw.px(e, symbol, a), "askQty": bw.qty(e, symbol, aq), "time": self.server_ms(),
                "lastUpdateId": self.depth[symbol].update_id}  # fmt: skip

    def ep_premium_index(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        mark = bw.px(self.engine, symbol, self.engine.mark_i(symbol))
        return {"symbol": symbol, "markPrice": mark, "indexPrice": mark, "estimatedSettlePrice": mark,
                "lastFundingRate": self.funding.get(symbol, "0.00010000"), "interestRate": "0.00010000",
                "nextFundingTime": self.next_funding_ms(symbol), "time": self.server_ms()}  # fmt: skip

    def ep_funding_info(self, p: dict[str, str]) -> list[dict[str, Any]]:
        """Only the symbols whose interval is not eight hours, like the venue."""
        return [{"symbol": s, "adjustedFundingRateCap": "0.02", "adjustedFundingRateFloor": "-0.02",
                 "fundingIntervalHours": h, "disclaimer": False} for s, h in self.funding_hours.items()]  # fmt: skip

    def next_funding_ms(self, symbol: str) -> int:
        every = self.funding_hours.get(symbol, 8) * 3_600_000
        now = self.server_ms()
        return now - now % every + every

    # -- account settings and the listenKey ----------------------------------------------------

    def ep_dual(self, p: dict[str, str]) -> dict[str, Any]:
        return {"dualSidePosition": self.hedge_mode}

    def _key_alive(self) -> bool:
        return self.listen_key is not None and self.server_ms() <= self.listen_key_expires_ms

    def ep_listen_key_new(self, p: dict[str, str]) -> dict[str, Any]:
        if not self._key_alive():
            self.listen_key = secrets.token_urlsafe(48)[:64]
            self.listen_keys_made += 1
        self.listen_key_expires_ms = self.server_ms() + 60 * 60_000
        return {"listenKey": self.listen_key}

    def ep_listen_key_keepalive(self, p: dict[str, str]) -> dict[str, Any]:
        if not self._key_alive():
            raise VenueError(-1125, "This listenKey does not exist.")
        self.listen_key_expires_ms = self.server_ms() + 60 * 60_000
        return {"listenKey": self.listen_key}

    def ep_listen_key_close(self, p: dict[str, str]) -> dict[str, Any]:
        self.listen_key = None
        return {}

    # -- orders ----------------------------------------------------------------------------

    def ep_new_order(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        side, kind = _required(p, "side"), _required(p, "type")
        if side not in ("BUY", "SELL"):
            raise VenueError(-1117, "Invalid side.")
        if kind in ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET"):
            raise VenueError(
                -4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
            )
        if kind not in ("LIMIT", "MARKET"):
            raise VenueError(-1116, "Invalid orderType.")
        if self.hedge_mode and p.get("positionSide", "BOTH") == "BOTH":
            raise VenueError(-4061, "Order's position side does not match user's setting.")
        reduce_only = p.get("reduceOnly", "false") == "true"
        size_i = self._qty(symbol, _required(p, "quantity"))
        if kind == "LIMIT":
            tif = _required(p, "timeInForce")
            engine_tif = {"GTC": "GTC", "IOC": "IOC", "GTX": "POST_ONLY"}.get(tif)
            if engine_tif is None:
                raise VenueError(-1115, "Invalid timeInForce.")
            price_i = self._price(symbol, _required(p, "price"))
            self._check_limit(symbol, price_i, size_i, reduce_only)
        else:
            tif, engine_tif, price_i = "GTC", "MARKET", 0
        client_id = p.get("newClientOrderId") or f"x-{secrets.token_hex(8)}"
        if not _CLIENT_ID.match(client_id):
            raise VenueError(-4015, "Client order id is not valid.")
        ours = _OURS.match(client_id)
        coi = int(ours.group(1)) if ours else self.client_coi.get(client_id) or next(self._foreign)
        meta = bw.OrderMeta(client_id, kind, tif, self.server_ms())
        self._pending = meta
        try:
            snap = self.engine.place(symbol, client_order_index=coi, is_ask=side == "SELL", price_i=price_i,
                                     size_i=size_i, tif=engine_tif, reduce_only=reduce_only)  # fmt: skip
        except PostOnlyWouldCross:
            raise VenueError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history",
            ) from None
        except InsufficientMargin:
            raise VenueError(-2019, "Margin is insufficient.") from None
        except OrderRejected as exc:
            if "reduce-only" in str(exc):
                raise VenueError(-2022, "ReduceOnly Order is rejected.") from None
            if "already used" in str(exc):
                raise VenueError(-4116, "clientOrderId is duplicated.") from None
            raise VenueError(-2010, "NEW_ORDER_REJECTED") from None
        except InvalidOrder:
            raise VenueError(-1111, "Precision is over the maximum defined for this asset.") from None
        finally:
            self._pending = None
        self.meta[str(snap.order_id)] = meta
        self.client_coi[client_id] = coi
        return bw.order_object(self.engine, snap, meta)

    def ep_modify_order(self, p: dict[str, str]) -> dict[str, Any]:
        symbol, snap, meta = self._find(p, (-2013, "Order does not exist."))
        if snap.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            raise VenueError(-2013, "Order does not exist.")
        if meta.order_type != "LIMIT":
            raise VenueError(-5025, "Only limit order is supported.")
        if _required(p, "side") != ("SELL" if snap.is_ask else "BUY"):
            raise VenueError(-1130, "Data sent for parameter 'side' is not valid.")
        size_i = self._qty(symbol, _required(p, "quantity"))
        price_i = self._price(symbol, _required(p, "price"))
        if (size_i, price_i) == (snap.size_i, snap.price_i):
            raise VenueError(-5027, "No need to modify the order.")
        bid, ask = self.engine.top(symbol)
        crosses = (price_i <= bid) if snap.is_ask else (price_i >= ask)
        if size_i <= snap.filled_i or (meta.tif == "GTX" and crosses):
            meta.expired = size_i > snap.filled_i  # a GTX that would take is expired by the venue
            done = self.engine.cancel(symbol, order_id=snap.order_id)
            return bw.order_object(self.engine, done, meta)
        self._check_limit(symbol, price_i, size_i, snap.reduce_only)
        self._amending = True
        try:
            new = self.engine.amend(symbol, order_id=snap.order_id, price_i=price_i, size_i=size_i - snap.filled_i)
        except InsufficientMargin:
            raise VenueError(-2019, "Margin is insufficient.") from None
        except (OrderRejected, InvalidOrder):
            raise VenueError(-2022, "ReduceOnly Order is rejected.") from None
        finally:
            self._amending = False
        return bw.order_object(self.engine, new, meta)

    def ep_cancel_order(self, p: dict[str, str]) -> dict[str, Any]:
        symbol, snap, meta = self._find(p, (-2011, "Unknown order sent."))
        try:
            done = self.engine.cancel(symbol, order_id=snap.order_id)
        except UnknownOrder:
            raise VenueError(-2011, "Unknown order sent.") from None
        return bw.order_object(self.engine, done, meta)

    def ep_query_order(self, p: dict[str, str]) -> dict[str, Any]:
        _, snap, meta = self._find(p, (-2013, "Order does not exist."))
        return bw.order_object(self.engine, snap, meta, query=True)

    def ep_user_trades(self, p: dict[str, str]) -> list[dict[str, Any]]:
        """The venue's trade history for one symbol (required), oldest first, from ``startTime`` or from the
        trade id ``fromId`` (not both, as documented; the error code is UNCONFIRMED), at most ``limit`` (1000)."""
        symbol = self._symbol(p)
        if p.get("fromId") and (p.get("startTime") or p.get("endTime")):
            raise VenueError(-1128, "Combination of optional parameters invalid.")
        since, from_id = int(p.get("startTime") or 0), int(p.get("fromId") or 0)
        rows = sorted(self.user_trades.get(symbol, []), key=lambda r: r["id"])
        rows = [r for r in rows if r["time"] >= since and r["id"] >= from_id]
        return rows[: min(1000, int(p.get("limit") or 500))]

    def ep_open_orders(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p) if p.get("symbol") else None
        snaps = self.engine.open_orders(symbol)
        return [
            bw.order_object(self.engine, s, self.meta[str(s.order_id)]) for s in snaps if str(s.order_id) in self.meta
        ]

    def ep_cancel_all(self, p: dict[str, str]) -> dict[str, Any]:
        self.engine.cancel_all(self._symbol(p))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def ep_countdown(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        ms = int(_required(p, "countdownTime"))
        self.countdown_calls.append((symbol, ms))
        old = self.countdowns.pop(symbol, None)
        if old is not None:
            old.cancel()
        if ms:
            self.countdowns[symbol] = asyncio.get_running_loop().create_task(self._count_down(symbol, ms / 1000))
        return {"symbol": symbol, "countdownTime": str(ms)}

    async def _count_down(self, symbol: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.countdowns.pop(symbol, None)
        self.engine.cancel_all(symbol)

    def ep_position_risk(self, p: dict[str, str]) -> list[dict[str, Any]]:
        rows = bw.position_risk(self.engine, self.server_ms())
        return [r for r in rows if not p.get("symbol") or r["symbol"] == p["symbol"]]

    def ep_account(self, p: dict[str, str]) -> dict[str, Any]:
        return bw.account(self.engine, self.server_ms())

    # -- engine events -> user-data payloads ---------------------------------------------------

    def _update(
        self, snap: OrderSnapshot, meta: bw.OrderMeta, exec_type: str, status: str, **kw: Any
    ) -> dict[str, Any]:
        return bw.order_update(
            self.engine, snap, meta, exec_type=exec_type, status=status, now_ms=self.server_ms(), **kw
        )

    def user_payloads(self, event: Any) -> list[dict[str, Any]]:
        if isinstance(event, OrderSnapshot):
            meta = self.meta.get(str(event.order_id)) or self._pending
            if event.order_id is None or meta is None or event.status is OrderStatus.REJECTED:
                return []
            status = bw.status_of(event, meta)
            if self._amending:
                return [self._update(event, meta, "AMENDMENT", status)]
            out = []
            if not meta.announced:
                meta.announced = True
                out.append(self._update(dataclasses.replace(event, filled_i=0), meta, "NEW", "NEW"))
            if status in ("CANCELED", "EXPIRED"):
                out.append(self._update(event, meta, "EXPIRED" if status == "EXPIRED" else "CANCELED", status))
            return out
        if isinstance(event, Fill):
            return self._fill_payloads(event)
        if isinstance(event, Position):
            self._positions.append(event)
        elif isinstance(event, Margin):
            change = event.collateral_q - (self._wallet_q if self._wallet_q is not None else event.collateral_q)
            if self._positions or change:
                payload = bw.account_update(self.engine, self._positions, event, change, self.server_ms())
                self._positions, self._wallet_q = [], event.collateral_q
                return [payload]
            self._wallet_q = event.collateral_q
        return []

    def _fill_payloads(self, fill: Fill) -> list[dict[str, Any]]:
        if fill.order_id is None:  # the venue closed a position (liquidation): its own order
            meta = bw.OrderMeta(f"autoclose-{fill.ts_ms}", "LIMIT", "IOC", fill.ts_ms, announced=True)
            snap = OrderSnapshot(fill.symbol, -1, str(next(self._foreign)), fill.is_ask, fill.price_i, fill.size_i,
                                 fill.size_i, OrderStatus.FILLED)  # fmt: skip
        else:
            meta = self.meta.get(fill.order_id) or self._pending  # type: ignore[assignment]
            if meta is None:
                return []
            snap = self.engine.order(fill.symbol, order_id=fill.order_id)
        meta.notional += fill.price_i * fill.size_i
        meta.filled += fill.size_i
        out = []
        if not meta.announced:
            meta.announced = True
            out.append(self._update(dataclasses.replace(snap, filled_i=0), meta, "NEW", "NEW"))
        status = "FILLED" if snap.filled_i >= snap.size_i else "PARTIALLY_FILLED"
        last = (fill.price_i, fill.size_i, fill.fee_q, fill.is_maker, fill.trade_id)
        out.append(self._update(snap, meta, "TRADE", status, last=last))
        s = fill.symbol
        self.user_trades.setdefault(s, []).append({
            "buyer": not fill.is_ask, "commission": bw.money(fill.fee_q), "commissionAsset": "USDT",
            "id": int(fill.trade_id), "maker": fill.is_maker, "orderId": int(snap.order_id or 0),
            "price": bw.px(self.engine, s, fill.price_i), "qty": bw.qty(self.engine, s, fill.size_i),
            "quoteQty": "0", "realizedPnl": "0", "side": "SELL" if fill.is_ask else "BUY", "positionSide": "BOTH",
            "symbol": s, "time": fill.ts_ms or self.server_ms(),
        })  # fmt: skip
        return out
