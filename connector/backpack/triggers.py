"""Backpack trigger orders (``native_triggers``): the wire form and the venue's listing.

A trigger is an ordinary ``orderExecute`` body with ``triggerPrice`` (and ``triggerBy``:
``MarkPrice`` or ``LastPrice``); ``orderType`` ``Market`` or ``Limit`` (with ``price``) is the
order the venue places when it fires.  A sized trigger carries ``triggerQuantity`` (the bare
amount); a whole-position one ``triggerQuantity: "100%"`` (the percent form the official Rust
client serialises).  Backpack names no stop / take-profit kind: which way the price must move
follows from where the trigger lies against the price, so perpdesk infers the kind the same way.
Armed triggers are listed by ``GET /api/v1/orders`` with status ``TriggerPending``; on the order
stream they arrive as ``orderAccepted`` with ``X`` ``TriggerPending``, and firing sends
``triggerPlaced`` and then the child's updates under the same ``clientId``.
UNCONFIRMED (see docs/venues/backpack.md): whether the child keeps the trigger's order id, what
the venue does with a trigger the price is already past, and how ``100%`` follows a position that
changes after it is armed (perpdesk takes it to close the position as it is when it fires:
``trigger_follows_position``, the fake does so).  Trailing stops: none found, they stay emulated.
"""

from __future__ import annotations

from typing import Any

from connector.backpack import wire
from connector.interface import MarketInfo, TriggerSnapshot
from connector.scaling import scaled_to_str, scaler

KINDS = frozenset({"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"})
SOURCES = {"mark": "MarkPrice", "last": "LastPrice"}
"""perpdesk ``trigger_on`` -> Backpack ``triggerBy``."""
WHOLE = "100%"
PENDING = "TriggerPending"


def falls(kind: str, is_ask: bool) -> bool:
    """Whether the trigger waits for the price to fall to it (a sell stop, a buy take-profit)."""
    return is_ask == kind.startswith("stop")


def on_tick(price_i: int, tick_i: int, *, up: bool) -> int:
    down = price_i - price_i % tick_i
    return down + tick_i if up and down != price_i else down


def kind_of(is_ask: bool, trigger_i: int, reference_i: int | None, is_market: bool) -> str:
    """Backpack's trigger has no kind: below the price for a sell (above for a buy) it is a stop."""
    below = reference_i is not None and trigger_i < reference_i
    stop = below == is_ask
    return ("stop" if stop else "take_profit") + ("_market" if is_market else "_limit")


def trigger_body(
    m: MarketInfo,
    *,
    client_id: int,
    is_ask: bool,
    trigger_i: int,
    size_i: int | None,
    limit_i: int | None,
    trigger_on: str,
    reduce_only: bool,
) -> dict[str, Any]:
    pd, sd = m.price_decimals, m.size_decimals
    body: dict[str, Any] = {
        "symbol": m.symbol,
        "side": "Ask" if is_ask else "Bid",
        "orderType": "Market" if limit_i is None else "Limit",
        "triggerPrice": scaled_to_str(trigger_i, pd),
        "triggerBy": SOURCES[trigger_on],
        "triggerQuantity": WHOLE if size_i is None else scaled_to_str(size_i, sd),
        "clientId": client_id,
    }
    if limit_i is not None:
        body["price"] = scaled_to_str(limit_i, pd)
        body["timeInForce"] = "GTC"
    if reduce_only:
        body["reduceOnly"] = True
    return body


def is_trigger(raw: dict[str, Any]) -> bool:
    """An armed trigger in ``/orders`` (or an ``X`` on the order stream)."""
    return str(raw.get("status", raw.get("X"))) == PENDING


def parse_trigger(
    raw: dict[str, Any], m: MarketInfo, index: int, kind: str | None, reference_i: int | None
) -> TriggerSnapshot:
    pd, sd = m.price_decimals, m.size_decimals
    trigger_i = scaler(pd)(str(raw["triggerPrice"]))
    is_ask = raw["side"] == "Ask"
    is_market = raw.get("orderType") == "Market"
    qty = str(raw.get("triggerQuantity") or raw.get("quantity") or WHOLE)
    by = {v: k for k, v in SOURCES.items()}.get(str(raw.get("triggerBy") or "MarkPrice"), "mark")
    return TriggerSnapshot(
        symbol=m.symbol,
        client_order_index=index,
        kind=kind or kind_of(is_ask, trigger_i, reference_i, is_market),
        is_ask=is_ask,
        trigger_price_i=trigger_i,
        size_i=None if qty.endswith("%") else scaler(sd)(qty),
        limit_price_i=None if is_market else scaler(pd)(str(raw["price"])),
        trigger_on=by,
        reduce_only=bool(raw.get("reduceOnly")),
        ts_ms=wire.naive_utc_ms(raw["createdAt"]) if raw.get("createdAt") is not None else 0,
        info=raw,
    )
