"""What the ``lev`` and ``margin`` command lines do: set a market's leverage or margin mode through
``runtime.leverage`` and say what the venue answered (``console.parsing.leverage_ticket`` parses them)."""

from __future__ import annotations

from typing import Any

from console.parsing.commands import SymbolRef
from console.parsing.leverage_ticket import LeverageCommand


def run_leverage_command(screen: Any, cmd: LeverageCommand) -> str | None:
    """An error for the command bar, or None once the request is on its way (``screen`` is the
    ``MainScreen``: its runtime, ``_resolve``, notices and workers)."""
    venue, symbol = screen._resolve(SymbolRef(cmd.symbol, cmd.venue))
    runtime = screen.runtime
    if not runtime.leverage.supports(venue):
        return f"{venue} does not let perpdesk set leverage or margin mode"
    top = runtime.market_data.market(venue, symbol).max_leverage
    if cmd.leverage is not None and not 1 <= cmd.leverage <= top:
        return f"{symbol} on {venue}: leverage is 1 to {top}"
    screen.run_worker(_apply(screen, venue, symbol, cmd), group="leverage", exit_on_error=False)
    return None


async def _apply(screen: Any, venue: str, symbol: str, cmd: LeverageCommand) -> None:
    leverage = screen.runtime.leverage
    try:
        if cmd.verb == "margin":
            assert cmd.cross is not None
            setting = await leverage.set_margin_mode(venue, symbol, cross=cmd.cross)
        else:
            assert cmd.leverage is not None
            setting = await leverage.set_leverage(venue, symbol, cmd.leverage, cross=cmd.cross)
    except Exception as exc:
        screen.notices.add("reject", f"{symbol}: leverage refused: {exc}", "error")
        return
    text = f"{venue}: {setting.describe()}"
    if leverage.account_wide(venue):
        text += f" ({venue}: leverage is account-wide: {setting.leverage}x on every market, capped at each one's maximum)"
    screen.notices.add("leverage", text, "information")
