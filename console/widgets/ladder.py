"""The depth ladder: a line-API widget, because the book changes far more often than a screen can show.

Each row is described by a small tuple (side, price, size, cumulative, our size, bar width); a
row whose tuple did not change keeps its cached ``Strip`` and is not repainted.  Only the rows that
changed are refreshed, so a busy book costs a few lines a frame, not the whole panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from connector.scaling import scaled_to_str

Row = tuple
"""(kind, price_i, size_i, cum_i, own_i, bar_cells, mark) or (kind, text) for header/spread rows; ``mark`` is
a protective order's level nearest this row (``stop``/``take-profit``, ``~`` suffix when emulated) or ""."""

FULL_COLUMNS = (9, 11, 10, 11)
"""(our size, price, size, cumulative) widths; the bar takes what is left."""
COMPACT_COLUMNS = (2, 9, 8, 8)
"""For narrow terminals: our orders shown only as a marker."""
MAX_BAR = 48
ROW_CACHE = 512
"""Rendered rows kept for reuse, oldest dropped first.  A row comes back only when its level does (same
price, size, total and bar): in a 3-minute soak 3.6% of lookups hit, the same from 160 rows kept to 4,096,
so keeping more buys nothing; 512 leaves room for a ladder 120 rows tall.  (It was cleared once 4,096 were
kept: a sawtooth of up to 4,096 lines, ~5 MB, that set the heap's high-water mark.)"""


def columns_for(width: int) -> tuple[int, int, int, int]:
    return FULL_COLUMNS if width >= sum(FULL_COLUMNS) + 1 else COMPACT_COLUMNS


@dataclass(slots=True)
class LadderData:
    """What the ladder shows; built by the bridge from the book and our open orders."""

    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
    price_decimals: int
    size_decimals: int
    own_bids: dict[int, int] = field(default_factory=dict)
    own_asks: dict[int, int] = field(default_factory=dict)
    marks: dict[int, str] = field(default_factory=dict)
    """Trigger price -> ``stop`` / ``take-profit`` (``~`` when emulated), shown on the nearest level in view."""


class DepthLadder(Widget):
    """Asks above, bids below, best prices meeting at the spread line in the middle."""

    COMPONENT_CLASSES = {
        "ladder--header",
        "ladder--bid",
        "ladder--ask",
        "ladder--bid-bar",
        "ladder--ask-bar",
        "ladder--own",
        "ladder--spread",
        "ladder--stop",
        "ladder--take-profit",
    }

    DEFAULT_CSS = """
    DepthLadder { height: 1fr; min-height: 5; }
    DepthLadder > .ladder--header { color: $text-muted; text-style: bold; }
    DepthLadder > .ladder--bid { color: $price-up; }
    DepthLadder > .ladder--ask { color: $price-down; }
    DepthLadder > .ladder--bid-bar { background: $depth-bar-bid; }
    DepthLadder > .ladder--ask-bar { background: $depth-bar-ask; }
    DepthLadder > .ladder--own { color: $own-order; text-style: bold; }
    DepthLadder > .ladder--spread { color: $text-muted; }
    DepthLadder > .ladder--stop { color: $stop; text-style: bold; }
    DepthLadder > .ladder--take-profit { color: $take-profit; text-style: bold; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._data: LadderData | None = None
        self._rows: list[Row] = []
        self._rows_size = Size(0, 0)
        """The size ``_rows`` were built for: the first frame after a layout builds them if its Resize has
        not arrived yet (Textual composes that frame before the widget hears of its new size)."""
        self._strips: FIFOCache[Row, Strip] = FIFOCache(ROW_CACHE)
        self._styles: dict[str, Style] | None = None
        """The rich styles rows are drawn with, worked out once per style change (not per row)."""
        self.repainted_rows = 0
        """How many rows were re-rendered (not served from the cache): a test and bench figure."""

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self._strips.clear()
        self._styles = None
        self.refresh()

    def notify_style_update(self) -> None:
        self._styles = None
        self._strips.clear()
        super().notify_style_update()

    def on_resize(self) -> None:
        if self._rows_size != self.size:  # (else its first frame has built them already)
            self._layout_rows(full=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(5, container.height)

    def update_book(self, data: LadderData | None) -> None:
        """New book state: rebuild row tuples, repaint only the rows that changed."""
        old = self._data
        if old is not None and data is not None and (old.price_decimals, old.size_decimals) != (
            data.price_decimals,
            data.size_decimals,
        ):
            self._strips.clear()
        self._data = data
        self._layout_rows(full=False)

    def _layout_rows(self, *, full: bool, repaint: bool = True) -> None:
        size = self.size
        height, width = size.height, size.width
        if size != self._rows_size:
            if width != self._rows_size.width:
                self._strips.clear()  # a row's strip is as wide as the widget
            self._rows_size = size
            full = True
        rows = self._build_rows(height, width)
        old = self._rows
        self._rows = rows
        if not repaint:
            return
        if full or len(old) != len(rows):
            self.refresh()
            return
        for y, (a, b) in enumerate(zip(old, rows, strict=True)):
            if a != b:
                self.refresh(Region(0, y, width, 1))

    def _build_rows(self, height: int, width: int) -> list[Row]:
        if height <= 0:
            return []
        data = self._data
        rows: list[Row] = [("header",)]
        if data is None:
            rows.append(("spread", "waiting for the book…"))
            return rows + [("blank",)] * (height - 2)
        per_side = max(1, (height - 2) // 2)
        asks = data.asks[:per_side]
        bids = data.bids[:per_side]
        bar_w = min(width - sum(columns_for(width)) - 1, MAX_BAR)
        bar_w = bar_w if bar_w >= 4 else 0
        biggest = max([s for _, s in asks] + [s for _, s in bids] + [1])

        def side_rows(levels: list[tuple[int, int]], kind: str, own: dict[int, int]) -> list[Row]:
            out: list[Row] = []
            cum = 0
            for price_i, size_i in levels:
                cum += size_i
                bar = (size_i * bar_w + biggest - 1) // biggest if bar_w else 0
                out.append((kind, price_i, size_i, cum, own.get(price_i, 0), bar, ""))
            return out

        ask_rows = side_rows(asks, "ask", data.own_asks)
        ask_rows.reverse()
        pad_top = per_side - len(ask_rows)
        rows.extend([("blank",)] * pad_top)
        rows.extend(ask_rows)
        if asks and bids:
            spread = asks[0][0] - bids[0][0]
            rows.append(("spread", f"spread {scaled_to_str(spread, data.price_decimals)}"))
        else:
            rows.append(("spread", "one-sided book"))
        rows.extend(side_rows(bids, "bid", data.own_bids))
        rows.extend([("blank",)] * (height - len(rows)))
        rows = rows[:height]
        if data.marks:
            _place_marks(rows, data.marks)
        return rows

    def render_line(self, y: int) -> Strip:
        if self.size != self._rows_size:  # laid out anew, its Resize still to come: the rows for this size now
            self._layout_rows(full=True, repaint=False)  # (this frame is being drawn)
        width = self.size.width
        if y >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[y]
        strip = self._strips.get(row)
        if strip is None:
            strip = self._render_row(row, width)
            self._strips[row] = strip
            self.repainted_rows += 1
        return strip

    def _row_styles(self) -> dict[str, Style]:
        styles = self._styles
        if styles is None:
            base = self.rich_style
            part = lambda name: base + self.get_component_rich_style(name, partial=True)  # noqa: E731
            styles = self._styles = {
                "base": base,
                "bid": part("ladder--bid"),
                "ask": part("ladder--ask"),
                "own": part("ladder--own"),
                "stop": part("ladder--stop"),
                "take-profit": part("ladder--take-profit"),
                "bid-bar": base + blended_background(self, "ladder--bid-bar"),
                "ask-bar": base + blended_background(self, "ladder--ask-bar"),
            }
        return styles

    def _render_row(self, row: Row, width: int) -> Strip:
        kind = row[0]
        if kind in ("bid", "ask"):
            return self._render_level(row, width)
        base = self.rich_style
        if kind == "blank":
            return Strip.blank(width, base)
        if kind == "header":
            style = base + self.get_component_rich_style("ladder--header", partial=True)
            own_w, price_w, size_w, cum_w = columns_for(width)
            mine = "mine" if own_w > 4 else ""
            text = f"{mine:>{own_w - 1}} {'price':>{price_w}}{'size':>{size_w}}{'cum':>{cum_w}} "
            return Strip([Segment(text[:width], style)]).adjust_cell_length(width, base)
        if kind == "spread":
            style = base + self.get_component_rich_style("ladder--spread", partial=True)
            return Strip([Segment(f"{row[1]:^{width}}"[:width], style)]).adjust_cell_length(width, base)
        return Strip.blank(width, base)

    def _render_level(self, row: Row, width: int) -> Strip:
        """A price level: the hot path (a busy book repaints every changed level each frame)."""
        kind, price_i, size_i, cum_i, own_i, bar = row[:6]
        data = self._data
        pd, sd = (data.price_decimals, data.size_decimals) if data else (0, 0)
        styles = self._row_styles()
        base, own_style = styles["base"], styles["own"]
        own_w, price_w, size_w, cum_w = columns_for(width)
        own_text = (f"{scaled_to_str(own_i, sd)} ▶" if own_w > 4 else "▶") if own_i else ""
        mark = row[6] if len(row) > 6 else ""
        if mark and not own_i:
            own_text = _mark_text(mark, own_w)
            own_style = styles["stop" if mark.startswith("stop") else "take-profit"]
        own = f"{own_text:>{own_w - 1}} "
        price = f"{scaled_to_str(price_i, pd):>{price_w}}"
        rest = f"{scaled_to_str(size_i, sd):>{size_w}}{scaled_to_str(cum_i, sd):>{cum_w}} "
        segments = [Segment(own, own_style), Segment(price, styles[kind]), Segment(rest, base)]
        if bar:
            segments.append(Segment(" " * bar, styles[f"{kind}-bar"]))
        used = len(own) + len(price) + len(rest) + bar
        if used < width and own.isascii():  # every cell one column wide: the strip needs no measuring
            segments.append(Segment(" " * (width - used), base))
            return Strip(segments, width)
        return Strip(segments).adjust_cell_length(width, base).crop(0, width)


def _place_marks(rows: list[Row], marks: dict[int, str]) -> None:
    """Put each trigger level on the level row nearest its price, if its price is within the rows shown."""
    levels = [(i, r[1]) for i, r in enumerate(rows) if r[0] in ("bid", "ask")]
    if not levels:
        return
    low, high = min(p for _, p in levels), max(p for _, p in levels)
    for price, mark in sorted(marks.items()):
        if not low <= price <= high:
            continue
        i, _ = min(levels, key=lambda lp: abs(lp[1] - price))
        rows[i] = (*rows[i][:6], mark)


def _mark_text(mark: str, own_w: int) -> str:
    """``SL ●`` / ``TP ●`` for a trigger the venue holds, ``○`` for one perpdesk emulates."""
    tag = "SL" if mark.startswith("stop") else "TP"
    dot = "○" if mark.endswith("~") else "●"
    return f"{tag} {dot}" if own_w > 4 else tag[0]


def blended_background(widget: Widget, component: str) -> Style:
    """A component's background with its alpha blended over the widget's (Rich styles have no alpha)."""
    background = widget.get_component_styles(component).background
    return Style(bgcolor=(widget.background_colors[1] + background).rich_color)
