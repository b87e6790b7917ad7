"""Alerts that reach a trader over SSH: price alerts (``alert BTC > 66000``), fills and chase ends,
sent as a terminal bell and OSC 9 / OSC 777 desktop notifications, and kept in a file of their own.

Plain Python (no Textual): the screen (``screens/alert_actions.py``) feeds prices and events in and
writes what ``terminal_notification`` returns to the terminal.  Under tmux each OSC is wrapped in
tmux's passthrough (``ESC P tmux; … ESC \\``, escapes doubled) so it reaches the outer terminal; the
bell passes through as it is.  The file is JSON lines beside the journal (``alerts.jsonl``): every
alert set and every alert that fired, so a restart keeps the price alerts still waiting.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.alert_settings import AlertSettings
    from console.settings_defaults import PlainAlertSettings

log = logging.getLogger(__name__)

HISTORY = 50
"""Fired alerts kept for the Alerts tab (the file keeps them all): every fill alerts, so 200 took the
soak's typist a quarter of an hour to fill."""


def _clean(text: str) -> str:
    """No control characters (they would end the sequence early) and no ``;`` (OSC 777's separator)."""
    return "".join(ch if ch.isprintable() else " " for ch in text).replace(";", ",")


def _through_tmux(sequence: str) -> str:
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def terminal_notification(title: str, body: str, settings: AlertSettings | PlainAlertSettings, *, tmux: bool = False) -> str:
    """What to write to the terminal for one alert: bell, OSC 9, OSC 777, as ``settings`` switch them."""
    title, body = _clean(title), _clean(body)
    oscs = []
    if settings.osc9:
        oscs.append(f"\x1b]9;{title}: {body}\x07")
    if settings.osc777:
        oscs.append(f"\x1b]777;notify;{title};{body}\x07")
    text = "".join(_through_tmux(s) if tmux else s for s in oscs)
    return text + ("\a" if settings.bell else "")


@dataclass
class PriceAlert:
    id: int
    symbol: str
    above: bool
    """``>``: fires when the price reaches ``price`` or goes above; ``<``: at or below."""
    price: Decimal
    created_ms: int
    venue: str | None = None
    """None: the first venue listing the symbol."""
    fired_ms: int | None = None

    def crossed(self, price: Decimal) -> bool:
        return price >= self.price if self.above else price <= self.price

    def describe(self) -> str:
        where = f"{self.venue}:" if self.venue else ""
        return f"{where}{self.symbol} {'>' if self.above else '<'} {self.price}"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    ts_ms: int
    kind: str
    """``price``, ``fill`` or ``chase``."""
    text: str


class AlertBook:
    """The price alerts waiting and the alerts that fired, kept in ``path`` (None: in memory only)."""

    def __init__(self, path: Path | None, now_ms: Callable[[], int] | None = None) -> None:
        self.path = path
        self.now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self.alerts: dict[int, PriceAlert] = {}
        self.history: list[AlertEvent] = []
        self._next_id = 1
        self._load()

    @property
    def waiting(self) -> list[PriceAlert]:
        return [a for a in self.alerts.values() if a.fired_ms is None]

    def add(self, symbol: str, above: bool, price: Decimal, venue: str | None = None) -> PriceAlert:
        alert = PriceAlert(self._next_id, symbol, above, price, self.now_ms(), venue)
        self._next_id += 1
        self.alerts[alert.id] = alert
        self._write({"type": "price", "id": alert.id, "symbol": symbol, "above": above, "price": str(price),
                     "venue": venue, "ts_ms": alert.created_ms})
        return alert

    def check(self, venue: str, symbol: str, price: Decimal) -> list[PriceAlert]:
        """The waiting alerts on this market that ``price`` has reached; each fires once."""
        fired = []
        for alert in self.waiting:
            if alert.symbol == symbol and alert.venue in (None, venue) and alert.crossed(price):
                alert.fired_ms = self.now_ms()
                self._write({"type": "fired", "id": alert.id, "ts_ms": alert.fired_ms, "at": str(price)})
                self.record("price", f"{alert.describe()}: now {price}")
                fired.append(alert)
        return fired

    def record(self, kind: str, text: str) -> AlertEvent:
        event = AlertEvent(self.now_ms(), kind, text)
        self.history.append(event)
        del self.history[:-HISTORY]
        self._write({"type": "event", "kind": kind, "text": text, "ts_ms": event.ts_ms})
        return event

    def _write(self, record: dict[str, object]) -> None:
        if self.path is None:
            return
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as exc:
            log.warning("alerts: cannot write %s: %s", self.path, exc)

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            log.warning("alerts: cannot read %s: %s", self.path, exc)
            return
        for line in lines:
            try:
                r = json.loads(line)
                if r["type"] == "price":
                    self.alerts[r["id"]] = PriceAlert(r["id"], r["symbol"], r["above"], Decimal(r["price"]),
                                                      r["ts_ms"], r.get("venue"))
                    self._next_id = max(self._next_id, r["id"] + 1)
                elif r["type"] == "fired" and r["id"] in self.alerts:
                    self.alerts[r["id"]].fired_ms = r["ts_ms"]
                elif r["type"] == "event":
                    self.history.append(AlertEvent(r["ts_ms"], r["kind"], r["text"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line: the rest still counts
        del self.history[:-HISTORY]
