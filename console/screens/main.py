"""``MainScreen``: the desk's one screen — its layout, the painter that keeps it current, moving around it.

The painter keeps no copy of the account: each frame it takes what the ``Bridge`` collected since
the last one and repaints just those panels from the runtime's services, at ``flush_hz`` however
fast events arrive.  What each panel says is ``screens/panels.py``; what the keys do is
``TradingActions`` (``trading.py``) and ``ChaseActions`` (``chase_actions.py``); dialogs open over it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Sparkline, Static, TabbedContent, TabPane

from connector.clock import Clock
from connector.interface import Fill, OrderStatus
from console.bridge import Batch, Bridge, LogLine
from console.flush import Flusher
from console.formatting import clock_text
from console.notify import Throttle
from console.once import Labels, SeenOnce
from console.screens import panels
from console.screens.alert_actions import ALERT_COLUMNS, AlertActions
from console.screens.chase_actions import ChaseActions
from console.screens.hands import HandsActions
from console.screens.styles_once import StylesOnce
from console.screens.trading import TradingActions
from console.screens.trigger_actions import TriggerActions
from console.screens.triggers_panel import TRIGGER_COLUMNS, ladder_marks, trigger_row
from console.screens.triggers_table import TriggersTable
from console.settings_defaults import PlainAlertSettings
from console.widgets.command_bar import CommandBar
from console.widgets.diff_table import ChasesTable, DiffTable
from console.widgets.footer import DeskFooter
from console.widgets.ladder import DepthLadder
from console.widgets.market_list import MarketList, change_text
from console.widgets.one_line import OneLine
from console.widgets.order_entry import OrderEntry
from console.widgets.status import StatusBar, StatusView, age_level
from console.widgets.tape import TradesTape
from console.working_rows import WORKING_COLUMNS, algo_row, report_text, working_chase_row
from execution.tracking import TrackingLimit

if TYPE_CHECKING:
    from collections.abc import Callable

    from console.alert_settings import AlertSettings
    from execution.algos import WorkingOrder
    from execution.runtime import Runtime

MID_SAMPLES = 120
STATUS_INTERVAL_S = 0.2
ENDED_SHOWN = 50
"""The Chases and Triggers tabs list the latest this many, and every older one still live."""


class _Ends(Protocol):
    @property
    def is_done(self) -> bool: ...


Shown = TypeVar("Shown", bound=_Ends)


class MainScreen(TradingActions, ChaseActions, TriggerActions, HandsActions, AlertActions, StylesOnce, Screen[None]):
    """Book, markets, tape, order entry, account and the tabs; ``open()`` starts painting."""

    def __init__(
        self,
        runtime: Runtime,
        bridge: Bridge,
        *,
        clock: Clock,
        confirm_above_q: int,
        flush_hz: float,
        started_ns: int,
        sizes: dict[str, str] | None = None,
        alert_settings: AlertSettings | PlainAlertSettings | None = None,
    ) -> None:
        super().__init__()
        self.alert_settings = alert_settings or PlainAlertSettings()
        """``[alerts]``: bell, OSC 9 / OSC 777, and whether fills and chase ends alert."""
        self.runtime = runtime
        self.bridge = bridge
        self.clock = clock
        self.confirm_above_q = confirm_above_q
        self.flush_hz = flush_hz
        self.sizes = sizes or {}
        """symbol -> default size (config ``[sizes]``): ``"0.01"`` base, ``"$500"`` quote notional."""
        self.selected: tuple[str, str] | None = None
        self.first_paint_ns: int | None = None
        """Nanoseconds from ``started_ns`` (the app's construction) to the first two-sided book on screen."""
        self.notices = Throttle(clock, limit=3, window_ms=2_000)
        self._started_ns = started_ns
        self._frames = 0
        self._chase_labels = Labels("#")
        self._algo_ends: SeenOnce[str] = SeenOnce()
        self._trigger_labels = Labels("T")
        self._triggers_dirty = True
        self._book_dirty = False
        self._log_seq = 0
        self._ack_ms: dict[str, int] = {}
        self._mids: dict[tuple[str, str], deque[tuple[int, int]]] = {}
        self._notified_rejects: SeenOnce[tuple[str, int]] = SeenOnce()
        self.on_mounted: Callable[[], object] | None = None
        """Called once the widgets are mounted, before the first layout pass (the app opens the first market)."""

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._status_bar = StatusBar(id="status")
        self._markets = MarketList(id="markets")
        self._tape = TradesTape(id="tape")
        self._chart = Sparkline([], id="chart")
        self._top_line = OneLine(id="top")
        self._xvenue = Static("", id="xvenue", markup=False)
        self._ladder = DepthLadder(id="ladder")
        self._entry = OrderEntry(self.action_leave, self.send_order_form, id="entry")
        self._margin_box = Static("", id="margin", markup=False)
        self._account_line = Static("", id="account", markup=False)
        self._tabbed = TabbedContent(id="tabs", initial="orders")
        self._orders_table = DiffTable(panels.ORDER_COLUMNS, id="orders-table")
        self._positions_table = DiffTable(panels.POSITION_COLUMNS, id="positions-table")
        self._fold_positions()
        self._fills_table = DiffTable(panels.FILL_COLUMNS, id="fills-table")
        self._chases_table = ChasesTable(WORKING_COLUMNS, id="chases-table")
        self._log_table = DiffTable(panels.LOG_COLUMNS, id="log-table")
        self._triggers_table = TriggersTable(TRIGGER_COLUMNS, id="triggers-table")
        self._alerts_table = DiffTable(ALERT_COLUMNS, id="alerts-table")
        self._command_bar = CommandBar(self._command_symbols, self.action_leave, id="command-bar")

        yield self._status_bar
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static("Markets", classes="panel-title")
                yield self._markets
                yield Static("Trades", classes="panel-title", id="tape-title")
                yield self._tape
                yield Static("Mid, last 2 min", classes="panel-title", id="chart-title")
                yield self._chart
            with Vertical(id="center"):
                yield self._top_line
                yield self._xvenue
                yield self._ladder
            with Vertical(id="right"):
                yield self._entry
                yield self._margin_box
                yield self._account_line
        with self._tabbed:
            with TabPane("Orders 1", id="orders"):
                yield self._orders_table
            with TabPane("Positions 2", id="positions"):
                yield self._positions_table
            with TabPane("Fills 3", id="fills"):
                yield self._fills_table
            with TabPane("Working orders 4", id="chases"):
                yield self._chases_table
            with TabPane("Log 5", id="log"):
                yield self._log_table
            with TabPane("Triggers 6", id="triggers"):
                yield self._triggers_table
            with TabPane("Alerts 7", id="alerts"):
                yield self._alerts_table
        yield self._command_bar
        yield DeskFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._margin_box.border_title = "Margin"
        self._account_line.border_title = "Margin"
        self._markets.focus()
        if self.on_mounted is not None:
            self.on_mounted()

    def fit(self, size: Size) -> None:
        """The stylesheet's size classes for a terminal of ``size``."""
        self.set_class(size.width < 100, "-narrow")
        self.set_class(size.width >= 180, "-wide")
        self.set_class(size.height < 30, "-short")
        self.set_class(size.height >= 55, "-tall")
        self._fold_positions()

    def _fold_positions(self) -> None:
        """On a narrow terminal the Positions tab keeps its most read columns (``POSITION_COLUMNS_NARROW``)."""
        if hasattr(self, "_positions_table"):
            self._positions_table.show_only(panels.POSITION_COLUMNS_NARROW if self.has_class("-narrow") else None)

    def open(self, markets: list[tuple[str, str]], selected: tuple[str, str]) -> None:
        """List ``markets``, show ``selected`` and the account, and start painting (the runtime has started)."""
        self._markets.set_markets(markets, selected)
        self._paint_account()
        self.runtime.triggers.add_listener(self._on_trigger)
        self.select_market(*selected)
        self._paint_alerts()  # the price alerts still waiting from an earlier run
        # what a book tick repaints: its frame is composed in the flush's own turn, not on Textual's next timer
        book_widgets = (self._ladder, self._top_line, self._xvenue, self._tape, self._markets, self._chart)
        self.flusher = Flusher(self, self.flush, hz=self.flush_hz, compose=book_widgets)
        self.bridge.wake = self.flusher.poke
        self.set_interval(STATUS_INTERVAL_S, self.refresh_status)
        self.refresh_status()

    # -- painting -----------------------------------------------------------------------------

    def select_market(self, venue: str, symbol: str) -> None:
        self.selected = (venue, symbol)
        self._markets.set_selected((venue, symbol))
        info = self.runtime.market_data.market(venue, symbol)
        if self._entry.set_market(symbol, info.quote):
            self._prefill_touch()  # the form was in use: its price follows the new market's touch
        self._ladder.remove_class("-stale")  # refresh_status below decides again for this market
        self._ladder.border_title = f"{symbol} · {venue}"
        self._paint_book(force=True)
        self._paint_chart()
        self.refresh_status()

    def flush(self) -> None:
        """Paint what changed since the last frame (runs at ``flush_hz`` while the runtime runs)."""
        if self.selected is None or not self.runtime.started:
            return
        batch = self.bridge.take()
        md = self.runtime.market_data
        now = self.clock.now_ms()
        for venue, symbol in batch.books:
            self._sample_mid(venue, symbol, now)
            bid, ask = md.top_of_book(venue, symbol)
            last = md.last_price_i(venue, symbol)
            self._markets.update_quote(
                (venue, symbol),
                md.format_price(venue, symbol, bid) if bid is not None else "-",
                md.format_price(venue, symbol, ask) if ask is not None else "-",
                md.format_price(venue, symbol, last) if last is not None else "-",
                change_text(md.change_bps(venue, symbol)),
            )
        symbol = self.selected[1]
        self._paint_book(force=bool(batch.orders) or self._book_dirty or any(s == symbol for _, s in batch.books))
        self._book_dirty = False
        if batch.orders:
            self._paint_orders(batch)
        if batch.fills:
            self._paint_fills(batch.fills)
        self._frames += 1
        if batch.account or batch.fills or self._frames % self.flush_hz == 0:
            self._paint_account()
        if batch.chases or batch.chase_events or batch.algos or self._frames % self.flush_hz == 0:
            self._paint_chases(batch)
        if self._triggers_dirty or self._frames % self.flush_hz == 0:
            self._paint_triggers()
        if batch.log:
            self._paint_log(batch.log)
        if batch.connection:
            self.refresh_status()
        self.check_alerts(batch)
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
        mids = [mid for _, mid in self._mids.get(self.selected, ())]
        self._chart.data = mids if len(mids) > 1 else []

    def _paint_book(self, *, force: bool) -> None:
        venue, symbol = self.selected
        md = self.runtime.market_data
        info = md.market(venue, symbol)
        self._tape.show(md.trades(venue, symbol), (info.price_decimals, info.size_decimals))
        if not force:
            return
        data = panels.ladder_data(md, self.runtime.orders, venue, symbol)
        data.marks = ladder_marks(self.runtime.triggers, venue, symbol)
        self._ladder.update_book(data)
        if self._entry.following:
            self._prefill_touch(only_if_untouched=True)  # an unedited price follows the touch
        # one line of fixed height and width: no layout pass for it (it ran ~40 times a second), and its text
        # laid out once per change, not per frame (``OneLine``)
        self._top_line.update(panels.top_text(md, venue, symbol, self._top_line.size.width - 2))
        others = panels.cross_venue_text(md, venue, symbol)
        self._xvenue.display = bool(others)
        if others:
            self._xvenue.update(others)
        if self.first_paint_ns is None and data.bids and data.asks:
            self.first_paint_ns = time.perf_counter_ns() - self._started_ns

    def refresh_status(self) -> None:
        if self.selected is None:
            return
        venue, symbol = self.selected
        md = self.runtime.market_data
        venues = tuple((v, self.connection_text(v)) for v in md.venues())
        trades = md.trades(venue, symbol)
        trade_age = self.clock.now_ms() - trades[-1].ts_ms if trades else None
        book_age = md.age_ms(venue, symbol)
        self._status_bar.show(StatusView(
            venues=venues,
            symbol=f"{symbol}@{venue}",
            ages=(("book", book_age), ("trades", trade_age)),
            trading_state=self.runtime.risk.state.value,
            ack_ms=self._ack_ms.get(venue),
            paper=self.paper_venues,
        ))
        stale = (book_age is not None and age_level(book_age) == "bad") or dict(venues).get(venue) == "disconnected"
        if self._ladder.has_class("-stale") != stale:
            self._ladder.set_class(stale, "-stale")
            self._ladder.border_title = panels.ladder_title(symbol, venue, stale, self._ladder.size.width)

    @property
    def paper_venues(self) -> frozenset[str]:
        """Venues traded on paper (their connector says so): marked PAPER in the header and the log."""
        return frozenset(v for v, c in self.runtime.connectors.items() if getattr(c, "paper", False))

    def connection_text(self, venue: str) -> str:
        """``connected``, ``connecting``, ``disconnected`` …: the venue's least connected stream."""
        return str(self.runtime.connection_state(venue).value)

    def _paint_orders(self, batch: Batch) -> None:
        md = self.runtime.market_data
        table = self._orders_table
        if table.sync(panels.order_rows(md, self.runtime.orders)):
            table.move_cursor(row=table.row_count - 1)  # the newest order: the next c cancels it
        for key, o in batch.orders.items():
            if o.state == OrderStatus.REJECTED and self._notified_rejects.first(key):
                text = f"{panels.describe_order(md, o)} REJECTED: {o.reason or 'no reason given'}"
                self._paint_log([LogLine(self.clock.now_ms(), "order", o.venue, text, "error", notify=False)])
                self.notices.add("reject", ("PAPER " if o.venue in self.paper_venues else "") + text, "error")

    def _paint_fills(self, fills: list[tuple[str, str, Fill]]) -> None:
        md = self.runtime.market_data
        table = self._fills_table
        for venue, symbol, f in fills:
            if table.append(f"{venue}:{f.trade_id}", panels.fill_row(md, venue, symbol, f)):
                paper = "PAPER " if venue in self.paper_venues else ""
                self.notices.add("fill", paper + panels.fill_notice(md, venue, symbol, f), "information")
        table.move_cursor(row=table.row_count - 1)

    def _paint_account(self) -> None:
        md, positions = self.runtime.market_data, self.runtime.positions
        self._positions_table.sync(panels.position_rows(md, positions, self.clock.now_ms(), self.runtime.leverage))
        # repainted every second: no layout pass unless the text changed (the margin panel's height is fixed)
        _update_text(self._margin_box, panels.margin_text(md, positions), fixed_height=True)
        _update_text(self._account_line, panels.margin_compact_text(md, positions), fixed_height=False)

    def _paint_chases(self, batch: Batch) -> None:
        md = self.runtime.market_data
        now = self.clock.now_ms()
        working = [*self.runtime.tracking.chases.values(), *self.runtime.algos.algos.values()]
        rows = {}
        # a TWAP before its slices when they start in the same millisecond
        for item in _live_and_latest(sorted(working, key=lambda c: (c.started_ms, isinstance(c, TrackingLimit)))):
            if isinstance(item, TrackingLimit):
                rows[item.id] = working_chase_row(item, md, now, self.chase_label(item))
            else:
                rows[item.id] = algo_row(item, md, now, f"{self.chase_label(item)} {item.kind}")
                self._note_algo_end(item)
        table = self._chases_table
        if table.sync(rows):
            table.move_cursor(row=table.row_count - 1)  # a new one: select it, ready for p / c / L
        for chase, event in batch.chase_events:
            message, severity = panels.chase_notice(md, chase, event)
            self.notices.add("chase", f"chase {self.chase_label(chase)} {chase.symbol}: {message}", severity)

    def _paint_log(self, lines: list[LogLine]) -> None:
        table = self._log_table
        for line in lines:
            self._log_seq += 1
            if line.venue in self.paper_venues:
                line = replace(line, message=f"PAPER {line.message}")
            table.append(str(self._log_seq), (clock_text(line.ts_ms), line.kind, line.venue, line.message))
            if line.notify:
                self.notices.add(line.kind, f"{line.venue} {line.message}".strip(), line.severity)
        table.move_cursor(row=table.row_count - 1)

    def _note_algo_end(self, algo: WorkingOrder) -> None:
        """Once, when a scale or TWAP has ended: its execution report as a notice."""
        if not algo.is_done or not self._algo_ends.first(algo.id):
            return
        report = report_text(algo.report, self.runtime.market_data, algo.venue, algo.symbol)
        reason = algo.end_reason.value if algo.end_reason is not None else ""
        self.notices.add("algo", f"{algo.kind} {self.chase_label(algo)} {algo.symbol} ended ({reason}): {report}",  # type: ignore[arg-type]
                         "information")

    def _on_trigger(self, _trigger: object) -> None:
        self._triggers_dirty = True
        self._book_dirty = True  # the ladder marks the levels

    def _paint_triggers(self) -> None:
        self._triggers_dirty = False
        md, triggers = self.runtime.market_data, self.runtime.triggers
        shown = _live_and_latest(list(triggers.triggers.values()))
        rows = {t.id: trigger_row(t, md, triggers, self.trigger_label(t)) for t in shown}
        if self._triggers_table.sync(rows):
            self._triggers_table.move_cursor(row=self._triggers_table.row_count - 1)

    def chase_label(self, chase: TrackingLimit | WorkingOrder) -> str:
        """A short number per chase for the screen (the runtime's ids are long and random)."""
        label = self._chase_labels.get(chase.id)
        if label is None:
            owner = self.runtime.algos.owner_of(chase.id)
            if owner is not None:  # a TWAP is numbered before its slices, whichever the screen hears of first
                self.chase_label(owner)
            label = self._chase_labels.label(chase.id)
        return label

    def _notify_now(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity, timeout=4)

    # -- navigation -------------------------------------------------------------------------

    def on_market_list_chosen(self, event: MarketList.Chosen) -> None:
        self.select_market(event.venue, event.symbol)

    def action_focus_markets(self) -> None:
        self.set_focus(self._markets)

    def action_leave(self) -> None:
        """Back to the desk from a field, at once (``set_focus``, not ``focus()``, which waits a turn):
        the keys after Escape or Enter in the same read are the desk's."""
        if self._command_bar.is_open:
            self._command_bar.close()  # it calls back here
            return
        self.set_focus(self._markets)

    def action_tab(self, tab: str) -> None:
        self._tabbed.active = tab
        self.set_focus(self.query_one(f"#{tab}-table", DiffTable))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the chases panel's own c (cancel the chase) stands before the desk's priority c
        if action == "cancel_selected" and self.focused in (self._chases_table, self._triggers_table):
            return False
        # and the triggers panel's [ / ] (move the trigger a tick) before the desk's order moves
        if action == "move_order" and self.focused is self._triggers_table:
            return False
        return True


def _live_and_latest(items: list[Shown]) -> list[Shown]:
    """The last ``ENDED_SHOWN`` of ``items`` and, before them, every older one still live, in order: an armed
    stop or a working chase must not drop off its tab because newer ones ended (the tabs showed the
    last 50 only, live or not)."""
    return [item for item in items[:-ENDED_SHOWN] if not item.is_done] + items[-ENDED_SHOWN:]


def _update_text(widget: Static, text: str, *, fixed_height: bool) -> None:
    """``Static.update`` that skips an unchanged text, and the layout pass where the height is the stylesheet's."""
    if text != str(widget.content):
        widget.update(text, layout=not fixed_height)
