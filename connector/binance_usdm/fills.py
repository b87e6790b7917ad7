"""Fills the user-data stream missed while it was down, read back from ``GET /fapi/v1/userTrades``.

The venue does not replay its user-data stream: a fill booked while the private socket was down
reaches us only as an order whose filled quantity grew (the reconciler corrects that), never as a
fill with its price and fee.  So after every reconnect of the private stream the connector reads
each symbol it has traded this session from a minute before the last message it saw, and passes on
the trades the stream did not deliver (the ledger's trade ids say which).  ``userTrades`` needs a
symbol and has no client order id: a row's order is found by its ``orderId`` in the ledger.
UNCONFIRMED: that a row's ``id`` is the stream's trade id ``t`` (both are the venue's trade id);
the sign of ``commission`` (the docs' example shows it negative; it is read as paid either way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connector.binance_usdm import wire
from connector.binance_usdm.ledger import Ledger
from connector.binance_usdm.rest import SIGNED, BinanceRest
from connector.errors import VenueError
from connector.interface import Fill

log = logging.getLogger(__name__)

LOOKBACK_MS = 60_000
"""How far before the last message seen the history is read: a fill may be stamped before its frame."""
LIMIT = 1000


def fill_from_trade(row: Mapping[str, Any], f: wire.Filters, ledger: Ledger) -> Fill:
    """One ``userTrades`` row as the fill the stream would have carried."""
    order_id = str(row["orderId"])
    coi = next((c for c, ref in ledger.orders.items() if ref.order_id == order_id), None)
    fee_asset = str(row.get("commissionAsset") or "")
    fee_q = abs(wire.money_q(row.get("commission") or "0")) if fee_asset in ("", *wire.QUOTE_ASSETS) else 0
    return Fill(
        symbol=f.symbol,
        client_order_index=coi if coi is not None else wire.coi_of(None, order_id),
        order_id=order_id,
        trade_id=f"{f.symbol}:{row['id']}",
        is_ask=row.get("side") == "SELL",
        price_i=wire.px(row["price"], f.price_decimals),
        size_i=wire.px(row["qty"], f.size_decimals),
        fee_q=fee_q,
        is_maker=bool(row.get("maker")),
        ts_ms=int(row.get("time") or 0),
        info=dict(row),
    )


async def recover_fills(
    rest: BinanceRest,
    filters: Mapping[str, wire.Filters],
    ledger: Ledger,
    symbols: Iterable[str],
    since_ms: int,
    emit: Callable[[str, Any], None],
) -> int:
    """Pass on the fills since ``since_ms`` that the stream did not deliver; returns how many."""
    found = 0
    for symbol in sorted(symbols):
        f = filters.get(symbol)
        if f is None:
            continue
        try:
            rows = await rest.request(
                "GET", "/fapi/v1/userTrades", {"symbol": symbol, "startTime": max(0, since_ms), "limit": LIMIT},
                security=SIGNED, weight=5,
            )  # fmt: skip
        except VenueError as exc:  # the reconciler still corrects every order's filled quantity
            log.warning("binance-usdm %s: could not read the fills missed while disconnected (%s)", symbol, exc)
            continue
        for row in sorted(rows or [], key=lambda r: (int(r.get("time") or 0), int(r.get("id") or 0))):
            fill = fill_from_trade(row, f, ledger)
            if ledger.first_sight(fill):
                emit("fill", fill)
                found += 1
    if found:
        log.info("binance-usdm: %d fill(s) missed while disconnected recovered from userTrades", found)
    return found
