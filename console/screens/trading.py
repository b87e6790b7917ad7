"""What the trader's keys do: place, cancel, close, kill, chase, and the command bar.

A mixin of ``PerpdeskApp``, kept apart from the painting so each file has one job: this one
turns keys, forms and command lines into calls on the runtime (``orders``, ``tracking``,
``kill_switch``) through the same confirmations, and reports what the venue answered.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import Checkbox, Input

from connector.interface import OrderStatus
from console.formatting import money
from console.parsing.chase_ticket import ChaseTicket, validate_chase
from console.parsing.commands import (
    CancelAllCommand,
    ChaseCommand,
    CloseCommand,
    Command,
    GoCommand,
    KillCommand,
    OrderCommand,
    SymbolRef,
    ThemeCommand,
)
from console.parsing.order_ticket import OrderTicket, validate
from console.read_only import command_refusal, trading_action
from console.screens.chase_form import ChaseForm, LimitPriceForm
from console.screens.dialogs import ConfirmScreen, KillSwitchScreen
from console.widgets.command_bar import CommandBar
from console.widgets.diff_table import DiffTable
from console.widgets.order_entry import OrderEntry


class TradingActions:
    """Mixed into ``PerpdeskApp``; uses its ``runtime``, ``clock``, ``notices`` and painter helpers."""

    runtime: Any
    selected: tuple[str, str] | None
    confirm_above_q: int

    def _entry(self) -> OrderEntry:
        return self._w("#entry", OrderEntry)

    @trading_action("the order form")
    def action_order_entry(self, is_ask: bool) -> None:
        entry = self._entry()
        entry.set_side(is_ask)
        self._prefill_touch()
        entry.focus_price()

    def _prefill_touch(self, *, only_if_untouched: bool = False) -> None:
        """Put our side's touch in the price field (a sell starts at the ask, a buy at the bid)."""
        entry = self._entry()
        if self.selected is None or entry.kind != "limit":
            return
        venue, symbol = self.selected
        bid, ask = self.runtime.market_data.top_of_book(venue, symbol)
        touch = ask if entry.is_ask else bid
        if touch is not None:
            text = self.runtime.market_data.format_price(venue, symbol, touch)
            entry.prefill_price(text, only_if_untouched=only_if_untouched)

    def on_order_entry_side_changed(self, event: OrderEntry.SideChanged) -> None:
        self._prefill_touch(only_if_untouched=True)

    def on_order_entry_submit(self, event: OrderEntry.Submit) -> None:
        self.action_submit_order()

    @trading_action("sending an order")
    def action_submit_order(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        entry = self._entry()
        ticket, errors = validate(md.market(venue, symbol), touch=md.top_of_book(venue, symbol), **entry.values())
        entry.show_errors(errors)
        if ticket is None:
            return
        if self.runtime.orders is None:
            entry.show_errors({"flags": "order entry is not available on this runtime"})
            return
        self._confirm_and_send(venue, symbol, ticket)

    def _confirm_and_send(self, venue: str, symbol: str, ticket: OrderTicket) -> None:
        """Send now, or ask first when the notional is above the configured threshold."""
        if ticket.notional_q > self.confirm_above_q:
            text = f"{self._ticket_text(venue, symbol, ticket)}\nnotional ≈ {money(ticket.notional_q)}"
            self.push_screen(
                ConfirmScreen("Large order — send it?", text),
                lambda ok: self._send_ticket(venue, symbol, ticket) if ok else None,
            )
            return
        self._send_ticket(venue, symbol, ticket)

    def _ticket_text(self, venue: str, symbol: str, t: OrderTicket) -> str:
        md = self.runtime.market_data
        side = "SELL" if t.is_ask else "BUY"
        price = "at market" if t.price_i is None else f"@ {md.format_price(venue, symbol, t.price_i)}"
        flags = " ".join(f for f, on in (("post-only", t.post_only), ("reduce-only", t.reduce_only)) if on)
        return f"{side} {md.format_size(venue, symbol, t.size_i)} {symbol} {price} {flags}".strip()

    @work(group="orders", exit_on_error=False)
    async def _send_ticket(self, venue: str, symbol: str, t: OrderTicket) -> None:
        entry = self._entry()
        orders = self.runtime.orders
        started_ns = self.clock.now_ns()
        try:
            if t.kind == "market":
                order = await orders.submit_market(
                    venue, symbol, is_ask=t.is_ask, size_i=t.size_i, reduce_only=t.reduce_only
                )
            else:
                order = await orders.submit_limit(
                    venue,
                    symbol,
                    is_ask=t.is_ask,
                    size_i=t.size_i,
                    price_i=t.price_i,
                    post_only=t.post_only,
                    reduce_only=t.reduce_only,
                )
        except ValueError as exc:
            entry.show_errors({"flags": f"not sent: {exc}"})
            self.notices.add("reject", f"not sent: {exc}", "error")
            return
        except Exception as exc:
            entry.show_errors({"flags": f"send failed: {exc}"})
            self.notices.add("reject", f"send failed: {exc}", "error")
            return
        self._ack_ms[venue] = (self.clock.now_ns() - started_ns) // 1_000_000
        self.refresh_status()
        outcome = order.state.value + (f": {order.reason}" if order.state == OrderStatus.REJECTED and order.reason else "")
        entry.show_summary(f"sent: {self._ticket_text(venue, symbol, t)} → {outcome}")

    def _selected_order(self) -> Any:
        orders = self.runtime.orders
        key = self._w("#orders-table", DiffTable).selected_key
        if orders is None or key is None:
            return None
        venue, _, index = key.rpartition(":")
        return orders.get(venue, int(index))

    @trading_action("cancelling an order")
    def action_cancel_selected(self) -> None:
        order = self._selected_order()
        if order is None:
            self.notify("no order selected: press 1 for the orders tab and pick one", severity="warning")
            return
        self._cancel(order)

    @work(group="orders", exit_on_error=False)
    async def _cancel(self, order: Any) -> None:
        try:
            await self.runtime.orders.cancel(order)
        except Exception as exc:
            self.notices.add("reject", f"cancel failed: {exc} ({order.state.value})", "error")

    @trading_action("cancel all")
    def action_cancel_all(self) -> None:
        orders = self.runtime.orders
        count = len(orders.open_orders()) if orders is not None else 0
        if count == 0:
            self.notify("no open orders to cancel")
            return
        self.push_screen(
            ConfirmScreen("Cancel all orders?", f"Cancel all {count} open order(s) on every venue and market."),
            lambda ok: self._cancel_all() if ok else None,
        )

    @work(group="orders", exit_on_error=False)
    async def _cancel_all(self, venue: str | None = None, symbol: str | None = None) -> None:
        try:
            await self.runtime.orders.cancel_all(venue, symbol)
        except Exception as exc:
            self.notices.add("reject", f"cancel-all failed: {exc}", "error")

    @trading_action("closing a position")
    def action_close_position(self) -> None:
        key = self._w("#positions-table", DiffTable).selected_key
        if key is None:
            self.notify("no position selected: press 2 for the positions tab and pick one", severity="warning")
            return
        venue, _, symbol = key.partition(":")
        md = self.runtime.market_data
        size_i = self.position_size_i(venue, symbol)
        if size_i == 0 or self.runtime.orders is None:
            return
        side = "SELL" if size_i > 0 else "BUY"
        size = md.format_size(venue, symbol, abs(size_i))
        self.push_screen(
            ConfirmScreen("Close position?", f"{side} {size} {symbol} at market, reduce-only."),
            lambda ok: self._close(venue, symbol, size_i) if ok else None,
        )

    @work(group="orders", exit_on_error=False)
    async def _close(self, venue: str, symbol: str, size_i: int) -> None:
        try:
            await self.runtime.orders.submit_market(
                venue, symbol, is_ask=size_i > 0, size_i=abs(size_i), reduce_only=True
            )
        except Exception as exc:
            self.notices.add("reject", f"close failed: {exc}", "error")

    @trading_action("the kill switch")
    def action_kill_switch(self) -> None:
        if isinstance(self.screen, KillSwitchScreen):
            return
        orders = self.runtime.orders
        count = len(orders.open_orders()) if orders is not None else 0
        positions = len(self._position_views())
        self.push_screen(KillSwitchScreen(count, positions), self._on_kill_choice)

    def _on_kill_choice(self, choice: str | None) -> None:
        if choice is not None:
            self.action_leave()
            self._kill(choice == "flatten")

    @work(group="orders", exit_on_error=False)
    async def _kill(self, flatten: bool) -> None:
        try:
            report = await self.runtime.kill_switch(flatten=flatten)
        except Exception as exc:
            self.notify(f"kill switch failed: {exc}", severity="error", timeout=10)
            return
        cancelled = len(getattr(report, "cancelled", []) or [])
        flattened = len(getattr(report, "flatten_orders", []) or [])
        errors = list(getattr(report, "errors", []) or [])
        text = f"KILL SWITCH: {cancelled} order(s) cancelled"
        if flatten:
            text += f", {flattened} position(s) flattened"
        text += "; trading HALTED (A re-arms)"
        if errors:
            text += f"; {len(errors)} error(s): {errors[0]}"
        self.notify(text, severity="error" if errors else "warning", timeout=10)
        self.refresh_status()

    @trading_action("re-arming trading")
    def action_rearm(self) -> None:
        risk = getattr(self.runtime, "risk", None)
        if risk is None or str(getattr(risk.state, "value", risk.state)) == "ACTIVE":
            return
        self.push_screen(
            ConfirmScreen("Re-arm trading?", "New orders will be accepted again."),
            lambda ok: (risk.rearm(), self.refresh_status()) if ok else None,
        )

    # -- command bar ---------------------------------------------------------------------

    def _command_symbols(self) -> list[str]:
        md = self.runtime.market_data
        return sorted({s for v in md.venues() for s in md.symbols(v)})

    def action_command_bar(self) -> None:
        self._w("#command-bar", CommandBar).open()

    def on_command_bar_closed(self, event: CommandBar.Closed) -> None:
        self._w("#command-bar", CommandBar).close()
        self.action_leave()

    def on_command_bar_run(self, event: CommandBar.Run) -> None:
        bar = self._w("#command-bar", CommandBar)
        try:
            error = self.run_command(event.command)
        except (ValueError, KeyError) as exc:
            error = str(exc)
        if error:
            bar.show_error(error)
            return
        bar.close()
        if self.focused is None or self.focused.id == "command-input":
            self.action_leave()

    def _resolve(self, ref: SymbolRef | None) -> tuple[str, str]:
        """A command's symbol on the named venue, else the selected market's venue, else any venue."""
        if ref is None:
            return self.selected
        md = self.runtime.market_data
        venues = [ref.venue] if ref.venue else [self.selected[0], *md.venues()]
        for venue in venues:
            if venue in md.venues() and ref.symbol in md.symbols(venue):
                return venue, ref.symbol
        where = ref.venue or ", ".join(md.venues())
        raise ValueError(f"no market {ref.symbol} on {where}: try one of {', '.join(self._command_symbols())}")

    def run_command(self, cmd: Command) -> str | None:
        """Carry out a parsed command line; returns an error to show under the bar, or None."""
        if refused := command_refusal(self, cmd):
            return refused
        md = self.runtime.market_data
        if isinstance(cmd, GoCommand):
            self.select_market(*self._resolve(cmd.symbol))
        elif isinstance(cmd, OrderCommand):
            venue, symbol = self._resolve(cmd.symbol)
            if self.runtime.orders is None:
                return "order entry is not available on this runtime"
            ticket, errors = validate(
                md.market(venue, symbol), touch=md.top_of_book(venue, symbol), is_ask=cmd.is_ask,
                kind="market" if cmd.price is None else "limit", price_text=str(cmd.price or ""),
                size_text=str(cmd.size), size_in_quote=cmd.size_is_notional, post_only=cmd.post_only,
                reduce_only=cmd.reduce_only,
            )
            if ticket is None:
                return "; ".join(errors.values())
            self._confirm_and_send(venue, symbol, ticket)
        elif isinstance(cmd, ChaseCommand):
            venue, symbol = self._resolve(cmd.symbol)
            if getattr(self.runtime, "tracking", None) is None:
                return "the tracking limit is not available on this runtime"
            ticket, errors = validate_chase(md.market(venue, symbol), {
                "size": str(cmd.size), "limit": str(cmd.limit_price or ""), "offset": str(cmd.offset_ticks),
                "max_chase": "", "timeout": str(cmd.timeout_s or ""), "is_ask": cmd.is_ask,
                "end_action": "cancel", "post_only": True, "reduce_only": cmd.reduce_only,
            })
            if ticket is None:
                return "; ".join(f"{k}: {v}" for k, v in errors.items())
            self._start_chase(venue, symbol, ticket)
        elif isinstance(cmd, CancelAllCommand):
            if self.runtime.orders is None:
                return "order entry is not available on this runtime"
            target = self._resolve(cmd.symbol) if cmd.symbol else (None, None)
            self._cancel_all(*target)
        elif isinstance(cmd, CloseCommand):
            target = self._resolve(cmd.symbol) if cmd.symbol else None
            views = [v for v in self._position_views() if target is None or (v[0], v[1]) == target]
            if not views:
                return "no open position to close" if target is None else f"no open position on {target[1]}"
            for venue, symbol, size_i, *_ in views:
                self._close(venue, symbol, size_i)
        elif isinstance(cmd, KillCommand):
            self.action_kill_switch()
            if cmd.flatten and isinstance(self.screen, KillSwitchScreen):
                # "kill flat" has made step 1's choice; the dialog still waits for y
                self.call_after_refresh(self.screen.action_choose, "flatten")
        elif isinstance(cmd, ThemeCommand):
            if cmd.name not in self.available_themes:
                return f"unknown theme {cmd.name!r}: one of {', '.join(sorted(self.available_themes))}"
            self.theme = cmd.name
        return None

    # -- actions: tracking limit ---------------------------------------------------------

    @trading_action("starting a chase")
    def action_chase_form(self) -> None:
        tracking = getattr(self.runtime, "tracking", None)
        if self.selected is None or tracking is None:
            self.notify("the tracking limit is not available on this runtime", severity="warning")
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        entry = self._entry()
        bid, ask = md.top_of_book(venue, symbol)
        touch = ask if entry.is_ask else bid
        touch_text = md.format_price(venue, symbol, touch) if touch is not None else "-"
        form = ChaseForm(md.market(venue, symbol), is_ask=entry.is_ask, touch_text=touch_text, venue=venue)
        self.push_screen(form, lambda t: self._start_chase(venue, symbol, t) if t is not None else None)

    @work(group="chases", exit_on_error=False)
    async def _start_chase(self, venue: str, symbol: str, t: ChaseTicket) -> None:
        try:
            chase = await self.runtime.tracking.start(
                venue, symbol, is_ask=t.is_ask, size_i=t.size_i, offset_ticks=t.offset_ticks,
                limit_price_i=t.limit_price_i, max_chase_ticks=t.max_chase_ticks, timeout_s=t.timeout_s,
                end_action=t.end_action, post_only=t.post_only, reduce_only=t.reduce_only,
            )
        except Exception as exc:
            self.notices.add("reject", f"chase not started: {exc}", "error")
            return
        self.notices.add("chase", f"chase {self.chase_label(chase)} started: {'SELL' if t.is_ask else 'BUY'} "
                         f"{self.runtime.market_data.format_size(venue, symbol, t.size_i)} {symbol}", "information")
        self.action_tab("chases")

    def selected_chase(self) -> Any:
        tracking = getattr(self.runtime, "tracking", None)
        key = self._w("#chases-table", DiffTable).selected_key
        return tracking.get(key) if tracking is not None and key else None

    def _live_selected_chase(self) -> Any:
        chase = self.selected_chase()
        if chase is None:
            self.notify("no chase selected: press 4 for the chases tab", severity="warning")
        elif chase.is_done:
            self.notify(f"chase {self.chase_label(chase)} has ended", severity="warning")
            return None
        return chase

    @trading_action("pausing or resuming a chase")
    def chase_pause_resume(self) -> None:
        chase = self._live_selected_chase()
        if chase is None:
            return
        if str(chase.state.value) == "PAUSED":
            chase.resume()
        else:
            chase.pause()

    @trading_action("cancelling a chase")
    @work(group="chases", exit_on_error=False)
    async def chase_cancel(self, keep_resting: bool) -> None:
        chase = self._live_selected_chase()
        if chase is None:
            return
        try:
            await chase.cancel(keep_resting=keep_resting)
        except Exception as exc:
            self.notices.add("reject", f"chase {self.chase_label(chase)}: cancel failed: {exc}", "error")

    @trading_action("moving a chase's limit")
    def chase_move_limit(self) -> None:
        chase = self._live_selected_chase()
        if chase is None:
            return
        md = self.runtime.market_data
        current = chase.params.limit_price_i
        text = md.format_price(chase.venue, chase.symbol, current) if current else ""
        form = LimitPriceForm(f"New limit for chase {self.chase_label(chase)} ({chase.symbol})", text)

        def apply(value: str | None) -> None:
            if value is None:
                return
            try:
                price_i = md.to_price_i(chase.venue, chase.symbol, value.strip()) if value.strip() else None
                chase.set_limit_price(price_i)
            except (ValueError, ArithmeticError) as exc:
                self.notices.add("reject", f"limit not moved: {exc}", "error")

        self.push_screen(form, apply)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._preview()

    def _preview(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        entry = self._entry()
        values = entry.values()
        ticket = None
        if values["size_text"].strip():
            ticket, _errors = validate(md.market(venue, symbol), touch=md.top_of_book(venue, symbol), **values)
        if ticket is None:
            entry.show_hint()
        else:
            info = md.market(venue, symbol)
            entry.show_summary(
                f"{self._ticket_text(venue, symbol, ticket)} ≈ {money(ticket.notional_q)} {info.quote}"
                if ticket.notional_q
                else self._ticket_text(venue, symbol, ticket)
            )

