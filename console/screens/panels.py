"""What each panel of the main screen shows, built from the runtime's services as plain rows and text.

No widget here: ``MainScreen`` decides when a panel is repainted and hands these rows to it, so
what a panel says can be read (and tested) apart from when it is painted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.interface import Fill
from connector.scaling import rescale, scaled_to_str
from console.formatting import clock_text, money
from console.funding_text import countdown_text, funding_rate_text, liq_distance_text
from console.widgets.ladder import LadderData
from console.widgets.market_list import change_text
from execution.orders import order_name
from execution.position_service import liquidation_distance_ppm

if TYPE_CHECKING:
    from execution.leverage import LeverageService
    from execution.market import MarketDataService
    from execution.orders import Order, OrderService
    from execution.position_service import PositionService
    from execution.tracking import ChaseEvent, TrackingLimit

Row = tuple[str, ...]

ORDER_COLUMNS = [
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("kind", "Type"),
    ("price", "Price"),
    ("size", "Size"),
    ("filled", "Filled"),
    ("state", "State"),
    ("flags", "Flags"),
    ("id", "Order id"),
]
POSITION_COLUMNS = [
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("size", "Size"),
    ("entry", "Entry"),
    ("mark", "Mark"),
    ("funding", "Funding"),
    ("next", "Next"),
    ("upnl", "uPnL"),
    ("rpnl", "rPnL"),
    ("liq", "Liq."),
    ("liq_pct", "Liq %"),
    ("lev", "Lev."),
]
POSITION_COLUMNS_NARROW = ("symbol", "side", "size", "mark", "funding", "next", "upnl", "liq_pct")
"""What the Positions tab keeps on a narrow terminal (80 columns): Entry, rPnL and the liquidation price fold."""
LOG_COLUMNS = [("time", "Time"), ("kind", "Kind"), ("venue", "Venue"), ("message", "What happened")]
FILL_COLUMNS = [
    ("time", "Time"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("price", "Price"),
    ("size", "Size"),
    ("fee", "Fee"),
    ("role", "Role"),
]
LADDER_DEPTH = 40


def ladder_data(md: MarketDataService, orders: OrderService, venue: str, symbol: str) -> LadderData:
    """The book's top levels, with our own resting limit orders summed per price."""
    info = md.market(venue, symbol)
    book = md.book(venue, symbol)
    own_bids: dict[int, int] = {}
    own_asks: dict[int, int] = {}
    for o in orders.open_orders(venue, symbol):
        if o.kind == "limit":
            side = own_asks if o.is_ask else own_bids
            side[o.price_i] = side.get(o.price_i, 0) + o.remaining_i
    return LadderData(
        bids=book.bids(LADDER_DEPTH),
        asks=book.asks(LADDER_DEPTH),
        price_decimals=info.price_decimals,
        size_decimals=info.size_decimals,
        own_bids=own_bids,
        own_asks=own_asks,
    )


STALE_WORDS = "STALE: do not trust this book"


def ladder_title(symbol: str, venue: str, stale: bool, width: int) -> str:
    """The ladder's border title; a stale book says so in as many words as the border has room for."""
    title = f"{symbol} · {venue}"
    if not stale:
        return title
    for text in (f"{title} · {STALE_WORDS}", f"{symbol} · {STALE_WORDS}", f"{symbol} · STALE: do not trust",
                 f"{symbol} STALE"):
        if width <= 0 or len(text) <= width - 4:
            return text
    return "STALE"


def top_text(md: MarketDataService, venue: str, symbol: str, width: int) -> str:
    """The touch above the ladder, as much of it as fits in ``width`` (0: no limit)."""
    book = md.book(venue, symbol)
    bb, ba = book.best_bid(), book.best_ask()
    if bb is None or ba is None:
        return f"{symbol}  waiting for both sides of the book"
    fp, fs = md.format_price, md.format_size
    mid = md.mid_i(venue, symbol)
    short = f"{fs(venue, symbol, bb[1])} @ {fp(venue, symbol, bb[0])} │ {fp(venue, symbol, ba[0])} @ {fs(venue, symbol, ba[1])}"
    change = change_text(md.change_bps(venue, symbol))
    day = f"  24h {change}" if change else ""
    for text in (f"{short}  mid {fp(venue, symbol, mid)}{day}", f"{short}{day}", short):
        if width <= 0 or len(text) <= width:
            return text
    return f"{fp(venue, symbol, bb[0])} │ {fp(venue, symbol, ba[0])}"


def cross_venue_text(md: MarketDataService, venue: str, symbol: str) -> str:
    """The same canonical market on the other venues: their touch and how far their mid is from ours."""
    here = md.mid_i(venue, symbol)
    pd_here = md.market(venue, symbol).price_decimals
    parts = []
    for other in md.venues():
        if other == venue or symbol not in md.symbols(other):
            continue
        bid, ask = md.top_of_book(other, symbol)
        mid = md.mid_i(other, symbol)
        if bid is None or ask is None or mid is None or not here:
            parts.append(f"{other}: no book")
            continue
        pd = max(pd_here, md.market(other, symbol).price_decimals)
        diff = rescale(mid, md.market(other, symbol).price_decimals, pd) - rescale(here, pd_here, pd)
        bps10 = diff * 100_000 // rescale(here, pd_here, pd)
        sign = "+" if diff >= 0 else "-"
        parts.append(
            f"{other} {md.format_price(other, symbol, bid)} │ {md.format_price(other, symbol, ask)}  "
            f"mid {sign}{scaled_to_str(abs(diff), pd)} ({sign}{abs(bps10) / 10:.1f} bp)"
        )
    return "   ".join(parts)


NOT_LOADED = "venue not loaded"
"""An order the journal holds for a venue this run did not load: shown and kept, never resolved here."""


def is_market(o: Order) -> bool:
    """A market order, or one the venue placed for us without a price: a native trigger's child is
    adopted from the order stream as a limit whose price is 0 when it is a market order (a
    ``*_limit`` trigger's child carries its limit, and shows it)."""
    return o.kind != "limit" or o.price_i <= 0


def order_rows(md: MarketDataService, orders: OrderService) -> dict[str, Row]:
    """Every open order, keyed ``venue:client_order_index``."""
    rows = {}
    loaded = set(md.venues())
    for o in orders.open_orders():
        if o.venue not in loaded:
            flags = " ".join(f for f, on in (("po", o.post_only), ("ro", o.reduce_only)) if on)
            state = f"{o.state.value} ({o.venue}: {NOT_LOADED})"
            what = (o.symbol, "SELL" if o.is_ask else "BUY", o.kind, "?", "?", "?")  # no decimals without the venue
            rows[f"{o.venue}:{o.client_order_index}"] = (*what, state, flags, order_name(o))
            continue
        rows[f"{o.venue}:{o.client_order_index}"] = (
            o.symbol,
            "SELL" if o.is_ask else "BUY",
            "market" if is_market(o) else o.kind,
            "market" if is_market(o) else md.format_price(o.venue, o.symbol, o.price_i),
            md.format_size(o.venue, o.symbol, o.size_i),
            md.format_size(o.venue, o.symbol, o.filled_i),
            str(o.state.value),
            " ".join(f for f, on in (("po", o.post_only), ("ro", o.reduce_only)) if on),
            order_name(o),
        )
    return rows


def describe_order(md: MarketDataService, o: Order) -> str:
    side = "SELL" if o.is_ask else "BUY"
    if o.venue not in md.venues():
        return f"{side} {o.symbol} on {o.venue} ({NOT_LOADED})"
    size = md.format_size(o.venue, o.symbol, o.size_i)
    price = " at market" if is_market(o) else f" @ {md.format_price(o.venue, o.symbol, o.price_i)}"
    return f"{side} {size} {o.symbol}{price}"


def fill_row(md: MarketDataService, venue: str, symbol: str, f: Fill) -> Row:
    price = md.format_price(venue, symbol, f.price_i)
    size = md.format_size(venue, symbol, f.size_i)
    side = "SELL" if f.is_ask else "BUY"
    return (clock_text(f.ts_ms), symbol, side, price, size, money(f.fee_q), "maker" if f.is_maker else "taker")


def fill_notice(md: MarketDataService, venue: str, symbol: str, f: Fill) -> str:
    side = "SELL" if f.is_ask else "BUY"
    return f"Filled {side} {md.format_size(venue, symbol, f.size_i)} {symbol} @ {md.format_price(venue, symbol, f.price_i)}"


def position_rows(
    md: MarketDataService, positions: PositionService, now_ms: int, leverage: LeverageService | None = None
) -> dict[str, Row]:
    """Every open position, keyed ``venue:symbol``, PnL at the current mid; Mark is the venue's mark
    where it publishes funding (else the mid), and Next counts down on ``now_ms`` (the injected clock);
    Lev. is the leverage and margin mode (``"5x iso"``, ``"20x cross"``) where known, else ``-``."""
    rows = {}
    fp = md.format_price
    for p in positions.positions():
        venue, symbol = p.venue, p.symbol
        f = positions.funding(venue, symbol)
        mark = f.mark_price_i if f is not None and f.mark_price_i else p.mark_price_i
        rows[f"{venue}:{symbol}"] = (
            symbol,
            "LONG" if p.size_i > 0 else "SHORT",
            md.format_size(venue, symbol, abs(p.size_i)),
            fp(venue, symbol, p.entry_price_i) if p.entry_price_i else "-",
            fp(venue, symbol, mark) if mark else "-",
            funding_rate_text(f.rate_e8, f.interval_ms) if f is not None else "-",
            countdown_text(f.ms_to_next(now_ms)) if f is not None else "-",
            money(p.unrealized_pnl_q),
            money(p.realized_pnl_q),
            fp(venue, symbol, p.liquidation_price_i) if p.liquidation_price_i else "-",
            liq_distance_text(liquidation_distance_ppm(p.liquidation_price_i, mark)),
            leverage_text(leverage, venue, symbol),
        )
    return rows


def leverage_text(leverage: LeverageService | None, venue: str, symbol: str) -> str:
    known = leverage.get(venue, symbol) if leverage is not None else None
    return known.short if known is not None else "-"


def margin_text(md: MarketDataService, positions: PositionService) -> str:
    """Each venue's account, or a line saying the venue has not reported it yet."""
    lines = []
    for venue in md.venues():
        if positions.margin(venue) is None:
            lines.append(f"{venue}: no account data yet")
            continue
        a = positions.account(venue)
        ratio = f"{a.margin_ratio_bps / 100:.1f}%" if a.margin_ratio_bps is not None else "-"
        lev = f"{a.leverage_bps / 10_000:.2f}x" if a.leverage_bps is not None else "-"
        lines.append(
            f"{venue}\n"
            f"equity     {money(a.equity_q):>14}\n"
            f"collateral {money(a.collateral_q):>14}\n"
            f"used       {money(a.used_q):>14}\n"
            f"available  {money(a.available_q):>14}\n"
            f"maint.     {money(a.maintenance_q):>14}\n"
            f"margin ratio {ratio:>7}  lev {lev}"
        )
    return "\n".join(lines)


def margin_compact_text(md: MarketDataService, positions: PositionService) -> str:
    """The margin panel folded for a short terminal: per venue its ratio, equity and available margin."""
    lines = []
    for venue in md.venues():
        if positions.margin(venue) is None:
            lines.append(f"{venue}: no account data yet")
            continue
        a = positions.account(venue)
        ratio = f"{a.margin_ratio_bps / 100:.1f}%" if a.margin_ratio_bps is not None else "-"
        lines.append(f"{venue} · margin ratio {ratio}\neq {money(a.equity_q)} av {money(a.available_q)}")
    return "\n".join(lines)


def chase_notice(md: MarketDataService, chase: TrackingLimit, event: ChaseEvent) -> tuple[str, str]:
    """(message, severity) for a chase that ended, reached its limit or failed."""
    severity = "warning" if event.kind in ("ended", "limit_reached") else "error"
    message = event.message
    if event.kind == "ended":
        reason = chase.end_reason.value if chase.end_reason is not None else "ended"
        if reason == "filled":
            severity = "information"
        avg = chase.avg_price_i
        message = (
            f"ended ({reason}): {md.format_size(chase.venue, chase.symbol, chase.filled_i)}/"
            f"{md.format_size(chase.venue, chase.symbol, chase.size_i)}"
            + (f" avg {md.format_price(chase.venue, chase.symbol, avg)}" if avg else "")
        )
    elif event.kind == "limit_reached" and chase.params.limit_price_i:
        message = f"at its limit {md.format_price(chase.venue, chase.symbol, chase.params.limit_price_i)}"
    return message, severity
