"""The tracking-limit form and the form that moves a live chase's limit.

The form is a modal: ``t`` opens it prefilled from the selected market (side, the touch as a
hint, offset 0, post-only on); Tab moves, Enter starts (the keys typed after it wait until the
chase has started: ``console.key_gate``), F2/F3/F5/F6 flip side, end action,
post-only and reduce-only from inside a field, Escape closes.  ``console.parsing.chase_ticket``
checks what was typed and turns it into the scaled integers ``runtime.tracking`` takes; an
invalid field is shown under itself and nothing starts.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from connector.interface import MarketInfo
from console import bindings
from console.key_gate import dismiss_held, read_behind_keys
from console.parsing.chase_ticket import END_ACTIONS, ChaseFields, ChaseTicket, validate_chase
from console.widgets.field import Field

_FIELDS = (
    ("size", "size", "base units"),
    ("limit", "limit", "never chase past (empty: none)"),
    ("offset", "offset", "ticks behind the touch (0 joins)"),
    ("max_chase", "max chase", "ticks from the start (empty: none)"),
    ("timeout", "timeout s", "empty: none"),
)


class ChaseForm(ModalScreen[ChaseTicket | None]):
    BINDINGS = bindings.FOR_CHASE_FORM

    DEFAULT_CSS = """
    ChaseForm { align: center middle; }
    ChaseForm > Vertical { width: 72; height: auto; border: thick $accent; background: $panel; padding: 0 1; }
    ChaseForm #chase-mode { height: 1; text-style: bold; }
    ChaseForm #chase-mode.-buy { color: $price-up; }
    ChaseForm #chase-mode.-sell { color: $price-down; }
    ChaseForm .row { height: 1; }
    ChaseForm .label { width: 11; color: $text-muted; }
    ChaseForm Input { width: 24; height: 1; border: none; padding: 0 1; background: $boost; }
    ChaseForm Input:focus { background: $accent 20%; }
    ChaseForm Input.-invalid { background: $error 25%; }
    ChaseForm .hint { width: 1fr; color: $text-muted; padding-left: 1; }
    ChaseForm .error { height: auto; color: $error; display: none; padding-left: 11; }
    ChaseForm .error.-shown { display: block; }
    ChaseForm .keys { color: $text-muted; }
    """

    def __init__(self, market: MarketInfo, *, is_ask: bool, touch_text: str, venue: str, size_text: str = "") -> None:
        """``size_text``: the market's default size in base units, prefilled."""
        super().__init__()
        self.size_text = size_text
        self.market = market
        self.venue = venue
        self.is_ask = is_ask
        self.end_action = "cancel"
        self.post_only = True
        self.reduce_only = False
        self.touch_text = touch_text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="chase-mode", markup=False)
            for key, label, hint in _FIELDS:
                with Horizontal(classes="row"):
                    yield Static(label, classes="label")
                    value = {"offset": "0", "size": self.size_text}.get(key, "")
                    yield Field(id=f"chase-{key}", value=value, compact=True)
                    yield Static(hint, classes="hint", markup=False)
                yield Static("", id=f"chase-{key}-error", classes="error", markup=False)
            yield Static("", id="chase-flags", markup=False)
            yield Static("Enter/F9 start · F2 side · F3 end action · F5 post-only · F6 reduce-only · Esc close",
                         classes="keys")

    def on_mount(self) -> None:
        for inp in self.query(Input):
            inp.cursor_blink = False
        self._render_mode()
        self.query_one("#chase-size", Input).focus()

    def _render_mode(self) -> None:
        mode = self.query_one("#chase-mode", Static)
        side = "SELL" if self.is_ask else "BUY"
        mode.update(f"TRACKING LIMIT  {side} {self.market.base} on {self.venue}  (touch {self.touch_text})")
        mode.set_class(self.is_ask, "-sell")
        mode.set_class(not self.is_ask, "-buy")
        flags = [f"end: {self.end_action}"]
        flags.append("post-only" if self.post_only else "may take")
        if self.reduce_only:
            flags.append("reduce-only")
        self.query_one("#chase-flags", Static).update(" · ".join(flags))

    def values(self) -> ChaseFields:
        def text(key: str) -> str:
            return self.query_one(f"#chase-{key}", Input).value

        return ChaseFields(size=text("size"), limit=text("limit"), offset=text("offset"),
                           max_chase=text("max_chase"), timeout=text("timeout"), is_ask=self.is_ask,
                           end_action=self.end_action, post_only=self.post_only, reduce_only=self.reduce_only)

    def action_toggle_side(self) -> None:
        self.is_ask = not self.is_ask
        self._render_mode()

    def action_cycle_end(self) -> None:
        self.end_action = END_ACTIONS[(END_ACTIONS.index(self.end_action) + 1) % len(END_ACTIONS)]
        self._render_mode()

    def action_toggle(self, flag: str) -> None:
        setattr(self, flag, not getattr(self, flag))
        self._render_mode()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        """Enter or F9 (priority keys): read the fields behind the keys typed before it; the keys after it
        wait until the chase has started (``console.key_gate``)."""
        field = self.focused if isinstance(self.focused, Input) else None
        if not read_behind_keys(field, self._start):
            self._start()

    def _start(self) -> None:
        ticket, errors = validate_chase(self.market, self.values())
        for key, _, _ in _FIELDS:
            message = errors.get(key, "")
            label = self.query_one(f"#chase-{key}-error", Static)
            label.update(message)
            label.set_class(bool(message), "-shown")
            self.query_one(f"#chase-{key}", Input).set_class(bool(message), "-invalid")
        if ticket is not None:
            dismiss_held(self, ticket)


class LimitPriceForm(ModalScreen[str | None]):
    """Move a live chase's limit: type a price (empty removes the limit), Enter applies."""

    BINDINGS = bindings.FOR_LIMIT_PRICE_FORM

    DEFAULT_CSS = """
    LimitPriceForm { align: center middle; }
    LimitPriceForm > Vertical { width: 56; height: auto; border: thick $accent; background: $panel; padding: 0 1; }
    LimitPriceForm Input { height: 1; border: none; background: $boost; }
    LimitPriceForm .error { color: $error; }
    """

    def __init__(self, title: str, current: str) -> None:
        super().__init__()
        self._title = title
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, markup=False)
            yield Field(value=self._current, id="new-limit", compact=True)
            yield Static("", id="limit-error", classes="error", markup=False)
            yield Static("Enter apply (empty: no limit) · Esc close")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.cursor_blink = False
        inp.focus()

    def show_error(self, message: str) -> None:
        self.query_one("#limit-error", Static).update(message)

    def action_submit(self) -> None:
        """Enter (a priority key): the price behind the keys typed before it, the keys after it held."""
        field = self.query_one(Input)
        if not read_behind_keys(field, self._apply):
            self._apply()

    def _apply(self) -> None:
        dismiss_held(self, self.query_one(Input).value)

    def action_close(self) -> None:
        self.dismiss(None)
