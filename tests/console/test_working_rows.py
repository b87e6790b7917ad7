"""The working-orders tab's text: report figures, and a scale's and a TWAP's rows; c cancels the selected one."""

from __future__ import annotations

from console.working_rows import WORKING_COLUMNS, algo_row, bps_text, report_text, share_text
from execution.tracking import build_report
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run


def test_report_figures_as_text():
    assert [bps_text(v) for v in (None, 0, 84, -5, 12_345)] == ["-", "+0.00", "+0.84", "-0.05", "+123.45"]
    assert [share_text(v) for v in (None, 0, 999_999, 1_000_000)] == ["-", "0%", "99%", "100%"]


async def test_the_tab_shows_a_scale_and_a_twap_and_c_cancels_the_selected_one():
    desk = make_desk()
    async with desk.app.run_test(size=(160, 50)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "scale buy 0.1 BTC 64900..64800 x5")
        await pilot.press("enter")
        await settle(desk, pilot)
        [scale] = desk.runtime.algos.algos.values()
        md = desk.runtime.market_data
        row = dict(zip((k for k, _ in WORKING_COLUMNS), algo_row(scale, md, desk.clock.now_ms(), "#1 scale"),
                       strict=True))  # fmt: skip
        assert row["filled"] == "0.0000/0.1000" and row["price"].startswith("5 resting")
        assert row["limit"] == "64900.0..64800.0" and row["state"] == "RUNNING" and row["slip"] == "-"
        table = desk.main._chases_table
        assert table.selected_key == scale.id
        table.focus()
        await pilot.press("c")
        await settle(desk, pilot)
        await desk.clock.advance(1)
        await settle(desk, pilot)
        assert scale.is_done and desk.runtime.orders.open_orders() == []


def test_the_end_notice_carries_the_whole_report():
    class Md:
        def format_price(self, venue, symbol, price):
            return str(price)

    r = build_report(is_ask=False, target_i=10, started_ms=0, arrival_mid_i=1_000, fills=[], children=3)
    assert report_text(r, Md(), "sim", "BTC") == (
        "arrival 1000, avg -, slippage - bp, maker -, 0 reprices / 3 children, fees 0.00"
    )
