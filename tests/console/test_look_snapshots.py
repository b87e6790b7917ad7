"""Snapshots of each packaged theme and of the smallest and largest layouts, on the seeded fake venue
with a frozen clock; plus the command bar and the palette as a trader sees them."""

from __future__ import annotations

import pytest

from tests.console.harness import make_desk, ready
from tests.console.test_snapshots import _with_orders_and_a_position

THEMES = ["perpdesk-dark", "perpdesk-light", "perpdesk-high-contrast", "perpdesk-colorblind"]


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme_with_orders_and_a_position(snap_compare, theme):
    desk = make_desk(theme=theme)

    async def run_before(pilot) -> None:
        await _with_orders_and_a_position(desk, pilot)
        await pilot.press("2")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_first_screen_at_the_smallest_and_largest_sizes(snap_compare, size):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)

    assert snap_compare(desk.app, terminal_size=size, run_before=run_before)


def test_command_bar_with_an_error_under_the_line_at_80x24(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("colon", *["space" if c == " " else c for c in "buy 0.01 BTC @ abc"], "enter")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(80, 24), run_before=run_before)
