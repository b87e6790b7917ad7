"""Modal confirmations: yes/no, the destructive question, and the two-step kill switch.

A destructive action (cancel all, close, flatten, kill) is confirmed only by a key no typed word
contains: the same function key pressed again (F8 F8 cancels all; ctrl+k … ctrl+k kills), or Enter
on the confirm button, which Tab reaches from the focused "Stay".  ``y`` confirms only the
harmless questions (a large order, re-arming).

The keys that answer (``y``/``n``, Enter on a button) are priority keys and answer through
``console.key_gate.dismiss_held``: the keys typed right after them wait until the order or cancel the
answer starts has been handed to execution, then go to the desk (not to a dialog about to close).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console import bindings
from console.key_gate import dismiss_held


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
        dismiss_held(self, value)


class DestructiveScreen(ModalScreen[bool]):
    """Asks before cancel-all or close.  True on ``again_keys`` (the function keys of the binding
    that opened it) or Enter on the confirm button; False on Escape or "Stay" (focused first)."""

    BINDINGS = bindings.FOR_DESTRUCTIVE

    DEFAULT_CSS = """
    DestructiveScreen { align: center middle; }
    DestructiveScreen > Vertical {
        width: 70; height: auto; border: thick $error; background: $panel; padding: 1 2;
    }
    DestructiveScreen .title { text-style: bold; color: $error; }
    DestructiveScreen .keys { color: $text-muted; margin-top: 1; }
    DestructiveScreen Horizontal { height: auto; margin-top: 1; }
    DestructiveScreen Button { margin-right: 2; }
    """

    def __init__(self, title: str, body: str, confirm_label: str, again_keys: list[str]) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._label = confirm_label
        self.again_keys = again_keys
        if again_keys:  # a priority key: taken as it arrives, so the keys typed after it are held, not lost
            self._bindings.bind(",".join(again_keys), "confirm_again", show=False, priority=True)

    def compose(self) -> ComposeResult:
        again = " or ".join(k.upper() for k in self.again_keys)
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._body, markup=False)
            with Horizontal():
                yield Button("Stay", id="stay")
                yield Button(self._label, id="go", variant="error")
            yield Static(
                (f"{again} again" + " or " if again else "") + "Tab, Enter: confirm    Esc: stay",
                classes="keys", markup=False,
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#stay", Button))

    def action_confirm_again(self) -> None:
        """The opening key pressed again (F8 F8)."""
        dismiss_held(self, True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        dismiss_held(self, event.button.id == "go")

    def action_press(self) -> None:
        """Enter: the focused button's answer, decided as the key arrives."""
        if isinstance(self.focused, Button):
            dismiss_held(self, self.focused.id == "go")

    def action_answer(self, value: bool) -> None:
        dismiss_held(self, value)


def send_anyway_screen(venue: str, state: str, order_text: str, again_keys: list[str]) -> DestructiveScreen:
    """The desk refused an order because ``venue`` is not connected: send it anyway?  Confirmed like a
    destructive action (the send key again, or Enter on the button), never by a letter."""
    return DestructiveScreen(
        f"{venue} is not connected — send anyway?",
        f"{order_text}\n{venue}: {state}. Sent now, the order may go out blind and sit UNKNOWN until the "
        "venue answers again; the reconciler settles it after the reconnect.",
        "Send anyway",
        again_keys,
    )


class QuitScreen(ModalScreen[str | None]):
    """``q`` with live orders or chases: "cancel" (cancel them and quit), "leave" (leave them and
    quit) or None (stay, focused first; Escape too).  Enter on a button answers."""

    BINDINGS = bindings.FOR_QUIT

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical {
        width: 76; height: auto; border: thick $warning; background: $panel; padding: 1 2;
    }
    QuitScreen .title { text-style: bold; color: $warning; }
    QuitScreen .keys { color: $text-muted; margin-top: 1; }
    QuitScreen Horizontal { height: auto; margin-top: 1; }
    QuitScreen Button { margin-right: 1; }
    """

    def __init__(self, open_orders: int, chases: int, emulated_triggers: int = 0) -> None:
        super().__init__()
        self._counts = (open_orders, chases, emulated_triggers)

    def compose(self) -> ComposeResult:
        orders, chases, triggers = self._counts
        held = (
            f" {triggers} stop/take-profit(s) held by perpdesk stop firing until it starts again."
            if triggers
            else ""
        )
        with Vertical():
            yield Static("Quit with live orders?", classes="title")
            yield Static(
                f"{orders} open order(s) and {chases} working order(s) (chases, scales, TWAPs). Left behind, "
                f"nothing manages their resting orders until perpdesk starts again.{held}",
                markup=False,
            )
            with Horizontal():
                yield Button("Stay", id="stay")
                yield Button("Leave them and quit", id="leave", variant="warning")
                yield Button("Cancel them and quit", id="cancel", variant="error")
            yield Static("Tab, Enter: choose    Esc: stay", classes="keys")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#stay", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "stay" else event.button.id)

    def action_stay(self) -> None:
        self.dismiss(None)


class KillSwitchScreen(ModalScreen[str | None]):
    """Two steps: choose kill or kill-and-flatten, then confirm with the kill key again (ctrl+k: the
    app passes it to ``action_confirm``) or Enter on the confirm button.  Returns the choice or None."""

    BINDINGS = bindings.FOR_KILL_SWITCH

    DEFAULT_CSS = """
    KillSwitchScreen { align: center middle; }
    KillSwitchScreen > Vertical {
        width: 70; height: auto; border: thick $error; background: $panel; padding: 1 2;
    }
    KillSwitchScreen .title { text-style: bold; color: $error; }
    KillSwitchScreen .keys { color: $text-muted; margin-top: 1; }
    KillSwitchScreen Horizontal { height: auto; margin-top: 1; display: none; }
    KillSwitchScreen Horizontal.-shown { display: block; }
    KillSwitchScreen Button { margin-right: 2; }
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
            with Horizontal():
                yield Button("Abort", id="abort")
                yield Button("Confirm", id="go", variant="error")
            yield Static("k: kill    f: kill and flatten    Esc: abort", id="kill-keys", classes="keys")

    def action_choose(self, choice: str) -> None:
        if self.choice is not None:
            return
        self.choice = choice
        what = "KILL AND FLATTEN" if choice == "flatten" else "KILL"
        self.query_one("#go", Button).label = f"Confirm {what}"
        self.query_one(Horizontal).add_class("-shown")
        self.set_focus(self.query_one("#abort", Button))
        self.query_one("#kill-keys", Static).update(
            f"Step 2 of 2 — ctrl+k again or Tab, Enter: confirm {what}    Esc: abort"
        )

    def action_confirm(self) -> None:
        """The kill key pressed again (``PerpdeskApp.action_kill_switch``)."""
        if self.choice is not None:
            dismiss_held(self, self.choice)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._pressed(event.button)

    def action_press(self) -> None:
        """Enter: the focused button's answer, decided as the key arrives."""
        if isinstance(self.focused, Button):
            self._pressed(self.focused)

    def _pressed(self, button: Button) -> None:
        if button.id == "go":
            self.action_confirm()
        else:
            self.action_abort()

    def action_abort(self) -> None:
        dismiss_held(self, None)
