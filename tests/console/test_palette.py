"""The command palette (ctrl+p): markets, venues, trading actions and themes are reachable by name."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from console.screens.dialogs import DestructiveScreen, KillSwitchScreen
from tests.console.harness import make_desk, ready, settle
from tests.console.settle import until


def keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


async def choose(desk, pilot, query: str) -> None:
    """Open the palette, type ``query``, take the best hit."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert CommandPalette.is_open(desk.app)
    await pilot.press(*keys(query))
    hits = desk.app.screen.query_one(CommandList)
    # the palette searches in a worker
    await until(lambda: hits.option_count and str(hits.get_option_at_index(0).prompt).startswith(query[:3]),
                pilot, what=f"a hit for {query!r}")
    await pilot.press("down", "enter")
    await settle(desk, pilot)


async def test_palette_switches_market_by_name():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await choose(desk, pilot, "Market SOL")
        assert desk.main.selected == ("sim", "SOL")
        assert not CommandPalette.is_open(desk.app)


async def test_palette_lists_the_venue_and_opens_it():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await choose(desk, pilot, "Market ETH")
        await choose(desk, pilot, "Venue sim")
        assert desk.main.selected == ("sim", "ETH")


async def test_palette_theme_switches_live_and_is_persisted():
    saved: list[str] = []
    desk = make_desk(persist_theme=saved.append)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await choose(desk, pilot, "Theme perpdesk-colorblind")
        assert desk.app.theme == "perpdesk-colorblind"
    assert saved[-1:] == ["perpdesk-colorblind"]


async def test_palette_cancel_all_asks_first_then_cancels():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
        await settle(desk, pilot)
        await choose(desk, pilot, "Cancel all orders")
        assert isinstance(desk.app.screen, DestructiveScreen)
        assert len(desk.runtime.orders.open_orders()) == 1
        await pilot.press("f8")
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []


async def test_palette_close_position_asks_then_sends_reduce_only_market():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_100)
        await settle(desk, pilot)
        await choose(desk, pilot, "Close position ETH")
        assert isinstance(desk.app.screen, DestructiveScreen)
        assert desk.venue.requests == []
        await pilot.press("tab", "enter")
        await settle(desk, pilot)
        req = desk.venue.requests[-1]
        assert req[:2] == ("market", "ETH-PERP") and req[3] == 1500 and req[4] is False and req[5] is True


async def test_palette_kill_switch_opens_the_same_two_step_dialog():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await choose(desk, pilot, "Kill switch")
        assert isinstance(desk.app.screen, KillSwitchScreen)
        await pilot.press("escape")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, KillSwitchScreen)
        assert desk.venue.requests == []


async def test_palette_escape_closes_without_acting():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("ctrl+p", *keys("Market ETH"))
        hits = desk.app.screen.query_one(CommandList)
        await until(lambda: hits.option_count, pilot, what="the palette's hits")
        await pilot.press("escape")
        await settle(desk, pilot)
        assert not CommandPalette.is_open(desk.app)
        assert desk.main.selected == ("sim", "BTC")


async def test_with_two_venues_the_palette_opens_the_same_symbol_on_the_other_venue():
    desk = make_desk(second_venue=True)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await choose(desk, pilot, "Market ETH sim")
        assert desk.main.selected == ("sim", "ETH")
        await choose(desk, pilot, "Venue alt")
        assert desk.main.selected == ("alt", "ETH")
        await choose(desk, pilot, "Market SOL alt")
        assert desk.main.selected == ("alt", "SOL")


async def test_palette_reaches_the_order_form_and_tabs_and_names_their_keys():
    desk = make_desk(keymap={"order.sell": "f11"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("ctrl+p", *keys("Sell: order"))
        hits = desk.app.screen.query_one(CommandList)
        await until(lambda: hits.option_count, pilot, what="the palette's hits")
        assert "key f11" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await settle(desk, pilot)
        assert desk.app.focused.id == "price" and desk.app.query_one("#entry").is_ask
        await pilot.press("escape")
        await choose(desk, pilot, "Show fills")
        assert desk.app.query_one("#tabs").active == "fills"


async def test_palette_offers_re_arm_only_after_the_kill_switch():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        from console.palette import ActionsProvider

        provider = ActionsProvider(desk.app.screen)
        assert not any(e.text == "Re-arm trading" for e in provider.entries())
        await desk.runtime.kill_switch(flatten=False)
        assert any(e.text == "Re-arm trading" for e in provider.entries())
