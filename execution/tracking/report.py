"""The execution report: how well a working order (chase, scale, TWAP) actually executed.

Built from the fills of its children (de-duplicated by trade id) and a few counts the parent keeps.
Everything is a scaled int: prices ``_i``, money ``_q``, times in ms from the start, shares and
slippage in parts per million (slippage: 100 ppm = 1 basis point; maker share: 1_000_000 = all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from execution.tracking.rules import slippage_i, slippage_ppm

if TYPE_CHECKING:
    from connector.interface import Fill

PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    target_i: int
    filled_i: int
    arrival_mid_i: int | None
    """The mid when the order arrived (was started)."""
    avg_price_i: int | None
    slippage_i: int | None
    """Price given up per unit against the arrival mid; positive is worse for us."""
    slippage_ppm: int | None
    """``slippage_i`` in ppm of the arrival mid: 100 ppm = 1 bp."""
    maker_filled_i: int
    maker_ppm: int | None
    """Share of the filled size that rested (maker), in ppm; None before any fill."""
    reprices: int
    children: int
    first_fill_ms: int | None
    """From the start to the first fill."""
    last_fill_ms: int | None
    """From the start to the last fill."""
    fees_q: int
    """Fees paid (negative: rebates), in quote units."""

    def as_record(self) -> dict[str, Any]:
        """JSON-safe (ints and None), as the journal keeps it in the parent's params under ``report``."""
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ExecutionReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def build_report(
    *,
    is_ask: bool,
    target_i: int,
    started_ms: int,
    arrival_mid_i: int | None,
    fills: Iterable[Fill],
    reprices: int = 0,
    children: int = 0,
    filled_i: int | None = None,
    avg_price_i: int | None = None,
) -> ExecutionReport:
    """The report from the children's ``fills``.

    ``filled_i`` / ``avg_price_i``: the parent's own figures when it knows fills the list does not
    (a chase's ledger counts fills known only from an order's cumulative size); by default both
    come from the fills.  Fills with the same ``(client_order_index, trade_id)`` count once.
    """
    seen: set[tuple[int, str]] = set()
    size = notional = maker = fees = 0
    first = last = None
    for f in fills:
        key = (f.client_order_index, f.trade_id)
        if key in seen:
            continue
        seen.add(key)
        size += f.size_i
        notional += f.size_i * f.price_i
        fees += f.fee_q
        if f.is_maker:
            maker += f.size_i
        first = f.ts_ms if first is None else min(first, f.ts_ms)
        last = f.ts_ms if last is None else max(last, f.ts_ms)
    if filled_i is None:
        filled_i = size
    if avg_price_i is None and size > 0:
        avg_price_i = (2 * notional + size) // (2 * size)  # rounded half up, as the ledger does
    slip = slippage_i(is_ask, avg_price_i, arrival_mid_i)
    return ExecutionReport(
        target_i=target_i,
        filled_i=filled_i,
        arrival_mid_i=arrival_mid_i,
        avg_price_i=avg_price_i,
        slippage_i=slip,
        slippage_ppm=slippage_ppm(slip, arrival_mid_i),
        maker_filled_i=maker,
        maker_ppm=(maker * PPM // size) if size > 0 else None,
        reprices=reprices,
        children=children,
        first_fill_ms=None if first is None else max(0, first - started_ms),
        last_fill_ms=None if last is None else max(0, last - started_ms),
        fees_q=fees,
    )


def report_of(chase: Any) -> ExecutionReport:
    """A chase's report (``chase`` is a ``TrackingLimit``; its ledger's figures include fills known
    only from a child's cumulative size)."""
    return build_report(
        is_ask=chase.is_ask,
        target_i=chase.size_i,
        started_ms=chase.started_ms,
        arrival_mid_i=chase.arrival_mid_i,
        fills=(f for c in chase.children for f in c.fills),
        reprices=chase.reprices,
        children=len(chase.children),
        filled_i=chase.filled_i,
        avg_price_i=chase.avg_price_i,
    )
