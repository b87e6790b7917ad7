"""The help screen: every binding as it is now, read from the live bindings after any rebinding.

Nothing here is a hand-written list, so the help cannot drift from the keys.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def current_bindings(app) -> list[tuple[str, str, str]]:
    """(keys, description, id) for every binding with an id on the app and the main screen's widgets."""
    screen = app.screen_stack[0] if app.screen_stack else app.screen
    nodes = [app, screen, *screen.query("*")]
    seen: dict[str, tuple[list[str], str]] = {}
    for node in nodes:
        for key, bindings in node._bindings.key_to_bindings.items():
            for binding in bindings:
                if not binding.id or binding.system:
                    continue
                keys, _desc = seen.setdefault(binding.id, ([], binding.description or binding.action))
                shown = app.get_key_display(Binding(key, binding.action))
                if shown not in keys:
                    keys.append(shown)
    return sorted(((" / ".join(k), d, i) for i, (k, d) in seen.items()), key=lambda r: r[2])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; height: 80%; border: thick $accent; background: $panel; padding: 0 1; }
    HelpScreen .head { text-style: bold; color: $accent; }
    """

    def compose(self) -> ComposeResult:
        rows = current_bindings(self.app)
        width = max((len(k) for k, _, _ in rows), default=8) + 2
        lines = [f"{keys:<{width}}{desc:<28}{bid}" for keys, desc, bid in rows]
        with VerticalScroll():
            yield Static("Keys (rebind any of them by id in the config file's [keymap])", classes="head")
            yield Static("\n".join(lines), id="help-keys", markup=False)
            yield Static("\nIn a text field printable keys are typed: use F-keys there, or Esc to leave it.")

    def action_close(self) -> None:
        self.dismiss(None)
