"""Alerts: ``alert BTC > 66000`` / ``alert ETH < 3300``, fills and chase ends reach the terminal as a
bell and OSC 9 / OSC 777 notifications (wrapped for tmux), each switchable, kept in their own file
and listed in the Alerts tab."""

from __future__ import annotations

from decimal import Decimal

from console.alert_settings import AlertSettings
from console.alerts import AlertBook, terminal_notification
from console.parsing.commands import AlertCommand, SymbolRef, parse
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run


def test_alert_lines_parse():
    assert parse("alert BTC > 66000") == AlertCommand(SymbolRef("BTC"), True, Decimal("66000"))
    assert parse("alert ETH <3300") == AlertCommand(SymbolRef("ETH"), False, Decimal("3300"))


def test_terminal_notification_bell_osc9_osc777_each_switchable_and_through_tmux():
    every = terminal_notification("perpdesk Fill", "BUY 0.01 BTC; @ 1", AlertSettings())
    assert every.endswith("\a")
    assert "\x1b]9;perpdesk Fill: BUY 0.01 BTC, @ 1\x07" in every
    assert "\x1b]777;notify;perpdesk Fill;BUY 0.01 BTC, @ 1\x07" in every
    assert terminal_notification("t", "b", AlertSettings(osc9=False, osc777=False)) == "\a"
    assert terminal_notification("t", "b", AlertSettings(bell=False, osc777=False)) == "\x1b]9;t: b\x07"
    wrapped = terminal_notification("t", "b", AlertSettings(bell=False, osc777=False), tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"
    assert "\x1b]9;t:  ]x\x07" in terminal_notification("t", "\x1b]x", AlertSettings())  # no escape smuggled in


def test_the_book_fires_once_and_keeps_waiting_alerts_across_a_restart(tmp_path):
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path, lambda: 1_000)
    up = book.add("BTC", True, Decimal("66000"))
    book.add("ETH", False, Decimal("3300"))
    assert book.check("sim", "BTC", Decimal("65999.9")) == []
    assert book.check("sim", "BTC", Decimal("66000")) == [up]
    assert book.check("sim", "BTC", Decimal("67000")) == []  # once
    again = AlertBook(path, lambda: 2_000)
    assert [a.describe() for a in again.waiting] == ["ETH < 3300"]
    assert [e.kind for e in again.history] == ["price"]
    assert again.add("SOL", True, Decimal("200")).id == 3


async def test_a_price_alert_line_rings_when_the_price_gets_there_and_is_listed():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        written: list[str] = []
        desk.main.terminal_write = written.append
        md = desk.runtime.market_data
        last = md.last_price_i("sim", "BTC")
        target = md.format_price("sim", "BTC", last + 20)
        await run(desk, pilot, f"alert BTC > {target}")
        assert written == []
        desk.venue.mids["BTC-PERP"] += 40
        desk.venue.tick(1)
        desk.venue.mids["BTC-PERP"] += 40
        desk.venue.tick(1)
        await settle(desk, pilot)
        assert len(written) == 1 and "\x1b]9;perpdesk Price alert: BTC >" in written[0] and written[0].endswith("\a")
        desk.venue.tick(2)
        await settle(desk, pilot)
        assert len(written) == 1  # once
        await pilot.press("7")
        await settle(desk, pilot)
        table = desk.app.query_one("#alerts-table")
        assert table.row_count == 1 and str(table.get_row_at(0)[3]) == "fired"


async def test_a_fill_alerts_unless_switched_off():
    for fills in (True, False):
        desk = make_desk(alerts=AlertSettings(fills=fills, osc777=False))
        async with desk.app.run_test(size=(120, 40)) as pilot:
            await ready(desk, pilot)
            written: list[str] = []
            desk.main.terminal_write = written.append
            await run(desk, pilot, "buy 0.01 BTC mkt")
            await settle(desk, pilot)
            if fills:
                assert len(written) == 1 and "perpdesk Fill: Filled BUY 0.0100 BTC" in written[0]
            else:
                assert written == []


async def test_a_chase_that_ends_alerts():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        written: list[str] = []
        desk.main.terminal_write = written.append
        await pilot.press("t", *"0.05", "enter")
        await ready(desk, pilot, ticks=0)
        await pilot.press("4", "c")  # cancel the selected chase
        for _ in range(5):
            await ready(desk, pilot, ticks=1)
            if any("perpdesk Chase" in w for w in written):
                break
        assert any("perpdesk Chase: chase #1 BTC ended" in w for w in written), written


def test_the_alerts_tab_keeps_the_last_fifty_events(tmp_path):
    book = AlertBook(tmp_path / "alerts.jsonl", lambda: 1_000)
    for n in range(80):  # every fill alerts
        book.record("fill", f"fill {n}")
    assert [e.text for e in book.history] == [f"fill {n}" for n in range(30, 80)]
    assert len(AlertBook(tmp_path / "alerts.jsonl").history) == 50  # the file keeps all; a restart reads 50
