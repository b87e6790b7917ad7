"""Binance USDⓈ-M payloads <-> typed values: pure functions, no I/O.

Venue decimal strings become scaled integers here and nowhere else.  Prices are scaled by the
decimals of ``PRICE_FILTER.tickSize`` (never ``pricePrecision``: BTCUSDT has pricePrecision 2 with
a 0.10 tick), sizes by those of ``LOT_SIZE.stepSize``; a tick that is not a power of ten (0.5, 0.05)
is carried as ``tick_i > 1``.  Account money is in the quote asset scaled by ``QUOTE_DECIMALS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import msgspec

from connector.errors import InvalidOrder
from connector.interface import (
    QUOTE_DECIMALS,
    Fill,
    Margin,
    MarketInfo,
    OrderSnapshot,
    OrderStatus,
    Position,
    Trade,
)
from connector.scaling import decimal_to_scaled, scaled_pairs, scaled_to_str, scaler

MAINNET_URL = "https://fapi.binance.com"
TESTNET_URL = "https://demo-fapi.binance.com"
MAINNET_WS_URL = "wss://fstream.binance.com"
TESTNET_WS_URL = "wss://fstream.binancefuture.com"

CLIENT_PREFIX = "pd-"
"""``newClientOrderId`` = prefix + client order index (``^[.A-Z:/a-z0-9_-]{1,36}$`` on the venue)."""
_OURS = re.compile(r"^pd-(\d{1,30})$")
QUOTE_ASSETS = ("USDT", "USDC")


def _dec(text: Any) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value


def decimals_of(step: Any) -> int:
    """Decimal places of a step string: ``"0.10"`` -> 1, ``"0.0005"`` -> 4, ``"10"`` -> 0."""
    exponent = _dec(step).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def px(text: Any, decimals: int) -> int:
    """An exact venue price/size string (memoised: book streams repeat the same strings)."""
    return scaler(decimals)(text if isinstance(text, str) else str(text))


def money_q(text: Any) -> int:
    """Account money to quote units, rounded half-even (the venue gives up to 8 decimals)."""
    return int(_dec(text or "0").scaleb(QUOTE_DECIMALS).to_integral_value(ROUND_HALF_EVEN))


def trade_fee_q(amount: Any, asset: Any) -> int:
    """A trade's commission (the stream's ``n``/``N``, ``userTrades``' ``commission``/``commissionAsset``)
    in quote units with its sign kept (negative: a maker rebate); 0 when paid in another asset (BNB)."""
    return money_q(amount or "0") if str(asset or "") in ("", *QUOTE_ASSETS) else 0


def rounded(text: Any, decimals: int) -> int:
    """A derived price (average entry, mark, liquidation) that may carry more digits than the tick."""
    return int(_dec(text or "0").scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))


def to_wire(value_i: int, decimals: int) -> str:
    return scaled_to_str(value_i, decimals)


# -- markets ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """What the venue checks on an order, in scaled units; the band is a pair of ratios of the mark."""

    symbol: str
    price_decimals: int
    size_decimals: int
    tick_i: int
    min_price_i: int
    max_price_i: int
    step_i: int
    min_qty_i: int
    max_qty_i: int
    market_step_i: int
    market_min_i: int
    market_max_i: int
    min_notional_q: int
    band_up: Decimal | None = None
    band_down: Decimal | None = None


def _filter(raw: dict[str, Any], kind: str) -> dict[str, Any]:
    for f in raw.get("filters") or []:
        if f.get("filterType") == kind:
            return f
    return {}


def _scaled_up(text: Any, decimals: int) -> int:
    return int(_dec(text or "0").scaleb(decimals).to_integral_value(ROUND_CEILING))


def parse_symbol(raw: dict[str, Any]) -> tuple[MarketInfo, Filters]:
    symbol = str(raw["symbol"])
    price_f, lot_f = _filter(raw, "PRICE_FILTER"), _filter(raw, "LOT_SIZE")
    market_f = _filter(raw, "MARKET_LOT_SIZE") or lot_f
    pd, sd = decimals_of(price_f["tickSize"]), decimals_of(lot_f["stepSize"])
    tick_i = decimal_to_scaled(_dec(price_f["tickSize"]), pd)
    step_i = decimal_to_scaled(_dec(lot_f["stepSize"]), sd)
    market_step = _dec(market_f.get("stepSize") or lot_f["stepSize"])
    notional = _filter(raw, "MIN_NOTIONAL").get("notional") or _filter(raw, "MIN_NOTIONAL").get("minNotional")
    band = _filter(raw, "PERCENT_PRICE")
    filters = Filters(
        symbol=symbol,
        price_decimals=pd,
        size_decimals=sd,
        tick_i=tick_i,
        min_price_i=_scaled_up(price_f.get("minPrice"), pd),
        max_price_i=int(_dec(price_f.get("maxPrice") or "0").scaleb(pd)),
        step_i=step_i,
        min_qty_i=max(step_i, _scaled_up(lot_f.get("minQty"), sd)),
        max_qty_i=int(_dec(lot_f.get("maxQty") or "0").scaleb(sd)),
        market_step_i=max(1, int(market_step.scaleb(sd).to_integral_value(ROUND_CEILING))),
        market_min_i=max(step_i, _scaled_up(market_f.get("minQty"), sd)),
        market_max_i=int(_dec(market_f.get("maxQty") or "0").scaleb(sd)),
        min_notional_q=money_q(notional or "0"),
        band_up=_dec(band["multiplierUp"]) if band.get("multiplierUp") else None,
        band_down=_dec(band["multiplierDown"]) if band.get("multiplierDown") else None,
    )
    info = MarketInfo(
        symbol=symbol,
        base=str(raw.get("baseAsset") or symbol.removesuffix(str(raw.get("quoteAsset") or "USDT"))),
        quote=str(raw.get("quoteAsset") or "USDT"),
        price_decimals=pd,
        size_decimals=sd,
        min_size_i=filters.min_qty_i,
        tick_i=tick_i,
        step_i=step_i,
        min_notional_q=filters.min_notional_q,
        info=dict(raw),
    )
    return info, filters


def parse_exchange_info(body: dict[str, Any]) -> list[tuple[MarketInfo, Filters]]:
    """Perpetuals that trade now (``contractType`` PERPETUAL, ``status`` TRADING)."""
    out = []
    for raw in body.get("symbols") or []:
        if raw.get("contractType") == "PERPETUAL" and raw.get("status") == "TRADING":
            out.append(parse_symbol(raw))
    return out


def parse_rate_limits(body: dict[str, Any]) -> dict[str, int]:
    """``{"REQUEST_WEIGHT:1M": 2400, "ORDERS:10S": 300, "ORDERS:1M": 1200}`` from ``rateLimits``."""
    out = {}
    for lim in body.get("rateLimits") or []:
        key = f"{lim.get('rateLimitType')}:{lim.get('intervalNum')}{str(lim.get('interval', ''))[:1]}"
        out[key] = int(lim.get("limit") or 0)
    return out


def check_order(
    f: Filters,
    *,
    price_i: int,
    size_i: int,
    is_market: bool = False,
    reduce_only: bool = False,
    mark_i: int | None = None,
) -> None:
    """Refuse before sending what the venue would refuse: tick, price range, step, size, notional, band."""
    pd, sd, name = f.price_decimals, f.size_decimals, f.symbol
    step, lo, hi = (
        (f.market_step_i, f.market_min_i, f.market_max_i) if is_market else (f.step_i, f.min_qty_i, f.max_qty_i)
    )
    if size_i <= 0 or size_i % step:
        raise InvalidOrder(
            f"{name}: size {to_wire(size_i, sd)} is not a positive multiple of the step {to_wire(step, sd)}"
        )
    if size_i < lo:
        raise InvalidOrder(f"{name}: size {to_wire(size_i, sd)} is below the minimum {to_wire(lo, sd)}")
    if hi and size_i > hi:
        raise InvalidOrder(f"{name}: size {to_wire(size_i, sd)} is above the maximum {to_wire(hi, sd)}")
    if is_market:
        return
    if price_i <= 0 or price_i % f.tick_i or (f.min_price_i and (price_i - f.min_price_i) % f.tick_i):
        raise InvalidOrder(f"{name}: price {to_wire(price_i, pd)} is not on the tick {to_wire(f.tick_i, pd)}")
    if price_i < f.min_price_i or (f.max_price_i and price_i > f.max_price_i):
        raise InvalidOrder(
            f"{name}: price {to_wire(price_i, pd)} is outside {to_wire(f.min_price_i, pd)}..{to_wire(f.max_price_i, pd)}"
        )
    notional_q = price_i * size_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
    if not reduce_only and notional_q < f.min_notional_q:
        raise InvalidOrder(
            f"{name}: notional {scaled_to_str(notional_q, QUOTE_DECIMALS)} is below the venue's minimum "
            f"{scaled_to_str(f.min_notional_q, QUOTE_DECIMALS)} (reduce-only orders are exempt)"
        )
    if mark_i and f.band_up is not None and f.band_down is not None:
        low, high = band(f, mark_i)
        if not low <= price_i <= high:
            raise InvalidOrder(
                f"{name}: price {to_wire(price_i, pd)} is outside the venue's band {to_wire(low, pd)}..{to_wire(high, pd)} "
                f"(mark {to_wire(mark_i, pd)} x {f.band_down}..{f.band_up})"
            )


def band(f: Filters, mark_i: int) -> tuple[int, int]:
    """Lowest and highest price the PERCENT_PRICE filter allows around ``mark_i`` (on the tick)."""
    assert f.band_up is not None and f.band_down is not None
    low = int((f.band_down * mark_i).to_integral_value(ROUND_CEILING))
    high = int((f.band_up * mark_i).to_integral_value(ROUND_HALF_EVEN))
    low = -(-low // f.tick_i) * f.tick_i
    high = high // f.tick_i * f.tick_i
    return low, high


# -- ids, statuses, orders ---------------------------------------------------------------


def client_id(client_order_index: int) -> str:
    if client_order_index < 0:
        raise InvalidOrder(f"client order index must not be negative, got {client_order_index}")
    return f"{CLIENT_PREFIX}{client_order_index}"


def coi_of(client_order_id: Any, order_id: Any) -> int:
    """Our index from ``pd-<n>``; an order placed elsewhere (web, liquidation) is ``-orderId``."""
    m = _OURS.match(str(client_order_id or ""))
    if m:
        return int(m.group(1))
    return -int(order_id or 0)


_STATUS = {
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "NEW_INSURANCE": OrderStatus.OPEN,
    "NEW_ADL": OrderStatus.OPEN,
}


def map_status(status: str, filled_i: int) -> OrderStatus:
    mapped = _STATUS.get(status, OrderStatus.UNKNOWN)
    if mapped is OrderStatus.OPEN and filled_i:
        return OrderStatus.PARTIALLY_FILLED
    return mapped


def parse_order(raw: dict[str, Any], f: Filters) -> OrderSnapshot:
    """A REST order object (``/fapi/v1/order``, ``openOrders``, a cancel or modify answer)."""
    sd = f.size_decimals
    filled_i = px(raw.get("executedQty") or "0", sd)
    status = str(raw.get("status", ""))
    return OrderSnapshot(
        symbol=f.symbol,
        client_order_index=coi_of(raw.get("clientOrderId"), raw.get("orderId")),
        order_id=str(raw["orderId"]),
        is_ask=raw.get("side") == "SELL",
        price_i=px(raw.get("price") or "0", f.price_decimals),
        size_i=px(raw.get("origQty") or "0", sd),
        filled_i=filled_i,
        status=map_status(status, filled_i),
        post_only=raw.get("timeInForce") == "GTX",
        reduce_only=bool(raw.get("reduceOnly")),
        reason="" if status in ("NEW", "PARTIALLY_FILLED", "FILLED") else status,
        ts_ms=int(raw.get("updateTime") or raw.get("time") or 0),
        info=raw,
    )


def parse_order_update(msg: dict[str, Any], f: Filters) -> tuple[OrderSnapshot, Fill | None]:
    """One ``ORDER_TRADE_UPDATE``: the order's state, and a fill when the execution type is TRADE."""
    o = msg["o"]
    pd, sd = f.price_decimals, f.size_decimals
    filled_i = px(o.get("z") or "0", sd)
    status, exec_type = str(o.get("X", "")), str(o.get("x", ""))
    coi = coi_of(o.get("c"), o.get("i"))
    ts = int(o.get("T") or msg.get("T") or msg.get("E") or 0)
    snap = OrderSnapshot(
        symbol=f.symbol,
        client_order_index=coi,
        order_id=str(o["i"]),
        is_ask=o.get("S") == "SELL",
        price_i=px(o.get("p") or "0", pd),
        size_i=px(o.get("q") or "0", sd),
        filled_i=filled_i,
        status=map_status(status, filled_i),
        post_only=o.get("f") == "GTX",
        reduce_only=bool(o.get("R")),
        reason="" if status in ("NEW", "PARTIALLY_FILLED", "FILLED") else f"{status} ({exec_type})",
        ts_ms=ts,
        info=msg,
    )
    fill = None
    if exec_type == "TRADE" and o.get("t") is not None:
        fill = Fill(
            symbol=f.symbol,
            client_order_index=coi,
            order_id=str(o["i"]),
            trade_id=f"{f.symbol}:{o['t']}",
            is_ask=snap.is_ask,
            price_i=px(o.get("L") or "0", pd),
            size_i=px(o.get("l") or "0", sd),
            fee_q=trade_fee_q(o.get("n"), o.get("N")),
            is_maker=bool(o.get("m")),
            ts_ms=ts,
            info=msg,
        )
    return snap, fill


# -- depth diffs, decoded straight into typed structs (the hot path: thousands a second) -----------

Levels = list[list[str]]
"""``[[price, size], ...]`` (lists decode faster than tuples; a level that is not a pair fails when read)."""


class DepthUpdate(msgspec.Struct, gc=False):
    """A ``depthUpdate``: levels changed over update ids ``U..u``, ``pu`` the previous diff's ``u``;
    ``gc=False``: the collector never walks them."""

    s: str
    U: int
    u: int
    pu: int = -1
    b: Levels | None = None
    a: Levels | None = None
    E: int | None = None


DEPTH_DECODER = msgspec.json.Decoder(DepthUpdate)


def depth_update(ev: Any) -> DepthUpdate:
    """A diff already parsed into plain JSON, as the typed decoder would have read it (ids given as
    text are read, as ``int()`` did); ``msgspec.ValidationError`` (a ``ValueError``) if malformed."""
    return ev if type(ev) is DepthUpdate else msgspec.convert(ev, DepthUpdate, strict=False)


book_levels = scaled_pairs
"""``(price_i, size_i)`` per ``[price, size]``: ``connector.scaling.scaled_pairs``."""


def parse_agg_trade(msg: dict[str, Any], f: Filters) -> Trade:
    """``aggTrade``: ``m`` true means the buyer was the maker, so the taker sold."""
    return Trade(
        symbol=f.symbol,
        price_i=px(msg["p"], f.price_decimals),
        size_i=px(msg["q"], f.size_decimals),
        is_ask=bool(msg.get("m")),
        ts_ms=int(msg.get("T") or msg.get("E") or 0),
        trade_id=str(msg.get("a", "")),
        info=msg,
    )


# -- positions and margin ----------------------------------------------------------------


def position_from_update(p: dict[str, Any], f: Filters, mark_i: int | None, ts_ms: int) -> Position:
    """One ``ACCOUNT_UPDATE`` ``P`` entry (no mark or liquidation price on the stream)."""
    size_i = decimal_to_scaled(_dec(p.get("pa") or "0"), f.size_decimals)
    entry_i = rounded(p.get("ep"), f.price_decimals)
    return Position(
        symbol=f.symbol,
        size_i=size_i,
        entry_price_i=entry_i,
        mark_price_i=mark_i or entry_i,
        unrealized_pnl_q=money_q(p.get("up")),
        realized_pnl_q=money_q(p.get("cr")),
        margin_q=money_q(p.get("iw")) if p.get("mt") == "isolated" else 0,
        ts_ms=ts_ms,
        info=p,
    )


def position_from_risk(raw: dict[str, Any], f: Filters, ts_ms: int) -> Position:
    """One ``/fapi/v3/positionRisk`` row (or v2: the fields used are in both)."""
    pd = f.price_decimals
    liq = _dec(raw.get("liquidationPrice") or "0")
    isolated = _dec(raw.get("isolatedMargin") or "0")
    margin = isolated if isolated else _dec(raw.get("initialMargin") or raw.get("positionInitialMargin") or "0")
    return Position(
        symbol=f.symbol,
        size_i=decimal_to_scaled(_dec(raw.get("positionAmt") or "0"), f.size_decimals),
        entry_price_i=rounded(raw.get("entryPrice"), pd),
        mark_price_i=rounded(raw.get("markPrice"), pd),
        unrealized_pnl_q=money_q(raw.get("unRealizedProfit")),
        liquidation_price_i=rounded(liq, pd) if liq > 0 else None,
        margin_q=money_q(margin),
        ts_ms=int(raw.get("updateTime") or ts_ms),
        info=raw,
    )


def parse_account(raw: dict[str, Any], ts_ms: int) -> Margin:
    """``/fapi/v3/account`` (v2 has the same totals): wallet, equity, initial and maintenance margin."""
    return Margin(
        collateral_q=money_q(raw.get("totalWalletBalance")),
        equity_q=money_q(raw.get("totalMarginBalance")),
        used_q=money_q(raw.get("totalInitialMargin")),
        maintenance_q=money_q(raw.get("totalMaintMargin")),
        available_q=money_q(raw.get("availableBalance")),
        ts_ms=ts_ms,
        info={k: v for k, v in raw.items() if k not in ("positions",)},
    )
