"""Lighter trigger orders (``native_triggers``): the order types, the wire and the venue's listing.

A trigger is an ordinary create-order transaction (tx 14, signed through the same signer and
nonce path as any order) whose ``Type`` is one of lighter-sdk's ``ORDER_TYPE_STOP_LOSS`` (2),
``STOP_LOSS_LIMIT`` (3), ``TAKE_PROFIT`` (4) or ``TAKE_PROFIT_LIMIT`` (5), with ``TriggerPrice``
set.  As in the SDK's ``create_sl_order`` / ``create_tp_order``, a market trigger goes out
immediate-or-cancel with the 28-day expiry and its ``Price`` is the worst price its child may fill
at (the trigger moved by the connector's market slippage); a limit trigger goes out good-till-time
at its limit price.  Lighter has no position-sized (close-position) trigger in this form: a
whole-position trigger is sized to the position when it is placed, and perpdesk re-arms it (new
one first, then the old one cancelled) when the position's size changes (``execution.triggers.follow``).
Nor does it keep a trailing stop: ``trailing_stop`` stays emulated by perpdesk on this venue.

The venue lists an armed trigger among the account's active orders with ``type`` "stop-loss",
"stop-loss-limit", "take-profit" or "take-profit-limit" and its ``trigger_price``; while it waits
its ``status`` is "pending".  When it fires, its order (same client order index) goes on as the
child.  UNCONFIRMED (see docs/venues/lighter.md): the "pending" status of a waiting trigger, which
price Lighter watches (taken as the mark), whether the fired order keeps its order index, and what
the venue does with a trigger the price is already past (the fake refuses it).
"""

from __future__ import annotations

from typing import Any

from connector.interface import OrderSnapshot, TriggerSnapshot
from connector.scaling import str_to_scaled

ORDER_STOP_LOSS, ORDER_STOP_LOSS_LIMIT, ORDER_TAKE_PROFIT, ORDER_TAKE_PROFIT_LIMIT = 2, 3, 4, 5
KINDS = {
    "stop_market": ORDER_STOP_LOSS,
    "stop_limit": ORDER_STOP_LOSS_LIMIT,
    "take_profit_market": ORDER_TAKE_PROFIT,
    "take_profit_limit": ORDER_TAKE_PROFIT_LIMIT,
}
"""perpdesk trigger kind -> lighter-sdk order type."""
TYPE_NAMES = {
    "stop-loss": "stop_market",
    "stop-loss-limit": "stop_limit",
    "take-profit": "take_profit_market",
    "take-profit-limit": "take_profit_limit",
}
"""The order object's ``type`` -> perpdesk kind."""
SOURCES = frozenset({"mark"})
WAITING = "pending"
"""The status of an armed trigger that has not fired (UNCONFIRMED)."""


def is_trigger(raw: dict[str, Any]) -> bool:
    return str(raw.get("type")) in TYPE_NAMES


def is_armed(raw: dict[str, Any]) -> bool:
    """An armed trigger that has not fired yet: listed by ``get_trigger_orders``, never as an order."""
    return is_trigger(raw) and raw.get("status") == WAITING


def round_trigger(price_i: int, tick_i: int, *, up: bool) -> int:
    rem = price_i % tick_i
    if rem == 0:
        return price_i
    return price_i - rem + (tick_i if up else 0)


def worst_price(trigger_i: int, is_ask: bool, slippage_bps: int) -> int:
    """A market trigger's ``Price``: the trigger moved ``slippage_bps`` against us."""
    move = trigger_i * slippage_bps // 10_000
    return max(trigger_i - move if is_ask else trigger_i + move, 1)


def parse_trigger(snap: OrderSnapshot, pd: int) -> TriggerSnapshot:
    """An armed trigger from an order row (``accountActiveOrders``) already parsed by ``wire.parse_order``."""
    raw = snap.info
    kind = TYPE_NAMES[str(raw["type"])]
    return TriggerSnapshot(
        symbol=snap.symbol,
        client_order_index=snap.client_order_index,
        kind=kind,
        is_ask=snap.is_ask,
        trigger_price_i=str_to_scaled(str(raw["trigger_price"]), pd),
        size_i=snap.size_i,
        limit_price_i=snap.price_i if kind.endswith("_limit") else None,
        trigger_on="mark",
        reduce_only=snap.reduce_only,
        ts_ms=snap.ts_ms,
        info=raw,
    )
