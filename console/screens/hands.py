"""The fast keys and lines: cross the spread, move an order a tick or to the touch, close part of a
position, reverse it, and the command lines that do the same (``cancel last``, ``cancel ID``,
``close BTC 50%``, ``reverse BTC``, ``size BTC 0.02``).

A mixin of ``MainScreen`` beside ``TradingActions`` (whose ``_confirm_and_send``, ``_ask_close``,
``_close``, ``_cancel``, ``take_back_newest`` and ``_selected_order`` it uses): every order goes through the runtime's
order service, every destructive one asks as its key does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from connector.interface import OrderStatus
from console.key_gate import held_work
from console.notify import Throttle
from console.parsing.commands import (
    CancelLastCommand,
    CancelOrderCommand,
    Command,
    ReverseCommand,
    SizeCommand,
    SymbolRef,
)
from console.parsing.order_ticket import OrderTicket, validate
from console.read_only import trading_action
from console.screens.dialogs import DestructiveScreen
from console.widgets.diff_table import DiffTable

if TYPE_CHECKING:
    from execution.orders import Order
    from execution.runtime import Runtime

CANCEL_CONFIRM_S = 10.0
"""How long a move by cancel-then-replace waits for the venue to confirm the cancel before giving up
(the replacement is never placed while the old order may still rest)."""

HANDS_COMMANDS = (CancelLastCommand, CancelOrderCommand, ReverseCommand, SizeCommand)


class MoveRefused(Exception):
    """A move that did not happen, with the reason to show."""


async def move_order(runtime: Runtime, order: Order, price_i: int) -> tuple[str, Order]:
    """Re-price ``order`` to ``price_i``: an amend where the venue's amend is fill-safe
    (``tracking.may_amend``), else cancel, wait for the venue to confirm it, and place the unfilled
    remainder at the new price with the same flags.  Returns ("amended" | "replaced", the live order)."""
    orders = runtime.orders
    if runtime.tracking.may_amend(order.venue):
        await orders.amend(order, price_i=price_i)
        return "amended", order
    await orders.cancel(order)
    try:
        await order.wait_final(timeout=CANCEL_CONFIRM_S)
    except TimeoutError as exc:
        raise MoveRefused(f"cancel not confirmed ({exc}); nothing placed") from None
    if order.state != OrderStatus.CANCELLED:
        raise MoveRefused(f"the order is {order.state.value}; nothing placed")
    remaining = order.size_i - order.filled_i
    if remaining <= 0:
        raise MoveRefused("the order filled; nothing placed")
    new = await orders.submit_limit(
        order.venue, order.symbol, is_ask=order.is_ask, size_i=remaining, price_i=price_i,
        post_only=order.post_only, reduce_only=order.reduce_only,
    )
    return "replaced", new


def part_of(size_i: int, percent: int, step_i: int) -> int:
    """``percent`` of a signed position, down to the size step, with the position's sign (100 %: all of it)."""
    if percent >= 100:
        return size_i
    part = abs(size_i) * percent // 100
    part -= part % max(1, step_i)
    return part if size_i > 0 else -part


class HandsActions:
    """Mixed into ``MainScreen`` (see the module's docstring for what it uses)."""

    runtime: Runtime
    selected: tuple[str, str] | None
    sizes: dict[str, str]
    notices: Throttle
    _positions_table: DiffTable

    # -- cross --------------------------------------------------------------------------

    def _default_size_ticket(self, venue: str, symbol: str, is_ask: bool, *, cross: bool) -> OrderTicket | None:
        """A limit with the market's default size: at our side's touch (joining), or at the other
        side's (``cross``: marketable, not post-only).  None, with the reason shown, when it cannot be."""
        size = self.sizes.get(symbol)
        if not size:
            self.notify(f"no default size for {symbol}: add {symbol} = \"0.01\" (or \"$500\") under [sizes] "
                        f"in the config file, or type size {symbol} 0.01", severity="warning")
            return None
        md = self.runtime.market_data
        touch = md.top_of_book(venue, symbol)
        price = touch[0 if is_ask == cross else 1]
        if price is None:
            self.notify(f"no {'bid' if is_ask == cross else 'ask'} on {symbol}", severity="warning")
            return None
        ticket, errors = validate(
            md.market(venue, symbol), touch=touch, is_ask=is_ask, kind="limit",
            price_text=md.format_price(venue, symbol, price), size_text=size.strip().lstrip("$"),
            size_in_quote=size.strip().startswith("$"), post_only=not cross, reduce_only=False,
        )
        if ticket is None:
            self.notify(f"not sent: {'; '.join(errors.values())}", severity="error")
        return ticket

    @trading_action("sending an order")
    def action_cross(self, is_ask: bool) -> None:
        """One key: a marketable limit at the touch (a buy at the ask, a sell at the bid) with the
        market's default size; it takes what rests there and leaves no more than that price."""
        if self.selected is None:
            return
        venue, symbol = self.selected
        ticket = self._default_size_ticket(venue, symbol, is_ask, cross=True)
        if ticket is not None:
            self._confirm_and_send(venue, symbol, ticket)

    # -- move the selected order ------------------------------------------------------------

    @trading_action("moving an order")
    def action_move_order(self, where: str) -> None:
        """``up`` / ``down`` one tick, or to our side's ``touch``."""
        order = self._selected_order()
        if order is None or not order.is_live:
            self.notify("no open order selected: press 1 for the orders tab and pick one", severity="warning")
            return
        if order.kind != "limit":
            self.notify("only a limit order can be moved", severity="warning")
            return
        if order.parent_id is not None:
            self.notify("that order belongs to a chase: move the chase's limit (L on the chases tab)",
                        severity="warning")
            return
        md = self.runtime.market_data
        info = md.market(order.venue, order.symbol)
        if where == "touch":
            bid, ask = md.top_of_book(order.venue, order.symbol)
            price = ask if order.is_ask else bid
            if price is None:
                self.notify(f"no {'ask' if order.is_ask else 'bid'} on {order.symbol}", severity="warning")
                return
        else:
            price = order.price_i + (info.tick_i if where == "up" else -info.tick_i)
        if price <= 0 or price == order.price_i:
            self.notify(f"the order is already at {md.format_price(order.venue, order.symbol, order.price_i)}")
            return
        self._move(order, price)

    @work(group="orders", exit_on_error=False)
    async def _move(self, order: Order, price_i: int) -> None:
        md = self.runtime.market_data
        to = md.format_price(order.venue, order.symbol, price_i)
        try:
            how, _live = await move_order(self.runtime, order, price_i)
        except Exception as exc:
            self.notices.add("reject", f"move to {to} failed: {exc}", "error")
            return
        self.notices.add("order", f"{order.symbol} order {how} at {to}", "information")

    # -- part of a position, reverse --------------------------------------------------------

    def _selected_position(self) -> tuple[str, str] | None:
        key = self._positions_table.selected_key
        if key is None:
            self.notify("no position selected: press 2 for the positions tab and pick one", severity="warning")
            return None
        venue, _, symbol = key.partition(":")
        return venue, symbol

    @trading_action("closing a position")
    def action_close_part(self, percent: int) -> None:
        """Close ``percent`` of the selected position: reduce-only at market, asks first."""
        target = self._selected_position()
        if target is not None:
            self._ask_close_part(*target, percent, binding_id=f"position.close_{percent}")

    def _ask_close_part(self, venue: str, symbol: str, percent: int, *, binding_id: str | None = None,
                        confirmed: bool = False) -> str | None:
        size_i = self.runtime.positions.size_i(venue, symbol)
        if size_i == 0:
            return f"no open position on {symbol}"
        part = part_of(size_i, percent, self.runtime.market_data.market(venue, symbol).step_i)
        if part == 0:
            return f"{percent}% of the {symbol} position is less than one size step"
        if confirmed:
            self._close(venue, symbol, part)
        else:
            self._ask_close([(venue, symbol, part)], binding_id=binding_id or "position.close",
                            title=f"Close {percent}% of the position?" if percent < 100 else None)
        return None

    @trading_action("reversing a position")
    def action_reverse(self) -> None:
        target = self._selected_position()
        if target is not None and (error := self._ask_reverse(*target)):
            self.notify(error, severity="warning")

    def _ask_reverse(self, venue: str, symbol: str, *, confirmed: bool = False) -> str | None:
        """One market order of twice the position, the other way (not reduce-only), asked first."""
        size_i = self.runtime.positions.size_i(venue, symbol)
        if size_i == 0:
            return f"no open position on {symbol}"
        if confirmed:
            self._reverse(venue, symbol, size_i)
            return None
        md = self.runtime.market_data
        was, becomes = ("LONG", "SHORT") if size_i > 0 else ("SHORT", "LONG")
        body = (f"{'SELL' if size_i > 0 else 'BUY'} {md.format_size(venue, symbol, 2 * abs(size_i))} {symbol} · {venue}"
                f"\nat market: the {was} {md.format_size(venue, symbol, abs(size_i))} becomes a {becomes} of the same size.")
        self.app.push_screen(
            DestructiveScreen("Reverse position?", body, "Reverse", self.app.function_keys("position.reverse")),
            lambda ok: self._reverse(venue, symbol, size_i) if ok else None,
        )
        return None

    @held_work("orders")
    async def _reverse(self, venue: str, symbol: str, size_i: int) -> None:
        try:
            await self.runtime.orders.submit_market(venue, symbol, is_ask=size_i > 0, size_i=2 * abs(size_i))
        except Exception as exc:
            self.notices.add("reject", f"reverse failed: {exc}", "error")

    # -- command lines ---------------------------------------------------------------------

    def run_hands_command(self, cmd: Command) -> str | None:
        """``cancel last``, ``cancel ID``, ``reverse SYM[!]`` and ``size SYM N``; an error to show, or None."""
        if isinstance(cmd, CancelLastCommand):
            if not self.take_back_newest():
                return "no open orders to cancel"
        elif isinstance(cmd, CancelOrderCommand):
            wanted = cmd.order_id
            found = [o for o in self.runtime.orders.open_orders()
                     if o.order_id == wanted or str(o.client_order_index) == wanted]
            if not found:
                return f"no open order {wanted}: the Orders tab (1) lists their ids"
            for order in found:
                self._cancel(order)
        elif isinstance(cmd, ReverseCommand):
            return self._ask_reverse(*self._resolve(cmd.symbol), confirmed=cmd.confirmed)
        elif isinstance(cmd, SizeCommand):
            return self._set_default_size(cmd.symbol, f"{'$' if cmd.size_is_notional else ''}{cmd.size}")
        return None

    def _set_default_size(self, ref: SymbolRef, size: str) -> str | None:
        venue, symbol = self._resolve(ref)
        md = self.runtime.market_data
        touch = md.top_of_book(venue, symbol)
        _ticket, errors = validate(
            md.market(venue, symbol), touch=touch, is_ask=False, kind="market", price_text="",
            size_text=size.lstrip("$"), size_in_quote=size.startswith("$"), post_only=False, reduce_only=False,
        )
        if "size" in errors:
            return f"size {size} on {symbol}: {errors['size']}"
        self.sizes[symbol] = size
        self.notify(f"default size for {symbol} is {size} for this session")
        return None
