"""The preview of a scale or TWAP typed in the command bar: every order (or slice) before it is sent.

Sent only by Enter on the Send button, which has the focus; Escape, ``n`` or the Back button go
back without sending.  No letter sends it.  Enter is a priority key answered through
``console.key_gate.dismiss_held``: the keys typed after it wait until the scale or TWAP has started.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console import bindings
from console.key_gate import dismiss_held


class AlgoPreviewScreen(ModalScreen[bool]):
    """True when sent, False otherwise."""

    BINDINGS = bindings.FOR_ALGO_PREVIEW

    DEFAULT_CSS = """
    AlgoPreviewScreen { align: center middle; }
    AlgoPreviewScreen > Vertical {
        width: 76; height: auto; max-height: 100%; border: thick $accent; background: $panel; padding: 0 2;
    }
    AlgoPreviewScreen .title { text-style: bold; color: $accent; }
    AlgoPreviewScreen .lines { margin-top: 1; }
    AlgoPreviewScreen .keys { color: $text-muted; }
    AlgoPreviewScreen Horizontal { height: auto; margin-top: 1; }
    AlgoPreviewScreen Button { margin-right: 2; }
    """

    def __init__(self, title: str, lines: list[str], note: str, send_label: str) -> None:
        super().__init__()
        self._title = title
        self._lines = lines
        self._note = note
        self._send = send_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static("\n".join(self._lines), classes="lines", markup=False)
            if self._note:
                yield Static(self._note, markup=False)
            with Horizontal():
                yield Button(self._send, id="send", variant="primary")
                yield Button("Back", id="back")
            yield Static("Enter: send    Esc: back", classes="keys", markup=False)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#send", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        dismiss_held(self, event.button.id == "send")

    def action_press(self) -> None:
        """Enter: the focused button's answer, decided as the key arrives."""
        if isinstance(self.focused, Button):
            dismiss_held(self, self.focused.id == "send")

    def action_answer(self, value: bool) -> None:
        dismiss_held(self, value)
