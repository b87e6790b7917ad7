"""Command palette (ctrl+p) providers: markets, venues, trading actions and themes.

Each provider lists what the trader can reach by name, so nothing needs a key to be
remembered.  The actions go through the same dialogs as their keys (cancel all and the kill
switch ask first; closing a position asks first), and a theme chosen here is persisted by
the app's theme hook like one typed in the command bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.parsing.commands import CloseCommand, SymbolRef
from console.screens.help import current_bindings

if TYPE_CHECKING:
    from console.screens.main import MainScreen


@dataclass(frozen=True, slots=True)
class Entry:
    """One palette line: the text matched against, what choosing it does, a line of help."""

    text: str
    run: Callable[[], object]
    help: str = ""


class _EntryProvider(Provider):
    """Lists ``entries()``; all of them when the search is empty, fuzzy matches otherwise."""

    @property
    def desk(self) -> MainScreen:
        """The main screen, also when the palette was opened over a dialog."""
        return cast("MainScreen", self.app.get_default_screen())

    def entries(self) -> list[Entry]:
        raise NotImplementedError

    def _safe_entries(self) -> list[Entry]:
        # Before the runtime has started there are no markets yet: show nothing, never fail.
        if self.desk.selected is None:
            return []
        return self.entries()

    async def discover(self) -> Hits:
        for entry in self._safe_entries():
            yield DiscoveryHit(entry.text, entry.run, text=entry.text, help=entry.help or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._safe_entries():
            score = matcher.match(entry.text)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.text), entry.run, text=entry.text, help=entry.help or None)


class MarketsProvider(_EntryProvider):
    """``Market BTC · sim`` switches the book, tape and order form to that market."""

    def entries(self) -> list[Entry]:
        desk = self.desk
        md = desk.runtime.market_data
        out = []
        for venue in md.venues():
            for symbol in md.symbols(venue):
                bid, ask = md.top_of_book(venue, symbol)
                quote = " / ".join(md.format_price(venue, symbol, p) if p is not None else "-" for p in (bid, ask))
                out.append(Entry(f"Market {symbol} · {venue}", _call(desk.select_market, venue, symbol),
                                 f"switch to {symbol} on {venue} (bid / ask {quote})"))
        return out


class VenuesProvider(_EntryProvider):
    """``Venue NAME`` shows that venue: the same symbol there if it lists it, else its first market."""

    def entries(self) -> list[Entry]:
        desk = self.desk
        md = desk.runtime.market_data
        selected = desk.selected[1] if desk.selected else None
        out = []
        for venue in md.venues():
            symbols = md.symbols(venue)
            if not symbols:
                continue
            symbol = selected if selected in symbols else symbols[0]
            state = desk.connection_text(venue)
            out.append(Entry(f"Venue {venue}", _call(desk.select_market, venue, symbol),
                             f"{state}, {len(symbols)} market(s); opens {symbol} there"))
        return out


class ActionsProvider(_EntryProvider):
    """Cancel all, the kill switch and closing positions, each behind its confirmation."""

    def entries(self) -> list[Entry]:
        app = self.app
        desk = self.desk
        runtime = desk.runtime
        md = runtime.market_data
        keys = {bid: k for k, _, bid in current_bindings(app)}

        def key(binding_id: str) -> str:
            return f" · key {keys[binding_id]}" if binding_id in keys else ""

        out = [
            Entry("Cancel all orders", desk.action_cancel_all,
                  f"every open order on every venue (asks first){key('order.cancel_all')}"),
            Entry("Kill switch", desk.action_kill_switch,
                  f"cancel everything and halt trading, optionally flatten (asks first){key('risk.kill_switch')}"),
            Entry("Buy: order form", _call(desk.action_order_entry, False), f"limit or market{key('order.buy')}"),
            Entry("Sell: order form", _call(desk.action_order_entry, True), f"limit or market{key('order.sell')}"),
            Entry("Chase: tracking limit form", desk.action_chase_form,
                  f"an order that follows the touch until filled{key('chase.new')}"),
            Entry("Command bar", desk.action_command_bar, f"type an order or command{key('app.command_bar')}"),
        ]
        state = runtime.risk.state.value
        if state != "ACTIVE":
            out.append(Entry("Re-arm trading", desk.action_rearm, f"trading is {state} (asks first){key('risk.rearm')}"))
        for tab in ("orders", "positions", "fills", "chases", "log"):
            out.append(Entry(f"Show {tab}", _call(desk.action_tab, tab), f"the {tab} tab{key(f'tabs.{tab}')}"))
        for p in runtime.positions.positions():
            venue, symbol = p.venue, p.symbol
            side = "LONG" if p.size_i > 0 else "SHORT"
            size = md.format_size(venue, symbol, abs(p.size_i))
            out.append(Entry(f"Close position {symbol} · {venue}", _call(confirm_close, desk, venue, symbol, side, size),
                             f"{side} {size}: close at market, reduce-only (asks first)"))
        out.append(Entry("Help: keys", app.action_help, f"every key as bound now{key('app.help')}"))
        out.append(Entry("Quit", lambda: app.run_worker(app.action_request_quit(), group="quit"),
                         f"asks first with live orders or chases{key('app.quit')}"))
        return out


class ThemesProvider(_EntryProvider):
    """``Theme NAME`` switches live; the app writes the choice to the config file."""

    def entries(self) -> list[Entry]:
        app = self.app
        names = sorted(n for n in app.available_themes if n.startswith("perpdesk-")) or sorted(app.available_themes)
        return [
            Entry(f"Theme {name}", _call(setattr, app, "theme", name), "current theme" if name == app.theme else "")
            for name in names
        ]


def confirm_close(desk: MainScreen, venue: str, symbol: str, side: str, size: str) -> None:
    """Close through the command path, which asks first, so the palette and ``close SYM`` act alike."""
    error = desk.run_command(CloseCommand(SymbolRef(symbol, venue)))
    if error:
        desk.notify(error, severity="warning")


def _call(fn: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: fn(*args)


PROVIDERS = (MarketsProvider, VenuesProvider, ActionsProvider, ThemesProvider)

__all__ = ["PROVIDERS", "ActionsProvider", "MarketsProvider", "ThemesProvider", "VenuesProvider", "confirm_close"]
