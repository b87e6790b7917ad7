"""The order-entry panel: side, limit/market, price, size (base or quote notional), post-only, reduce-only.

Focus flow that works over SSH: ``b``/``s`` jump into the price field with the side set, Tab
moves to the size, Enter sends; F2–F6 toggle side, type, size unit and the flags from
inside a field (printable keys would be typed, F-keys are not); Escape leaves the panel.
Enter and F9 send the order before anything on screen changes: when every key typed into the field has
been taken, the fields are read and the order handed to execution at once, and only then does focus go
back to the desk; when keys typed before Enter still wait on the field's queue, focus goes back to the
desk at once (the next ``c`` cancels, it is not typed into the size) and the fields are read by a
callback queued on the field behind those keys, with no message hop after it.
Errors appear under the field they concern and nothing is sent while any remain.

A prefilled price follows our side's touch (``follows bid`` beside it) until the trader edits it;
switching market starts over: the price follows the new touch and a size in base units is cleared
(0.5 BTC is not 0.5 ETH), while a quote notional stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Static

from console import bindings
from console.key_gate import read_behind_keys
from console.parsing.order_ticket import OrderFields
from console.widgets.field import Field


class TickBox(Checkbox):
    """A checkbox drawn ``[x]`` / ``[ ]``: on or off is readable without colour (Textual's draws an X either way)."""

    @property
    def _button(self) -> Content:
        if not self.value:
            return Content("[ ] ")
        return Content.assemble("[", ("x", self.get_visual_style("toggle--button")), "] ")


class Send(Protocol):
    def __call__(self, field: Widget | None, *, leave: bool) -> None: ...


def _set_text(label: Static, text: str, *, layout: bool = True) -> None:
    """``Static.update`` unless the text is already there (each update asks for a layout pass; a label
    whose size the stylesheet fixes needs none, ``layout=False``).  The form's labels change far less
    often than they are set: every key typed into a field sets the summary, each ``b`` the mode line."""
    if str(label.content) != text:
        label.update(text, layout=layout)


FOLLOW_WORDS_WIDTH = 32
"""The panel's width from which ``follows bid`` fits beside a price; narrower, ``=bid``."""


class OrderEntry(Vertical):
    BINDINGS = bindings.FOR_ORDER_ENTRY

    DEFAULT_CSS = """
    OrderEntry { height: auto; border: round $panel-lighten-2; border-title-color: $accent; padding: 0 1; }
    OrderEntry.-active { border: round $accent; }
    OrderEntry #entry-mode { height: 1; }
    OrderEntry #entry-mode.-buy { color: $price-up; text-style: bold; }
    OrderEntry #entry-mode.-sell { color: $price-down; text-style: bold; }
    OrderEntry Input { height: 1; border: none; padding: 0 1; background: $boost; }
    OrderEntry Input:focus { background: $accent 20%; }
    OrderEntry Input.-invalid { background: $error 25%; }
    OrderEntry .label { width: 7; height: 1; color: $text-muted; }
    OrderEntry #price { width: 1fr; }
    OrderEntry #price-follow { width: auto; height: 1; color: $text-muted; padding-left: 1; }
    OrderEntry .row { height: 1; }
    OrderEntry .error { height: auto; color: $error; display: none; padding-left: 7; }
    OrderEntry .error.-shown { display: block; }
    OrderEntry Checkbox { border: none; padding: 0; height: 1; width: auto; margin-right: 2; background: transparent; }
    OrderEntry #entry-summary { height: auto; color: $text-muted; }
    """

    class SideChanged(Message):
        """F2 flipped the side: the app may move an untouched prefilled price to the other touch."""

    def __init__(self, leave: Callable[[], None], send: Send, *, id: str | None = None) -> None:
        """``leave`` hands focus back to the desk, at once; ``send(field, leave=…)`` takes the fields as they
        are now (``field`` had focus, to return to on an error; ``leave``: focus is still in the form, to be
        handed back to the desk once the order is on its way)."""
        super().__init__(id=id)
        self._leave = leave
        self._send = send
        self.is_ask = False
        self.kind = "limit"
        self.size_in_quote = False
        self.symbol = ""
        self.quote = "USD"
        self.prefilled = ""
        self.border_title = "Order"

    def compose(self) -> ComposeResult:
        yield Static("", id="entry-mode", markup=False)
        with Horizontal(classes="row"):
            yield Static("price", classes="label")
            yield Field(id="price", placeholder="limit price", compact=True)
            yield Static("", id="price-follow", markup=False)
        yield Static("", id="price-error", classes="error", markup=False)
        with Horizontal(classes="row"):
            yield Static("size", id="size-label", classes="label")
            yield Field(id="size", placeholder="size", compact=True)
        yield Static("", id="size-error", classes="error", markup=False)
        yield TickBox("post-only (F5)", id="post-only", compact=True)
        yield TickBox("reduce-only (F6)", id="reduce-only", compact=True)
        yield Static("", id="flags-error", classes="error", markup=False)
        yield Static("", id="entry-summary", markup=False)

    def on_descendant_focus(self) -> None:
        self._mark_active()

    def on_descendant_blur(self) -> None:
        self._mark_active()

    def _mark_active(self) -> None:
        """The accent border while focus is in the form.  A class set here, once the field's focus event
        comes, not ``:focus-within``: Textual restyles every node under a ``:focus-within`` rule inside
        ``set_focus`` itself, ~20 ms under load on each focus change, and Enter moves focus back to the
        desk right after handing the order over, before the loop reaches the request."""
        focused = self.screen.focused
        self.set_class(focused is not None and self in focused.ancestors, "-active")

    def on_mount(self) -> None:
        for inp in self.query(Input):
            inp.cursor_blink = False
        self._render_mode()

    def set_market(self, symbol: str, quote: str) -> bool:
        """Another market: the price starts over and a size in base units is cleared; a quote notional
        carries.  True when a price was there: the caller prefills the new market's touch."""
        price = self.query_one("#price", Input)
        had_price = bool(price.value)
        if symbol != self.symbol:
            self.prefilled = ""
            price.value = ""
            if not self.size_in_quote:
                self.query_one("#size", Input).value = ""
        self.symbol = symbol
        self.quote = quote
        self._render_mode()
        return had_price

    @property
    def following(self) -> bool:
        """The price is still the one we prefilled (the trader has not edited it): it follows the touch."""
        return self.kind == "limit" and bool(self.prefilled) and self.query_one("#price", Input).value == self.prefilled

    def _render_follow(self) -> None:
        """``follows bid`` beside a following price; ``=bid`` where the panel is narrow (80 columns)."""
        side = "ask" if self.is_ask else "bid"
        text = (f"follows {side}" if self.size.width >= FOLLOW_WORDS_WIDTH else f"={side}") if self.following else ""
        follow = self.query_one("#price-follow", Static)
        if str(follow.content) != text:  # unchanged on almost every book tick: no repaint, no layout pass
            follow.update(text)

    def on_resize(self) -> None:
        self._render_follow()

    def _render_mode(self) -> None:
        mode = self.query_one("#entry-mode", Static)
        side = "SELL" if self.is_ask else "BUY"
        unit = self.quote if self.size_in_quote else "base"
        _set_text(mode, f"{side} {self.symbol} {self.kind.upper()}  size in {unit}", layout=False)  # height 1
        mode.set_class(self.is_ask, "-sell")
        mode.set_class(not self.is_ask, "-buy")
        price = self.query_one("#price", Input)
        price.disabled = self.kind == "market"
        price.placeholder = "at market" if self.kind == "market" else "limit price"
        _set_text(self.query_one("#size-label", Static), self.quote if self.size_in_quote else "size", layout=False)
        self._render_follow()
        self.show_hint()

    def show_hint(self) -> None:
        self.show_summary("Enter/F9 send · F2 side · F3 type · F4 unit · Esc leave")

    def action_submit(self) -> None:
        field = self.screen.focused
        if field is None or self not in field.ancestors:
            field = None
        if read_behind_keys(field, lambda: self._send(field, leave=False)):  # behind the keys typed before it
            self._leave()  # the keys after Enter are the desk's, once the order is on its way (console.key_gate)
            return
        self._send(field, leave=True)

    def action_next_field(self, step: int) -> None:
        if step > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

    def action_toggle_side(self) -> None:
        self.toggle_side()

    def action_toggle_kind(self) -> None:
        self.toggle_kind()

    def action_toggle_unit(self) -> None:
        self.toggle_unit()

    def action_toggle_flag(self, flag: str) -> None:
        self.toggle_flag(flag)

    def set_side(self, is_ask: bool) -> None:
        self.is_ask = is_ask
        self._render_mode()

    def toggle_side(self) -> None:
        self.set_side(not self.is_ask)
        self.post_message(self.SideChanged())

    def toggle_kind(self) -> None:
        price = self.query_one("#price", Input)
        had_focus = self.screen.focused is price  # (``has_focus`` follows a turn later: b then F3 in one read)
        self.kind = "market" if self.kind == "limit" else "limit"
        if self.kind == "market":
            self.query_one("#post-only", Checkbox).value = False
        self._render_mode()
        if had_focus:  # at once: the keys typed after F3 go to the size
            self.screen.set_focus(self.query_one("#size", Input))

    def toggle_unit(self) -> None:
        self.size_in_quote = not self.size_in_quote
        self._render_mode()

    def toggle_flag(self, flag: str) -> None:
        box = self.query_one(f"#{flag}", Checkbox)
        box.value = not box.value

    def prefill_price(self, text: str, *, only_if_untouched: bool = False) -> None:
        price = self.query_one("#price", Input)
        if only_if_untouched and price.value != self.prefilled:
            return
        self.prefilled = text
        if price.value != text:
            price.value = text
            price.cursor_position = len(text)
        self._render_follow()

    def values(self) -> OrderFields:
        return OrderFields(
            is_ask=self.is_ask,
            kind=self.kind,
            price_text=self.query_one("#price", Input).value,
            size_text=self.query_one("#size", Input).value,
            size_in_quote=self.size_in_quote,
            post_only=self.query_one("#post-only", Checkbox).value,
            reduce_only=self.query_one("#reduce-only", Checkbox).value,
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for name in ("price", "size", "flags"):
            label = self.query_one(f"#{name}-error", Static)
            message = errors.get(name, "")
            _set_text(label, message)
            label.set_class(bool(message), "-shown")
            if name != "flags":
                self.query_one(f"#{name}", Input).set_class(bool(message), "-invalid")

    def show_summary(self, text: str) -> None:
        _set_text(self.query_one("#entry-summary", Static), text)  # its height follows the text

    def focus_price(self) -> None:
        target = self.query_one("#size", Input) if self.kind == "market" else self.query_one("#price", Input)
        self.screen.set_focus(target)  # at once: the keys after b / s in the same read are typed here

    def on_input_changed(self, event: Input.Changed) -> None:
        """A field being edited loses its old error (the next send checks it again)."""
        name = event.input.id
        if name == "price":
            self._render_follow()
        if name in ("price", "size"):
            label = self.query_one(f"#{name}-error", Static)
            if label.has_class("-shown"):
                label.update("")
                label.remove_class("-shown")
                event.input.remove_class("-invalid")

    def first_invalid(self) -> Input | None:
        return next((i for i in self.query(Input) if i.has_class("-invalid")), None)
