"""The market list: every (venue, symbol) with its bid and ask, and where the list is wide enough
its last price and 24h change; arrows move, Enter switches.  A line of column names heads it and
each venue's markets sit under a line naming the venue.

A line-API widget like the ladder: quotes tick constantly, so rows are cached as strips and
only a row whose text changed is repainted.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.cache import FIFOCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from console import bindings
from console.widgets.ladder import blended_background

MarketKey = tuple[str, str]


def change_text(bps: int | None) -> str:
    """``+0.42%`` from basis points; empty when the venue gives no previous-day price."""
    if bps is None:
        return ""
    sign = "+" if bps > 0 else "-" if bps < 0 else " "
    return f"{sign}{abs(bps) // 100}.{abs(bps) % 100:02d}%"


ROW_CACHE = 512
"""Rendered rows kept for reuse, oldest dropped first.  A row comes back when a market's quote does: in a
3-minute soak 18% of lookups hit with 640 kept, 15% with 320 (19% when it was cleared once 2,048 were kept,
a sawtooth of up to 2,048 lines); about 60 lookups a second, so a miss costs little."""


class MarketList(Widget, can_focus=True):
    BINDINGS = bindings.FOR_MARKET_LIST

    COMPONENT_CLASSES = {"markets--cursor", "markets--selected", "markets--venue", "markets--bid", "markets--ask",
                         "markets--header"}

    DEFAULT_CSS = """
    MarketList { height: auto; min-height: 3; }
    MarketList > .markets--cursor { background: $foreground 8%; }
    MarketList:focus > .markets--cursor { background: $primary 30%; }
    MarketList > .markets--selected { text-style: bold; color: $accent; }
    MarketList > .markets--venue { color: $text-muted; }
    MarketList > .markets--bid { color: $price-up; }
    MarketList > .markets--ask { color: $price-down; }
    MarketList > .markets--header { color: $text-muted; text-style: bold; }
    """

    cursor = reactive(0, repaint=False)

    class Chosen(Message):
        def __init__(self, venue: str, symbol: str) -> None:
            super().__init__()
            self.venue = venue
            self.symbol = symbol

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.markets: list[MarketKey] = []
        self.selected: MarketKey | None = None
        self._quotes: dict[MarketKey, tuple[str, str, str, str]] = {}
        self._strips: FIFOCache[tuple, Strip] = FIFOCache(ROW_CACHE)
        self._lines: list[tuple[str, str] | MarketKey] = []
        """What each line shows: ``("", "")`` the column names, ``(venue, "")`` a venue's header, else a market."""
        self._line_of: dict[MarketKey, int] = {}

    def set_markets(self, markets: list[MarketKey], selected: MarketKey | None) -> None:
        venues = list(dict.fromkeys(v for v, _ in markets))
        self.markets = [m for v in venues for m in markets if m[0] == v]  # grouped under their venue
        self._lines = [("", "")]
        for venue in venues:
            self._lines.append((venue, ""))
            self._lines.extend(m for m in self.markets if m[0] == venue)
        self._line_of = {m: y for y, m in enumerate(self._lines) if m[1]}
        self.selected = selected
        if selected in self.markets:
            self.cursor = self.markets.index(selected)
        self.refresh(layout=True)

    def set_selected(self, key: MarketKey) -> None:
        self.selected = key
        if key in self.markets:
            self.cursor = self.markets.index(key)
        self.refresh()

    def update_quote(self, key: MarketKey, bid: str, ask: str, last: str = "-", change: str = "") -> None:
        quote = (bid, ask, last, change)
        if self._quotes.get(key) == quote:
            return
        self._quotes[key] = quote
        if key in self._line_of:
            self.refresh(Region(0, self._line_of[key], self.size.width, 1))
            self.refresh(Region(0, 0, self.size.width, 1))  # the column names follow the widest quote

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._lines))

    def watch_cursor(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        if self.markets:
            self.cursor = (self.cursor + delta) % len(self.markets)

    def action_choose(self) -> None:
        if self.markets:
            venue, symbol = self.markets[self.cursor]
            self.post_message(self.Chosen(venue, symbol))

    def on_click(self, event) -> None:
        y = event.y
        if 0 <= y < len(self._lines) and self._lines[y][1]:
            self.cursor = self.markets.index(self._lines[y])
            self.action_choose()

    def on_resize(self) -> None:
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        key = self._lines[y]
        if not key[1]:
            return self._header(key[0], width)
        quote = self._quotes.get(key, ("-", "-", "-", ""))
        row = (key, quote, key == self.markets[self.cursor], key == self.selected, self.has_focus, width)
        strip = self._strips.get(row)
        if strip is None:
            strip = self._render(row)
            self._strips[row] = strip
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _widths(self) -> tuple[int, int, int]:
        """(widest bid, widest ask, widest last) over the listed markets, for the column names."""
        quotes = [self._quotes.get(k, ("-", "-", "-", "")) for k in self.markets] or [("-", "-", "-", "")]
        return tuple(max(len(q[i]) for q in quotes) for i in range(3))  # type: ignore[return-value]

    def _header(self, venue: str, width: int) -> Strip:
        """The column names (``venue`` empty) or a venue's line, in the muted header style."""
        style = self.rich_style + self.get_component_rich_style("markets--header", partial=True)
        if venue:
            return Strip([Segment(venue, style)]).adjust_cell_length(width, self.rich_style).crop(0, width)
        room = width - 7
        bid_w, ask_w, last_w = self._widths()
        col = max(bid_w, ask_w, last_w) + 1
        if room >= 3 * col + 7:
            text = f"{'market':<7}{'bid':>{col}}{'ask':>{col}}{'last':>{col}}{'24h':>{room - 3 * col}}"
        elif room < 2 * max(bid_w, ask_w, 8) + 2:
            text = f"{'market':<7}{'bid':>{max(room, 1)}}"
        else:
            half = room // 2
            text = f"{'market':<7}{'bid':>{half}}{'ask':>{half}}"
        return Strip([Segment(text, style)]).adjust_cell_length(width, self.rich_style).crop(0, width)

    def _render(self, row: tuple) -> Strip:
        (_venue, symbol), (bid, ask, last, change), is_cursor, is_selected, _, width = row
        base = self.rich_style
        if is_cursor:
            base = base + blended_background(self, "markets--cursor")
        name_style = base + self.get_component_rich_style("markets--selected", partial=True) if is_selected else base
        label = f"{'▸' if is_selected else ' '}{symbol:<6}"
        segments = [Segment(label, name_style)]
        room = width - sum(s.cell_length for s in segments)
        bid_style = base + self.get_component_rich_style("markets--bid", partial=True)
        col = max(len(bid), len(ask), len(last)) + 1
        if room >= 3 * col + 7:
            # wide: bid, ask, last and the 24h change coloured by its sign
            up = change.startswith("+")
            change_style = base + self.get_component_rich_style(
                "markets--bid" if up else "markets--ask" if change.startswith("-") else "markets--venue", partial=True
            )
            segments.append(Segment(f"{bid:>{col}}", bid_style))
            segments.append(Segment(f"{ask:>{col}}", base + self.get_component_rich_style("markets--ask", partial=True)))
            segments.append(Segment(f"{last:>{col}}", base))
            segments.append(Segment(f"{change or '-':>{room - 3 * col}}", change_style))
        elif room < 2 * max(len(bid), len(ask), 8) + 2:
            # narrow: the bid alone (a trader's reference on the way in)
            segments.append(Segment(f"{bid:>{max(room, 1)}}", bid_style))
        else:
            col = room // 2
            segments.append(Segment(f"{bid:>{col}}", bid_style))
            segments.append(Segment(f"{ask:>{col}}", base + self.get_component_rich_style("markets--ask", partial=True)))
        return Strip(segments).adjust_cell_length(width, base).crop(0, width)
