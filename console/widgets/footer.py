"""``DeskFooter``: the key bar, one line of text drawn by one widget, changed in place.

Textual's ``Footer`` composes a ``FooterKey`` widget per key and recomposes on every change of the
screen's bindings (each focus change): the old keys are removed and new ones mounted, each a layout
request, a layout pass of the whole screen per change (and its ``data_bind(compact=…)`` kept every
old key alive).  This footer draws the same hints (the key in the key style, a space, the
description, a cell between hints) as one line: a change of focus that changes the hints repaints
that line, with no widget mounted and no layout pass, and one that changes nothing does nothing.

At a narrow width the hints that do not fit whole are dropped, least important first: the order of
importance is ``console.bindings.footer_rank`` (the kill switch, chase and help, then the focused
widget's own keys, then the rest of the desk's in the registry's order).  Binding groups are not
drawn as groups (the registry has none); the command palette's key is not shown (the desk hides it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from console.bindings import footer_rank

if TYPE_CHECKING:
    from textual.screen import Screen

GAP = 1
"""Cells between two hints (Textual's compact footer: a key's right margin)."""


@dataclass(frozen=True, slots=True)
class Hint:
    key: str
    key_display: str
    description: str
    enabled: bool
    rank: int

    @property
    def width(self) -> int:
        return Text(self.text()).cell_len

    def text(self) -> str:
        return f"{self.key_display} {self.description}" if self.description else self.key_display


def fit(hints: list[Hint], width: int, gap: int = GAP) -> list[Hint]:
    """The hints to show in ``width`` cells, in their order: the most important first, each one that
    does not fit whole (with the gaps) left out."""
    kept: set[int] = set()
    used = -gap
    for i in sorted(range(len(hints)), key=lambda i: (hints[i].rank, i)):
        need = hints[i].width + gap
        if used + need <= width:
            kept.add(i)
            used += need
    return [hint for i, hint in enumerate(hints) if i in kept]


class DeskFooter(Widget, can_focus=False):
    """The key bar at the bottom: the screen's shown bindings, one per action, as one line of text."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description"}
    DEFAULT_CSS = """
    DeskFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
    }
    DeskFooter > .footer-key--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    DeskFooter > .footer-key--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None,
                 **_footer_options: Any) -> None:
        # ``compact`` / ``show_command_palette`` (Textual's Footer options) are accepted: it is always
        # compact and never shows the palette's key
        super().__init__(name=name, id=id, classes=classes)
        self._all: list[Hint] = []
        self.hints: list[Hint] = []
        """The hints drawn, in their order (every one whole)."""
        self._spans: list[tuple[int, int, Hint]] = []
        self.repaints = 0
        """Times the hints drawn changed: a test figure."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.call_after_refresh(self._update)

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._update()

    def on_resize(self) -> None:
        self._fit()

    def _collect(self) -> list[Hint]:
        hints: list[Hint] = []
        actions: set[str] = set()
        app = self.app
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            hints.append(Hint(binding.key, app.get_key_display(binding), binding.description, enabled,
                              footer_rank(binding.id)))
        return hints

    def _update(self) -> None:
        if not self.is_attached:
            return
        hints = self._collect()
        if hints != self._all:
            self._all = hints
            self._fit()

    def _fit(self) -> None:
        hints = fit(self._all, self.size.width)
        if hints == self.hints:
            return
        self.hints = hints
        spans, x = [], 0
        for hint in hints:
            spans.append((x, x + hint.width, hint))
            x += hint.width + GAP
        self._spans = spans
        self.repaints += 1
        self.refresh()  # one line of fixed size: a repaint, no layout

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        dim = Style(dim=True)
        text = Text(end="", no_wrap=True)
        for i, hint in enumerate(self.hints):
            if i:
                text.append(" " * GAP)
            extra = dim if not hint.enabled else Style()
            text.append(hint.key_display, key_style + extra)
            if hint.description:
                text.append(f" {hint.description}", description_style + extra)
        text.stylize_before(self.rich_style)
        return text

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, hint in self._spans:
            if start <= event.x < end:
                if hint.enabled:
                    self.app.simulate_key(hint.key)
                else:
                    self.app.bell()
                return
