"""Hyperliquid's wire format: numbers, prices, cloids, actions, payload parsing, errors.

Pure functions with no I/O, shared by the connector, its stream and the test fake.  Numbers are
written as the SDK's ``float_to_wire`` writes them, because the signature covers these exact
bytes (see ``connector.hyperliquid.signing``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

from connector.errors import (
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    UnknownOrder,
    VenueError,
)
from connector.interface import (
    QUOTE_DECIMALS,
    Fill,
    LeverageInfo,
    Margin,
    MarketInfo,
    OrderSnapshot,
    OrderStatus,
    Position,
    Trade,
)
from connector.scaling import ScaledMemo, scaler, str_to_scaled

MAINNET_URL = "https://api.hyperliquid.xyz"
TESTNET_URL = "https://api.hyperliquid-testnet.xyz"
PRICE_MAX_DECIMALS = 6
"""Perp prices carry at most ``6 - szDecimals`` decimals."""
SIG_FIGS = 5
MIN_NOTIONAL_Q = 10 * 10**QUOTE_DECIMALS
MAX_CLOID = 2**128 - 1


# -- numbers ---------------------------------------------------------------------------------


def to_wire(value_i: int, decimals: int) -> str:
    """A scaled int as the SDK's ``float_to_wire`` writes it: no trailing zeros, no exponent."""
    sign = "-" if value_i < 0 else ""
    whole, frac = divmod(abs(value_i), 10**decimals)
    if frac == 0:
        return f"{sign}{whole}" if whole else "0"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def price_tick_i(price_i: int, price_decimals: int) -> int:
    """The tick (in scaled units) at this price: 5 significant figures, but integers always pass."""
    digits = len(str(abs(price_i)))
    return 10 ** min(price_decimals, max(0, digits - SIG_FIGS))


def is_valid_price(price_i: int, price_decimals: int) -> bool:
    return price_i > 0 and price_i % price_tick_i(price_i, price_decimals) == 0


def round_price(price_i: int, price_decimals: int, *, up: bool) -> int:
    """The nearest valid price on one side: ``up`` for sells, down for buys, so the trader never
    gets a worse limit than asked.  Raises ``InvalidOrder`` when nothing valid is left."""
    if price_i <= 0:
        raise InvalidOrder(f"price must be positive, got {price_i}")
    tick = price_tick_i(price_i, price_decimals)
    rem = price_i % tick
    if rem == 0:
        return price_i
    out = price_i - rem + (tick if up else 0)
    if out <= 0:
        raise InvalidOrder(f"price {price_i} rounds to zero on this market")
    return out


def money_q(text: Any) -> int:
    """A USDC amount from the venue (it may carry more than 6 decimals) in quote units, rounded."""
    return int(Decimal(str(text)).scaleb(QUOTE_DECIMALS).quantize(Decimal(1), ROUND_HALF_EVEN))


def scaled_round(text: Any, decimals: int) -> int:
    """A venue decimal (e.g. an average entry price) on our scale, rounded half-even."""
    return int(Decimal(str(text)).scaleb(decimals).quantize(Decimal(1), ROUND_HALF_EVEN))


# -- cloids -----------------------------------------------------------------------------------


def cloid_from_index(client_order_index: int) -> str:
    """``Cloid.from_int``: 0x + 32 hex digits."""
    if not 0 <= client_order_index <= MAX_CLOID:
        raise InvalidOrder(f"client order index {client_order_index} does not fit a 128-bit cloid")
    return f"{client_order_index:#034x}"


def order_ref(client_order_index: int) -> str | int:
    """How to name an order to the venue: its cloid, or for an order placed elsewhere without one
    (negative index, see ``client_index``) its oid."""
    return cloid_from_index(client_order_index) if client_order_index >= 0 else -client_order_index


def client_index(raw: dict[str, Any], coi_of_oid: dict[int, int]) -> int:
    """The client order index of a venue order: from its cloid, from what we placed, else ``-oid``
    (unique, and never one perpdesk allocates)."""
    oid = int(raw["oid"])
    coi = index_from_cloid(raw.get("cloid"))
    return coi if coi is not None else coi_of_oid.get(oid, -oid)


def index_from_cloid(cloid: str | None) -> int | None:
    if not cloid:
        return None
    try:
        return int(cloid, 16)
    except (TypeError, ValueError):
        return None


# -- actions ---------------------------------------------------------------------------------


def order_wire(
    asset: int, is_buy: bool, price: str, size: str, reduce_only: bool, tif: str, cloid: str | None
) -> dict[str, Any]:
    """One order in the venue's key order (``a b p s r t c``)."""
    wire: dict[str, Any] = {"a": asset, "b": is_buy, "p": price, "s": size, "r": reduce_only}
    wire["t"] = {"limit": {"tif": tif}}
    if cloid is not None:
        wire["c"] = cloid
    return wire


def order_action(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "order", "orders": orders, "grouping": "na"}


# -- parsing ---------------------------------------------------------------------------------


def parse_meta(meta: dict[str, Any], ctxs: list[dict[str, Any]] | None = None) -> list[tuple[int, MarketInfo]]:
    """``(asset id, MarketInfo)`` per listed perp.  ``tick_i`` and ``min_size_i`` are taken at the
    current mark when contexts are given (the 5-figure tick and the $10 minimum depend on price)."""
    out = []
    for asset, raw in enumerate(meta.get("universe") or []):
        if raw.get("isDelisted"):
            continue
        sd = int(raw["szDecimals"])
        pd = PRICE_MAX_DECIMALS - sd
        tick, min_size = 1, 1
        ctx = ctxs[asset] if ctxs is not None and asset < len(ctxs) else None
        mark = (ctx or {}).get("markPx") or (ctx or {}).get("midPx")
        if mark:
            mark_i = scaled_round(mark, pd)
            if mark_i > 0:
                tick = price_tick_i(mark_i, pd)
                # room for the price to fall 20% before the minimum size is worth less than $10
                floor_i = mark_i * 4 // 5
                min_size = max(1, -(-MIN_NOTIONAL_Q * 10 ** (pd + sd) // (floor_i * 10**QUOTE_DECIMALS)))
        prev = (ctx or {}).get("prevDayPx")
        name = str(raw["name"])
        info = MarketInfo(
            symbol=name,
            base=name,
            quote="USDC",
            price_decimals=pd,
            size_decimals=sd,
            min_size_i=min_size,
            tick_i=tick,
            step_i=1,
            min_notional_q=MIN_NOTIONAL_Q,
            max_leverage=int(raw.get("maxLeverage") or 1),
            prev_day_price_i=scaled_round(prev, pd) if prev else None,
            info={"asset": asset, **raw, **({"ctx": ctx} if ctx else {})},
        )
        out.append((asset, info))
    return out


def parse_levels(levels: list[dict[str, Any]], pd: int, sd: int) -> tuple[tuple[int, int], ...]:
    px, sz = scaler(pd), scaler(sd)
    return tuple([(px(lv["px"]), sz(lv["sz"])) for lv in levels])


# -- l2Book frames, decoded straight into typed structs (the hot path: thousands a second) ----------


class BookLevel(msgspec.Struct, gc=False):
    """A level's price and size text, and its order count ``n`` (bench/screen.py's probe reads it)."""

    px: str
    sz: str
    n: int = 0


class BookData(msgspec.Struct, gc=False):
    coin: str
    time: int
    levels: tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]


class BookFrame(msgspec.Struct, gc=False):
    """``{"channel": "l2Book", "data": {...}}``; ``gc=False``: the collector never walks them."""

    channel: str
    data: BookData


BOOK_DECODER = msgspec.json.Decoder(BookFrame)


class LevelMemo(dict[str, tuple[str, tuple[int, int]]]):
    """One coin's last levels: price text -> (size text, ``(price_i, size_i)``).

    An ``l2Book`` frame repeats the 20 + 20 levels and most of them did not change since the last
    frame: their pair is taken as it was (one lookup in this small dict, which stays in the CPU's
    cache, instead of two in the shared memos, and no new tuple).  Bounded: emptied when it holds
    far more prices than a book shows.
    """

    __slots__ = ("px", "sz")

    def __init__(self, px: ScaledMemo, sz: ScaledMemo) -> None:
        super().__init__()
        self.px, self.sz = px, sz

    def pair(self, lv: BookLevel) -> tuple[int, int]:
        """A level not seen as it is now: through the memos, then remembered."""
        if len(self) >= LEVEL_MEMO_MAX:
            self.clear()
        found = self[lv.px] = (lv.sz, (self.px[lv.px], self.sz[lv.sz]))
        return found[1]


LEVEL_MEMO_MAX = 512


def book_levels(levels: tuple[BookLevel, ...], memo: LevelMemo) -> tuple[tuple[int, int], ...]:
    """``(price_i, size_i)`` per level: the last frame's pair where price and size text are unchanged."""
    get, pair = memo.get, memo.pair
    return tuple([seen[1] if (seen := get(lv.px)) is not None and seen[0] == lv.sz else pair(lv) for lv in levels])


def book_sides(
    levels: tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]], memo: LevelMemo
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """``book_levels`` of both sides of an ``l2Book`` frame in one call (the hot path: a call less)."""
    get, pair = memo.get, memo.pair
    bids, asks = levels
    return (
        tuple([seen[1] if (seen := get(lv.px)) is not None and seen[0] == lv.sz else pair(lv) for lv in bids]),
        tuple([seen[1] if (seen := get(lv.px)) is not None and seen[0] == lv.sz else pair(lv) for lv in asks]),
    )


def parse_trade(raw: dict[str, Any], market: MarketInfo) -> Trade:
    """One public trade (``side`` is the taker's: ``A`` sold into the bid)."""
    return Trade(
        market.symbol,
        str_to_scaled(raw["px"], market.price_decimals),
        str_to_scaled(raw["sz"], market.size_decimals),
        raw["side"] == "A",
        int(raw["time"]),
        str(raw.get("tid", "")),
        raw,
    )


_CANCELLED_WORDS = ("canceled", "Canceled", "scheduledCancel")


def order_status(status: str, filled_i: int) -> OrderStatus:
    if status == "open" or status == "triggered":
        return OrderStatus.PARTIALLY_FILLED if filled_i else OrderStatus.OPEN
    if status == "filled":
        return OrderStatus.FILLED
    if any(word in status for word in _CANCELLED_WORDS):
        return OrderStatus.CANCELLED
    if status == "rejected" or status.endswith("Rejected"):
        return OrderStatus.REJECTED
    raise ValueError(f"unknown order status {status!r}")


def parse_order(
    raw: dict[str, Any], status: str, market: MarketInfo, ts_ms: int, coi_of_oid: dict[int, int]
) -> OrderSnapshot:
    """An order from ``orderUpdates`` / ``orderStatus`` / ``frontendOpenOrders`` (``sz`` = remaining)."""
    pd, sd = market.price_decimals, market.size_decimals
    remaining = str_to_scaled(str(raw["sz"]), sd)
    size = str_to_scaled(str(raw.get("origSz", raw["sz"])), sd)
    filled = size - remaining
    if status == "filled":
        filled = size
    return OrderSnapshot(
        symbol=market.symbol,
        client_order_index=client_index(raw, coi_of_oid),
        order_id=str(raw["oid"]),
        is_ask=raw["side"] == "A",
        price_i=str_to_scaled(str(raw["limitPx"]), pd),
        size_i=size,
        filled_i=filled,
        status=order_status(status, filled),
        post_only=raw.get("tif") == "Alo",
        reduce_only=bool(raw.get("reduceOnly", False)),
        reason="" if status in ("open", "filled") else status,
        ts_ms=int(raw.get("timestamp") or ts_ms),
        info=raw,
    )


def parse_fill(raw: dict[str, Any], market: MarketInfo, coi_of_oid: dict[int, int]) -> Fill:
    return Fill(
        symbol=market.symbol,
        client_order_index=client_index(raw, coi_of_oid),
        order_id=str(raw["oid"]),
        trade_id=str(raw["tid"]),
        is_ask=raw["side"] == "A",
        price_i=str_to_scaled(str(raw["px"]), market.price_decimals),
        size_i=str_to_scaled(str(raw["sz"]), market.size_decimals),
        fee_q=money_q(raw.get("fee", "0")),
        is_maker=not raw.get("crossed", False),
        ts_ms=int(raw["time"]),
        info=raw,
    )


def parse_position(raw: dict[str, Any], market: MarketInfo, ts_ms: int) -> Position:
    pos = raw.get("position", raw)
    pd, sd = market.price_decimals, market.size_decimals
    size = str_to_scaled(str(pos["szi"]), sd)
    value_q = money_q(pos.get("positionValue") or "0")
    mark = value_q * 10 ** (pd + sd) // (abs(size) * 10**QUOTE_DECIMALS) if size else 0
    liq = pos.get("liquidationPx")
    return Position(
        symbol=market.symbol,
        size_i=size,
        entry_price_i=scaled_round(pos.get("entryPx") or "0", pd),
        mark_price_i=mark,
        unrealized_pnl_q=money_q(pos.get("unrealizedPnl") or "0"),
        liquidation_price_i=scaled_round(liq, pd) if liq else None,
        margin_q=money_q(pos.get("marginUsed") or "0"),
        ts_ms=ts_ms,
        info=pos,
    )


def parse_positions(state: dict[str, Any], markets: dict[str, MarketInfo], ts_ms: int) -> list[Position]:
    """The open positions in a ``clearinghouseState`` (flat ones and unlisted coins left out)."""
    out = []
    for raw in state.get("assetPositions") or []:
        coin = raw.get("position", raw)["coin"]
        if coin in markets:
            position = parse_position(raw, markets[coin], int(state.get("time") or ts_ms))
            if position.size_i:
                out.append(position)
    return out


def parse_leverage(state: dict[str, Any], markets: dict[str, MarketInfo]) -> list[LeverageInfo]:
    """Each held position's ``leverage`` ({"type": "cross" | "isolated", "value": N}) in a
    ``clearinghouseState``; a coin without a position has no entry there (the venue's per-coin
    ``activeAssetData`` would say, one request a coin: not read)."""
    out = []
    for raw in state.get("assetPositions") or []:
        pos = raw.get("position", raw)
        lev = pos.get("leverage")
        if pos.get("coin") in markets and isinstance(lev, dict) and lev.get("value") is not None:
            out.append(LeverageInfo(pos["coin"], int(lev["value"]), lev.get("type") != "isolated", info=lev))
    return out


def parse_margin(state: dict[str, Any], ts_ms: int) -> Margin:
    summary = state.get("marginSummary") or state.get("crossMarginSummary") or {}
    equity = money_q(summary.get("accountValue", "0"))
    upnl = sum(money_q(p.get("position", p).get("unrealizedPnl") or "0") for p in state.get("assetPositions") or [])
    return Margin(
        collateral_q=equity - upnl,
        equity_q=equity,
        used_q=money_q(summary.get("totalMarginUsed", "0")),
        maintenance_q=money_q(state.get("crossMaintenanceMarginUsed", "0")),
        available_q=money_q(state.get("withdrawable", "0")),
        ts_ms=int(state.get("time") or ts_ms),
        info=state,
    )


# -- errors ----------------------------------------------------------------------------------

_ORDER_ERRORS: tuple[tuple[str, type[Exception]], ...] = (
    ("Post only order would have immediately matched", PostOnlyWouldCross),
    ("Insufficient margin", InsufficientMargin),
    ("Order was never placed, already canceled, or filled", UnknownOrder),
    ("Cannot modify canceled or filled order", UnknownOrder),
    ("Order has zero size", InvalidOrder),
    ("Price must be divisible by tick size", OrderRejected),
)


def order_error(message: str, info: dict[str, Any] | None = None) -> Exception:
    """The ``connector.errors`` type for one per-order ``{"error": ...}`` (matched by prefix)."""
    for prefix, cls in _ORDER_ERRORS:
        if message.startswith(prefix):
            return cls(message, info=info)
    return OrderRejected(message, info=info)


def status_error(status: Any, what: str) -> Exception | None:
    """None for a success status (``resting``, ``filled``, ``"success"``), else the error to raise."""
    if isinstance(status, dict) and "error" in status:
        return order_error(str(status["error"]), {"status": status})
    if status == "success" or (isinstance(status, dict) and ({"resting", "filled"} & status.keys())):
        return None
    if isinstance(status, str) and status.startswith("waiting"):
        return None
    return VenueError(f"hyperliquid {what}: unexpected status {str(status)[:200]}", info={"status": status})
