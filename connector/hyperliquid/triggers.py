"""Hyperliquid trigger orders (``native_triggers``): the wire form and the venue's listing.

A trigger is an order whose type is ``{"trigger": {"isMarket", "triggerPx", "tpsl"}}`` (the SDK's
``order_type_to_wire`` key order; the signature covers it).  ``tpsl`` is ``"sl"`` for a stop and
``"tp"`` for a take-profit; ``isMarket`` false makes the child a limit at ``p``.  A market trigger
still carries ``p``: the worst price its child may fill at (the trigger price moved by the
connector's market slippage).  A sized trigger goes out under grouping ``"na"``; a whole-position
one (``size_i`` None) under ``"positionTpsl"``, sized to the position when it is placed.

The venue watches its mark price for triggers and keeps no trailing stop: ``trailing_stop`` stays
emulated by perpdesk on this venue.  ``frontendOpenOrders`` lists armed triggers with
``isTrigger: true``, ``orderType`` ("Stop Market", "Stop Limit", "Take Profit Market",
"Take Profit Limit"), ``triggerPx`` and ``triggerCondition`` ("Price below 225.97").
perpdesk takes a ``positionTpsl`` trigger to close the position as it is when it fires, grown or
shrunk since (``trigger_follows_position``: it is not re-armed when the size changes; the fake does so).
UNCONFIRMED (see docs/venues/hyperliquid.md): whether a fired trigger keeps its oid (perpdesk
follows it by cloid either way), that ``positionTpsl`` follows a position that changes later,
and what the venue does with a trigger the mark is already past (the fake refuses it).
"""

from __future__ import annotations

from typing import Any

from connector.errors import InvalidOrder
from connector.hyperliquid import wire
from connector.interface import MarketInfo, TriggerSnapshot
from connector.scaling import str_to_scaled

KINDS = {
    "stop_market": ("sl", True),
    "stop_limit": ("sl", False),
    "take_profit_market": ("tp", True),
    "take_profit_limit": ("tp", False),
}
"""perpdesk trigger kind -> (``tpsl``, ``isMarket``)."""
ORDER_TYPES = {
    "Stop Market": "stop_market",
    "Stop Limit": "stop_limit",
    "Take Profit Market": "take_profit_market",
    "Take Profit Limit": "take_profit_limit",
}
"""``frontendOpenOrders`` ``orderType`` -> perpdesk kind."""
SOURCES = frozenset({"mark"})


def kind_of(tpsl: str, is_market: bool) -> str:
    for kind, spec in KINDS.items():
        if spec == (tpsl, is_market):
            return kind
    raise InvalidOrder(f"hyperliquid: unknown trigger type tpsl={tpsl!r}")


def order_type_name(kind: str) -> str:
    return next(name for name, k in ORDER_TYPES.items() if k == kind)


def falls(kind: str, is_ask: bool) -> bool:
    """Whether the trigger waits for the price to fall to it (a sell stop, a buy take-profit)."""
    return is_ask == kind.startswith("stop")


def trigger_wire(
    asset: int, is_buy: bool, price: str, size: str, reduce_only: bool, trigger_px: str, kind: str, cloid: str | None
) -> dict[str, Any]:
    """One trigger order in the venue's key order (``a b p s r t c``)."""
    tpsl, is_market = KINDS[kind]
    out: dict[str, Any] = {"a": asset, "b": is_buy, "p": price, "s": size, "r": reduce_only}
    out["t"] = {"trigger": {"isMarket": is_market, "triggerPx": trigger_px, "tpsl": tpsl}}
    if cloid is not None:
        out["c"] = cloid
    return out


def prices(
    m: MarketInfo, kind: str, is_ask: bool, trigger_i: int, limit_i: int | None, slippage_bps: int
) -> tuple[int, int]:
    """(trigger, limit) on the venue's price grid.  The trigger is rounded so it fires no later than
    asked; a limit never worse than asked; a market trigger's limit is the trigger moved by the slippage."""
    pd = m.price_decimals
    trigger = wire.round_price(trigger_i, pd, up=is_ask if kind.startswith("stop") else not is_ask)
    if limit_i is not None:
        return trigger, wire.round_price(limit_i, pd, up=is_ask)
    move = trigger * slippage_bps // 10_000
    worst = trigger - move if is_ask else trigger + move
    return trigger, wire.round_price(max(worst, 1), pd, up=not is_ask)


def is_trigger(raw: dict[str, Any]) -> bool:
    return bool(raw.get("isTrigger"))


def parse_trigger(raw: dict[str, Any], m: MarketInfo, coi_of_oid: dict[int, int]) -> TriggerSnapshot:
    """An armed trigger from ``frontendOpenOrders``."""
    kind = ORDER_TYPES.get(str(raw.get("orderType")))
    if kind is None:
        raise ValueError(f"hyperliquid: unknown trigger order type {raw.get('orderType')!r}")
    pd, sd = m.price_decimals, m.size_decimals
    whole = bool(raw.get("isPositionTpsl"))
    return TriggerSnapshot(
        symbol=m.symbol,
        client_order_index=wire.client_index(raw, coi_of_oid),
        kind=kind,
        is_ask=raw["side"] == "A",
        trigger_price_i=str_to_scaled(str(raw["triggerPx"]), pd),
        size_i=None if whole else str_to_scaled(str(raw.get("origSz", raw["sz"])), sd),
        limit_price_i=None if kind.endswith("_market") else str_to_scaled(str(raw["limitPx"]), pd),
        trigger_on="mark",
        reduce_only=bool(raw.get("reduceOnly", True)),
        ts_ms=int(raw.get("timestamp") or 0),
        info=raw,
    )
