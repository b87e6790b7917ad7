"""The Positions tab with funding, on the fake venue with a frozen clock: seeded figures, no wall clock in Next."""

from __future__ import annotations

import pytest

from tests.console.harness import make_desk, ready
from tests.console.test_funding_columns import _position_with_funding


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_positions_tab_with_mark_funding_next_and_liquidation_distance(snap_compare, size):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await _position_with_funding(desk, pilot)
        await pilot.press("2")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=size, run_before=run_before)
