"""Alerts on the desk: ``alert BTC > 66000`` lines, the price checks on each frame, fills and chase
ends, each sent to the terminal (bell, OSC 9 / OSC 777 as ``[alerts]`` says) and listed in the
Alerts tab.  A mixin of ``MainScreen``; what an alert is and how it is kept is ``console/alerts.py``.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from connector.scaling import scaled_to_str
from console.alerts import AlertBook, terminal_notification
from console.bridge import Batch
from console.formatting import clock_text
from console.parsing.commands import AlertCommand
from console.screens import panels
from console.widgets.diff_table import DiffTable

if TYPE_CHECKING:
    from connector.clock import Clock
    from console.alert_settings import AlertSettings
    from console.settings_defaults import PlainAlertSettings
    from execution.runtime import Runtime

ALERT_COLUMNS = [("time", "Time"), ("kind", "Kind"), ("what", "What"), ("state", "State")]


def alerts_path(runtime: Runtime) -> Path | None:
    """``alerts.jsonl`` beside the journal; None (in memory) for a journal in memory."""
    path = getattr(runtime.journal, "path", None)
    if path is None or str(path) == ":memory:":
        return None
    return Path(path).with_name("alerts.jsonl")


class AlertActions:
    """Mixed into ``MainScreen``: its runtime, clock, ``_resolve`` and the alerts table (declared here)."""

    runtime: Runtime
    clock: Clock
    alert_settings: AlertSettings | PlainAlertSettings
    _alerts_table: DiffTable
    _alert_book: AlertBook | None = None

    def terminal_write(self, text: str) -> None:
        """Write straight to the terminal (the bell and the OSC notifications); tests replace it."""
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            driver.write(text)
            driver.flush()

    @property
    def alert_book(self) -> AlertBook:
        if self._alert_book is None:
            self._alert_book = AlertBook(alerts_path(self.runtime), self.clock.now_ms)
        return self._alert_book

    def run_alert_command(self, cmd: AlertCommand) -> str | None:
        venue, symbol = self._resolve(cmd.symbol)
        md = self.runtime.market_data
        alert = self.alert_book.add(symbol, cmd.above, cmd.price, venue if cmd.symbol.venue else None)
        now = self._alert_price(venue, symbol)
        self.notify(f"alert set: {alert.describe()}" + (f" (now {md.format_price(venue, symbol, now)})" if now else ""))
        self._paint_alerts()
        return None

    def _alert_price(self, venue: str, symbol: str) -> int | None:
        md = self.runtime.market_data
        last = md.last_price_i(venue, symbol)
        return last if last is not None else md.mid_i(venue, symbol)

    def check_alerts(self, batch: Batch) -> None:
        """On each frame: price alerts on the markets that moved, then fills and chase ends."""
        book = self.alert_book
        md = self.runtime.market_data
        fired = False
        if book.waiting:
            for venue, symbol in batch.books:
                price = self._alert_price(venue, symbol)
                if price is None:
                    continue
                price_d = Decimal(scaled_to_str(price, md.market(venue, symbol).price_decimals))
                for alert in book.check(venue, symbol, price_d):
                    self._alert("Price alert", f"{alert.describe()}: now {price_d}")
                    fired = True
        if self.alert_settings.fills:
            for venue, symbol, f in batch.fills:
                text = panels.fill_notice(md, venue, symbol, f)
                book.record("fill", text)
                self._alert("Fill", text)
                fired = True
        if self.alert_settings.chase_end:
            for chase, event in batch.chase_events:
                if event.kind == "ended":
                    text = f"chase {self.chase_label(chase)} {chase.symbol} " + panels.chase_notice(md, chase, event)[0]
                    book.record("chase", text)
                    self._alert("Chase", text)
                    fired = True
        if fired:
            self._paint_alerts()

    def _alert(self, title: str, body: str) -> None:
        self.terminal_write(terminal_notification(f"perpdesk {title}", body, self.alert_settings,
                                                  tmux=bool(os.environ.get("TMUX"))))

    def _paint_alerts(self) -> None:
        book = self.alert_book
        rows = {f"a{a.id}": (clock_text(a.created_ms), "price", a.describe(), "waiting") for a in book.waiting}
        for i, e in enumerate(book.history):
            rows[f"e{i}:{e.ts_ms}"] = (clock_text(e.ts_ms), e.kind, e.text, "fired")
        self._alerts_table.sync(rows)

