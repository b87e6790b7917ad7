"""``perpdesk export fills|orders|reports --since 24h --format csv|json``: the journal in trader units.

The journal is opened read-only and without its lock, so a running console keeps trading while
its fills are exported.  Prices and sizes are written with each market's decimals, which the
journal does not keep: ``market_decimals`` asks each venue for its market list (public data; the
sim answers offline).  A market whose decimals are unknown is written in scaled integers and said
so on stderr, never guessed.

Each exportable kind is one line of ``EXPORTS``: its query and how a row becomes trader units.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.interface import QUOTE_DECIMALS
from connector.scaling import scaled_to_str

Decimals = Mapping[tuple[str, str], tuple[int, int]]
"""(venue, the venue's own symbol) -> (price decimals, size decimals)."""

Row = dict[str, str]


def iso_ms(ts_ms: int) -> str:
    """``2026-12-03T13:11:14.123Z`` (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_ms // 1000)) + f".{ts_ms % 1000:03d}Z"


_SINCE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def since_ms(text: str, now_ms: int) -> int:
    """``24h``, ``90m``, ``7d``, ``30s`` back from ``now_ms``; ``all`` is 0.  ValueError otherwise."""
    if text.strip().lower() == "all":
        return 0
    m = _SINCE.match(text.lower())
    if m is None:
        raise ValueError(f"--since {text!r}: give an age like 24h, 90m, 7d or all")
    return now_ms - int(m.group(1)) * _UNIT_MS[m.group(2)]


class _Units:
    """Scaled integers to text with the market's decimals, noting the markets it could not convert."""

    def __init__(self, decimals: Decimals) -> None:
        self.decimals = decimals
        self.unknown: set[tuple[str, str]] = set()

    def price(self, venue: str, venue_symbol: str, value: int) -> str:
        return self._text(venue, venue_symbol, value, 0)

    def size(self, venue: str, venue_symbol: str, value: int) -> str:
        return self._text(venue, venue_symbol, value, 1)

    def _text(self, venue: str, venue_symbol: str, value: int, which: int) -> str:
        d = self.decimals.get((venue, venue_symbol))
        if d is None:
            self.unknown.add((venue, venue_symbol))
            return str(value)
        return scaled_to_str(value, d[which])


def _fill_row(r: sqlite3.Row, u: _Units) -> Row:
    v, vs = r["venue"], r["venue_symbol"]
    return {
        "time": iso_ms(r["ts_ms"]), "venue": v, "symbol": r["symbol"], "side": "SELL" if r["is_ask"] else "BUY",
        "price": u.price(v, vs, r["price_i"]), "size": u.size(v, vs, r["size_i"]),
        "fee": scaled_to_str(r["fee_q"], QUOTE_DECIMALS), "role": "maker" if r["is_maker"] else "taker",
        "order_id": r["order_id"] or "", "client_order_index": str(r["client_order_index"]), "trade_id": r["trade_id"],
    }


def _order_row(r: sqlite3.Row, u: _Units) -> Row:
    v, vs = r["venue"], r["venue_symbol"]
    flags = " ".join(f for f, on in (("post-only", r["post_only"]), ("reduce-only", r["reduce_only"])) if on)
    return {
        "created": iso_ms(r["created_ms"]), "updated": iso_ms(r["updated_ms"]), "venue": v, "symbol": r["symbol"],
        "side": "SELL" if r["is_ask"] else "BUY", "type": r["kind"],
        "price": u.price(v, vs, r["price_i"]) if r["kind"] == "limit" else "",
        "size": u.size(v, vs, r["size_i"]), "filled": u.size(v, vs, r["filled_i"]), "state": r["state"],
        "flags": flags, "reason": r["reason"], "order_id": r["order_id"] or "",
        "client_order_index": str(r["client_order_index"]), "chase": r["parent_id"] or "",
    }


def _bp(ppm: int | None) -> str:
    """ppm of a price as basis points with two decimals (100 ppm = 1 bp); empty when unknown."""
    return "" if ppm is None else scaled_to_str(ppm, 2)


def _seconds(ms: int | None) -> str:
    return "" if ms is None else scaled_to_str(ms, 3)


def _report_row(r: sqlite3.Row, u: _Units) -> Row:
    """One chase, scale or TWAP with its execution report (``execution.tracking.ExecutionReport``)."""
    v, vs = r["venue"], r["venue_symbol"]
    params = json.loads(r["params"])
    rep = params.get("report") or {}

    def price(key: str) -> str:
        value = rep.get(key)
        return "" if value is None else u.price(v, vs, value)

    maker = rep.get("maker_ppm")
    return {
        "created": iso_ms(r["created_ms"]), "updated": iso_ms(r["updated_ms"]), "id": r["parent_id"],
        "kind": r["kind"], "venue": v, "symbol": r["symbol"], "side": "SELL" if params.get("is_ask") else "BUY",
        "state": r["state"], "end_reason": r["end_reason"],
        "target": u.size(v, vs, rep["target_i"]) if "target_i" in rep else "",
        "filled": u.size(v, vs, rep["filled_i"]) if "filled_i" in rep else "",
        "arrival_mid": price("arrival_mid_i"), "avg_price": price("avg_price_i"),
        "slippage_bp": _bp(rep.get("slippage_ppm")), "maker_pct": "" if maker is None else scaled_to_str(maker, 4),
        "reprices": str(rep.get("reprices", "")), "children": str(rep.get("children", "")),
        "first_fill_s": _seconds(rep.get("first_fill_ms")), "last_fill_s": _seconds(rep.get("last_fill_ms")),
        "fees": scaled_to_str(rep["fees_q"], QUOTE_DECIMALS) if "fees_q" in rep else "",
    }


@dataclass(frozen=True, slots=True)
class Export:
    query: str
    """SQL over the journal with one ``?``: the ``--since`` cut-off in ms; rows need venue and venue_symbol."""
    row: Callable[[sqlite3.Row, _Units], Row]


EXPORTS: dict[str, Export] = {
    "fills": Export("SELECT f.venue, f.client_order_index, f.trade_id, f.order_id, f.is_ask, f.price_i, f.size_i, "
                    "f.fee_q, f.is_maker, f.ts_ms, o.symbol, o.venue_symbol FROM fills f "
                    "JOIN orders o USING (venue, client_order_index) WHERE f.ts_ms >= ? ORDER BY f.ts_ms, f.rowid",
                    _fill_row),
    "orders": Export("SELECT * FROM orders WHERE updated_ms >= ? ORDER BY created_ms, client_order_index", _order_row),
    "reports": Export("SELECT p.*, COALESCE((SELECT o.venue_symbol FROM orders o WHERE o.venue = p.venue "
                      "AND o.symbol = p.symbol LIMIT 1), p.symbol) AS venue_symbol FROM parents p "
                      "WHERE p.updated_ms >= ? AND p.kind IN ('chase', 'scale', 'twap') ORDER BY p.created_ms, "
                      "p.parent_id", _report_row),
}
"""What ``perpdesk export`` can write: add a kind here (its query and its row) and the CLI offers it."""


def read_rows(path: Path, kind: str, cutoff_ms: int) -> list[sqlite3.Row]:
    """The journal's rows for ``kind``, read-only (no lock: a running console is not disturbed)."""
    if not path.exists():
        raise FileNotFoundError(f"no journal at {path}: pass --journal PATH")
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        return db.execute(EXPORTS[kind].query, (cutoff_ms,)).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a readable perpdesk journal ({exc})") from None
    finally:
        db.close()


def markets_in(rows: Iterable[sqlite3.Row]) -> set[tuple[str, str]]:
    return {(r["venue"], r["venue_symbol"]) for r in rows}


def render(kind: str, rows: list[sqlite3.Row], decimals: Decimals, fmt: str) -> tuple[str, set[tuple[str, str]]]:
    """The export's text (CSV with a header, or a JSON list of objects) and the markets left in scaled integers."""
    units = _Units(decimals)
    out = [EXPORTS[kind].row(r, units) for r in rows]
    if fmt == "json":
        return json.dumps(out, indent=1) + "\n", units.unknown
    buf = io.StringIO()
    if out:
        writer = csv.DictWriter(buf, fieldnames=list(out[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    return buf.getvalue(), units.unknown


async def market_decimals(markets: set[tuple[str, str]], settings: Any, timeout_s: float) -> dict[tuple[str, str], tuple[int, int]]:
    """Each venue's market list (asked once per venue, ``timeout_s`` each), for the decimals."""
    import asyncio

    from connector.factory import create_connector

    found: dict[tuple[str, str], tuple[int, int]] = {}
    for venue in sorted({v for v, _ in markets}):
        conn = None
        try:
            conn = create_connector(venue, venue_settings=settings.venue_settings(venue), sim=settings.sim)
            infos = await asyncio.wait_for(conn.list_markets(), timeout_s)
        except Exception as exc:
            print(f"perpdesk export: {venue}: market list not readable ({exc or type(exc).__name__})", file=sys.stderr)
            continue
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.stop()
        for info in infos:
            found[(venue, info.symbol)] = (info.price_decimals, info.size_decimals)
    return found
