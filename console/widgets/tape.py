"""The trades tape: the latest public trades, newest on top, coloured by the taker's side."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget

from connector.interface import Trade
from connector.scaling import scaled_to_str
from console.formatting import clock_text


class TradesTape(Widget):
    COMPONENT_CLASSES = {"tape--buy", "tape--sell", "tape--muted"}

    DEFAULT_CSS = """
    TradesTape { height: 1fr; }
    TradesTape > .tape--buy { color: $price-up; }
    TradesTape > .tape--sell { color: $price-down; }
    TradesTape > .tape--muted { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._trades: list[Trade] = []
        self._decimals = (0, 0)
        self._last: Trade | None = None

    def show(self, trades: Iterable[Trade], decimals: tuple[int, int], *, force: bool = False) -> None:
        """Repaint only when the newest trade changed (or the market did)."""
        trades = list(trades)
        last = trades[-1] if trades else None
        if not force and last is self._last and decimals == self._decimals:
            return
        self._last = last
        self._decimals = decimals
        self._trades = trades[-50:]
        self.refresh()

    def render(self) -> Text:
        pd, sd = self._decimals
        text = Text(no_wrap=True, overflow="crop")
        if not self._trades:
            text.append("no trades yet", style=self.get_component_rich_style("tape--muted"))
            return text
        buy = self.get_component_rich_style("tape--buy")
        sell = self.get_component_rich_style("tape--sell")
        muted = self.get_component_rich_style("tape--muted")
        lines = []
        for trade in reversed(self._trades[-(self.size.height or 20) :]):
            line = Text(no_wrap=True, overflow="crop")
            line.append(clock_text(trade.ts_ms) + " ", style=muted)
            line.append(f"{scaled_to_str(trade.price_i, pd):>9}", style=sell if trade.is_ask else buy)
            line.append(f"{scaled_to_str(trade.size_i, sd):>8}")
            lines.append(line)
        joined = Text("\n").join(lines)
        joined.no_wrap = True
        joined.overflow = "crop"
        return joined
