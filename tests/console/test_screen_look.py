"""The screen: Textual's own palette entries are gone (ours cover them), the markets list has column
names and a line per venue, checkboxes read [x] / [ ] without colour, muted text is a muted grey in
the dark themes, the STALE banner fits at 80 columns, and toasts stand above the tables."""

from __future__ import annotations

from textual.widgets._toast import Toast

from console.palette import PROVIDERS
from console.screens.panels import ladder_title
from console.themes import load_themes
from console.widgets.market_list import MarketList
from console.widgets.order_entry import TickBox
from tests.console.harness import make_desk, ready, settle


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_textual_system_commands_are_hidden_and_quit_is_ours():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        assert list(desk.app.get_system_commands(desk.app.screen)) == []
        texts = []
        for provider_cls in PROVIDERS:
            provider = provider_cls(desk.app.screen)
            texts += [e.text for e in provider._safe_entries()]
        assert "Quit" in texts and "Help: keys" in texts
        assert not any(t.startswith(("Keys", "Maximize", "Screenshot")) for t in texts)


async def test_markets_list_has_column_names_and_a_line_per_venue():
    desk = make_desk(second_venue=True)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        markets = desk.app.query_one(MarketList)
        lines = ["".join(s.text for s in markets.render_line(y)).rstrip() for y in range(markets.size.height)]
        assert "bid" in lines[0] and "ask" in lines[0] and lines[0].startswith("market")
        assert lines[1] == "sim" and "alt" in lines
        assert lines[lines.index("alt") + 1].lstrip("▸ ").startswith("BTC")
        # the cursor moves over markets only, never onto a header
        await pilot.press("m", "down", "down", "down", "enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("alt", "BTC")


async def test_checkboxes_read_without_colour():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "f5")
        await settle(desk, pilot)
        post, reduce = desk.app.query(TickBox)
        assert post.render().plain.startswith("[x]") and reduce.render().plain.startswith("[ ]")


def test_muted_text_is_a_muted_grey_in_the_dark_themes():
    for theme in load_themes():
        if not theme.dark:
            continue
        colours = theme.to_color_system().generate()
        muted, fg, bg = colours["text-muted"], colours["foreground"], colours["background"]
        assert muted.startswith("#"), theme.name  # not "auto 60%"
        assert _luminance(bg) < _luminance(muted) < 0.8 * _luminance(fg), theme.name


def test_stale_title_fits_the_ladder():
    for width in (31, 40, 60, 90):
        title = ladder_title("BTC", "hyperliquid", True, width)
        assert "STALE" in title and len(title) <= width - 4
    assert ladder_title("BTC", "sim", False, 20) == "BTC · sim"


async def test_stale_banner_fits_at_80_columns():
    desk = make_desk()
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
        await desk.clock.advance(6)
        desk.main.refresh_status()
        await pilot.pause()
        ladder = desk.app.query_one("#ladder")
        assert "STALE" in ladder.border_title and len(ladder.border_title) <= ladder.size.width + 2 - 4


async def test_toasts_stand_above_the_tables():
    for size in ((120, 40), (80, 24), (200, 60)):
        desk = make_desk()
        async with desk.app.run_test(size=size, notifications=True) as pilot:
            await ready(desk, pilot)
            desk.app.notify("Filled BUY 0.0100 BTC @ 64950.7 and a long line to take room", timeout=30)
            await pilot.pause()
            await pilot.pause()
            tabs_top = desk.app.query_one("#tabs").region.y
            toasts = list(desk.app.screen.query(Toast))
            assert toasts
            assert all(t.region.bottom <= tabs_top for t in toasts), size
