"""The header line: venue, connection state, trading state and per-stream data age.

Age badges turn amber, then red, as a stream goes quiet, so a frozen book is never mistaken
for a calm market.  Colours come from theme variables (``$stale-warn``, ``$stale-bad``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

WARN_MS = 2_000
BAD_MS = 5_000


@dataclass(frozen=True, slots=True)
class StatusView:
    venues: tuple[tuple[str, str], ...]
    """(venue, connection summary) pairs."""
    symbol: str
    ages: tuple[tuple[str, int | None], ...]
    """(stream name, age in ms or None when nothing arrived yet)."""
    trading_state: str = ""
    ack_ms: int | None = None
    """How long the venue took to answer our last order request (None before the first)."""
    paper: frozenset[str] = frozenset()
    """Venues traded on paper: each is marked ``PAPER`` beside its name."""


def format_age(age_ms: int | None) -> str:
    if age_ms is None:
        return "—"
    if age_ms < 1_000:
        return f"{age_ms}ms"
    if age_ms < 60_000:
        return f"{age_ms / 1000:.1f}s"
    return f"{age_ms // 60_000}m"


def age_level(age_ms: int | None) -> str:
    """``ok``, ``warn`` or ``bad``; no data at all counts as bad."""
    if age_ms is None or age_ms >= BAD_MS:
        return "bad"
    return "warn" if age_ms >= WARN_MS else "ok"


class StatusBar(Widget):
    COMPONENT_CLASSES = {"status--ok", "status--warn", "status--bad", "status--title", "status--muted", "status--paper"}

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; }
    StatusBar > .status--title { text-style: bold; color: $accent; }
    StatusBar > .status--ok { color: $price-up; }
    StatusBar > .status--warn { color: $stale-warn; text-style: bold; }
    StatusBar > .status--bad { color: $stale-bad; text-style: bold; }
    StatusBar > .status--muted { color: $text-muted; }
    StatusBar > .status--paper { background: $warning; color: $background; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: StatusView | None = None

    def show(self, view: StatusView) -> None:
        if view != self.view:
            self.view = view
            self.refresh()

    def render(self) -> Text:
        text = self._line(compact=False)
        if self.view is not None and self.size.width and text.cell_len > self.size.width:
            return self._line(compact=True)
        return text

    def _line(self, *, compact: bool) -> Text:
        """The whole line; ``compact`` (when it does not fit) puts the trading state first and
        writes each venue's connection as its dot alone, so the state is never cut off."""
        style = self.get_component_rich_style
        text = Text(" perpdesk ", style=style("status--title"), no_wrap=True, overflow="ellipsis")
        view = self.view
        if view is None:
            text.append("│ starting…", style=style("status--muted"))
            return text
        if compact and view.trading_state:
            self._append_state(text, view.trading_state + " ")
        for venue, conn in view.venues:
            level = {"connected": "ok", "connecting": "warn"}.get(conn, "bad")
            dot = "●" if level == "ok" else "◌" if level == "warn" else "○"
            text.append("│ ", style=style("status--muted"))
            text.append(f"{venue} ")
            if venue in view.paper:
                text.append(" PAPER ", style=style("status--paper"))
                text.append(" ")
            text.append(f"{dot} " if compact else f"{dot} {conn} ", style=style(f"status--{level}"))
        text.append("│ ", style=style("status--muted"))
        text.append(f"{view.symbol} ", style=style("status--title"))
        for stream, age in view.ages:
            text.append("│ ", style=style("status--muted"))
            text.append(f"{stream} ")
            text.append(f"{format_age(age)} ", style=style(f"status--{age_level(age)}"))
        if view.ack_ms is not None:
            text.append("│ ", style=style("status--muted"))
            text.append("ack ")
            text.append(f"{format_age(view.ack_ms)} ", style=style("status--ok" if view.ack_ms < 1_000 else "status--warn"))
        if view.trading_state and not compact:
            self._append_state(text, view.trading_state)
        return text

    def _append_state(self, text: Text, state: str) -> None:
        style = self.get_component_rich_style
        level = {"ACTIVE": "ok", "REDUCING": "warn"}.get(state.strip(), "bad")
        text.append("│ ", style=style("status--muted"))
        text.append(state, style=style(f"status--{level}"))
