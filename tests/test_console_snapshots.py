"""Snapshots of the console on a seeded fake venue with a frozen clock (nothing wall-clock on screen)."""

from __future__ import annotations

import pytest

from tests.console_harness import make_desk, ready


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
