"""Money, clock times and the chases table's rows, written one way wherever the console shows them.

Prices and sizes are written by ``MarketDataService.format_price``/``format_size``, which know
each market's decimals.  Plain Python (no screen), so the exact text is tested directly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connector.scaling import money_text

if TYPE_CHECKING:
    from execution.market import MarketDataService
    from execution.tracking import TrackingLimit


money = money_text
"""Quote money as the console writes it (the one formatter, shared with the risk checks' messages)."""

def clock_text(ts_ms: int) -> str:
    """``HH:MM:SS`` in UTC from a venue timestamp (never the wall clock)."""
    return time.strftime("%H:%M:%S", time.gmtime(ts_ms // 1000))


def progress_bar(filled_i: int, size_i: int, width: int = 10) -> str:
    """``███░░░░░░░  30%`` from integers (no float)."""
    if size_i <= 0:
        return ""
    cells = min(width, filled_i * width // size_i)
    pct = min(100, filled_i * 100 // size_i)
    return f"{'█' * cells}{'░' * (width - cells)} {pct:>3}%"


def elapsed_text(ms: int) -> str:
    """``M:SS`` under an hour, ``HhMM`` from then on."""
    s = max(0, ms) // 1000
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}h{(s % 3600) // 60:02d}"


CHASE_COLUMNS = [
    ("id", "Chase"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("state", "State"),
    ("filled", "Filled"),
    ("progress", "Progress"),
    ("price", "Ours / touch"),
    ("limit", "Limit"),
    ("avg", "Avg"),
    ("reprices", "Repr."),
    ("elapsed", "Elapsed"),
]
"""The chases table's (key, heading) pairs, in the order ``chase_row`` gives the cells; State comes
early so an 80-column terminal still shows it."""


def chase_row(chase: TrackingLimit, md: MarketDataService, now_ms: int, label: str) -> tuple[str, ...]:
    """The chases table's cells for one chase."""
    venue, symbol = chase.venue, chase.symbol
    fp = md.format_price
    bid, ask = md.top_of_book(venue, symbol)
    touch = ask if chase.is_ask else bid
    price = chase.price_i
    at = f"{fp(venue, symbol, price)} / {fp(venue, symbol, touch)}" if price and touch else (
        f"- / {fp(venue, symbol, touch)}" if touch else "-")
    limit = chase.params.limit_price_i
    end = chase.ended_ms if chase.ended_ms is not None else now_ms
    state = str(chase.state.value)
    if chase.end_reason is not None:
        state = f"{state} {chase.end_reason.value}"
    avg = chase.avg_price_i
    return (
        label,
        symbol,
        "SELL" if chase.is_ask else "BUY",
        state,
        f"{md.format_size(venue, symbol, chase.filled_i)}/{md.format_size(venue, symbol, chase.size_i)}",
        progress_bar(chase.filled_i, chase.size_i),
        at,
        fp(venue, symbol, limit) if limit else "-",
        fp(venue, symbol, avg) if avg else "-",
        str(chase.reprices),
        elapsed_text(end - chase.started_ms),
    )
