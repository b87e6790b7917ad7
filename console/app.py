"""``PerpdeskApp``: the trading console, hosting the runtime on Textual's event loop.

The app owns no trading logic.  It starts a ``Runtime`` (the same object scripts use), lets
the ``Bridge`` collect what changed, and paints it on a bounded timer.  Everything it needs
is injectable (runtime, clock, venue, symbol) so tests run it on a seeded sim in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Sparkline, Static, TabbedContent, TabPane

from connector.clock import Clock
from connector.interface import QUOTE_DECIMALS, Fill, Margin, OrderStatus, Position
from connector.scaling import rescale, scaled_to_str
from console.bridge import Batch, Bridge, LogLine, connectors_of
from console.formatting import CHASE_COLUMNS, chase_row, clock_text, money
from console.notify import Throttle
from console.palette import PROVIDERS
from console.screens.trading import TradingActions
from console.themes import DEFAULT_THEME, THEME_VARIABLE_DEFAULTS, load_themes
from console.widgets.command_bar import CommandBar
from console.widgets.diff_table import ChasesTable, DiffTable
from console.widgets.ladder import DepthLadder, LadderData
from console.widgets.market_list import MarketList, change_text
from console.widgets.order_entry import OrderEntry
from console.widgets.status import StatusBar, StatusView, age_level
from console.widgets.tape import TradesTape

log = logging.getLogger(__name__)

FLUSH_HZ = 25
_PAINTED = (
    "#status", "#markets", "#tape", "#chart", "#top", "#xvenue", "#ladder", "#entry", "#margin", "#tabs",
    "#orders-table", "#positions-table", "#fills-table", "#chases-table", "#log-table", "#command-bar",
)
"""Widgets the painter updates, looked up once at mount (they never go away while the app runs)."""
MID_SAMPLES = 120
DEFAULT_CONFIRM_ABOVE_Q = 10_000 * 10**QUOTE_DECIMALS

ORDER_COLUMNS = [
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("kind", "Type"),
    ("price", "Price"),
    ("size", "Size"),
    ("filled", "Filled"),
    ("state", "State"),
    ("flags", "Flags"),
    ("id", "Order id"),
]
POSITION_COLUMNS = [
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("size", "Size"),
    ("entry", "Entry"),
    ("mark", "Mark"),
    ("upnl", "uPnL"),
    ("rpnl", "rPnL"),
    ("liq", "Liq."),
]
LOG_COLUMNS = [("time", "Time"), ("kind", "Kind"), ("venue", "Venue"), ("message", "What happened")]
FILL_COLUMNS = [
    ("time", "Time"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("price", "Price"),
    ("size", "Size"),
    ("fee", "Fee"),
    ("role", "Role"),
]


class PerpdeskApp(TradingActions, App[int]):
    """The console.  ``runtime`` is a ``Runtime`` (not yet started); the app starts and stops it."""

    TITLE = "perpdesk"
    CSS_PATH = "perpdesk.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | set(PROVIDERS)

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl_c"),
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("escape", "leave", "Leave field", show=False, id="app.leave"),
        Binding("m", "focus_markets", "Markets", show=False, id="app.markets"),
        Binding("colon", "command_bar", "Command", key_display=":", id="app.command_bar"),
        Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True, id="app.command_palette"),
        Binding("b", "order_entry(False)", "Buy", id="order.buy"),
        Binding("s", "order_entry(True)", "Sell", id="order.sell"),
        Binding("c", "cancel_selected", "Cancel", id="order.cancel"),
        Binding("f8,C", "cancel_all", "Cancel all", id="order.cancel_all"),
        Binding("x", "close_position", "Close pos.", id="position.close"),
        Binding("ctrl+k", "kill_switch", "Kill", priority=True, id="risk.kill_switch"),
        Binding("A", "rearm", "Re-arm", show=False, id="risk.rearm"),
        Binding("t", "chase_form", "Chase", id="chase.new"),
        Binding("1", "tab('orders')", "Orders", show=False, id="tabs.orders"),
        Binding("2", "tab('positions')", "Positions", show=False, id="tabs.positions"),
        Binding("3", "tab('fills')", "Fills", show=False, id="tabs.fills"),
        Binding("4", "tab('chases')", "Chases", show=False, id="tabs.chases"),
        Binding("5", "tab('log')", "Log", show=False, id="tabs.log"),
    ]

    def __init__(
        self,
        runtime: Any,
        *,
        clock: Clock | None = None,
        venue: str | None = None,
        symbol: str | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        confirm_above_q: int = DEFAULT_CONFIRM_ABOVE_Q,
        flush_hz: float = FLUSH_HZ,
        persist_theme: Callable[[str], Any] | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.clock: Clock = clock or runtime.clock
        self.want_venue = venue
        self.want_symbol = symbol.upper() if symbol else None
        self.confirm_above_q = confirm_above_q
        self.read_only = read_only
        """Watch only: every trading action is refused (``console.read_only``)."""
        self.flush_hz = flush_hz
        self.bridge = Bridge()
        self.selected: tuple[str, str] | None = None
        self.error_message: str | None = None
        self.ready = asyncio.Event()
        self.first_paint_ns: int | None = None
        self._started_ns = time.perf_counter_ns()
        self._stopping = False
        self._frames = 0
        self._widgets: dict[str, Any] = {}
        self._chase_labels: dict[str, str] = {}
        self._log_seq = 0
        self._ack_ms: dict[str, int] = {}
        self._mids: dict[tuple[str, str], deque[tuple[int, int]]] = {}
        self._runtime_started = False
        self._positions: dict[tuple[str, str], Position] = {}
        self._margins: dict[str, Margin] = {}
        self._notified_rejects: set[tuple[str, int]] = set()
        self._seen_fills: set[tuple[str, str]] = set()
        self.notices = Throttle(self.clock, limit=3, window_ms=2_000)
        for t in load_themes():
            self.register_theme(t)
        self.theme = theme or DEFAULT_THEME
        self._persist_theme = persist_theme
        if keymap:
            self.set_keymap(keymap)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static("Markets", classes="panel-title")
                yield MarketList(id="markets")
                yield Static("Trades", classes="panel-title", id="tape-title")
                yield TradesTape(id="tape")
                yield Static("Mid, last 2 min", classes="panel-title", id="chart-title")
                yield Sparkline([], id="chart")
            with Vertical(id="center"):
                yield Static("", id="top", markup=False)
                yield Static("", id="xvenue", markup=False)
                yield DepthLadder(id="ladder")
            with Vertical(id="right"):
                yield OrderEntry(id="entry")
                yield Static("", id="margin", markup=False)
        with TabbedContent(id="tabs", initial="orders"):
            with TabPane("Orders 1", id="orders"):
                yield DiffTable(ORDER_COLUMNS, id="orders-table")
            with TabPane("Positions 2", id="positions"):
                yield DiffTable(POSITION_COLUMNS, id="positions-table")
            with TabPane("Fills 3", id="fills"):
                yield DiffTable(FILL_COLUMNS, id="fills-table")
            with TabPane("Chases 4", id="chases"):
                yield ChasesTable(CHASE_COLUMNS, id="chases-table")
            with TabPane("Log 5", id="log"):
                yield DiffTable(LOG_COLUMNS, id="log-table")
        yield CommandBar(self._command_symbols, id="command-bar")
        yield Footer(compact=True, show_command_palette=False)

    def _w(self, selector: str, kind: type | None = None) -> Any:
        """A widget of the main screen, found once: dialogs on top must not hide it from the painter."""
        widget = self._widgets.get(selector)
        if widget is None:
            widget = self.screen_stack[0].query_one(selector, kind) if kind else self.screen_stack[0].query_one(selector)
            self._widgets[selector] = widget
        return widget

    def on_mount(self) -> None:
        for selector in _PAINTED:
            self._w(selector)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if not self.is_headless:
            self._quit_on_signals()
        self.bridge.attach(self.runtime)
        self._w("#margin", Static).border_title = "Margin"
        self._w("#markets", MarketList).focus()
        if self.read_only:
            self.notify("read-only console: you can watch; every trading action is refused", timeout=8)
        self._boot()

    def on_resize(self, event) -> None:
        size = event.size
        screen = self.screen_stack[0] if self.screen_stack else self.screen
        screen.set_class(size.width < 100, "-narrow")
        screen.set_class(size.width >= 180, "-wide")
        screen.set_class(size.height < 30, "-short")
        screen.set_class(size.height >= 55, "-tall")

    @work(exclusive=True, group="runtime", exit_on_error=False)
    async def _boot(self) -> None:
        try:
            await self.runtime.start()
        except Exception as exc:
            log.exception("runtime failed to start")
            self._fail(f"perpdesk: could not start: {exc}")
            return
        self._runtime_started = True
        md = self.runtime.market_data
        markets = [(v, s) for v in md.venues() for s in md.symbols(v)]
        if not markets:
            self._fail("perpdesk: the venue lists no markets; check --venue and the venue's status")
            return
        selected = self._initial_market(markets)
        if selected is None:
            where = self.want_venue or ", ".join(md.venues())
            choices = ", ".join(sorted({s for _, s in markets}))
            self._fail(f"perpdesk: unknown symbol {self.want_symbol!r} on {where}: use --symbol with one of {choices}")
            return
        self._w("#markets", MarketList).set_markets(markets, selected)
        await self._seed_account()
        self._paint_account()
        self.select_market(*selected)
        self.set_interval(1 / self.flush_hz, self.flush)
        self.set_interval(0.2, self.refresh_status)
        self.refresh_status()
        self.ready.set()

    def _initial_market(self, markets: list[tuple[str, str]]) -> tuple[str, str] | None:
        venues = [self.want_venue] if self.want_venue else [v for v, _ in markets]
        if self.want_symbol:
            for venue in venues:
                if (venue, self.want_symbol) in markets:
                    return venue, self.want_symbol
            return None
        for venue in venues:
            if (venue, "BTC") in markets:
                return venue, "BTC"
        return next((m for m in markets if m[0] in venues), None)

    async def _seed_account(self) -> None:
        """Positions and margin as the venue reports them now; events keep them current after."""
        for venue, conn in connectors_of(self.runtime).items():
            try:
                for p in await conn.get_positions():
                    self._positions[(venue, p.symbol)] = p
                self._margins[venue] = await conn.get_margin()
            except Exception as exc:
                log.warning("%s: could not read the account: %s", venue, exc)

    def _quit_on_signals(self) -> None:
        """SIGTERM or a dropped SSH session (SIGHUP) quits like ``q``: connectors stopped, journal closed."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, lambda: self.call_later(self.action_quit))
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or a platform without signals

    def _theme_changed(self, theme: Any) -> None:
        """A theme chosen live (palette or command bar) is written to the config file to persist."""
        if self._persist_theme is None:
            return
        try:
            self._persist_theme(theme.name)
        except Exception as exc:
            self.notify(f"theme not saved: {exc}", severity="warning")

    def _fail(self, message: str) -> None:
        self.error_message = message
        self.exit(2, return_code=2)

    # -- painting -----------------------------------------------------------------------------

    def select_market(self, venue: str, symbol: str) -> None:
        self.selected = (venue, symbol)
        self._w("#markets", MarketList).set_selected((venue, symbol))
        md = self.runtime.market_data
        info = md.market(venue, symbol)
        self._w("#entry", OrderEntry).set_market(symbol, info.quote)
        ladder = self._w("#ladder", DepthLadder)
        ladder.remove_class("-stale")  # refresh_status below decides again for this market
        ladder.border_title = f"{symbol} · {venue}"
        self._paint_book(force=True)
        self._paint_chart()
        self.refresh_status()

    def flush(self) -> None:
        """Paint what changed since the last frame (runs at ``flush_hz``)."""
        if self.selected is None or self._stopping or self._exit:
            return
        batch = self.bridge.take()
        md = self.runtime.market_data
        markets = self._w("#markets", MarketList)
        now = self.clock.now_ms()
        for venue, symbol in batch.books:
            self._sample_mid(venue, symbol, now)
            bid, ask = md.top_of_book(venue, symbol)
            last = md.last_price_i(venue, symbol)
            markets.update_quote(
                (venue, symbol),
                md.format_price(venue, symbol, bid) if bid is not None else "-",
                md.format_price(venue, symbol, ask) if ask is not None else "-",
                md.format_price(venue, symbol, last) if last is not None else "-",
                change_text(md.change_bps(venue, symbol)),
            )
        symbol = self.selected[1]
        self._paint_book(force=bool(batch.orders) or any(s == symbol for _, s in batch.books))
        if batch.orders:
            self._paint_orders(batch)
        if batch.fills:
            self._paint_fills(batch.fills)
        self._positions.update(batch.positions)
        self._margins.update(batch.margins)
        self._frames += 1
        if batch.positions or batch.margins or batch.fills or self._frames % self.flush_hz == 0:
            self._paint_account()
        if batch.chases or batch.chase_events or self._frames % self.flush_hz == 0:
            self._paint_chases(batch)
        if batch.log:
            self._paint_log(batch.log)
        if batch.connection:
            self.refresh_status()
        self.notices.flush(self._notify_now)

    def _sample_mid(self, venue: str, symbol: str, now_ms: int) -> None:
        """One mid sample a second per market (on the injected clock), for the chart."""
        history = self._mids.get((venue, symbol))
        if history is None:
            history = self._mids[(venue, symbol)] = deque(maxlen=MID_SAMPLES)
        if history and now_ms - history[-1][0] < 1_000:
            return
        mid = self.runtime.market_data.mid_i(venue, symbol)
        if mid is not None:
            history.append((now_ms, mid))
            if (venue, symbol) == self.selected:
                self._paint_chart()

    def _paint_chart(self) -> None:
        history = self._mids.get(self.selected, ())
        mids = [mid for _, mid in history]
        self._w("#chart", Sparkline).data = mids if len(mids) > 1 else []

    def _paint_book(self, *, force: bool) -> None:
        venue, symbol = self.selected
        md = self.runtime.market_data
        info = md.market(venue, symbol)
        tape = self._w("#tape", TradesTape)
        tape.show(md.trades(venue, symbol), (info.price_decimals, info.size_decimals))
        if not force:
            return
        book = md.book(venue, symbol)
        own_bids: dict[int, int] = {}
        own_asks: dict[int, int] = {}
        orders = self.runtime.orders
        if orders is not None:
            for o in orders.open_orders(venue, symbol):
                if o.kind == "limit":
                    side = own_asks if o.is_ask else own_bids
                    side[o.price_i] = side.get(o.price_i, 0) + o.remaining_i
        data = LadderData(
            bids=book.bids(40),
            asks=book.asks(40),
            price_decimals=info.price_decimals,
            size_decimals=info.size_decimals,
            own_bids=own_bids,
            own_asks=own_asks,
        )
        self._w("#ladder", DepthLadder).update_book(data)
        self._w("#top", Static).update(self._top_text(venue, symbol))
        others = self._cross_venue_text(venue, symbol)
        xvenue = self._w("#xvenue", Static)
        xvenue.display = bool(others)
        if others:
            xvenue.update(others)
        if self.first_paint_ns is None and data.bids and data.asks:
            self.first_paint_ns = time.perf_counter_ns() - self._started_ns

    def _top_text(self, venue: str, symbol: str) -> str:
        md = self.runtime.market_data
        book = md.book(venue, symbol)
        bb, ba = book.best_bid(), book.best_ask()
        if bb is None or ba is None:
            return f"{symbol}  waiting for both sides of the book"
        fp, fs = md.format_price, md.format_size
        mid = md.mid_i(venue, symbol)
        short = f"{fs(venue, symbol, bb[1])} @ {fp(venue, symbol, bb[0])} │ {fp(venue, symbol, ba[0])} @ {fs(venue, symbol, ba[1])}"
        change = change_text(md.change_bps(venue, symbol))
        day = f"  24h {change}" if change else ""
        width = self._w("#top", Static).size.width - 2
        for text in (f"{short}  mid {fp(venue, symbol, mid)}{day}", f"{short}{day}", short):
            if width <= 0 or len(text) <= width:
                return text
        return f"{fp(venue, symbol, bb[0])} │ {fp(venue, symbol, ba[0])}"

    def _cross_venue_text(self, venue: str, symbol: str) -> str:
        """The same canonical market on the other venues: their touch and how far their mid is from ours."""
        md = self.runtime.market_data
        here = md.mid_i(venue, symbol)
        pd_here = md.market(venue, symbol).price_decimals
        parts = []
        for other in md.venues():
            if other == venue or symbol not in md.symbols(other):
                continue
            bid, ask = md.top_of_book(other, symbol)
            mid = md.mid_i(other, symbol)
            if bid is None or ask is None or mid is None or not here:
                parts.append(f"{other}: no book")
                continue
            pd = max(pd_here, md.market(other, symbol).price_decimals)
            diff = rescale(mid, md.market(other, symbol).price_decimals, pd) - rescale(here, pd_here, pd)
            bps10 = diff * 100_000 // rescale(here, pd_here, pd)
            sign = "+" if diff >= 0 else "-"
            parts.append(
                f"{other} {md.format_price(other, symbol, bid)} │ {md.format_price(other, symbol, ask)}  "
                f"mid {sign}{scaled_to_str(abs(diff), pd)} ({sign}{abs(bps10) / 10:.1f} bp)"
            )
        return "   ".join(parts)

    def refresh_status(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        venues = tuple((v, str(self._connection(v))) for v in md.venues())
        trades = md.trades(venue, symbol)
        trade_age = self.clock.now_ms() - trades[-1].ts_ms if trades else None
        risk = getattr(self.runtime, "risk", None)
        state = getattr(risk, "state", "") if risk is not None else ""
        view = StatusView(
            venues=venues,
            symbol=f"{symbol}@{venue}",
            ages=(("book", md.age_ms(venue, symbol)), ("trades", trade_age)),
            trading_state=str(getattr(state, "value", state) or ""),
            ack_ms=self._ack_ms.get(venue),
        )
        self._w("#status", StatusBar).show(view)
        book_age = md.age_ms(venue, symbol)
        stale = (book_age is not None and age_level(book_age) == "bad") or dict(venues).get(venue) == "disconnected"
        ladder = self._w("#ladder", DepthLadder)
        if ladder.has_class("-stale") != stale:
            ladder.set_class(stale, "-stale")
            ladder.border_title = f"{symbol} · {venue}" + (" · STALE: do not trust this book" if stale else "")

    def _connection(self, venue: str) -> str:
        try:
            return str(self.runtime.connection_state(venue).value)
        except Exception:
            return "unknown"

    def _paint_orders(self, batch: Batch) -> None:
        orders = self.runtime.orders
        if orders is None:
            return
        md = self.runtime.market_data
        rows = {}
        for o in orders.open_orders():
            fp = md.format_price(o.venue, o.symbol, o.price_i) if o.kind == "limit" else "market"
            rows[f"{o.venue}:{o.client_order_index}"] = (
                o.symbol,
                "SELL" if o.is_ask else "BUY",
                o.kind,
                fp,
                md.format_size(o.venue, o.symbol, o.size_i),
                md.format_size(o.venue, o.symbol, o.filled_i),
                str(o.state.value),
                " ".join(f for f, on in (("po", o.post_only), ("ro", o.reduce_only)) if on),
                o.order_id or "",
            )
        self._w("#orders-table", DiffTable).sync(rows)
        for key, o in batch.orders.items():
            if o.state == OrderStatus.REJECTED and key not in self._notified_rejects:
                self._notified_rejects.add(key)
                text = f"{self._describe(o)} REJECTED: {o.reason or 'no reason given'}"
                self._paint_log([LogLine(self.clock.now_ms(), "order", o.venue, text, "error", notify=False)])
                self.notices.add("reject", text, "error")

    def _describe(self, o: Any) -> str:
        md = self.runtime.market_data
        side = "SELL" if o.is_ask else "BUY"
        size = md.format_size(o.venue, o.symbol, o.size_i)
        price = f" @ {md.format_price(o.venue, o.symbol, o.price_i)}" if o.kind == "limit" else " at market"
        return f"{side} {size} {o.symbol}{price}"

    def _paint_fills(self, fills: list[tuple[str, Fill]]) -> None:
        md = self.runtime.market_data
        table = self._w("#fills-table", DiffTable)
        for venue, f in fills:
            key = (venue, f.trade_id)
            if key in self._seen_fills:
                continue
            self._seen_fills.add(key)
            try:
                symbol = md.canonical(venue, f.symbol)
            except Exception:
                symbol = f.symbol
            price = md.format_price(venue, symbol, f.price_i)
            size = md.format_size(venue, symbol, f.size_i)
            side = "SELL" if f.is_ask else "BUY"
            table.append(
                f"{venue}:{f.trade_id}",
                (clock_text(f.ts_ms), symbol, side, price, size, money(f.fee_q), "maker" if f.is_maker else "taker"),
            )
            self.notices.add("fill", f"Filled {side} {size} {symbol} @ {price}", "information")
        table.move_cursor(row=table.row_count - 1)

    def _position_views(self) -> list[tuple[str, str, int, int | None, int | None, int, int, int | None]]:
        """(venue, symbol, size, entry, mark, uPnL, rPnL, liq.) from the PositionService, else venue events."""
        ps = getattr(self.runtime, "positions", None)
        if ps is not None:
            return [
                (v.venue, v.symbol, v.size_i, v.entry_price_i, v.mark_price_i, v.unrealized_pnl_q,
                 v.realized_pnl_q, v.liquidation_price_i)
                for v in ps.positions()
            ]
        md = self.runtime.market_data
        out = []
        for (venue, venue_symbol), p in self._positions.items():
            try:
                symbol = md.canonical(venue, venue_symbol)
            except Exception:
                continue
            if p.size_i:
                out.append((venue, symbol, p.size_i, p.entry_price_i, p.mark_price_i, p.unrealized_pnl_q,
                            p.realized_pnl_q, p.liquidation_price_i))
        return out

    def position_size_i(self, venue: str, symbol: str) -> int:
        for v, s, size_i, *_ in self._position_views():
            if (v, s) == (venue, symbol):
                return size_i
        return 0

    def _paint_account(self) -> None:
        md = self.runtime.market_data
        rows = {}
        for venue, symbol, size_i, entry, mark, upnl, rpnl, liq in self._position_views():
            fp = md.format_price
            rows[f"{venue}:{symbol}"] = (
                symbol,
                "LONG" if size_i > 0 else "SHORT",
                md.format_size(venue, symbol, abs(size_i)),
                fp(venue, symbol, entry) if entry else "-",
                fp(venue, symbol, mark) if mark else "-",
                money(upnl),
                money(rpnl),
                fp(venue, symbol, liq) if liq else "-",
            )
        self._w("#positions-table", DiffTable).sync(rows)
        self._w("#margin", Static).update(self._margin_text())

    def _margin_text(self) -> str:
        ps = getattr(self.runtime, "positions", None)
        lines = []
        for venue in self.runtime.market_data.venues():
            if ps is not None and ps.margin(venue) is not None:
                a = ps.account(venue)
                ratio = f"{a.margin_ratio_bps / 100:.1f}%" if a.margin_ratio_bps is not None else "-"
                lev = f"{a.leverage_bps / 10_000:.2f}x" if a.leverage_bps is not None else "-"
                collateral, equity, used, avail, maint = (
                    a.collateral_q, a.equity_q, a.used_q, a.available_q, a.maintenance_q)
            elif venue in self._margins:
                m = self._margins[venue]
                ratio = f"{m.maintenance_q * 100 / m.equity_q:.1f}%" if m.equity_q > 0 else "-"
                lev = "-"
                collateral, equity, used, avail, maint = (
                    m.collateral_q, m.equity_q, m.used_q, m.available_q, m.maintenance_q)
            else:
                lines.append(f"{venue}: no account data yet")
                continue
            lines.append(
                f"{venue}\n"
                f"equity     {money(equity):>14}\n"
                f"collateral {money(collateral):>14}\n"
                f"used       {money(used):>14}\n"
                f"available  {money(avail):>14}\n"
                f"maint.     {money(maint):>14}\n"
                f"margin ratio {ratio:>7}  lev {lev}"
            )
        return "\n".join(lines)

    def _paint_chases(self, batch: Batch) -> None:
        tracking = getattr(self.runtime, "tracking", None)
        if tracking is None:
            return
        md = self.runtime.market_data
        now = self.clock.now_ms()
        chases = sorted(tracking.chases.values(), key=lambda c: c.started_ms)[-50:]
        table = self._w("#chases-table", DiffTable)
        if table.sync({c.id: chase_row(c, md, now, self.chase_label(c)) for c in chases}):
            table.move_cursor(row=table.row_count - 1)  # a new chase: select it, ready for p / c / L
        for chase, event in batch.chase_events:
            severity = "warning" if event.kind in ("ended", "limit_reached") else "error"
            message = event.message
            if event.kind == "ended":
                reason = chase.end_reason.value if chase.end_reason is not None else "ended"
                if reason == "filled":
                    severity = "information"
                avg = chase.avg_price_i
                message = (
                    f"ended ({reason}): {md.format_size(chase.venue, chase.symbol, chase.filled_i)}/"
                    f"{md.format_size(chase.venue, chase.symbol, chase.size_i)}"
                    + (f" avg {md.format_price(chase.venue, chase.symbol, avg)}" if avg else "")
                )
            elif event.kind == "limit_reached" and chase.params.limit_price_i:
                message = f"at its limit {md.format_price(chase.venue, chase.symbol, chase.params.limit_price_i)}"
            self.notices.add("chase", f"chase {self.chase_label(chase)} {chase.symbol}: {message}", severity)

    def _paint_log(self, lines: list[LogLine]) -> None:
        table = self._w("#log-table", DiffTable)
        for line in lines:
            self._log_seq += 1
            table.append(str(self._log_seq), (clock_text(line.ts_ms), line.kind, line.venue, line.message), keep=300)
            if line.notify:
                self.notices.add(line.kind, f"{line.venue} {line.message}".strip(), line.severity)
        table.move_cursor(row=table.row_count - 1)

    def chase_label(self, chase: Any) -> str:
        """A short number per chase for the screen (the runtime's ids are long and random)."""
        label = self._chase_labels.get(chase.id)
        if label is None:
            label = self._chase_labels[chase.id] = f"#{len(self._chase_labels) + 1}"
        return label

    def _notify_now(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity, timeout=4)

    # -- actions: navigation ----------------------------------------------------------------

    def on_market_list_chosen(self, event: MarketList.Chosen) -> None:
        self.select_market(event.venue, event.symbol)

    def action_focus_markets(self) -> None:
        self._w("#markets", MarketList).focus()

    def action_leave(self) -> None:
        self._w("#markets", MarketList).focus()

    def action_tab(self, tab: str) -> None:
        self._w("#tabs", TabbedContent).active = tab
        self._w(f"#{tab}-table", DiffTable).focus()

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit(0)

    async def shutdown(self) -> None:
        """Stop the runtime once (connectors, services); safe to call twice."""
        if self._stopping:
            return
        self._stopping = True
        if self._runtime_started:
            try:
                await asyncio.wait_for(self.runtime.stop(), timeout=5)
            except Exception:
                log.exception("stopping the runtime failed")

    async def on_unmount(self) -> None:
        await self.shutdown()


__all__ = ["PerpdeskApp", "money"]
