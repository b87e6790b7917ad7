"""Lighter's wire format: protocol constants, REST and websocket payloads as typed values, errors.

Pure functions with no I/O, shared by the connector, its stream, the signer and the test fake,
so the payload rules can be tested without a socket.  Venue strings become scaled ints here and
nowhere else.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import msgspec

from connector.errors import (
    AuthError,
    InvalidOrder,
    OrderRejected,
    RateLimited,
    UnknownOrder,
    VenueError,
)
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
from connector.lighter.nonces import InvalidNonce
from connector.scaling import ScaledMemo, decimal_to_scaled, scaler, str_to_scaled

TX_CREATE_ORDER, TX_CANCEL_ORDER, TX_CANCEL_ALL, TX_MODIFY_ORDER = 14, 15, 16, 17
ORDER_LIMIT, ORDER_MARKET = 0, 1
TIF_IOC, TIF_GTT, TIF_POST_ONLY = 0, 1, 2
CANCEL_ALL_NOW, CANCEL_ALL_SCHEDULED, CANCEL_ALL_ABORT = 0, 1, 2
ALL_MARKETS = 255
DMS_MIN_S, DMS_MAX_S = 300, 15 * 86_400
"""How far ahead a scheduled cancel-all may be set."""
EXPIRY_28_DAYS = -1
"""The signer replaces -1 with now + 28 days (the venue allows 5 minutes .. 30 days)."""

MAX_CLIENT_ORDER_INDEX = 2**48 - 1
MAX_BASE_AMOUNT = 2**48 - 1
MAX_PRICE = 2**32 - 1
"""Prices travel as uint32: a larger value would silently wrap in the signer."""

CODE_OK = 200
CODE_INVALID_NONCE = 21104
CODE_INVALID_SIGNATURE = 21120


def error_for(path: str, status: int, body: Any, retry_after: str | None) -> Exception:
    """The error a non-OK REST answer means; ``invalid nonce`` is told apart for the nonce manager."""
    if status == 429:
        retry = float(retry_after or 1)
        return RateLimited(f"lighter {path}: rate limited, retry in {retry:g}s", retry_after_s=retry)
    if not isinstance(body, dict):
        return VenueError(f"lighter {path}: unexpected answer (HTTP {status}) {str(body)[:100]}")
    message = str(body.get("message", ""))
    if status >= 500:
        return VenueError(f"lighter {path}: HTTP {status}: {message}", info=body)
    code = int(body.get("code", status))
    if code == CODE_INVALID_NONCE or "invalid nonce" in message:
        return InvalidNonce(f"lighter: {message or 'invalid nonce'}", info=body)
    if status == 403 and code == status:  # no venue code: the CDN in front of the venue said no
        return AuthError(f"lighter {path}: HTTP 403 forbidden: the venue refuses requests from restricted regions")
    if code == CODE_INVALID_SIGNATURE or status in (401, 403):
        return AuthError(
            f"lighter {path}: {message or 'refused'} (HTTP {status}); the API key may have been replaced or "
            "revoked: check account_index and api_key_index in the key file",
            info=body,
        )
    if "order not found" in message:
        return UnknownOrder(f"lighter: {message}", info=body)
    if path == "sendTx":
        return OrderRejected(f"lighter: {message or 'transaction refused'} (code {code})", info=body)
    return VenueError(f"lighter {path}: {message or 'error'} (code {code})", info=body)


def check_order_ranges(client_order_index: int, base_amount: int, price: int) -> None:
    if not 1 <= client_order_index <= MAX_CLIENT_ORDER_INDEX:
        raise InvalidOrder(f"client_order_index must be in 1..{MAX_CLIENT_ORDER_INDEX}, got {client_order_index}")
    if not 1 <= base_amount <= MAX_BASE_AMOUNT:
        raise InvalidOrder(f"size must be in 1..{MAX_BASE_AMOUNT} scaled units, got {base_amount}")
    if not 1 <= price <= MAX_PRICE:
        raise InvalidOrder(f"price must be in 1..{MAX_PRICE} scaled units, got {price}")


# -- metadata --------------------------------------------------------------------------


def _dec(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc


def _scaled(text: Any, decimals: int) -> int:
    return str_to_scaled(str(text), decimals)


def _scaled_round(text: Any, decimals: int) -> int:
    """For derived figures (PnL, margin) that may carry more digits than we keep."""
    return int(_dec(text).scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))


def parse_market(raw: dict[str, Any]) -> tuple[int, MarketInfo]:
    """One ``orderBookDetails``/``orderBooks`` entry -> (market_id, MarketInfo)."""
    symbol = str(raw["symbol"])
    pd = int(raw.get("supported_price_decimals", raw.get("price_decimals")))
    sd = int(raw.get("supported_size_decimals", raw.get("size_decimals")))
    min_base = _dec(raw.get("min_base_amount", "0"))
    min_size_i = max(1, int(min_base.scaleb(sd).to_integral_value(ROUND_CEILING)))
    imf = int(raw.get("default_initial_margin_fraction") or raw.get("min_initial_margin_fraction") or 0)
    info = MarketInfo(
        symbol=symbol,
        base=symbol.split("-")[0].upper(),
        quote="USDC",
        price_decimals=pd,
        size_decimals=sd,
        min_size_i=min_size_i,
        min_notional_q=_scaled_round(raw.get("min_quote_amount", "0"), QUOTE_DECIMALS),
        max_leverage=max(1, 10_000 // imf) if imf else 1,
        info=dict(raw),
    )
    return int(raw["market_id"]), info


# -- market data -----------------------------------------------------------------------


def parse_levels(raw: list[dict[str, Any]], pd: int, sd: int) -> tuple[tuple[int, int], ...]:
    """Book levels as ``(price_i, size_i)``; a size of zero removes the level."""
    px, sz = scaler(pd), scaler(sd)
    return tuple([(px(lv["price"]), sz(lv["size"])) for lv in raw])


# -- order_book frames, decoded straight into typed structs (the hot path: thousands a second) -------


class BookLevel(msgspec.Struct, gc=False):
    price: str
    size: str


class OrderBook(msgspec.Struct, gc=False):
    """``order_book`` of a frame; ``begin_nonce`` chains an update onto the previous ``nonce``."""

    nonce: int
    begin_nonce: int | None = None
    bids: tuple[BookLevel, ...] | None = ()
    asks: tuple[BookLevel, ...] | None = ()
    offset: int | None = None


class BookFrame(msgspec.Struct, gc=False):
    """``{"channel": "order_book:<id>", "type": "subscribed/order_book" | "update/order_book", ...}``;
    ``gc=False``: the collector never walks them."""

    channel: str
    type: str
    order_book: OrderBook
    timestamp: int | None = None


BOOK_DECODER = msgspec.json.Decoder(BookFrame)


def book_frame(frame: Any) -> BookFrame:
    """A frame already parsed into plain JSON, as the typed decoder would have read it (numbers given
    as text are read, as ``int()`` did); ``msgspec.ValidationError`` (a ``ValueError``) if malformed."""
    return frame if type(frame) is BookFrame else msgspec.convert(frame, BookFrame, strict=False)


def book_levels(levels: tuple[BookLevel, ...] | None, px: ScaledMemo, sz: ScaledMemo) -> tuple[tuple[int, int], ...]:
    """``(price_i, size_i)`` per level; a size of zero removes the level.  As ``scaling.scaled_pairs``:
    prices from the memo, a size in the venue's form (exactly the scale's decimals) read inline,
    anything else through the memo (same values, or its ValueError)."""
    if not levels:
        return ()
    k = -sz.decimals - 1
    try:
        return tuple([(px[lv.price], int(s.replace(".", "", 1)) if (s := lv.size)[k] == "." else sz[s]) for lv in levels])
    except (ValueError, IndexError):
        return tuple([(px[lv.price], sz[lv.size]) for lv in levels])


def parse_public_trades(raw: list[dict[str, Any]], symbol: str, pd: int, sd: int) -> list[Trade]:
    return [
        Trade(
            symbol=symbol,
            price_i=_scaled(t["price"], pd),
            size_i=_scaled(t["size"], sd),
            is_ask=not t.get("is_maker_ask"),
            ts_ms=int(t.get("timestamp") or 0),
            trade_id=str(t.get("trade_id", "")),
            info=t,
        )
        for t in raw
    ]


# -- orders, fills, positions, margin ----------------------------------------------------

_REFUSALS = frozenset(
    {
        "canceled-post-only",
        "canceled-reduce-only",
        "canceled-position-not-allowed",
        "canceled-margin-not-allowed",
        "canceled-invalid-balance",
    }
)
"""Statuses that mean the venue never let the order rest: REJECTED when nothing filled."""


def map_status(status: str, filled_i: int) -> OrderStatus:
    if status in ("in-progress", "pending"):
        return OrderStatus.SUBMITTING
    if status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled_i else OrderStatus.OPEN
    if status == "filled":
        return OrderStatus.FILLED
    if status == "canceled-expired":
        return OrderStatus.EXPIRED
    if status in _REFUSALS and not filled_i:
        return OrderStatus.REJECTED
    if status.startswith("canceled"):
        return OrderStatus.CANCELLED
    return OrderStatus.UNKNOWN


def parse_order(raw: dict[str, Any], symbol: str, pd: int, sd: int) -> OrderSnapshot:
    filled_i = _scaled(raw.get("filled_base_amount") or "0", sd)
    status = str(raw.get("status", ""))
    mapped = map_status(status, filled_i)
    return OrderSnapshot(
        symbol=symbol,
        client_order_index=int(raw.get("client_order_index") or 0),
        order_id=str(raw["order_index"]),
        is_ask=bool(raw["is_ask"]),
        price_i=_scaled(raw["price"], pd),
        size_i=_scaled(raw["initial_base_amount"], sd),
        filled_i=filled_i,
        status=mapped,
        post_only=raw.get("time_in_force") == "post-only",
        reduce_only=bool(raw.get("reduce_only")),
        reason="" if status in ("open", "filled", "in-progress", "pending") else status,
        ts_ms=int(raw.get("timestamp") or 0),
        info=raw,
    )


def parse_fills(raw: dict[str, Any], account_index: int, symbol: str, pd: int, sd: int) -> list[Fill]:
    """A trade becomes one fill per side that is ours; ``taker_fee``/``maker_fee`` are rates in ppm."""
    price_i, size_i = _scaled(raw["price"], pd), _scaled(raw["size"], sd)
    notional_q = price_i * size_i * 10**QUOTE_DECIMALS // 10 ** (pd + sd)
    maker_is_ask = bool(raw.get("is_maker_ask"))
    fills = []
    for side in ("bid", "ask"):
        if int(raw.get(f"{side}_account_id", -1)) != account_index:
            continue
        is_ask = side == "ask"
        is_maker = is_ask == maker_is_ask
        rate = int(raw.get("maker_fee" if is_maker else "taker_fee") or 0)
        fills.append(
            Fill(
                symbol=symbol,
                client_order_index=int(raw.get(f"{side}_client_id") or 0),
                order_id=str(raw.get(f"{side}_id", "")) or None,
                trade_id=str(raw["trade_id"]) + ("" if side == "bid" else ":a"),
                is_ask=is_ask,
                price_i=price_i,
                size_i=size_i,
                fee_q=notional_q * rate // 1_000_000,
                is_maker=is_maker,
                ts_ms=int(raw.get("timestamp") or 0),
                info=raw,
            )
        )
    if len(fills) == 1:
        fills[0] = _with_trade_id(fills[0], str(raw["trade_id"]))
    return fills


def _with_trade_id(fill: Fill, trade_id: str) -> Fill:
    return Fill(
        fill.symbol,
        fill.client_order_index,
        fill.order_id,
        trade_id,
        fill.is_ask,
        fill.price_i,
        fill.size_i,
        fill.fee_q,
        fill.is_maker,
        fill.ts_ms,
        fill.info,
    )


def parse_position(raw: dict[str, Any], symbol: str, pd: int, sd: int, ts_ms: int) -> Position:
    size = _dec(raw.get("position") or "0")
    sign = -1 if int(raw.get("sign") or 1) < 0 else 1
    size_i = sign * decimal_to_scaled(size, sd)
    value = _dec(raw.get("position_value") or "0")
    mark_i = int((value / size).scaleb(pd).to_integral_value(ROUND_HALF_EVEN)) if size else 0
    liq = _dec(raw.get("liquidation_price") or "0")
    return Position(
        symbol=symbol,
        size_i=size_i,
        entry_price_i=_scaled_round(raw.get("avg_entry_price") or "0", pd),
        mark_price_i=mark_i,
        unrealized_pnl_q=_scaled_round(raw.get("unrealized_pnl") or "0", QUOTE_DECIMALS),
        realized_pnl_q=_scaled_round(raw.get("realized_pnl") or "0", QUOTE_DECIMALS),
        liquidation_price_i=_scaled_round(liq, pd) if liq > 0 else None,
        margin_q=_scaled_round(raw.get("allocated_margin") or "0", QUOTE_DECIMALS),
        ts_ms=ts_ms,
        info=raw,
    )


def parse_margin(raw: dict[str, Any], ts_ms: int) -> Margin:
    """From an ``account`` entry or a ``user_stats`` ``stats`` object (they name things differently)."""

    def q(*names: str) -> int:
        for name in names:
            if raw.get(name) not in (None, ""):
                return _scaled_round(raw[name], QUOTE_DECIMALS)
        return 0

    collateral = q("collateral")
    equity = q("total_asset_value", "portfolio_value") or collateral
    available = q("available_balance")
    return Margin(
        collateral_q=collateral,
        equity_q=equity,
        used_q=q("cross_initial_margin_requirement", "initial_margin_requirement") or max(0, equity - available),
        maintenance_q=q("cross_maintenance_margin_requirement", "maintenance_margin_requirement"),
        available_q=available,
        ts_ms=ts_ms,
        info=raw,
    )
