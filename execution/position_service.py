"""Positions, PnL and margin per venue, kept from fills and checked against the venue.

Fills move our position as they arrive (the UI sees a fill at once); the venue's own
position snapshots are the truth and win whenever they disagree, and each
disagreement is recorded and announced so the operator knows fills went missing.

Arithmetic is integer throughout.  A position keeps its exact cost in *notional
units* (``price_i * size_i``, i.e. ``price_decimals + size_decimals`` decimals):

* entry price = cost / |size|, rounded to the nearest price unit (halves away from zero);
* closing ``q`` of a position of ``|size|`` removes ``cost * q / |size|`` of the cost,
  rounded the same way (the remainder stays in the cost, so nothing drifts);
* realized PnL accumulates exactly in notional units; every figure reported in quote
  units (``_q``, ``QUOTE_DECIMALS``) is converted once, on read, rounding toward zero;
* ratios are integer basis points (``leverage_bps`` 25_000 = 2.5×).

Realized PnL is gross of fees; fees are reported beside it (``fees_q``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from connector.interface import QUOTE_DECIMALS, Fill, FundingSnapshot, Margin, Position
from connector.scaling import rescale
from execution.listeners import Listeners
from execution.market import MarketDataService

log = logging.getLogger(__name__)

BPS = 10_000
SEEN_TRADE_IDS = 10_000
"""Trade ids remembered per venue for de-duplication (oldest forgotten first): five times the longest
replay a venue sends (Hyperliquid's ``userFills`` snapshot, up to 2,000 fills; Binance's ``userTrades``
read-back, 1,000 a symbol), about a megabyte at most (100,000 was ten, never needed)."""
KEPT_DISCREPANCIES = 1_000
ENTRY_TOLERANCE_PPM = 100
"""An entry price within 1 bp of ours (or one price unit) is the venue's rounding, not a discrepancy:
Hyperliquid, for one, reports ``entryPx`` to five significant figures while ours comes from the fills."""

PositionListener = Callable[[str, "str | None"], None]
"""``(venue, symbol)`` after a position changed, ``(venue, None)`` after the margin changed."""
FillListener = Callable[[str, str, Fill], None]
"""``(venue, canonical symbol, fill)`` for each fill seen for the first time (duplicates are dropped)."""


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position as the UI shows it; PnL in quote units at the current mark."""

    venue: str
    symbol: str
    size_i: int
    entry_price_i: int | None
    mark_price_i: int | None
    unrealized_pnl_q: int
    realized_pnl_q: int
    fees_q: int
    notional_q: int
    """|size| × mark in quote units (0 without a mark)."""
    liquidation_price_i: int | None = None
    margin_q: int = 0

    @property
    def is_flat(self) -> bool:
        return self.size_i == 0


@dataclass(frozen=True, slots=True)
class FundingView:
    """A market's funding as its venue last published it (capability ``"funding"``), canonical symbol."""

    venue: str
    symbol: str
    rate_e8: int
    """The rate per funding interval in 1e-8 units (``FUNDING_RATE_DECIMALS``); positive: longs pay shorts."""
    interval_ms: int
    next_funding_ms: int | None
    mark_price_i: int | None
    ts_ms: int

    def ms_to_next(self, now_ms: int) -> int | None:
        """Milliseconds until the next settlement (0 once due), None when the venue did not say."""
        return None if self.next_funding_ms is None else max(0, self.next_funding_ms - now_ms)


def liquidation_distance_ppm(liquidation_price_i: int | None, mark_price_i: int | None) -> int | None:
    """The move from the mark to the liquidation price, signed, in parts per million of the mark
    (a long liquidated 12.5 % lower: -125_000); None when either price is unknown."""
    if not liquidation_price_i or not mark_price_i:
        return None
    return _div_round((liquidation_price_i - mark_price_i) * 1_000_000, mark_price_i)


@dataclass(frozen=True, slots=True)
class AccountView:
    """One venue's account; ``None`` ratios when equity is not positive."""

    venue: str
    collateral_q: int
    equity_q: int
    """Collateral plus unrealized PnL at our marks."""
    used_q: int
    maintenance_q: int
    available_q: int
    notional_q: int
    margin_ratio_bps: int | None
    """Maintenance margin / equity: liquidation nears as it approaches 10_000."""
    leverage_bps: int | None
    """Position notional / equity."""


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """The venue's snapshot disagreed with what our fills implied; the venue's figure was adopted."""

    venue: str
    symbol: str
    field: str
    """``"size"`` or ``"entry_price"``."""
    ours: int | None
    venue_value: int | None
    ts_ms: int

    def describe(self) -> str:
        return f"{self.venue} {self.symbol}: {self.field} was {self.ours} from fills, venue says {self.venue_value}"


class _Pos:
    __slots__ = ("cost_n", "fees_q", "last_fill_ts", "last_snapshot_ts", "realized_n", "size_i", "venue_position")

    def __init__(self) -> None:
        self.size_i = 0
        self.cost_n = 0
        """Signed like size: exact price_i × size_i paid for the open position."""
        self.realized_n = 0
        self.fees_q = 0
        self.last_fill_ts = 0
        self.last_snapshot_ts = 0
        self.venue_position: Position | None = None


class PositionService:
    """``ingest(venue, event)`` for Fill, Position and Margin events; read with ``position``/``account``."""

    def __init__(self, market_data: MarketDataService) -> None:
        self.market_data = market_data
        self._positions: dict[tuple[str, str], _Pos] = {}
        self._margins: dict[str, Margin] = {}
        self._funding: dict[tuple[str, str], FundingView] = {}
        self._seen: dict[str, dict[str, None]] = {}
        self._listeners: Listeners[[str, str | None]] = Listeners("position")
        self._fill_listeners: Listeners[[str, str, Fill]] = Listeners("fill")
        self._discrepancy_listeners: Listeners[[Discrepancy]] = Listeners("discrepancy")
        self.discrepancies: list[Discrepancy] = []
        self.duplicate_fills = 0
        self.unknown_symbol_events = 0
        self.fills_in_snapshot = 0
        """Fills older than the venue snapshot already applied: counted for fees only."""
        self.stale_snapshots = 0

    # -- events -----------------------------------------------------------------------------

    def ingest(self, venue: str, event: Fill | Position | Margin | FundingSnapshot) -> None:
        if isinstance(event, FundingSnapshot):
            self._on_funding(venue, event)
        elif isinstance(event, Fill):
            self._on_fill(venue, event)
        elif isinstance(event, Position):
            self._on_position(venue, event)
        elif isinstance(event, Margin):
            self._margins[venue] = event
            self._notify(venue, None)

    def _symbol(self, venue: str, venue_symbol: str) -> str | None:
        try:
            return self.market_data.canonical(venue, venue_symbol)
        except KeyError:
            self.unknown_symbol_events += 1
            log.warning("%s: position event for unknown market %r dropped", venue, venue_symbol)
            return None

    def _on_fill(self, venue: str, fill: Fill) -> None:
        seen = self._seen.setdefault(venue, {})
        if fill.trade_id:
            if fill.trade_id in seen:
                self.duplicate_fills += 1
                return
            seen[fill.trade_id] = None
            if len(seen) > SEEN_TRADE_IDS:
                del seen[next(iter(seen))]
        symbol = self._symbol(venue, fill.symbol)
        if symbol is None:
            return
        pos = self._positions.setdefault((venue, symbol), _Pos())
        pos.fees_q += fill.fee_q
        if pos.last_snapshot_ts and fill.ts_ms and fill.ts_ms < pos.last_snapshot_ts:
            # the venue's position already includes this fill
            self.fills_in_snapshot += 1
        else:
            pos.last_fill_ts = max(pos.last_fill_ts, fill.ts_ms)
            _apply_fill(pos, -fill.size_i if fill.is_ask else fill.size_i, fill.price_i)
        self._fill_listeners.emit(venue, symbol, fill)
        self._notify(venue, symbol)

    def _on_position(self, venue: str, snap: Position) -> None:
        symbol = self._symbol(venue, snap.symbol)
        if symbol is None:
            return
        pos = self._positions.setdefault((venue, symbol), _Pos())
        if snap.ts_ms and pos.last_fill_ts and snap.ts_ms < pos.last_fill_ts:
            # older than a fill we already applied: it would undo that fill
            self.stale_snapshots += 1
            return
        pos.venue_position = snap
        pos.last_snapshot_ts = max(pos.last_snapshot_ts, snap.ts_ms)
        ours_entry = _entry(pos)
        if snap.size_i != pos.size_i:
            self._report(Discrepancy(venue, symbol, "size", pos.size_i, snap.size_i, snap.ts_ms))
        elif snap.size_i and ours_entry is not None and abs(ours_entry - snap.entry_price_i) > _entry_tolerance(ours_entry):
            self._report(Discrepancy(venue, symbol, "entry_price", ours_entry, snap.entry_price_i, snap.ts_ms))
        else:
            self._notify(venue, symbol)
            return
        pos.size_i = snap.size_i
        pos.cost_n = snap.entry_price_i * snap.size_i
        self._notify(venue, symbol)

    def _on_funding(self, venue: str, snap: FundingSnapshot) -> None:
        """Kept for reading; no listener is called (the positions panel re-reads on its own timer)."""
        try:
            symbol = self.market_data.canonical(venue, snap.symbol)
        except KeyError:
            return  # a market we do not list: funding for it is of no use here
        self._funding[(venue, symbol)] = FundingView(
            venue, symbol, snap.rate_e8, snap.interval_ms, snap.next_funding_ms, snap.mark_price_i, snap.ts_ms
        )

    def _report(self, discrepancy: Discrepancy) -> None:
        log.warning("position discrepancy: %s", discrepancy.describe())
        self.discrepancies.append(discrepancy)
        if len(self.discrepancies) > KEPT_DISCREPANCIES:  # the log has them all; a long session's memory stays flat
            del self.discrepancies[: len(self.discrepancies) - KEPT_DISCREPANCIES]
        self._discrepancy_listeners.emit(discrepancy)

    def _notify(self, venue: str, symbol: str | None) -> None:
        self._listeners.emit(venue, symbol)

    # -- reading ----------------------------------------------------------------------------

    def position(self, venue: str, symbol: str) -> PositionView:
        """A flat view when nothing was ever traded on that market."""
        pos = self._positions.get((venue, symbol)) or _Pos()
        return self._view(venue, symbol, pos)

    def positions(self, venue: str | None = None, *, include_flat: bool = False) -> list[PositionView]:
        return [
            self._view(v, s, pos)
            for (v, s), pos in self._positions.items()
            if (venue is None or v == venue) and (include_flat or pos.size_i)
        ]

    def size_i(self, venue: str, symbol: str) -> int:
        """Signed position size (cheap: no PnL computed)."""
        pos = self._positions.get((venue, symbol))
        return pos.size_i if pos is not None else 0

    def funding(self, venue: str, symbol: str) -> FundingView | None:
        """The market's funding as the venue last published it; None where the venue has no
        ``"funding"`` capability or has not said yet."""
        return self._funding.get((venue, symbol))

    def margin(self, venue: str) -> Margin | None:
        """The venue's last margin snapshot as it sent it."""
        return self._margins.get(venue)

    def account(self, venue: str) -> AccountView:
        margin = self._margins.get(venue)
        views = self.positions(venue)
        upnl_q = sum(v.unrealized_pnl_q for v in views)
        notional_q = sum(v.notional_q for v in views)
        if margin is None:
            collateral_q = used_q = maintenance_q = 0
        else:
            collateral_q, used_q, maintenance_q = margin.collateral_q, margin.used_q, margin.maintenance_q
        equity_q = collateral_q + upnl_q
        positive = equity_q > 0
        return AccountView(
            venue=venue,
            collateral_q=collateral_q,
            equity_q=equity_q,
            used_q=used_q,
            maintenance_q=maintenance_q,
            available_q=max(0, equity_q - used_q),
            notional_q=notional_q,
            margin_ratio_bps=maintenance_q * BPS // equity_q if positive else None,
            leverage_bps=notional_q * BPS // equity_q if positive else None,
        )

    def _view(self, venue: str, symbol: str, pos: _Pos) -> PositionView:
        info = self.market_data.market(venue, symbol)
        n_decimals = info.price_decimals + info.size_decimals
        mark = self.market_data.mid_i(venue, symbol)
        snap = pos.venue_position
        if mark is None and snap is not None and snap.mark_price_i:
            mark = snap.mark_price_i
        upnl_n = mark * pos.size_i - pos.cost_n if mark is not None and pos.size_i else 0
        return PositionView(
            venue=venue,
            symbol=symbol,
            size_i=pos.size_i,
            entry_price_i=_entry(pos),
            mark_price_i=mark,
            unrealized_pnl_q=rescale(upnl_n, n_decimals, QUOTE_DECIMALS),
            realized_pnl_q=rescale(pos.realized_n, n_decimals, QUOTE_DECIMALS),
            fees_q=pos.fees_q,
            notional_q=rescale(abs(pos.size_i) * mark, n_decimals, QUOTE_DECIMALS) if mark is not None else 0,
            liquidation_price_i=snap.liquidation_price_i if snap is not None and pos.size_i else None,
            margin_q=snap.margin_q if snap is not None and pos.size_i else 0,
        )

    # -- listeners --------------------------------------------------------------------------

    def add_listener(self, listener: PositionListener) -> None:
        """Called on fills and venue snapshots, not on mark moves: the UI re-reads PnL on its own timer."""
        self._listeners.add(listener)

    def remove_listener(self, listener: PositionListener) -> None:
        self._listeners.remove(listener)

    def add_fill_listener(self, listener: FillListener) -> None:
        """Each new fill once, with its canonical symbol (the console's Fills tab), after the position moved."""
        self._fill_listeners.add(listener)

    def remove_fill_listener(self, listener: FillListener) -> None:
        self._fill_listeners.remove(listener)

    def add_discrepancy_listener(self, listener: Callable[[Discrepancy], None]) -> None:
        self._discrepancy_listeners.add(listener)


def _div_round(num: int, den: int) -> int:
    """num / den to the nearest integer, halves away from zero (den > 0)."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def _entry(pos: _Pos) -> int | None:
    if not pos.size_i:
        return None
    return _div_round(pos.cost_n if pos.size_i > 0 else -pos.cost_n, abs(pos.size_i))


def _apply_fill(pos: _Pos, delta_i: int, price_i: int) -> None:
    """Move the position by signed ``delta_i`` at ``price_i``, realizing PnL on the part that closes."""
    size = pos.size_i
    if size == 0 or (size > 0) == (delta_i > 0):
        pos.size_i = size + delta_i
        pos.cost_n += price_i * delta_i
        return
    closing = min(abs(delta_i), abs(size))
    removed = pos.cost_n if closing == abs(size) else _div_round(pos.cost_n * closing, abs(size))
    sign = 1 if size > 0 else -1
    pos.realized_n += sign * price_i * closing - removed
    pos.cost_n -= removed
    pos.size_i = size + delta_i
    if abs(delta_i) > closing:  # flipped through zero: the rest opens at the fill price
        pos.cost_n = price_i * pos.size_i


def _entry_tolerance(entry_i: int) -> int:
    return max(1, abs(entry_i) * ENTRY_TOLERANCE_PPM // 1_000_000)
