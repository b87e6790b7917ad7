"""Backpack's payloads <-> typed values: pure functions, no I/O.

Venue decimal strings become scaled ints here and nowhere else.  Decimals come from the
market's ``tickSize``/``stepSize`` (trailing zeros dropped), so a tick that is not a power of
ten (``0.05``) is carried as ``tick_i`` (5 at two price decimals).  Streams may pad decimals
(``"18.700"``); the scalers accept any representation of an exact value.
"""

from __future__ import annotations

import calendar
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import msgspec

from connector.errors import (
    AuthError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    UnknownOrder,
    VenueError,
)
from connector.interface import QUOTE_DECIMALS, Fill, Margin, MarketInfo, OrderSnapshot, OrderStatus, Position, Trade
from connector.keys import redact
from connector.scaling import scaled_pairs, scaled_to_str, scaler

MAINNET_URL = "https://api.backpack.exchange"
MAINNET_WS_URL = "wss://ws.backpack.exchange"
CLIENT_ID_MOD = 2**32
"""``clientId`` is a uint32 on the wire; our client order indices are wider (see ``ClientIds``)."""

TRADABLE = {
    "Open": frozenset({"limit", "post_only", "market"}),
    "LimitOnly": frozenset({"limit", "post_only"}),
    "PostOnly": frozenset({"post_only"}),
}
"""``orderBookState`` -> the kinds of new order it takes; ``CancelOnly`` and ``Closed`` take none."""


class RequestExpired(AuthError):
    """The venue refused the request's timestamp (our clock drifted from the venue's); it did nothing."""


# -- numbers ------------------------------------------------------------------------------


def decimals(text: str) -> int:
    """Decimal places of a tick or step string, trailing zeros ignored (``"0.050"`` -> 2, ``"10"`` -> 0)."""
    d = Decimal(str(text)).normalize()
    exponent = d.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def rounded(value: Any, places: int) -> int:
    """A decimal (string or number) to a scaled int, rounding half-even (averages, PnL, money)."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    return int(d.scaleb(places).to_integral_value(ROUND_HALF_EVEN))


def money(value: Any) -> int:
    """A USDC amount in quote units (``QUOTE_DECIMALS``); None and "" are 0."""
    return 0 if value in (None, "") else rounded(value, QUOTE_DECIMALS)


def micros_to_ms(value: Any) -> int:
    """The venue's µs stamps (number or string) to ms."""
    return int(value) // 1000 if value not in (None, "") else 0


# -- depth events, decoded straight into typed structs (the hot path: thousands a second) ----------

Levels = list[list[str]]
"""``[[price, size], ...]`` (lists decode faster than tuples; a level that is not a pair fails when read)."""


class DepthEvent(msgspec.Struct, gc=False):
    """``depth.<symbol>``'s ``data``: levels changed between update ids ``U`` and ``u`` (µs stamps)."""

    s: str
    U: int
    u: int
    b: Levels | None = None
    a: Levels | None = None
    E: int | None = None
    T: int | None = None


class DepthFrame(msgspec.Struct, gc=False):
    """``{"stream": "depth.<symbol>", "data": {...}}``; ``gc=False``: the collector never walks them."""

    stream: str
    data: DepthEvent


DEPTH_DECODER = msgspec.json.Decoder(DepthFrame)


def depth_event(data: Any) -> DepthEvent:
    """A depth event already parsed into plain JSON, as the typed decoder would have read it (ids and
    stamps given as text are read, as ``int()`` did); ``msgspec.ValidationError`` (a ``ValueError``)."""
    return data if type(data) is DepthEvent else msgspec.convert(data, DepthEvent, strict=False)


book_levels = scaled_pairs
"""``(price_i, size_i)`` per ``[price, size]``: ``connector.scaling.scaled_pairs``."""


def naive_utc_ms(text: Any) -> int:
    """History endpoints stamp ``2025-04-02T12:57:56.809`` (UTC, no zone); ints pass as ms."""
    if isinstance(text, int):
        return text
    dt = datetime.fromisoformat(str(text))
    return calendar.timegm(dt.utctimetuple()) * 1000 + dt.microsecond // 1000


# -- markets ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """What ``MarketInfo`` does not carry: price bounds, the largest size, the book's state."""

    min_price_i: int
    max_price_i: int | None
    max_size_i: int | None
    book_state: str


def parse_market(raw: dict[str, Any]) -> tuple[MarketInfo, Limits] | None:
    """One ``/api/v1/markets`` row; None for anything but a perpetual."""
    if raw.get("marketType") != "PERP":
        return None
    price, quantity = raw["filters"]["price"], raw["filters"]["quantity"]
    pd, sd = decimals(price["tickSize"]), decimals(quantity["stepSize"])
    imf = (raw.get("imfFunction") or {}).get("base")
    leverage = int(1 / Decimal(str(imf))) if imf not in (None, "", "0") else 1
    info = MarketInfo(
        symbol=raw["symbol"],
        base=raw["baseSymbol"],
        quote=raw.get("quoteSymbol", "USDC"),
        price_decimals=pd,
        size_decimals=sd,
        min_size_i=rounded(quantity.get("minQuantity") or quantity["stepSize"], sd),
        tick_i=rounded(price["tickSize"], pd),
        step_i=rounded(quantity["stepSize"], sd),
        max_leverage=max(1, leverage),
        info=raw,
    )
    limits = Limits(
        min_price_i=rounded(price.get("minPrice") or 0, pd),
        max_price_i=rounded(price["maxPrice"], pd) if price.get("maxPrice") else None,
        max_size_i=rounded(quantity["maxQuantity"], sd) if quantity.get("maxQuantity") else None,
        book_state=str(raw.get("orderBookState", "Open")),
    )
    return info, limits


def check_order(m: MarketInfo, limits: Limits, *, price_i: int | None, size_i: int) -> None:
    """Refuse what the venue would: a size off the step or outside min/max, a price off the tick or bounds."""
    if size_i <= 0 or size_i % m.step_i:
        raise InvalidOrder(
            f"backpack {m.symbol}: size {scaled_to_str(size_i, m.size_decimals)} is not a positive multiple of "
            f"the step {scaled_to_str(m.step_i, m.size_decimals)}"
        )
    if size_i < m.min_size_i:
        raise InvalidOrder(
            f"backpack {m.symbol}: size {scaled_to_str(size_i, m.size_decimals)} is below the minimum "
            f"{scaled_to_str(m.min_size_i, m.size_decimals)}"
        )
    if limits.max_size_i is not None and size_i > limits.max_size_i:
        raise InvalidOrder(
            f"backpack {m.symbol}: size {scaled_to_str(size_i, m.size_decimals)} is above the maximum "
            f"{scaled_to_str(limits.max_size_i, m.size_decimals)}"
        )
    if price_i is None:
        return
    pd = m.price_decimals
    if price_i <= 0 or price_i % m.tick_i:
        raise InvalidOrder(
            f"backpack {m.symbol}: price {scaled_to_str(price_i, pd)} is not a positive multiple of the tick "
            f"{scaled_to_str(m.tick_i, pd)}"
        )
    if price_i < limits.min_price_i or (limits.max_price_i is not None and price_i > limits.max_price_i):
        top = scaled_to_str(limits.max_price_i, pd) if limits.max_price_i is not None else "any"
        raise InvalidOrder(
            f"backpack {m.symbol}: price {scaled_to_str(price_i, pd)} is outside the market's bounds "
            f"{scaled_to_str(limits.min_price_i, pd)} .. {top}"
        )


def check_book_state(symbol: str, limits: Limits, kind: str) -> None:
    """``kind`` is ``limit``, ``post_only`` or ``market``; a book that does not take it refuses with why."""
    if kind not in TRADABLE.get(limits.book_state, frozenset()):
        takes = sorted(TRADABLE.get(limits.book_state, frozenset()))
        raise OrderRejected(
            f"backpack {symbol}: the order book is {limits.book_state} and takes "
            + (f"only {', '.join(takes).replace('_', '-')} orders" if takes else "no new orders")
            + f", not a {kind.replace('_', '-')} order",
            info={"orderBookState": limits.book_state},
        )


# -- client ids ---------------------------------------------------------------------------


def nearest_index(client_id: int, reference: int) -> int:
    """The non-negative integer congruent to ``client_id`` mod 2**32 that lies nearest ``reference``."""
    base = reference - reference % CLIENT_ID_MOD + client_id
    candidates = [c for c in (base - CLIENT_ID_MOD, base, base + CLIENT_ID_MOD) if c >= 0]
    return min(candidates, key=lambda c: abs(c - reference))


class ClientIds:
    """Our client order index <-> the venue's uint32 ``clientId`` (the low 32 bits), and order ids.

    Indices sent this session map back exactly.  Any other ``clientId`` (an order from before a
    restart) is taken as the index nearest the newest one we know, or the clock when we know none:
    the order service allocates indices from a millisecond clock and counts up, so a live order's
    index lies within 2**31 of it (24 days of clock).
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._index: OrderedDict[int, int] = OrderedDict()
        self._order_ids: OrderedDict[int, str] = OrderedDict()
        self.newest: int | None = None

    def client_id(self, index: int) -> int:
        if index < 0:
            raise InvalidOrder(f"backpack: client order index must be non-negative, got {index}")
        cid = index % CLIENT_ID_MOD
        self._put(self._index, cid, index)
        self.newest = index if self.newest is None else max(self.newest, index)
        return cid

    def index(self, client_id: Any, order_id: Any, now_ms: int) -> int:
        """The index for an update; an order placed without a ``clientId`` is ``-order_id``."""
        if client_id in (None, ""):
            text = str(order_id or "")
            return -int(text) if text.isdigit() else -1
        cid = int(client_id)
        known = self._index.get(cid)
        if known is not None:
            return known
        return nearest_index(cid, self.newest if self.newest is not None else now_ms)

    def remember_order(self, index: int, order_id: str | None) -> None:
        if order_id:
            self._put(self._order_ids, index, str(order_id))

    def order_id(self, index: int) -> str | None:
        return self._order_ids.get(index)

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        if len(table) > self.max_entries:
            table.popitem(last=False)


# -- orders -------------------------------------------------------------------------------


def order_body(
    m: MarketInfo,
    *,
    is_ask: bool,
    size_i: int,
    price_i: int | None,
    client_id: int,
    post_only: bool = False,
    reduce_only: bool = False,
    tif: str | None = None,
) -> dict[str, Any]:
    """The ``orderExecute`` body: a limit when ``price_i`` is given, else a market order."""
    body: dict[str, Any] = {
        "symbol": m.symbol,
        "side": "Ask" if is_ask else "Bid",
        "orderType": "Limit" if price_i is not None else "Market",
        "quantity": scaled_to_str(size_i, m.size_decimals),
        "clientId": client_id,
    }
    if price_i is not None:
        body["price"] = scaled_to_str(price_i, m.price_decimals)
        body["timeInForce"] = tif or "GTC"
    if post_only:
        body["postOnly"] = True
    if reduce_only:
        body["reduceOnly"] = True
    return body


_STATUS = {
    "New": OrderStatus.OPEN,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "Expired": OrderStatus.EXPIRED,
    "TriggerPending": OrderStatus.OPEN,
    "Triggered": OrderStatus.OPEN,
    "TriggerFailed": OrderStatus.REJECTED,
}


def order_status(text: str, reason: str, filled_i: int) -> OrderStatus:
    """A post-only that would have taken never rested: the venue expires it, we call it rejected."""
    status = _STATUS.get(text)
    if status is None:
        raise ValueError(f"unknown order status {text!r}")
    if status is OrderStatus.EXPIRED and reason == "PostOnlyTaker" and not filled_i:
        return OrderStatus.REJECTED
    if status is OrderStatus.OPEN and filled_i:
        return OrderStatus.PARTIALLY_FILLED
    return status


def parse_order(raw: dict[str, Any], m: MarketInfo, index: int) -> OrderSnapshot:
    """A REST order object (``/order``, ``/orders``, ``/history/orders``)."""
    sd = m.size_decimals
    filled = scaler(sd)(str(raw.get("executedQuantity") or "0"))
    reason = str(raw.get("expiryReason") or "")
    status = order_status(str(raw["status"]), reason, filled)
    price = raw.get("price")
    quantity = raw.get("quantity")
    return OrderSnapshot(
        symbol=m.symbol,
        client_order_index=index,
        order_id=str(raw["id"]),
        is_ask=raw["side"] == "Ask",
        price_i=scaler(m.price_decimals)(str(price)) if price not in (None, "") else 0,
        size_i=scaler(sd)(str(quantity)) if quantity not in (None, "") else filled,
        filled_i=filled,
        status=status,
        post_only=bool(raw.get("postOnly")),
        reduce_only=bool(raw.get("reduceOnly")),
        reason=reason,
        ts_ms=naive_utc_ms(raw["createdAt"]) if raw.get("createdAt") is not None else 0,
        info=raw,
    )


def parse_order_update(d: dict[str, Any], m: MarketInfo, index: int) -> OrderSnapshot:
    """An ``account.orderUpdate`` event (type ``o`` is upper case here: ``LIMIT``/``MARKET``)."""
    sd = m.size_decimals
    filled = scaler(sd)(str(d.get("z") or "0"))
    reason = str(d.get("R") or "")
    price = d.get("p")
    quantity = d.get("q")
    return OrderSnapshot(
        symbol=m.symbol,
        client_order_index=index,
        order_id=str(d["i"]),
        is_ask=d["S"] == "Ask",
        price_i=scaler(m.price_decimals)(str(price)) if price not in (None, "") else 0,
        size_i=scaler(sd)(str(quantity)) if quantity not in (None, "") else filled,
        filled_i=filled,
        status=order_status(str(d["X"]), reason, filled),
        post_only=bool(d.get("y")),
        reduce_only=bool(d.get("r")),
        reason=reason or ("" if d.get("e") in ("orderAccepted", "orderFill") else str(d.get("e", ""))),
        ts_ms=micros_to_ms(d.get("E")),
        info=d,
    )


def fee_q(fee: Any, fee_symbol: Any, price: Any, quote: str) -> int:
    """A fee in quote units; a fee charged in the base asset is valued at the fill price."""
    if fee in (None, ""):
        return 0
    if fee_symbol in (None, "", quote):
        return money(fee)
    return money(Decimal(str(fee)) * Decimal(str(price)))


def parse_fill_update(d: dict[str, Any], m: MarketInfo, index: int) -> Fill:
    """The fill inside an ``orderFill`` event."""
    return Fill(
        symbol=m.symbol,
        client_order_index=index,
        order_id=str(d["i"]),
        trade_id=str(d["t"]),
        is_ask=d["S"] == "Ask",
        price_i=scaler(m.price_decimals)(str(d["L"])),
        size_i=scaler(m.size_decimals)(str(d["l"])),
        fee_q=fee_q(d.get("n"), d.get("N"), d["L"], m.quote),
        is_maker=bool(d.get("m")),
        ts_ms=micros_to_ms(d.get("E")),
        info=d,
    )


def parse_history_fill(raw: dict[str, Any], m: MarketInfo, index: int) -> Fill:
    """A ``/wapi/v1/history/fills`` row (``clientId`` is a string there, ``timestamp`` naive UTC)."""
    return Fill(
        symbol=m.symbol,
        client_order_index=index,
        order_id=str(raw["orderId"]),
        trade_id=str(raw["tradeId"]),
        is_ask=raw["side"] == "Ask",
        price_i=scaler(m.price_decimals)(str(raw["price"])),
        size_i=scaler(m.size_decimals)(str(raw["quantity"])),
        fee_q=fee_q(raw.get("fee"), raw.get("feeSymbol"), raw["price"], m.quote),
        is_maker=bool(raw.get("isMaker")),
        ts_ms=naive_utc_ms(raw["timestamp"]),
        info=raw,
    )


def parse_trade(d: dict[str, Any], m: MarketInfo) -> Trade:
    """A public ``trade.<symbol>`` print; the taker sold when the buyer was the maker."""
    return Trade(
        symbol=m.symbol,
        price_i=scaler(m.price_decimals)(str(d["p"])),
        size_i=scaler(m.size_decimals)(str(d["q"])),
        is_ask=bool(d.get("m")),
        ts_ms=micros_to_ms(d.get("T") or d.get("E")),
        trade_id=str(d.get("t", "")),
        info=d,
    )


# -- account ------------------------------------------------------------------------------


def parse_position(raw: dict[str, Any], m: MarketInfo, now_ms: int) -> Position:
    """A ``/api/v1/position`` row."""
    pd = m.price_decimals
    liq = raw.get("estLiquidationPrice")
    notional = abs(Decimal(str(raw.get("netExposureNotional") or "0")))
    return Position(
        symbol=m.symbol,
        size_i=rounded(raw["netQuantity"], m.size_decimals),
        entry_price_i=rounded(raw.get("entryPrice") or 0, pd),
        mark_price_i=rounded(raw.get("markPrice") or 0, pd),
        unrealized_pnl_q=money(raw.get("pnlUnrealized")),
        realized_pnl_q=money(raw.get("pnlRealized")),
        liquidation_price_i=rounded(liq, pd) if liq not in (None, "", "0") else None,
        margin_q=money(notional * Decimal(str(raw.get("imf") or "0"))),
        ts_ms=now_ms,
        info=raw,
    )


def parse_position_update(d: dict[str, Any], m: MarketInfo) -> Position:
    """An ``account.positionUpdate`` event (numbers or strings; ``l`` is a placeholder 0 now)."""
    pd = m.price_decimals
    size = 0 if d.get("e") == "positionClosed" else rounded(d.get("q") or 0, m.size_decimals)
    notional = abs(Decimal(str(d.get("n") or "0")))
    return Position(
        symbol=m.symbol,
        size_i=size,
        entry_price_i=rounded(d.get("B") or 0, pd),
        mark_price_i=rounded(d.get("M") or 0, pd),
        unrealized_pnl_q=money(d.get("P")),
        realized_pnl_q=money(d.get("p")),
        liquidation_price_i=None,
        margin_q=money(notional * Decimal(str(d.get("f") or "0"))),
        ts_ms=micros_to_ms(d.get("E") or d.get("T")),
        info=d,
    )


def parse_margin(raw: dict[str, Any], now_ms: int) -> Margin:
    """``/api/v1/capital/collateral``: collateral is the equity without open PnL."""
    equity = money(raw.get("netEquity"))
    exposure = Decimal(str(raw.get("netExposureFutures") or "0"))
    return Margin(
        collateral_q=equity - money(raw.get("pnlUnrealized")),
        equity_q=equity,
        used_q=money(raw.get("netEquityLocked")),
        maintenance_q=money(abs(exposure) * Decimal(str(raw.get("mmf") or "0"))),
        available_q=money(raw.get("netEquityAvailable")),
        ts_ms=now_ms,
        info=raw,
    )


# -- errors -------------------------------------------------------------------------------

_MARGIN_CODES = frozenset({"INSUFFICIENT_MARGIN", "INSUFFICIENT_FUNDS"})
_AUTH_CODES = frozenset({"INVALID_SIGNATURE", "UNAUTHORIZED", "FORBIDDEN"})
_INVALID_CODES = frozenset({"INVALID_PRICE", "INVALID_QUANTITY", "INVALID_SYMBOL", "INVALID_MARKET"})
_REJECT_CODES = frozenset(
    {"INVALID_ORDER", "ORDER_LIMIT", "POSITION_LIMIT", "MAX_LEVERAGE_REACHED", "ACCOUNT_LIQUIDATING",
     "TRADING_PAUSED", "INVALID_CLIENT_REQUEST", "PRECONDITION_FAILED"}
)  # fmt: skip
_POST_ONLY_HINTS = ("immediately match", "post only", "post-only", "postonly")


def error_for(status: int, body: Any, what: str, retry_after_s: float = 1.0) -> VenueError | InvalidOrder:
    """The typed error for a refused request; ``info`` carries the venue's answer (secrets masked)."""
    if isinstance(body, dict):
        code, message = str(body.get("code") or ""), redact(str(body.get("message") or ""))
    else:
        code, message = "", redact(str(body)[:200])
    info = {"status": status, "body": json.loads(redact(json.dumps(body))) if isinstance(body, dict) else message}
    text = f"backpack {what}: {message or code or f'HTTP {status}'}"
    lower = message.lower()
    if status == 429 or code == "TOO_MANY_REQUESTS":
        return RateLimited(text, retry_after_s=retry_after_s, info=info)
    if "timestamp" in lower and ("expired" in lower or "within" in lower or "window" in lower):
        return RequestExpired(f"{text} (the request's timestamp was outside the venue's window)", info=info)
    if code in _AUTH_CODES or status == 401:
        return AuthError(f"{text}: check api_key/api_secret in the key file and the key's permissions", info=info)
    if code == "RESOURCE_NOT_FOUND" or status == 404 or "order not found" in lower:
        return UnknownOrder(text, info=info)
    if code in _MARGIN_CODES:
        return InsufficientMargin(text, info=info)
    if any(hint in lower for hint in _POST_ONLY_HINTS):
        return PostOnlyWouldCross(text, info=info)
    if code in _INVALID_CODES:
        return InvalidOrder(text, info=info)
    if code in _REJECT_CODES or 400 <= status < 500:
        return OrderRejected(text, info=info)
    return VenueError(text, info=info)
