"""What the protective-order keys and command lines do: attach a stop or take-profit to the selected
position, move the selected trigger a tick, breakeven, cancel; and ``stop``/``tp``/``bracket``/
``trail``/``be`` lines.

A mixin of ``MainScreen`` beside ``TradingActions`` and ``ChaseActions``: it drives
``runtime.triggers`` and reports what it answered; the Triggers tab paints the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from console.key_gate import held_work, push_form
from console.notify import Throttle
from console.once import Labels
from console.parsing.commands import SymbolRef
from console.parsing.trigger_ticket import TriggerCommand, trigger_request
from console.read_only import trading_action
from console.screens.chase_form import LimitPriceForm
from console.widgets.diff_table import DiffTable

if TYPE_CHECKING:
    from execution.runtime import Runtime
    from execution.triggers import Trigger

ATTACH_TICKS = 50
"""A stop / take-profit key proposes a trigger this many ticks from the entry (the trader edits it)."""


class TriggerActions:
    """Mixed into ``MainScreen``: uses its runtime, notices, ``_resolve`` and the triggers table."""

    runtime: Runtime
    selected: tuple[str, str] | None
    notices: Throttle
    _triggers_table: DiffTable
    _trigger_labels: Labels

    if TYPE_CHECKING:  # provided by TradingActions and MainScreen

        def _resolve(self, ref: SymbolRef | None) -> tuple[str, str]: ...
        def action_tab(self, tab: str) -> None: ...

    def trigger_label(self, t: Trigger) -> str:
        return self._trigger_labels.label(t.id)

    # -- command lines ----------------------------------------------------------------------

    def run_trigger_command(self, cmd: TriggerCommand) -> str | None:
        """``stop`` / ``tp`` / ``bracket`` / ``trail`` / ``be``: an error for the bar, or None once sent."""
        venue, symbol = self._resolve(SymbolRef(cmd.symbol, cmd.venue))
        md = self.runtime.market_data
        request, error = trigger_request(cmd, md.market(venue, symbol), self.runtime.positions.size_i(venue, symbol))
        if request is None:
            return error
        self._send_trigger(venue, symbol, request)
        return None

    @held_work("triggers")  # the keys typed after the price's Enter (or the line's) wait for the trigger
    async def _send_trigger(self, venue: str, symbol: str, request: dict[str, Any]) -> None:
        triggers = self.runtime.triggers
        kw = dict(request)
        call = kw.pop("call")
        try:
            if call == "bracket":
                b = await triggers.bracket(venue, symbol, **kw)
                placed = [b.stop, b.take_profit]
            elif call == "breakeven":
                placed = [await triggers.breakeven(venue, symbol)]
            else:
                placed = [await triggers.place(venue, symbol, **kw)]
        except Exception as exc:
            self.notices.add("reject", f"{symbol}: protective order refused: {exc}", "error")
            return
        for t in placed:
            self.notices.add("trigger", self._trigger_text(t), "information")
        self.action_tab("triggers")

    def _trigger_text(self, t: Trigger) -> str:
        md = self.runtime.market_data
        price = md.format_price(t.venue, t.symbol, t.trigger_price_i) if t.trigger_price_i else "-"
        how = "held by the venue" if t.native else "emulated: fires only while perpdesk runs"
        return f"{self.trigger_label(t)} {t.symbol} {t.kind} @ {price} {t.state} ({how})"

    # -- keys ---------------------------------------------------------------------------------

    @trading_action("placing a protective order")
    def action_trigger_attach(self, kind: str) -> None:
        """Ask for a stop (``stop``) or take-profit (``tp``) price for the selected market's position,
        proposing ``ATTACH_TICKS`` ticks from its entry."""
        if self.selected is None:
            return
        venue, symbol = self.selected
        view = self.runtime.positions.position(venue, symbol)
        if view.size_i == 0 or view.entry_price_i is None:
            self.notices.add("reject", f"no position on {symbol} to protect", "warning")
            return
        md = self.runtime.market_data
        tick = md.market(venue, symbol).tick_i
        long = view.size_i > 0
        away = -ATTACH_TICKS * tick if (kind == "stop") == long else ATTACH_TICKS * tick
        proposal = md.format_price(venue, symbol, max(tick, view.entry_price_i + away))
        title = f"{'Stop' if kind == 'stop' else 'Take-profit'} for the {symbol} position (whole position)"

        def apply(value: str | None) -> None:
            if value is None or not value.strip():
                return
            try:
                price_i = md.to_price_i(venue, symbol, value.strip())
            except (ValueError, ArithmeticError) as exc:
                self.notices.add("reject", f"not placed: {exc}", "error")
                return
            self._send_trigger(venue, symbol, {
                "call": "place", "kind": "stop_market" if kind == "stop" else "take_profit_market",
                "is_ask": long, "trigger_price_i": price_i,
            })  # fmt: skip

        push_form(LimitPriceForm(title, proposal), apply)

    @trading_action("moving the stop to breakeven")
    def action_trigger_breakeven(self) -> None:
        if self.selected is None:
            return
        self._send_trigger(*self.selected, {"call": "breakeven"})

    def _selected_trigger(self) -> Trigger | None:
        key = self._triggers_table.selected_key
        t = self.runtime.triggers.get(key) if key else None
        if t is None:
            self.notices.add("trigger", "no trigger selected: press 6 for the triggers tab", "warning")
        elif t.is_done:
            self.notices.add("trigger", f"trigger {self.trigger_label(t)} has ended", "warning")
            return None
        return t

    @trading_action("moving a trigger")
    @work(group="triggers", exit_on_error=False)
    async def action_trigger_nudge(self, ticks: int) -> None:
        t = self._selected_trigger()
        if t is None or t.trigger_price_i is None:
            return
        tick = self.runtime.market_data.market(t.venue, t.symbol).tick_i
        try:
            await self.runtime.triggers.move(t, t.trigger_price_i + ticks * tick)
        except Exception as exc:
            self.notices.add("reject", f"trigger {self.trigger_label(t)} not moved: {exc}", "error")

    @trading_action("cancelling a trigger")
    @work(group="triggers", exit_on_error=False)
    async def action_trigger_cancel(self) -> None:
        t = self._selected_trigger()
        if t is None:
            return
        try:
            await self.runtime.triggers.cancel(t)
        except Exception as exc:
            self.notices.add("reject", f"trigger {self.trigger_label(t)}: cancel failed: {exc}", "error")
