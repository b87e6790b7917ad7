"""What the command bar's ``scale`` and ``twap`` lines do: scale the numbers, preview, and start.

The preview (``AlgoPreviewScreen``) shows every order of a scale with the venue rule each would
break, or a TWAP's slice schedule, before anything is sent; Enter on its Send button starts it
through ``runtime.algos`` and the working-orders tab shows it.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from console.key_gate import run_held
from console.parsing.algo_ticket import ScaleCommand, TwapCommand, duration_text, scale_preview, twap_preview
from console.parsing.commands import SymbolRef
from console.screens.algo_preview import AlgoPreviewScreen
from execution.algos import child_problem, scale_prices, scale_sizes, twap_schedule

if TYPE_CHECKING:
    from textual.app import App

    from console.notify import Throttle
    from execution.runtime import Runtime


class TradingActions(Protocol):
    """The part of ``MainScreen`` these actions use (typed here: ``trading`` imports this module)."""

    runtime: Runtime
    notices: Throttle

    @property
    def app(self) -> App[Any]: ...
    def _resolve(self, ref: SymbolRef | None) -> tuple[str, str]: ...
    def action_tab(self, tab: str) -> None: ...
    def run_worker(self, work: Coroutine[Any, Any, None], *, group: str, exit_on_error: bool) -> Any: ...


def _side(is_ask: bool) -> str:
    return "SELL" if is_ask else "BUY"


def preview_and_start(screen: TradingActions, cmd: ScaleCommand | TwapCommand) -> str | None:
    """Push the preview of ``cmd``; returns an error for the command bar instead when it cannot be met."""
    try:
        venue, symbol = screen._resolve(SymbolRef(cmd.symbol, cmd.venue))
        if isinstance(cmd, ScaleCommand):
            return _scale(screen, venue, symbol, cmd)
        return _twap(screen, venue, symbol, cmd)
    except (ValueError, ArithmeticError) as exc:
        return str(exc)


def _scale(screen: TradingActions, venue: str, symbol: str, cmd: ScaleCommand) -> None:
    md = screen.runtime.market_data
    market = md.market(venue, symbol)
    size_i = md.to_size_i(venue, symbol, cmd.size)
    first, second = md.to_price_i(venue, symbol, cmd.from_price), md.to_price_i(venue, symbol, cmd.to_price)
    prices = scale_prices(first, second, cmd.count, market.tick_i)
    sizes = scale_sizes(size_i, cmd.count, market.step_i or 1, cmd.distribution)
    problems = [child_problem(market, p, s) if s else "nothing to place" for p, s in zip(prices, sizes, strict=True)]
    lines = scale_preview(
        prices, sizes, problems, lambda p: md.format_price(venue, symbol, p), lambda s: md.format_size(venue, symbol, s)
    )
    refused = sum(1 for p in problems if p)
    title = (
        f"Scale {_side(cmd.is_ask)} {md.format_size(venue, symbol, size_i)} {symbol} on {venue}: {cmd.count} orders "
        f"{md.format_price(venue, symbol, prices[0])} → {md.format_price(venue, symbol, prices[-1])} ({cmd.distribution})"
    )
    flags = ", ".join(f for f, on in (("post-only", cmd.post_only), ("reduce-only", cmd.reduce_only)) if on)
    note = f"{cmd.count - refused} to send" + (f", {refused} refused by the venue's rules" if refused else "")
    note += f"; {flags}" if flags else ""

    def send(ok: bool | None) -> None:
        if ok:
            run_held(screen, _start_scale(screen, venue, symbol, cmd, size_i, first, second), group="algos")

    screen.app.push_screen(AlgoPreviewScreen(title, lines, note, "Send scale"), send)


async def _start_scale(
    screen: TradingActions, venue: str, symbol: str, cmd: ScaleCommand, size_i: int, first: int, second: int
) -> None:
    try:
        s = await screen.runtime.algos.scale(
            venue, symbol, is_ask=cmd.is_ask, size_i=size_i, from_price_i=first, to_price_i=second, count=cmd.count,
            distribution=cmd.distribution, post_only=cmd.post_only, reduce_only=cmd.reduce_only,
        )  # fmt: skip
    except Exception as exc:
        screen.notices.add("reject", f"scale not placed: {exc}", "error")
        return
    severity = "warning" if s.refused else "information"
    screen.notices.add("algo", f"scale {symbol}: {s.summary}", severity)
    screen.action_tab("chases")


def _twap(screen: TradingActions, venue: str, symbol: str, cmd: TwapCommand) -> None:
    md = screen.runtime.market_data
    market = md.market(venue, symbol)
    size_i = md.to_size_i(venue, symbol, cmd.size)
    limit_i = md.to_price_i(venue, symbol, cmd.limit_price) if cmd.limit_price is not None else None
    sizes = scale_sizes(size_i, cmd.slices, market.step_i or 1, "flat")
    starts = twap_schedule(cmd.duration_s * 1000, cmd.slices, 0, 0)
    lines = twap_preview(starts, sizes, lambda s: md.format_size(venue, symbol, s))
    mode = "IOC" if cmd.slice_mode == "ioc" else "chase"
    title = (
        f"TWAP {_side(cmd.is_ask)} {md.format_size(venue, symbol, size_i)} {symbol} on {venue} over "
        f"{duration_text(cmd.duration_s)}: {cmd.slices} slices ({mode})"
    )
    notes = []
    if limit_i is not None:
        notes.append(f"never {'below' if cmd.is_ask else 'above'} {md.format_price(venue, symbol, limit_i)}")
    if cmd.jitter:
        pct = f"{cmd.jitter * 100:f}".rstrip("0").rstrip(".")
        notes.append(f"each slice moved by up to ±{pct}% of the interval")
    small = sum(1 for s in sizes if s < market.min_size_i)
    if small:
        notes.append(f"{small} slices below the venue minimum roll into the next")
    notes.append("unfilled remainders roll into the next slice")

    def send(ok: bool | None) -> None:
        if ok:
            run_held(screen, _start_twap(screen, venue, symbol, cmd, size_i, limit_i), group="algos")

    screen.app.push_screen(AlgoPreviewScreen(title, lines, "; ".join(notes), "Start TWAP"), send)


async def _start_twap(
    screen: TradingActions, venue: str, symbol: str, cmd: TwapCommand, size_i: int, limit_i: int | None
) -> None:
    try:
        await screen.runtime.algos.twap(
            venue, symbol, is_ask=cmd.is_ask, size_i=size_i, duration_s=cmd.duration_s, slices=cmd.slices,
            slice_mode=cmd.slice_mode, limit_price_i=limit_i, jitter=float(cmd.jitter), reduce_only=cmd.reduce_only,
        )  # fmt: skip
    except Exception as exc:
        screen.notices.add("reject", f"TWAP not started: {exc}", "error")
        return
    screen.notices.add("algo", f"TWAP {_side(cmd.is_ask)} {cmd.size} {symbol} started", "information")
    screen.action_tab("chases")
