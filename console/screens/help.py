"""The help screen: every binding as it is now, read from the live bindings after any rebinding.

Nothing here is a hand-written list, so the help cannot drift from the keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console import bindings

if TYPE_CHECKING:
    from textual.app import App

WHERE = {"PerpdeskApp": "anywhere", "MarketList": "market list", "OrderEntry": "order form",
         "ChasesTable": "chases tab", "TriggersTable": "triggers tab", "CommandInput": "command bar"}
DIALOGS = ("confirm dialog", "destructive dialog", "kill switch dialog", "quit dialog")
"""Dialogs whose keys the help lists too, though none is open while it shows."""


def current_bindings(app: App[int]) -> list[tuple[str, str, str]]:
    """(keys, description, id) for every binding with an id on the app and the main screen's widgets."""
    return [(k, d, i) for k, d, i, _ in current_bindings_where(app)]


def current_bindings_where(app: App[int]) -> list[tuple[str, str, str, str]]:
    """(keys, description, id, where it works), grouped by where."""
    screen = app.get_default_screen()  # the main screen, also under a dialog
    nodes = [app, screen, *screen.query("*")]
    sources = [(WHERE.get(type(node).__name__, type(node).__name__), node._bindings.copy()) for node in nodes]
    sources += [(owner, BindingsMap(bindings.REGISTRY[owner])) for owner in DIALOGS]
    seen: dict[str, tuple[list[str], str]] = {}
    where: dict[str, str] = {}
    for place, bindings_map in sources:
        if app._keymap:
            bindings_map.apply_keymap(app._keymap)
        for key, key_bindings in bindings_map.key_to_bindings.items():
            for binding in key_bindings:
                if not binding.id or binding.system:
                    continue
                keys, _desc = seen.setdefault(binding.id, ([], binding.description or binding.action))
                where.setdefault(binding.id, place)
                shown = app.get_key_display(Binding(key, binding.action))
                if shown not in keys:
                    keys.append(shown)
    order = list(WHERE.values())
    rows = [(" / ".join(k), d, i, where[i]) for i, (k, d) in seen.items()]
    return sorted(rows, key=lambda r: (order.index(r[3]) if r[3] in order else len(order), r[2]))


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings.FOR_HELP

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; height: 80%; border: thick $accent; background: $panel; padding: 0 1; }
    HelpScreen .head { text-style: bold; color: $accent; }
    """

    def compose(self) -> ComposeResult:
        rows = current_bindings_where(self.app)
        width = max((len(k) for k, _, _, _ in rows), default=8) + 2
        lines = [f"{keys:<{width}}{desc:<24}{where:<13}{bid}" for keys, desc, bid, where in rows]
        with VerticalScroll():
            yield Static("Keys (rebind any of them by id in the config file's [keymap] table)", classes="head",
                         markup=False)
            yield Static("\n".join(lines), id="help-keys", markup=False)
            yield Static("\nIn a text field printable keys are typed: use F-keys there, or Esc to leave it.")

    def action_close(self) -> None:
        self.dismiss(None)
