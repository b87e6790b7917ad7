"""Snapshots of the states issue 13's second part adds: the chases tab and a halted two-venue header
at 80×24, the Alerts tab, and the order form following the touch at 200×60."""

from __future__ import annotations

from tests.console.harness import make_desk, ready
from tests.console.test_command_lines import keys


def test_chases_tab_keeps_state_at_80x24(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("t", *"0.05", "enter")
        await ready(desk, pilot, ticks=0)
        await desk.clock.advance(0.5)
        await pilot.press("4")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(80, 24), run_before=run_before)


def test_halted_header_with_two_venues_at_80x24(snap_compare):
    desk = make_desk(second_venue=True)

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        desk.runtime.risk.halt("test")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(80, 24), run_before=run_before)


def test_alerts_tab_with_one_waiting_and_one_fired(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        desk.main.terminal_write = lambda text: None
        await pilot.press("colon", *keys("alert ETH < 3000"), "enter")
        await pilot.press("colon", *keys("alert BTC > 64000"), "enter")
        desk.venue.tick(1)
        await ready(desk, pilot, ticks=0)
        await pilot.press("7")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


def test_order_form_following_the_ask_at_200x60(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("s", "tab", *"0.02")
        await ready(desk, pilot)

    assert snap_compare(desk.app, terminal_size=(200, 60), run_before=run_before)
