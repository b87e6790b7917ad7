"""The tracking-limit form and the chases panel's rows.

The form is a modal: ``t`` opens it prefilled from the selected market (side, the touch as a
hint, offset 0, post-only on); Tab moves, Enter starts, F2/F3/F5/F6 flip side, end action,
post-only and reduce-only from inside a field, Escape closes.  Everything typed is checked
here, at the console's Decimal edge, and turned into the scaled integers ``runtime.tracking``
takes; an invalid field is shown under itself and nothing starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from connector.interface import MarketInfo
from connector.scaling import scaled_to_str
from console import bindings

END_ACTIONS = ("cancel", "leave", "cross_market", "cross_ioc")


@dataclass(frozen=True, slots=True)
class ChaseTicket:
    is_ask: bool
    size_i: int
    offset_ticks: int
    limit_price_i: int | None
    max_chase_ticks: int | None
    timeout_s: float | None
    end_action: str
    post_only: bool
    reduce_only: bool


def _dec(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _exact(value: Decimal, decimals: int) -> int | None:
    scaled = value.scaleb(decimals)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def validate_chase(market: MarketInfo, values: dict[str, Any]) -> tuple[ChaseTicket | None, dict[str, str]]:
    """``(ticket, {})`` or ``(None, {field: message})`` with every bad field."""
    errors: dict[str, str] = {}
    pd, sd = market.price_decimals, market.size_decimals
    size_i = None
    size = _dec(values["size"]) if values["size"].strip() else None
    if not values["size"].strip():
        errors["size"] = "enter a size"
    elif size is None or size <= 0:
        errors["size"] = "the size must be a number above zero"
    else:
        size_i = _exact(size, sd)
        if size_i is None:
            errors["size"] = f"at most {sd} decimals on {market.base}"
        elif size_i < market.min_size_i:
            errors["size"] = f"the minimum size on {market.base} is {scaled_to_str(market.min_size_i, sd)}"
            size_i = None
    limit_i = None
    if values["limit"].strip():
        limit = _dec(values["limit"])
        if limit is None or limit <= 0:
            errors["limit"] = "the limit must be a price above zero (or empty for none)"
        else:
            limit_i = _exact(limit, pd)
            if limit_i is None:
                errors["limit"] = f"at most {pd} decimals on {market.base}"
    offset = 0
    if values["offset"].strip():
        try:
            offset = int(values["offset"].strip())
        except ValueError:
            errors["offset"] = "whole ticks: 0 joins, 1 sits behind, -1 improves"
    max_chase = None
    if values["max_chase"].strip():
        try:
            max_chase = int(values["max_chase"].strip())
            if max_chase < 0:
                raise ValueError
        except ValueError:
            errors["max_chase"] = "a whole number of ticks, 0 or more (or empty for no cap)"
            max_chase = None
    timeout = None
    if values["timeout"].strip():
        t = _dec(values["timeout"])
        if t is None or t <= 0:
            errors["timeout"] = "seconds above zero (or empty for none)"
        else:
            timeout = float(t)
    if errors or size_i is None:
        return None, errors
    return (
        ChaseTicket(values["is_ask"], size_i, offset, limit_i, max_chase, timeout, values["end_action"],
                    values["post_only"], values["reduce_only"]),
        {},
    )


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

    def __init__(self, market: MarketInfo, *, is_ask: bool, touch_text: str, venue: str) -> None:
        super().__init__()
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
                    yield Input(id=f"chase-{key}", value="0" if key == "offset" else "", compact=True)
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

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: self.query_one(f"#chase-{key}", Input).value for key, _, _ in _FIELDS}
        out.update(is_ask=self.is_ask, end_action=self.end_action, post_only=self.post_only,
                   reduce_only=self.reduce_only)
        return out

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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        ticket, errors = validate_chase(self.market, self.values())
        for key, _, _ in _FIELDS:
            message = errors.get(key, "")
            label = self.query_one(f"#chase-{key}-error", Static)
            label.update(message)
            label.set_class(bool(message), "-shown")
            self.query_one(f"#chase-{key}", Input).set_class(bool(message), "-invalid")
        if ticket is not None:
            self.dismiss(ticket)


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
            yield Input(value=self._current, id="new-limit", compact=True)
            yield Static("", id="limit-error", classes="error", markup=False)
            yield Static("Enter apply (empty: no limit) · Esc close")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.cursor_blink = False
        inp.focus()

    def show_error(self, message: str) -> None:
        self.query_one("#limit-error", Static).update(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)


def progress_bar(filled_i: int, size_i: int, width: int = 10) -> str:
    """``███░░░░░░░  30%`` from integers (no float)."""
    if size_i <= 0:
        return ""
    cells = min(width, filled_i * width // size_i)
    pct = min(100, filled_i * 100 // size_i)
    return f"{'█' * cells}{'░' * (width - cells)} {pct:>3}%"


def elapsed_text(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}h{(s % 3600) // 60:02d}"


def chase_row(chase: Any, md: Any, now_ms: int, label: str) -> tuple[str, ...]:
    """The chases table's cells for one chase."""
    venue, symbol = chase.venue, chase.symbol
    fp = md.format_price
    bid, ask = md.top_of_book(venue, symbol)
    touch = ask if chase.is_ask else bid
    price = chase.price_i
    at = f"{fp(venue, symbol, price)} / {fp(venue, symbol, touch)}" if price and touch else (
        f"- / {fp(venue, symbol, touch)}" if touch else "-")
    limit = chase.params.limit_price_i
    end = chase.ended_ms if chase.ended_ms is not None else now_ms
    state = str(chase.state.value)
    if chase.end_reason is not None:
        state = f"{state} {chase.end_reason.value}"
    avg = chase.avg_price_i
    return (
        label,
        symbol,
        "SELL" if chase.is_ask else "BUY",
        f"{md.format_size(venue, symbol, chase.filled_i)}/{md.format_size(venue, symbol, chase.size_i)}",
        progress_bar(chase.filled_i, chase.size_i),
        at,
        fp(venue, symbol, limit) if limit else "-",
        fp(venue, symbol, avg) if avg else "-",
        str(chase.reprices),
        elapsed_text(end - chase.started_ms),
        state,
    )


CHASE_COLUMNS = [
    ("id", "Chase"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("filled", "Filled"),
    ("progress", "Progress"),
    ("price", "Ours / touch"),
    ("limit", "Limit"),
    ("avg", "Avg"),
    ("reprices", "Repr."),
    ("elapsed", "Elapsed"),
    ("state", "State"),
]
