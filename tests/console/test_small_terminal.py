"""80×24: the trading state, equity, available margin and margin ratio stay on screen, the footer keeps
the kill switch and chase hints, and the chases table keeps its State column."""

from __future__ import annotations

from textual.widgets import Static

from console.formatting import CHASE_COLUMNS
from console.widgets.footer import DeskFooter
from console.widgets.status import StatusBar
from tests.console.harness import make_desk, ready, settle

SMALL = (80, 24)


def _footer_keys_in_view(app) -> dict[str, str]:
    """description -> key of the footer hints drawn (``DeskFooter`` draws only hints that fit whole)."""
    footer = app.screen.query_one(DeskFooter)
    assert footer.region.right <= app.screen.size.width
    return {hint.description: hint.key for hint in footer.hints}


async def test_state_stays_on_the_header_line_when_it_does_not_fit_whole():
    desk = make_desk(second_venue=True)
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        desk.main._ack_ms["sim"] = 12  # one more badge: the full line is now far wider than 80
        desk.runtime.risk.halt("test")
        desk.main.refresh_status()
        await settle(desk, pilot)
        bar = desk.app.screen.query_one(StatusBar)
        line = bar.render().plain
        assert len(line) <= SMALL[0]
        assert "HALTED" in line
        assert "BTC@sim" in line


async def test_equity_available_and_ratio_are_shown_when_the_margin_panel_folds():
    desk = make_desk()
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        desk.main._paint_account()
        await settle(desk, pilot)
        full = desk.app.screen.query_one("#margin", Static)
        compact = desk.app.screen.query_one("#account", Static)
        assert not full.display or full.region.height == 0
        assert compact.display and compact.region.height >= 3
        assert compact.region.bottom <= desk.app.screen.query_one("#tabs").region.y
        text = str(compact.render())
        assert "margin ratio" in text and "eq " in text and " av " in text


async def test_footer_keeps_kill_and_chase_at_80_columns_wherever_focus_is():
    desk = make_desk()
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        shown = _footer_keys_in_view(desk.app)
        assert "Kill" in shown and "Chase" in shown and "Help" in shown
        await pilot.press("4")  # the chases table, with its own four hints first
        await settle(desk, pilot)
        shown = _footer_keys_in_view(desk.app)
        assert "Kill" in shown and "Chase" in shown and "Pause/resume" in shown
        await pilot.press("b")  # the order form
        await settle(desk, pilot)
        shown = _footer_keys_in_view(desk.app)
        assert "Kill" in shown and "Send" in shown


async def test_chases_table_shows_state_at_80_columns():
    desk = make_desk()
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        await pilot.press("t", *"0.05", "enter")
        await ready(desk, pilot, ticks=0)
        await pilot.press("4")
        await settle(desk, pilot)
        table = desk.main._chases_table
        keys = [k for k, _ in CHASE_COLUMNS]
        before = sum(table.columns[key].get_render_width(table) for key in keys[: keys.index("state") + 1])
        assert before <= table.size.width
        assert str(table.get_row_at(0)[keys.index("state")]).strip()
