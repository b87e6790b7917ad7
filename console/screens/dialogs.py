"""Modal confirmations: yes/no, and the two-step kill switch.

Single keys (y, n, k, f) are safe here because a dialog holds no text field.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from console import bindings


class ConfirmScreen(ModalScreen[bool]):
    """Returns True on ``y``, False on ``n`` or Escape."""

    BINDINGS = bindings.FOR_CONFIRM

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; border: thick $warning; background: $panel; padding: 1 2;
    }
    ConfirmScreen .title { text-style: bold; color: $warning; }
    ConfirmScreen .keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._body, markup=False)
            yield Static("y: yes    n / Esc: no", classes="keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class KillSwitchScreen(ModalScreen[str | None]):
    """Two steps: choose kill or kill-and-flatten, then confirm with ``y``.  Returns the choice or None."""

    BINDINGS = bindings.FOR_KILL_SWITCH

    DEFAULT_CSS = """
    KillSwitchScreen { align: center middle; }
    KillSwitchScreen > Vertical {
        width: 70; height: auto; border: thick $error; background: $panel; padding: 1 2;
    }
    KillSwitchScreen .title { text-style: bold; color: $error; }
    KillSwitchScreen .keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, open_orders: int, positions: int) -> None:
        super().__init__()
        self.choice: str | None = None
        self._counts = (open_orders, positions)

    def compose(self) -> ComposeResult:
        orders, positions = self._counts
        with Vertical():
            yield Static("KILL SWITCH", classes="title")
            yield Static(
                f"Cancel all {orders} open order(s) on every venue and halt new orders until re-armed.\n"
                f"Flattening also closes {positions} position(s) with reduce-only market orders.",
                id="kill-body",
                markup=False,
            )
            yield Static("k: kill    f: kill and flatten    Esc: abort", id="kill-keys", classes="keys")

    def action_choose(self, choice: str) -> None:
        if self.choice is not None:
            return
        self.choice = choice
        what = "KILL AND FLATTEN" if choice == "flatten" else "KILL"
        self.query_one("#kill-keys", Static).update(f"Step 2 of 2 — y: confirm {what}    Esc: abort")

    def action_confirm(self) -> None:
        if self.choice is not None:
            self.dismiss(self.choice)

    def action_abort(self) -> None:
        self.dismiss(None)
