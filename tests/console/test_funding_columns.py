"""The Positions tab's funding columns: the text, the rows, and the fold at 80 columns."""

from __future__ import annotations

import pytest

from connector.funding import HOUR_MS
from console.funding_text import countdown_text, funding_rate_text, interval_text, liq_distance_text
from console.screens import panels
from tests.console.harness import make_desk, ready, settle


@pytest.mark.parametrize(
    ("rate_e8", "interval_ms", "want"),
    [
        (10_000, 8 * HOUR_MS, "+0.0100%/8h"),
        (1_250, HOUR_MS, "+0.0013%/1h"),  # 0.00125 %: four decimals, halves away from zero
        (-1_250, HOUR_MS, "-0.0013%/1h"),
        (-17_916, HOUR_MS, "-0.0179%/1h"),
        (0, 4 * HOUR_MS, "+0.0000%/4h"),
        (300_000, 30 * 60_000, "+0.3000%/30m"),
    ],
)
def test_funding_is_written_per_the_venues_interval(rate_e8, interval_ms, want):
    assert funding_rate_text(rate_e8, interval_ms) == want


def test_countdown_liq_distance_and_interval_texts():
    assert countdown_text(None) == "-"
    assert countdown_text(0) == "00:00" and countdown_text(-5) == "00:00"
    assert countdown_text(59 * 60_000 + 59_999) == "59:59"
    assert countdown_text(7 * HOUR_MS + 5 * 60_000 + 3_000) == "7:05:03"
    assert liq_distance_text(None) == "-"
    assert liq_distance_text(-125_000) == "-12.5%" and liq_distance_text(100_049) == "+10.0%"
    assert liq_distance_text(-500) == "-0.1%" and liq_distance_text(-49) == "-0.0%" and liq_distance_text(0) == "+0.0%"
    assert interval_text(HOUR_MS) == "1h" and interval_text(8 * HOUR_MS) == "8h"


async def _position_with_funding(desk, pilot) -> None:
    await ready(desk, pilot)
    now = desk.clock.now_ms()
    desk.venue.set_position("ETH-PERP", -1500, 345_100, liquidation_price_i=379_600)
    desk.venue.set_position("SOL-PERP", 300, 152_000)
    desk.venue.set_funding("ETH-PERP", 10_000, 8 * HOUR_MS, now + 3 * HOUR_MS + 125_000, 345_000)
    await settle(desk, pilot)


async def test_rows_show_mark_funding_next_and_liquidation_distance_and_a_dash_where_unknown():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await _position_with_funding(desk, pilot)
        rows = panels.position_rows(desk.runtime.market_data, desk.runtime.positions, desk.clock.now_ms())
        cols = [k for k, _ in panels.POSITION_COLUMNS]
        eth = dict(zip(cols, rows["sim:ETH"], strict=True))
        assert eth["mark"] == "3450.00"  # the venue's mark, not the mid
        assert eth["funding"] == "+0.0100%/8h" and eth["next"] == "3:02:05"
        assert eth["liq"] == "3796.00" and eth["liq_pct"] == "+10.0%"  # a short: liquidated 10 % higher
        sol = dict(zip(cols, rows["sim:SOL"], strict=True))
        assert sol["funding"] == sol["next"] == sol["liq_pct"] == "-"
        await desk.clock.advance(65)  # Next counts down on the injected clock
        rows = panels.position_rows(desk.runtime.market_data, desk.runtime.positions, desk.clock.now_ms())
        assert dict(zip(cols, rows["sim:ETH"], strict=True))["next"] == "3:01:00"


async def test_the_positions_table_folds_at_80_columns_and_unfolds_when_wider():
    desk = make_desk()
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await _position_with_funding(desk, pilot)
        table = desk.app.screen.query_one("#positions-table")
        shown = [str(c.label) for c in table.columns.values()]
        assert shown == ["Symbol", "Side", "Size", "Mark", "Funding", "Next", "uPnL", "Liq %"]
        assert table.row_count == 2
        await pilot.resize_terminal(140, 40)
        await settle(desk, pilot)
        assert [str(c.label) for c in table.columns.values()] == [label for _, label in panels.POSITION_COLUMNS]
        assert table.row_count == 2
        eth = [str(c) for c in table.get_row("sim:ETH")]
        assert "+0.0100%/8h" in eth and "3796.00" in eth
