"""What the chase keys do: open the tracking-limit form, start a chase, and pause, cancel or move
the limit of the one selected in the chases tab.

A mixin of ``MainScreen`` beside ``TradingActions``: it drives ``runtime.tracking`` (the one
tracking-limit implementation) and reports what it answered; the chases tab paints the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.key_gate import held_work, push_form
from console.notify import Throttle
from console.parsing.chase_ticket import ChaseTicket
from console.parsing.order_ticket import validate
from console.read_only import trading_action
from console.screens.chase_form import ChaseForm, LimitPriceForm
from console.screens.dialogs import send_anyway_screen
from console.widgets.diff_table import ChasesTable
from console.widgets.order_entry import OrderEntry
from execution.orders import VenueDisconnected
from execution.tracking import TrackingLimit

if TYPE_CHECKING:
    from execution.algos import WorkingOrder
    from execution.runtime import Runtime


class ChaseActions:
    """Mixed into ``MainScreen``: uses its runtime, notices and widgets (declared here), and its
    ``chase_label`` and ``action_tab``."""

    runtime: Runtime
    selected: tuple[str, str] | None
    sizes: dict[str, str]
    notices: Throttle
    _entry: OrderEntry
    _chases_table: ChasesTable

    @trading_action("starting a chase")
    def action_chase_form(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        entry = self._entry
        bid, ask = md.top_of_book(venue, symbol)
        touch = ask if entry.is_ask else bid
        touch_text = md.format_price(venue, symbol, touch) if touch is not None else "-"
        form = ChaseForm(md.market(venue, symbol), is_ask=entry.is_ask, touch_text=touch_text, venue=venue,
                         size_text=self._default_base_size(venue, symbol, entry.is_ask))
        push_form(form, lambda t: self._start_chase(venue, symbol, t) if t is not None else None)

    def _default_base_size(self, venue: str, symbol: str, is_ask: bool) -> str:
        """The market's default size (config ``[sizes]`` or ``size`` line) in base units, a quote
        notional converted at our side's touch; empty when there is none or it does not convert."""
        size = self.sizes.get(symbol, "").strip()
        if not size:
            return ""
        md = self.runtime.market_data
        ticket, _errors = validate(
            md.market(venue, symbol), touch=md.top_of_book(venue, symbol), is_ask=is_ask, kind="market",
            price_text="", size_text=size.lstrip("$"), size_in_quote=size.startswith("$"), post_only=False,
            reduce_only=False,
        )
        if ticket is not None:
            return md.format_size(venue, symbol, ticket.size_i)
        return "" if size.startswith("$") else size

    @held_work("chases")  # a z typed after the form's Enter waits for the chase
    async def _start_chase(self, venue: str, symbol: str, t: ChaseTicket, allow_disconnected: bool = False) -> None:
        try:
            chase = await self.runtime.tracking.start(
                venue, symbol, is_ask=t.is_ask, size_i=t.size_i, offset_ticks=t.offset_ticks,
                limit_price_i=t.limit_price_i, max_chase_ticks=t.max_chase_ticks, timeout_s=t.timeout_s,
                end_action=t.end_action, post_only=t.post_only, reduce_only=t.reduce_only,
                aggressive=t.aggressive, trail=t.trail, limit_ppm=t.limit_ppm,
                allow_disconnected=allow_disconnected,
            )
        except VenueDisconnected as exc:  # as for an order: offered again behind a confirmation
            self.notices.add("reject", f"chase not started: {venue} is {exc.state}", "warning")
            side = "SELL" if t.is_ask else "BUY"
            text = f"chase {side} {self.runtime.market_data.format_size(venue, symbol, t.size_i)} {symbol}"
            self.app.push_screen(
                send_anyway_screen(venue, exc.state, text, self.app.function_keys("order.submit")),
                lambda ok: self._start_chase(venue, symbol, t, allow_disconnected=True) if ok else None,
            )
            return
        except Exception as exc:
            self.notices.add("reject", f"chase not started: {exc}", "error")
            return
        self.notices.add("chase", f"chase {self.chase_label(chase)} started: {'SELL' if t.is_ask else 'BUY'} "
                         f"{self.runtime.market_data.format_size(venue, symbol, t.size_i)} {symbol}", "information")
        self.action_tab("chases")

    def _live_selected_chase(self) -> TrackingLimit | None:
        key = self._chases_table.selected_key
        chase = self.runtime.tracking.get(key) if key else None
        if chase is None:
            self.notify("no chase selected: press 4 for the chases tab", severity="warning")
        elif chase.is_done:
            self.notify(f"chase {self.chase_label(chase)} has ended", severity="warning")
            return None
        return chase

    def _selected_algo(self) -> WorkingOrder | None:
        """The scale or TWAP selected in the working-orders tab, if that is what is selected."""
        key = self._chases_table.selected_key
        return self.runtime.algos.get(key) if key else None

    @trading_action("pausing or resuming a chase")
    def action_chase_pause_resume(self) -> None:
        algo = self._selected_algo()
        if algo is not None:
            if algo.kind == "twap" and not algo.is_done:
                algos = self.runtime.algos
                algos.resume(algo) if str(algo.state.value) == "PAUSED" else algos.pause(algo)
            return
        chase = self._live_selected_chase()
        if chase is None:
            return
        if str(chase.state.value) == "PAUSED":
            chase.resume()
        else:
            chase.pause()

    @trading_action("cancelling a chase")
    @work(group="chases", exit_on_error=False)
    async def action_chase_cancel(self, keep_resting: bool) -> None:
        algo = self._selected_algo()
        if algo is not None:
            if not algo.is_done:
                await self._end_working(algo, keep_resting=keep_resting)
            return
        chase = self._live_selected_chase()
        if chase is not None:
            await self._end_working(chase, keep_resting=keep_resting)

    async def _end_working(self, working: TrackingLimit | WorkingOrder, *, keep_resting: bool = False) -> None:
        """End a chase, scale or TWAP, its resting orders cancelled unless ``keep_resting`` (``c``/``K`` on
        the Chases tab, ``z``); a refusal is said as a notice."""
        try:
            if isinstance(working, TrackingLimit):
                await working.cancel(keep_resting=keep_resting)
            else:
                await self.runtime.algos.cancel(working, keep_resting=keep_resting)
        except Exception as exc:
            name = (f"chase {self.chase_label(working)}" if isinstance(working, TrackingLimit)
                    else f"{working.kind} {working.symbol}")
            self.notices.add("reject", f"{name}: cancel failed: {exc}", "error")

    @trading_action("moving a chase's limit")
    def action_chase_move_limit(self) -> None:
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

        push_form(form, apply)
