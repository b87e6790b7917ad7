"""A snapshot of the Triggers tab and the ladder's stop / take-profit marks (fake venue, frozen clock)."""

from __future__ import annotations

from tests.console.harness import make_desk, ready


def test_triggers_tab_and_ladder_marks(snap_compare):
    desk = make_desk()

    async def run_before(pilot) -> None:
        await ready(desk, pilot)
        runtime = desk.runtime
        await runtime.orders.submit_market("sim", "BTC", is_ask=False, size_i=200)
        await ready(desk, pilot, ticks=0)
        mid = runtime.market_data.mid_i("sim", "BTC")
        await runtime.triggers.bracket("sim", "BTC", stop_price_i=mid - 6, take_profit_price_i=mid + 7)
        await runtime.triggers.place("sim", "BTC", kind="trailing_stop", is_ask=True, trail_ticks=400)
        await pilot.press("6")
        await ready(desk, pilot, ticks=0)

    assert snap_compare(desk.app, terminal_size=(140, 40), run_before=run_before)
