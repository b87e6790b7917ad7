"""Snapshots of the console on a seeded fake venue with a frozen clock (nothing wall-clock on screen)."""

from __future__ import annotations

import pytest

from tests.console.harness import make_desk, ready
from tests.console.test_leverage_lines import with_leverage


@pytest.mark.parametrize("size", [(120, 40), (160, 50)], ids=["120x40", "160x50"])
def test_first_screen_shows_book_markets_and_header(snap_compare, size):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)

    assert snap_compare(desk.app, terminal_size=size, run_before=run_before)


def test_switched_to_eth(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("down", "enter")
        desk.venue.tick(1)
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


async def _with_orders_and_a_position(desk, pilot) -> None:
    await ready(desk, pilot)
    md = desk.runtime.market_data
    bid, ask = md.top_of_book("sim", "BTC")
    await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=250, price_i=bid - 3)
    await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=120, price_i=ask + 2, post_only=True)
    desk.venue.set_position("ETH-PERP", -1500, 345_100)
    await ready(desk, pilot, ticks=0)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 50), (200, 60)], ids=["80x24", "120x40", "160x50", "200x60"])
def test_orders_tab_and_own_orders_on_the_ladder(snap_compare, size):
    desk = make_desk()
    assert snap_compare(desk.app, terminal_size=size, run_before=lambda pilot: _with_orders_and_a_position(desk, pilot))


def test_positions_tab_and_order_being_typed(snap_compare):
    desk = make_desk()

    with_leverage(desk)

    async def run_before(pilot) -> None:
        await _with_orders_and_a_position(desk, pilot)
        await desk.runtime.leverage.set_leverage("sim", "ETH", 5, cross=False)  # the Lev. column: "5x iso"
        await pilot.press("2", "s", "tab", *"0.5")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


def test_kill_switch_dialog(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await _with_orders_and_a_position(desk, pilot)
        await pilot.press("ctrl+k", "f")
        await pilot.pause()

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


def test_chases_panel_with_a_live_chase(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("t", *"0.05", "enter")
        await ready(desk, pilot, ticks=0)
        await desk.clock.advance(0.5)
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


def test_two_venues_side_by_side(snap_compare):
    desk = make_desk(second_venue=True)
    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=lambda pilot: ready(desk, pilot))


def test_stale_book_is_flagged(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await desk.clock.advance(6)
        desk.main.refresh_status()
        await pilot.pause()

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)
