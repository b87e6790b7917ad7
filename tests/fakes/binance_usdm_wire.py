"""Binance USDⓈ-M payload shapes for the fake venue, built from the sim engine's typed values.

Kept apart from ``tests/fakes/binance_usdm.py`` (server, auth, streams, faults) so the shapes can
be read in one place: ``exchangeInfo``, order objects, ``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``,
``positionRisk``, ``account`` and the depth diffs.  Field names and string forms follow the
venue's documentation (see ``docs/venues/binance_usdm.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.interface import QUOTE_DECIMALS, Margin, OrderSnapshot, OrderStatus, Position
from connector.scaling import scaled_to_str
from connector.sim.engine import SimEngine, SimMarketSpec

Q = QUOTE_DECIMALS


@dataclass(frozen=True)
class Listing:
    """How the venue lists one engine market: strings exactly as exchangeInfo shows them."""

    spec: SimMarketSpec
    tick: str
    step: str
    min_qty: str
    notional: str
    price_precision: int
    quantity_precision: int


MARKETS: tuple[Listing, ...] = (
    # BTCUSDT: pricePrecision 2 with a 0.10 tick (the connector must scale by the tick)
    Listing(SimMarketSpec("BTCUSDT", "BTC", 1, 3, min_size_i=1, start_price_i=650_000, max_leverage=125,
                          level_size_i=2_000, trade_size_i=200, level_gap_ticks=5, vol_ticks=3.0, quote="USDT"),
            "0.10", "0.001", "0.001", "50", 2, 3),
    Listing(SimMarketSpec("ETHUSDT", "ETH", 2, 3, min_size_i=1, start_price_i=340_000, max_leverage=100,
                          level_size_i=20_000, trade_size_i=2_000, level_gap_ticks=5, vol_ticks=3.0, quote="USDT"),
            "0.01", "0.001", "0.001", "20", 2, 3),
    Listing(SimMarketSpec("SOLUSDT", "SOL", 2, 0, min_size_i=1, start_price_i=15_000, max_leverage=50,
                          level_size_i=2_000, trade_size_i=200, level_gap_ticks=5, vol_ticks=2.0, quote="USDT"),
            "0.0100", "1", "1", "5", 4, 0),
)  # fmt: skip
BAND_UP, BAND_DOWN = "1.0500", "0.9500"


def px(engine: SimEngine, symbol: str, price_i: int) -> str:
    return scaled_to_str(price_i, engine.markets[symbol].price_decimals)


def qty(engine: SimEngine, symbol: str, size_i: int) -> str:
    return scaled_to_str(size_i, engine.markets[symbol].size_decimals)


def money(value_q: int) -> str:
    return scaled_to_str(value_q, Q) + "00"  # the venue shows 8 decimals


def exchange_info(listings: tuple[Listing, ...], rate_limits: dict[str, int], now_ms: int) -> dict[str, Any]:
    symbols = []
    for lst in listings:
        s = lst.spec
        symbols.append({
            "symbol": s.symbol, "pair": s.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000, "status": "TRADING", "baseAsset": s.base, "quoteAsset": "USDT",
            "marginAsset": "USDT", "pricePrecision": lst.price_precision, "quantityPrecision": lst.quantity_precision,
            "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "settlePlan": 0,
            "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": lst.tick, "maxPrice": "4529764", "tickSize": lst.tick},
                {"filterType": "LOT_SIZE", "minQty": lst.min_qty, "maxQty": "1000", "stepSize": lst.step},
                {"filterType": "MARKET_LOT_SIZE", "minQty": lst.min_qty, "maxQty": "120", "stepSize": lst.step},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": lst.notional},
                {"filterType": "PERCENT_PRICE", "multiplierUp": BAND_UP, "multiplierDown": BAND_DOWN,
                 "multiplierDecimal": "4"},
            ],
        })  # fmt: skip
    # what the connector must leave out: a quarterly contract and a perpetual that is settling
    symbols.append({**symbols[0], "symbol": "BTCUSDT_261225", "contractType": "CURRENT_QUARTER"})
    symbols.append({**symbols[0], "symbol": "OLDUSDT", "baseAsset": "OLD", "status": "SETTLING"})
    return {
        "timezone": "UTC", "serverTime": now_ms, "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": rate_limits["REQUEST_WEIGHT:1M"]},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": rate_limits["ORDERS:1M"]},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": rate_limits["ORDERS:10S"]},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": symbols,
    }  # fmt: skip


@dataclass
class OrderMeta:
    """What the engine does not keep: the client id string, the venue's order type and TIF."""

    client_id: str
    order_type: str
    tif: str
    created_ms: int
    notional: int = 0
    """Sum of price_i * size_i over fills (for avgPrice)."""
    filled: int = 0
    expired: bool = False
    """Cancelled by the venue rather than the user (a GTX amend that would cross)."""
    announced: bool = False


def status_of(snap: OrderSnapshot, meta: OrderMeta | None) -> str:
    if snap.status is OrderStatus.OPEN:
        return "PARTIALLY_FILLED" if snap.filled_i else "NEW"
    if snap.status is OrderStatus.CANCELLED:
        expired = (meta is not None and meta.expired) or snap.reason.startswith(("IOC", "MARKET"))
        return "EXPIRED" if expired else "CANCELED"
    return {OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED", OrderStatus.FILLED: "FILLED",
            OrderStatus.REJECTED: "REJECTED", OrderStatus.EXPIRED: "EXPIRED"}.get(snap.status, "NEW")  # fmt: skip


def order_object(engine: SimEngine, snap: OrderSnapshot, meta: OrderMeta, *, query: bool = False) -> dict[str, Any]:
    """The REST order object; ``query`` adds what ``GET /fapi/v1/order`` shows beyond an order answer."""
    s = snap.symbol
    out = {
        "orderId": int(snap.order_id or 0), "symbol": s, "status": status_of(snap, meta),
        "clientOrderId": meta.client_id, "price": px(engine, s, snap.price_i), "origQty": qty(engine, s, snap.size_i),
        "executedQty": qty(engine, s, snap.filled_i), "cumQty": qty(engine, s, snap.filled_i),
        "timeInForce": meta.tif, "type": meta.order_type, "reduceOnly": snap.reduce_only, "closePosition": False,
        "side": "SELL" if snap.is_ask else "BUY", "positionSide": "BOTH", "stopPrice": "0",
        "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": meta.order_type, "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "updateTime": snap.ts_ms,
    }  # fmt: skip
    if query:
        out["avgPrice"] = _avg(engine, s, meta)
        out["time"] = meta.created_ms
        out["cumQuote"] = scaled_to_str(
            meta.notional, engine.markets[s].price_decimals + engine.markets[s].size_decimals
        )
    return out


def _avg(engine: SimEngine, symbol: str, meta: OrderMeta) -> str:
    if not meta.filled:
        return "0.00"
    pd = engine.markets[symbol].price_decimals
    return scaled_to_str(meta.notional * 100 // meta.filled, pd + 2)


def order_update(
    engine: SimEngine,
    snap: OrderSnapshot,
    meta: OrderMeta,
    *,
    exec_type: str,
    status: str,
    now_ms: int,
    last: tuple[int, int, int, bool, str] | None = None,
) -> dict[str, Any]:
    """``ORDER_TRADE_UPDATE``; ``last`` is (price_i, size_i, fee_q, maker, trade id) of a TRADE."""
    s = snap.symbol
    o = {
        "s": s, "c": meta.client_id, "S": "SELL" if snap.is_ask else "BUY", "o": meta.order_type, "f": meta.tif,
        "q": qty(engine, s, snap.size_i), "p": px(engine, s, snap.price_i), "ap": _avg(engine, s, meta), "sp": "0",
        "x": exec_type, "X": status, "i": int(snap.order_id or 0), "l": "0", "z": qty(engine, s, snap.filled_i),
        "L": "0", "T": now_ms, "t": 0, "b": "0", "a": "0", "m": False, "R": snap.reduce_only, "wt": "CONTRACT_PRICE",
        "ot": meta.order_type, "ps": "BOTH", "cp": False, "rp": "0", "pP": False, "si": 0, "ss": 0,
        "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0, "er": "0",
    }  # fmt: skip
    if last is not None:
        price_i, size_i, fee_q, maker, trade_id = last
        o.update(l=qty(engine, s, size_i), L=px(engine, s, price_i), N="USDT", n=money(fee_q), t=int(trade_id), m=maker)
    return {"e": "ORDER_TRADE_UPDATE", "E": now_ms, "T": now_ms, "o": o}


def position_entry(engine: SimEngine, p: Position) -> dict[str, Any]:
    s = p.symbol
    return {
        "s": s, "pa": qty(engine, s, p.size_i), "ep": px(engine, s, p.entry_price_i),
        "bep": px(engine, s, p.entry_price_i), "cr": money(p.realized_pnl_q), "up": money(p.unrealized_pnl_q),
        "mt": "cross", "iw": "0", "ps": "BOTH",
    }  # fmt: skip


def account_update(
    engine: SimEngine, positions: list[Position], margin: Margin, change_q: int, now_ms: int
) -> dict[str, Any]:
    wallet = money(margin.collateral_q)
    return {
        "e": "ACCOUNT_UPDATE", "E": now_ms, "T": now_ms,
        "a": {"m": "ORDER", "B": [{"a": "USDT", "wb": wallet, "cw": wallet, "bc": money(change_q)}],
              "P": [position_entry(engine, p) for p in positions]},
    }  # fmt: skip


def position_risk(engine: SimEngine, now_ms: int) -> list[dict[str, Any]]:
    rows = []
    for p in engine.positions():
        s = p.symbol
        info = engine.markets[s]
        notional_q = p.size_i * p.mark_price_i * 10**Q // 10 ** (info.price_decimals + info.size_decimals)
        rows.append({
            "symbol": s, "positionSide": "BOTH", "positionAmt": qty(engine, s, p.size_i),
            "entryPrice": px(engine, s, p.entry_price_i), "breakEvenPrice": px(engine, s, p.entry_price_i),
            "markPrice": px(engine, s, p.mark_price_i), "unRealizedProfit": money(p.unrealized_pnl_q),
            "liquidationPrice": px(engine, s, p.liquidation_price_i) if p.liquidation_price_i else "0",
            "isolatedMargin": "0", "notional": money(notional_q), "marginAsset": "USDT", "isolatedWallet": "0",
            "initialMargin": money(p.margin_q), "maintMargin": "0", "positionInitialMargin": money(p.margin_q),
            "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0", "updateTime": now_ms,
        })  # fmt: skip
    return rows


def account(engine: SimEngine, now_ms: int) -> dict[str, Any]:
    m = engine.margin()
    unrealized = m.equity_q - m.collateral_q
    return {
        "totalInitialMargin": money(m.used_q), "totalMaintMargin": money(m.maintenance_q),
        "totalWalletBalance": money(m.collateral_q), "totalUnrealizedProfit": money(unrealized),
        "totalMarginBalance": money(m.equity_q), "totalPositionInitialMargin": money(m.used_q),
        "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": money(m.collateral_q),
        "totalCrossUnPnl": money(unrealized), "availableBalance": money(m.available_q),
        "maxWithdrawAmount": money(m.available_q),
        "assets": [{"asset": "USDT", "walletBalance": money(m.collateral_q), "unrealizedProfit": money(unrealized),
                    "marginBalance": money(m.equity_q), "availableBalance": money(m.available_q),
                    "updateTime": now_ms}],
        "positions": [{"symbol": r["symbol"], "positionSide": "BOTH", "positionAmt": r["positionAmt"],
                       "unrealizedProfit": r["unRealizedProfit"], "isolatedMargin": "0", "notional": r["notional"],
                       "isolatedWallet": "0", "initialMargin": r["initialMargin"], "maintMargin": "0",
                       "updateTime": now_ms} for r in position_risk(engine, now_ms)],
    }  # fmt: skip


def levels(
    engine: SimEngine, symbol: str, side: list[tuple[int, int]] | tuple[tuple[int, int], ...]
) -> list[list[str]]:
    return [[px(engine, symbol, p), qty(engine, symbol, s)] for p, s in side]


def diff(engine: SimEngine, symbol: str, old: dict[int, int], new: dict[int, int], descending: bool) -> list[list[str]]:
    """Levels that changed between two states of one side; a level that went away has quantity 0."""
    changed = [(p, new.get(p, 0)) for p in old.keys() | new.keys() if old.get(p) != new.get(p)]
    changed.sort(reverse=descending)
    return levels(engine, symbol, changed)
