"""What the desk's screen remembers per order, chase, algo and trigger is bounded (``console.once.KEEP``): over
hours of trading it grew by one entry per id it ever saw (issue 18).  Whatever is still shown keeps its entry."""

from __future__ import annotations

from types import SimpleNamespace as NS

from connector.clock import VirtualClock
from connector.interface import OrderStatus
from console.bridge import Batch
from console.once import KEEP
from console.screens import main
from console.screens.main import MainScreen

EXTRA = 10


def _screen(said: list[str]) -> MainScreen:
    runtime = NS(algos=NS(owner_of=lambda _id: None), connectors={}, market_data=None, orders=None)
    screen = MainScreen(runtime, NS(), clock=VirtualClock(), confirm_above_q=0, flush_hz=20, started_ns=0)  # type: ignore[arg-type]
    screen.notices = NS(add=lambda kind, text, severity: said.append(text))  # type: ignore[assignment]
    return screen


def test_chase_and_trigger_labels_are_bounded_and_a_shown_one_keeps_its_number():
    screen = _screen([])
    shown_chase, shown_trigger = NS(id="chase-shown"), NS(id="trigger-shown")
    assert (screen.chase_label(shown_chase), screen.trigger_label(shown_trigger)) == ("#1", "T1")
    for i in range(KEEP + EXTRA):
        screen.chase_label(NS(id=f"c{i}"))
        screen.trigger_label(NS(id=f"t{i}"))
        assert (screen.chase_label(shown_chase), screen.trigger_label(shown_trigger)) == ("#1", "T1")  # each frame
    assert len(screen._chase_labels) <= KEEP and len(screen._trigger_labels) <= KEEP
    assert screen.chase_label(NS(id="new")) == f"#{KEEP + EXTRA + 2}"  # numbers are never given twice


def test_rejects_are_told_once_and_remembered_within_the_bound(monkeypatch):
    said: list[str] = []
    screen = _screen(said)
    screen._orders_table = NS(sync=lambda rows: False)  # type: ignore[assignment]
    screen._paint_log = lambda lines: None  # type: ignore[method-assign]
    monkeypatch.setattr(main.panels, "order_rows", lambda md, orders: {})
    monkeypatch.setattr(main.panels, "describe_order", lambda md, o: f"order {o.client_order_index}")

    def rejected(coi: int) -> NS:
        return NS(venue="sim", client_order_index=coi, state=OrderStatus.REJECTED, reason="no")

    shown = rejected(0)
    for coi in range(1, KEEP + EXTRA + 1):
        screen._paint_orders(Batch(orders={("sim", 0): shown, ("sim", coi): rejected(coi)}))
    assert len(said) == KEEP + EXTRA + 1  # each reject told once, the one in every frame too
    assert len(screen._notified_rejects) <= KEEP


def test_algo_end_notices_are_given_once_and_remembered_within_the_bound(monkeypatch):
    said: list[str] = []
    screen = _screen(said)
    monkeypatch.setattr(main, "report_text", lambda *a: "report")

    def ended(algo_id: str) -> NS:
        return NS(id=algo_id, is_done=True, kind="scale", venue="sim", symbol="BTC", report=None, end_reason=None)

    shown = ended("shown")
    for i in range(KEEP + EXTRA):
        screen._note_algo_end(shown)  # the Chases tab lists it every frame
        screen._note_algo_end(ended(f"a{i}"))
    assert len(said) == KEEP + EXTRA + 1
    assert len(screen._algo_ends) <= KEEP
