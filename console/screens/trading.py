"""What the trader's keys do: place, cancel, close, kill, and the command bar.

A mixin of ``MainScreen``, kept apart from the painting so each file has one job: this one
turns keys, forms and command lines into calls on the runtime (``orders``, ``kill_switch``)
through the same confirmations, and reports what the venue answered.  The chase keys are
``ChaseActions`` (``chase_actions.py``); a ``chase`` command line starts one through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.widget import Widget
from textual.widgets import Checkbox, Input

from connector.clock import Clock
from connector.interface import OrderStatus
from console import heap
from console.formatting import money
from console.key_gate import held_work, hold_keys
from console.notify import Throttle
from console.parsing.algo_ticket import ScaleCommand, TwapCommand, with_variants
from console.parsing.chase_ticket import validate_chase
from console.parsing.commands import (
    AlertCommand,
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
from console.parsing.leverage_ticket import LeverageCommand
from console.parsing.order_ticket import OrderTicket, validate
from console.parsing.trigger_ticket import TriggerCommand
from console.read_only import command_refusal, trading_action
from console.screens import algo_actions
from console.screens.dialogs import ConfirmScreen, DestructiveScreen, KillSwitchScreen, send_anyway_screen
from console.screens.hands import HANDS_COMMANDS, part_of
from console.screens.leverage_actions import run_leverage_command
from console.widgets.command_bar import CommandBar
from console.widgets.diff_table import DiffTable
from console.widgets.order_entry import OrderEntry
from execution.orders import Order, VenueDisconnected
from execution.tracking import TrackingLimit

if TYPE_CHECKING:
    from execution.algos import WorkingOrder
    from execution.runtime import Runtime


HOLD_LIMIT_S = 0.5
"""The longest the screen is held for an order's worker to make its request (it takes one loop turn)."""


class TradingActions:
    """Mixed into ``MainScreen``: uses its runtime, notices and widgets (declared here), its painter's
    ``select_market``, ``refresh_status`` and ``action_leave``, and ``ChaseActions._start_chase`` and
    ``_end_working``."""

    runtime: Runtime
    clock: Clock
    selected: tuple[str, str] | None
    confirm_above_q: int
    sizes: dict[str, str]
    notices: Throttle
    _ack_ms: dict[str, int]
    _entry: OrderEntry
    _orders_table: DiffTable
    _positions_table: DiffTable
    _command_bar: CommandBar

    @trading_action("the order form")
    def action_order_entry(self, is_ask: bool) -> None:
        entry = self._entry
        entry.set_side(is_ask)
        self._prefill_touch()
        entry.focus_price()

    def _prefill_touch(self, *, only_if_untouched: bool = False) -> None:
        """Put our side's touch in the price field (a sell starts at the ask, a buy at the bid)."""
        entry = self._entry
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

    @trading_action("sending an order")
    def send_order_form(self, field: Widget | None, *, leave: bool) -> None:
        """The order form's fields, every key typed before Enter in them: a valid order goes to execution
        before anything on screen changes (its worker starts first, so the venue request is made before any
        layout pass or repaint); then focus comes back to the desk (``leave``: it is still in the form) and
        old errors go.  A ticket with errors takes focus to the field to fix (``field`` had it on Enter)."""
        entry = self._entry
        errors: dict[str, str] = {}
        if self.selected is not None:
            venue, symbol = self.selected
            md = self.runtime.market_data
            ticket, errors = validate(md.market(venue, symbol), touch=md.top_of_book(venue, symbol), **entry.values())
            if ticket is not None:
                self._confirm_and_send(venue, symbol, ticket, back_to=field)
        if errors:
            entry.show_errors(errors)
            field = entry.first_invalid() or field
            if field is not None:
                self.set_focus(field)
            return
        if leave:
            self.action_leave()
        entry.show_errors(errors)

    def _confirm_and_send(
        self, venue: str, symbol: str, ticket: OrderTicket, back_to: Widget | None = None
    ) -> None:
        """Send now, or ask first when the notional is above the configured threshold; a "no" goes
        back to ``back_to`` (the form's field the ticket came from)."""
        if ticket.notional_q > self.confirm_above_q:
            text = f"{self._ticket_text(venue, symbol, ticket)}\nnotional ≈ {money(ticket.notional_q)}"

            def answer(ok: bool | None) -> None:
                if ok:
                    self._send_ticket(venue, symbol, ticket)
                elif back_to is not None:
                    self.set_focus(back_to)

            self.app.push_screen(ConfirmScreen("Large order — send it?", text), answer)
            return
        self._send_ticket(venue, symbol, ticket)

    @trading_action("sending an order")
    def action_join_touch(self, is_ask: bool) -> None:
        """One key: a post-only limit with the market's default size, a buy at the bid, a sell at the ask."""
        if self.selected is None:
            return
        venue, symbol = self.selected
        size = self.sizes.get(symbol)
        if not size:
            self.notify(f"no default size for {symbol}: add {symbol} = \"0.01\" (or \"$500\") under [sizes] "
                        "in the config file", severity="warning")
            return
        md = self.runtime.market_data
        touch = md.top_of_book(venue, symbol)
        price = touch[1] if is_ask else touch[0]
        if price is None:
            self.notify(f"no {'ask' if is_ask else 'bid'} on {symbol} to join", severity="warning")
            return
        ticket, errors = validate(
            md.market(venue, symbol), touch=touch, is_ask=is_ask, kind="limit",
            price_text=md.format_price(venue, symbol, price), size_text=size.strip().lstrip("$"),
            size_in_quote=size.strip().startswith("$"), post_only=True, reduce_only=False,
        )
        if ticket is None:
            self.notify(f"not sent: {'; '.join(errors.values())}", severity="error")
            return
        self._confirm_and_send(venue, symbol, ticket)

    def _ticket_text(self, venue: str, symbol: str, t: OrderTicket) -> str:
        md = self.runtime.market_data
        side = "SELL" if t.is_ask else "BUY"
        price = "at market" if t.price_i is None else f"@ {md.format_price(venue, symbol, t.price_i)}"
        flags = " ".join(f for f, on in (("post-only", t.post_only), ("reduce-only", t.reduce_only)) if on)
        return f"{side} {md.format_size(venue, symbol, t.size_i)} {symbol} {price} {flags}".strip()

    def _send_ticket(self, venue: str, symbol: str, t: OrderTicket, allow_disconnected: bool = False) -> None:
        """Hand the ticket to execution in a worker of its own, and hold the screen (Textual's batch update:
        no layout pass, no frame composed) and the garbage collector until that worker has made the venue
        request.  The worker starts on the loop's next turn; without the hold a frame already due in this
        turn would be composed first (tens of milliseconds under a streaming book).  Released on the turn
        after the worker's first step, whatever it did (at the latest after ``HOLD_LIMIT_S``)."""
        resume_collections = heap.hold_collections()  # nor a garbage collection pass
        resume_keys = hold_keys(self.app)  # nor a key typed after Enter (z: cancel the newest) before it is placed
        hold = self.app.batch_update()
        hold.__enter__()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                resume_collections()
                resume_keys()
                hold.__exit__(None, None, None)
                self.check_idle()  # the screen's update timer, paused while held, picks up what is dirty

        asyncio.get_running_loop().call_later(HOLD_LIMIT_S, release)  # should the worker never start
        try:
            # the app's worker, not the screen's: its state message goes to the app, busy with this key, rather
            # than waking the screen (and the flush queued on it) ahead of the worker on the next turn
            self.app.run_worker(
                self._place_ticket(venue, symbol, t, allow_disconnected, release), group="orders", exit_on_error=False
            )
        except BaseException:
            release()
            raise

    async def _place_ticket(
        self, venue: str, symbol: str, t: OrderTicket, allow_disconnected: bool, release: Callable[[], None]
    ) -> None:
        entry = self._entry
        orders = self.runtime.orders
        asyncio.get_running_loop().call_soon(release)  # runs once this step has gone as far as the request
        started_ns = self.clock.now_ns()
        try:
            if t.kind == "market":
                order = await orders.submit_market(
                    venue, symbol, is_ask=t.is_ask, size_i=t.size_i, reduce_only=t.reduce_only,
                    allow_disconnected=allow_disconnected,
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
                    allow_disconnected=allow_disconnected,
                )
        except VenueDisconnected as exc:
            entry.show_errors({"flags": f"not sent: {venue} is {exc.state}"})
            self.app.push_screen(
                send_anyway_screen(venue, exc.state, self._ticket_text(venue, symbol, t),
                                   self.app.function_keys("order.submit")),
                lambda ok: self._send_ticket(venue, symbol, t, allow_disconnected=True) if ok else None,
            )
            return
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

    def _selected_order(self) -> Order | None:
        key = self._orders_table.selected_key
        if key is None:
            return None
        venue, _, index = key.rpartition(":")
        return self.runtime.orders.get(venue, int(index))

    @trading_action("cancelling an order")
    def action_cancel_selected(self) -> None:
        order = self._selected_order()
        if order is None:
            self.notify("no order selected: press 1 for the orders tab and pick one", severity="warning")
            return
        self._cancel(order)

    @trading_action("cancelling an order")
    def action_cancel_newest(self) -> None:
        """One key to take back what was just placed, wherever the cursors are (``take_back_newest``)."""
        if not self.take_back_newest():
            self.notify("no open orders to cancel")

    def take_back_newest(self) -> bool:
        """Cancel the newest of the open orders no chase or algo drives, the live chases no algo drives and
        the live scales and TWAPs (``z``, ``cancel last``); False when there is none.  An order a chase or
        algo placed is taken back with it: cancelled alone, the chase placed another and kept working while
        the trader thought it taken back."""
        runtime = self.runtime
        tracking, algos = runtime.tracking, runtime.algos

        def driven(order: Order) -> bool:
            parent = order.parent_id
            return parent is not None and (tracking.get(parent) is not None or algos.get(parent) is not None)

        newest: list[tuple[int, int, Order | TrackingLimit | WorkingOrder]] = [
            *((o.created_ms, o.client_order_index, o) for o in runtime.orders.open_orders() if not driven(o)),
            *((c.started_ms, 0, c) for c in tracking.active() if algos.owner_of(c.id) is None),
            *((a.started_ms, 0, a) for a in algos.algos.values() if not a.is_done),
        ]
        if not newest:
            return False
        *_, target = max(newest, key=lambda entry: entry[:2])
        if isinstance(target, Order):
            self._cancel(target)
        else:
            self.run_worker(self._end_working(target), group="chases", exit_on_error=False)
        return True

    @work(group="orders", exit_on_error=False)
    async def _cancel(self, order: Order) -> None:
        try:
            await self.runtime.orders.cancel(order)
        except Exception as exc:
            self.notices.add("reject", f"cancel failed: {exc} ({order.state.value})", "error")

    @trading_action("cancel all")
    def action_cancel_all(self) -> None:
        self._ask_cancel_all(None, None)

    def _ask_cancel_all(self, venue: str | None, symbol: str | None) -> None:
        count = len([o for o in self.runtime.orders.open_orders()
                     if venue is None or (o.venue, o.symbol) == (venue, symbol)])
        if count == 0:
            self.notify("no open orders to cancel")
            return
        where = "on every venue and market" if venue is None else f"on {symbol} · {venue}"
        self.app.push_screen(
            DestructiveScreen("Cancel all orders?", f"Cancel all {count} open order(s) {where}.",
                              "Cancel them", self.app.function_keys("order.cancel_all")),
            lambda ok: self._cancel_all(venue, symbol) if ok else None,
        )

    @held_work("orders")
    async def _cancel_all(self, venue: str | None = None, symbol: str | None = None) -> None:
        try:
            await self.runtime.orders.cancel_all(venue, symbol)
        except Exception as exc:
            self.notices.add("reject", f"cancel-all failed: {exc}", "error")

    @trading_action("closing a position")
    def action_close_position(self) -> None:
        key = self._positions_table.selected_key
        if key is None:
            self.notify("no position selected: press 2 for the positions tab and pick one", severity="warning")
            return
        venue, _, symbol = key.partition(":")
        self._ask_close([(venue, symbol, self.runtime.positions.size_i(venue, symbol))])

    def _ask_close(self, targets: list[tuple[str, str, int]], *, binding_id: str = "position.close",
                   title: str | None = None) -> None:
        """Close each ``(venue, symbol, size_i)`` with a reduce-only market order, once confirmed (by
        ``binding_id``'s function keys again, or Enter on the button)."""
        md = self.runtime.market_data
        targets = [t for t in targets if t[2] != 0]
        if not targets:
            return
        lines = [f"{'SELL' if size_i > 0 else 'BUY'} {md.format_size(venue, symbol, abs(size_i))} {symbol} · {venue}"
                 for venue, symbol, size_i in targets]
        title = title or ("Close position?" if len(targets) == 1 else f"Close {len(targets)} positions?")
        self.app.push_screen(
            DestructiveScreen(title, "\n".join(lines) + "\nat market, reduce-only.", "Close",
                              self.app.function_keys(binding_id)),
            lambda ok: [self._close(*t) for t in targets] if ok else None,
        )

    @held_work("orders")
    async def _close(self, venue: str, symbol: str, size_i: int) -> None:
        try:
            await self.runtime.orders.submit_market(
                venue, symbol, is_ask=size_i > 0, size_i=abs(size_i), reduce_only=True
            )
        except Exception as exc:
            self.notices.add("reject", f"close failed: {exc}", "error")

    @trading_action("the kill switch")
    def action_kill_switch(self) -> None:
        if isinstance(self.app.screen, KillSwitchScreen):
            return
        count = len(self.runtime.orders.open_orders())
        positions = len(self.runtime.positions.positions())
        self.app.push_screen(KillSwitchScreen(count, positions), self._on_kill_choice)

    def _on_kill_choice(self, choice: str | None) -> None:
        if choice is not None:
            self.action_leave()
            self._kill(choice == "flatten")

    @held_work("orders")
    async def _kill(self, flatten: bool) -> None:
        try:
            report = await self.runtime.kill_switch(flatten=flatten)
        except Exception as exc:
            self.notify(f"kill switch failed: {exc}", severity="error", timeout=10)
            return
        text = f"KILL SWITCH: {len(report.cancelled)} order(s) cancelled"
        ended = [f"{n} {what}" for n, what in ((report.chases_stopped, "chase(s) stopped"),
                                              (report.algos_halted, "working order(s) ended"),
                                              (report.triggers_disarmed, "trigger(s) disarmed")) if n]
        text += "".join(f", {e}" for e in ended)
        if flatten:
            text += f", {len(report.flatten_orders)} position(s) flattened"
        text += "; trading HALTED (A re-arms)"
        if report.errors:
            text += f"; {len(report.errors)} error(s): {report.errors[0]}"
        self.notify(text, severity="error" if report.errors else "warning", timeout=10)
        self.refresh_status()

    @trading_action("re-arming trading")
    def action_rearm(self) -> None:
        risk = self.runtime.risk
        if risk.state == "ACTIVE":
            return
        self.app.push_screen(
            ConfirmScreen("Re-arm trading?", "New orders will be accepted again."),
            lambda ok: (risk.rearm(), self.refresh_status()) if ok else None,
        )

    # -- command bar ---------------------------------------------------------------------

    def _command_symbols(self) -> list[str]:
        md = self.runtime.market_data
        return sorted({s for v in md.venues() for s in md.symbols(v)})

    def action_command_bar(self) -> None:
        self._command_bar.open()

    def on_command_bar_run(self, event: CommandBar.Run) -> None:
        try:
            error = self.run_command(event.command)
        except (ValueError, KeyError) as exc:
            error = str(exc)
        finally:
            event.release_keys()  # after the order's own hold, if it placed one (``_send_ticket``)
        if error:
            self._command_bar.reopen(event.line, error)

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
            ticket, errors = validate_chase(md.market(venue, symbol), {
                "size": str(cmd.size), "limit": str(cmd.limit_price or ""), "offset": str(cmd.offset_ticks),
                "max_chase": "", "timeout": str(cmd.timeout_s or ""), "is_ask": cmd.is_ask,
                "end_action": "cancel", "post_only": True, "reduce_only": cmd.reduce_only,
            })
            if ticket is None:
                return "; ".join(f"{k}: {v}" for k, v in errors.items())
            try:
                ticket = with_variants(ticket, cmd.aggressive, cmd.trail, cmd.limit_pct)
            except ValueError as exc:
                return str(exc)
            self._start_chase(venue, symbol, ticket)
        elif isinstance(cmd, ScaleCommand | TwapCommand):
            return algo_actions.preview_and_start(self, cmd)
        elif isinstance(cmd, TriggerCommand):
            return self.run_trigger_command(cmd)  # TriggerActions
        elif isinstance(cmd, LeverageCommand):
            return run_leverage_command(self, cmd)
        elif isinstance(cmd, CancelAllCommand):
            target = self._resolve(cmd.symbol) if cmd.symbol else (None, None)
            if cmd.confirmed:
                self._cancel_all(*target)
            else:
                self._ask_cancel_all(*target)
        elif isinstance(cmd, CloseCommand):
            target = self._resolve(cmd.symbol) if cmd.symbol else None
            views = [p for p in self.runtime.positions.positions() if target is None or (p.venue, p.symbol) == target]
            if not views:
                return "no open position to close" if target is None else f"no open position on {target[1]}"
            parts = [(p.venue, p.symbol, part_of(p.size_i, cmd.percent, md.market(p.venue, p.symbol).step_i))
                     for p in views]
            if not any(size for _, _, size in parts):
                return f"{cmd.percent}% of the position is less than one size step"
            if cmd.confirmed:
                for venue, symbol, size in parts:
                    if size:
                        self._close(venue, symbol, size)
            else:
                self._ask_close(parts, title=f"Close {cmd.percent}% of the position?" if cmd.percent < 100 else None)
        elif isinstance(cmd, KillCommand):
            if cmd.confirmed:
                self._on_kill_choice("flatten" if cmd.flatten else "kill")
                return None
            self.action_kill_switch()
            dialog = self.app.screen
            if cmd.flatten and isinstance(dialog, KillSwitchScreen):
                # "kill flat" has made step 1's choice; the dialog still waits for its confirmation
                self.call_after_refresh(dialog.action_choose, "flatten")
        elif isinstance(cmd, ThemeCommand):
            themes = self.app.available_themes
            if cmd.name not in themes:
                return f"unknown theme {cmd.name!r}: one of {', '.join(sorted(themes))}"
            self.app.theme = cmd.name
        elif isinstance(cmd, HANDS_COMMANDS):
            return self.run_hands_command(cmd)
        elif isinstance(cmd, AlertCommand):
            return self.run_alert_command(cmd)
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._preview()

    def _preview(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        entry = self._entry
        values = entry.values()
        ticket = None
        if values["size_text"].strip():
            ticket, _errors = validate(md.market(venue, symbol), touch=md.top_of_book(venue, symbol), **values)
        if ticket is None:
            entry.show_hint()
        else:
            info = md.market(venue, symbol)
            summary = (
                f"{self._ticket_text(venue, symbol, ticket)} ≈ {money(ticket.notional_q)} {info.quote}"
                if ticket.notional_q
                else self._ticket_text(venue, symbol, ticket)
            )
            entry.show_summary(f"{summary}\n{self._margin_text(venue, symbol, ticket)}")

    def _margin_text(self, venue: str, symbol: str, ticket: OrderTicket) -> str:
        """What the order needs in initial margin and what is available (the pre-trade check's figures)."""
        if ticket.reduce_only:
            return "reduce-only: needs no margin"
        preview = self.runtime.risk.margin_preview(venue, symbol, ticket.is_ask, ticket.size_i, ticket.price_i)
        return preview.text() + (" · not enough" if preview.fits is False else "")

