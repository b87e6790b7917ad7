"""Hyperliquid's wire format: numbers, prices, cloids, L1-action signing, payload parsing, errors.

Pure functions with no I/O, shared by the connector and the test fake.  The signing code mirrors
the official SDK (``utils/signing.py``): the action is msgpack-encoded *in key order*, the nonce,
vault flag and optional expiry are appended, the keccak of that is the ``connectionId`` of a
"phantom agent" signed as EIP-712.  Any byte that differs (a trailing zero in a price, a key out
of order, ``f: false`` where the SDK omits it) changes the hash, and the venue then answers that
some random address "does not exist" rather than "bad signature".  ``eth-account`` and
``msgpack`` are imported lazily so the rest of perpdesk runs without the ``hyperliquid`` extra.
"""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from connector.errors import (
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    UnknownOrder,
    VenueError,
)
from connector.interface import QUOTE_DECIMALS, Fill, Margin, MarketInfo, OrderSnapshot, OrderStatus, Position
from connector.scaling import scaler, str_to_scaled

MAINNET_URL = "https://api.hyperliquid.xyz"
TESTNET_URL = "https://api.hyperliquid-testnet.xyz"
INSTALL_HINT = "pip install -e '.[hyperliquid]'"
PRICE_MAX_DECIMALS = 6
"""Perp prices carry at most ``6 - szDecimals`` decimals."""
SIG_FIGS = 5
MIN_NOTIONAL_Q = 10 * 10**QUOTE_DECIMALS
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_CLOID = 2**128 - 1
TIF = {"GTC": "Gtc", "POST_ONLY": "Alo", "IOC": "Ioc"}

_AGENT_TYPES = {
    "Agent": [{"name": "source", "type": "string"}, {"name": "connectionId", "type": "bytes32"}],
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
}
_DOMAIN = {"chainId": 1337, "name": "Exchange", "verifyingContract": ZERO_ADDRESS, "version": "1"}


# -- the optional crypto stack ---------------------------------------------------------------


def crypto() -> Any:
    """The lazily imported signing libraries, or a ``ConfigError`` saying how to install them."""
    try:
        import msgpack
        from eth_account import Account
        from eth_account.messages import encode_typed_data
        from eth_utils import keccak, to_hex
    except ImportError:
        raise ConfigError(f"the hyperliquid venue needs eth-account and msgpack: {INSTALL_HINT}") from None

    class _Crypto:
        pass

    c = _Crypto()
    c.msgpack, c.Account, c.encode_typed_data, c.keccak, c.to_hex = msgpack, Account, encode_typed_data, keccak, to_hex
    return c


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


# -- cloids and nonces -----------------------------------------------------------------------


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


class NonceCounter:
    """Millisecond nonces, strictly increasing even when two signers ask in the same ms."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_ms: int) -> int:
        with self._lock:
            self._last = max(now_ms, self._last + 1)
            return self._last


# -- signing ---------------------------------------------------------------------------------


def action_hash(action: dict[str, Any], vault_address: str | None, nonce: int, expires_after: int | None) -> bytes:
    c = crypto()
    data = c.msgpack.packb(action) + nonce.to_bytes(8, "big")
    data += b"\x00" if vault_address is None else b"\x01" + bytes.fromhex(vault_address.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return c.keccak(data)


def agent_payload(connection_id: bytes, is_mainnet: bool) -> dict[str, Any]:
    return {
        "domain": _DOMAIN,
        "types": _AGENT_TYPES,
        "primaryType": "Agent",
        "message": {"source": "a" if is_mainnet else "b", "connectionId": connection_id},
    }


def sign_l1_action(
    wallet: Any,
    action: dict[str, Any],
    nonce: int,
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """``{"r", "s", "v"}`` for an L1 action, signed by ``wallet`` (an eth-account ``LocalAccount``)."""
    c = crypto()
    payload = agent_payload(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    signed = wallet.sign_message(c.encode_typed_data(full_message=payload))
    return {"r": c.to_hex(signed.r), "s": c.to_hex(signed.s), "v": signed.v}


def recover_l1_signer(
    action: dict[str, Any],
    nonce: int,
    signature: dict[str, Any],
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> str:
    """The address that signed (what the venue looks up as a user or API wallet)."""
    c = crypto()
    payload = agent_payload(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    vrs = (int(signature["v"]), int(str(signature["r"]), 16), int(str(signature["s"]), 16))
    return str(c.Account.recover_message(c.encode_typed_data(full_message=payload), vrs=vrs))


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
