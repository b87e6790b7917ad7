"""The working-orders tab: one row per chase, scale and TWAP, with progress and the execution report.

Plain Python (no screen), so the exact text is tested directly.  Slippage is written in basis points
from the report's ppm (100 ppm = 1 bp), the maker share in percent, fees in quote money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.formatting import CHASE_COLUMNS, chase_row, elapsed_text, money, progress_bar

if TYPE_CHECKING:
    from execution.algos.base import WorkingOrder
    from execution.market import MarketDataService
    from execution.tracking import ExecutionReport, TrackingLimit

WORKING_COLUMNS = [("id", "Order"), *CHASE_COLUMNS[1:], ("slip", "Slip bp"), ("maker", "Maker"), ("fees", "Fees")]
"""The chases table's columns plus the report's figures."""


def bps_text(ppm: int | None) -> str:
    """Slippage ppm as basis points with two decimals (``84`` -> ``+0.84``), sign kept; ``-`` when unknown."""
    if ppm is None:
        return "-"
    sign = "-" if ppm < 0 else "+"
    whole, frac = divmod(abs(ppm), 100)
    return f"{sign}{whole}.{frac:02d}"


def share_text(ppm: int | None) -> str:
    """A share in ppm as a whole percent (rounded down); ``-`` before any fill."""
    return "-" if ppm is None else f"{ppm // 10_000}%"


def report_cells(report: ExecutionReport) -> tuple[str, str, str]:
    return bps_text(report.slippage_ppm), share_text(report.maker_ppm), money(report.fees_q)


def report_text(report: ExecutionReport, md: MarketDataService, venue: str, symbol: str) -> str:
    """The whole report in one line, for the notice when a working order ends."""
    fp = md.format_price
    parts = [
        f"arrival {fp(venue, symbol, report.arrival_mid_i) if report.arrival_mid_i else '-'}",
        f"avg {fp(venue, symbol, report.avg_price_i) if report.avg_price_i else '-'}",
        f"slippage {bps_text(report.slippage_ppm)} bp",
        f"maker {share_text(report.maker_ppm)}",
        f"{report.reprices} reprices / {report.children} children",
    ]
    if report.first_fill_ms is not None:
        last = report.last_fill_ms or 0
        parts.append(f"fills {elapsed_text(report.first_fill_ms)} → {elapsed_text(last)}")
    parts.append(f"fees {money(report.fees_q)}")
    return ", ".join(parts)


def working_chase_row(chase: TrackingLimit, md: MarketDataService, now_ms: int, label: str) -> tuple[str, ...]:
    return (*chase_row(chase, md, now_ms, label), *report_cells(chase.report))


def algo_row(algo: WorkingOrder, md: MarketDataService, now_ms: int, label: str) -> tuple[str, ...]:
    """A scale's or TWAP's row, cells in ``WORKING_COLUMNS`` order (the chase row's, then the report)."""
    venue, symbol = algo.venue, algo.symbol
    fp, fs = md.format_price, md.format_size
    bid, ask = md.top_of_book(venue, symbol)
    touch = ask if algo.is_ask else bid
    report = algo.report
    params = algo.params
    if algo.kind == "scale":
        live = len(algo.live_orders)
        at = f"{live} resting" + (f" / {fp(venue, symbol, touch)}" if touch else "")
        limit = f"{fp(venue, symbol, params.from_price_i)}..{fp(venue, symbol, params.to_price_i)}"
        steps = "-"  # a scale never re-prices
    else:
        at = f"slice {algo.next_slice}/{params.slices}" + (f" / {fp(venue, symbol, touch)}" if touch else "")
        limit = fp(venue, symbol, params.limit_price_i) if params.limit_price_i else "-"
        steps = str(report.reprices)
    end = algo.ended_ms if algo.ended_ms is not None else now_ms
    state = str(algo.state.value) + (f" {algo.end_reason.value}" if algo.end_reason is not None else "")
    filled = algo.filled_i
    return (
        label,
        symbol,
        "SELL" if algo.is_ask else "BUY",
        state,
        f"{fs(venue, symbol, filled)}/{fs(venue, symbol, algo.size_i)}",
        progress_bar(filled, algo.size_i),
        at,
        limit,
        fp(venue, symbol, report.avg_price_i) if report.avg_price_i else "-",
        steps,
        elapsed_text(end - algo.started_ms),
        *report_cells(report),
    )
