"""Snapshots of the working orders: the tab with a chase, a scale and a TWAP, and a scale's preview."""

from __future__ import annotations

from tests.console.harness import make_desk, ready
from tests.console.test_command_lines import keys


def test_working_orders_tab_with_a_chase_a_scale_and_a_twap(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        for line in ("chase buy 0.05 BTC to 0.2% aggr", "scale buy 0.1 BTC 64900..64800 x5 inc",
                     "twap sell 0.3 ETH 30m x30"):  # fmt: skip
            await pilot.press("colon")
            await pilot.pause()
            await pilot.press(*keys(line), "enter")
            await ready(desk, pilot, ticks=0)
            if not line.startswith("chase"):
                await pilot.press("enter")  # send from the preview
                await ready(desk, pilot, ticks=0)
        await desk.clock.advance(0.5)
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(160, 50), run_before=run_before)


def test_a_scale_preview_before_it_is_sent(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*keys("scale sell 0.2 BTC 65000..65300 x4 dec"), "enter")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(120, 40), run_before=run_before)
