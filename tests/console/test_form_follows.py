"""The order form's price follows the touch until the trader edits it, starts over on another market,
a base-unit size never carries to another market, and the chase form starts with the default size."""

from __future__ import annotations

from textual.widgets import Input, Static

from console.screens.chase_form import ChaseForm
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run


def _price(desk) -> str:
    return desk.app.query_one("#price", Input).value


def _follow(desk) -> str:
    return str(desk.app.query_one("#price-follow", Static).render())


def _move_book(desk, symbol: str, ticks: int) -> None:
    desk.venue.mids[symbol] += ticks
    desk.venue._emit_book(symbol)


async def test_an_untouched_price_follows_the_touch_and_an_edited_one_stays():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        md = desk.runtime.market_data
        await pilot.press("b", "tab")
        await settle(desk, pilot)
        assert _price(desk) == md.format_price("sim", "BTC", md.top_of_book("sim", "BTC")[0])
        assert _follow(desk) == "follows bid"
        _move_book(desk, "BTC-PERP", 7)
        await settle(desk, pilot)
        bid = md.top_of_book("sim", "BTC")[0]
        assert _price(desk) == md.format_price("sim", "BTC", bid)
        await pilot.press("shift+tab", "backspace", "1")  # the trader edits the price
        await settle(desk, pilot)
        edited = _price(desk)
        assert _follow(desk) == ""
        _move_book(desk, "BTC-PERP", -4)
        await settle(desk, pilot)
        assert _price(desk) == edited


async def test_another_market_starts_the_price_over_and_clears_a_base_size():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        md = desk.runtime.market_data
        await pilot.press("s", "backspace", "9", "tab", *"0.5", "escape")
        await settle(desk, pilot)
        await run(desk, pilot, "go ETH")
        assert _price(desk) == md.format_price("sim", "ETH", md.top_of_book("sim", "ETH")[1])
        assert _follow(desk) == "follows ask"
        assert desk.app.query_one("#size", Input).value == ""


async def test_a_quote_notional_carries_to_another_market():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "f4", "tab", *"500", "escape")
        await settle(desk, pilot)
        await run(desk, pilot, "go ETH")
        assert desk.app.query_one("#size", Input).value == "500"


async def test_the_chase_form_is_prefilled_with_the_default_size():
    desk = make_desk(sizes={"BTC": "0.02", "ETH": "$500"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("t")
        await settle(desk, pilot)
        assert isinstance(desk.app.screen, ChaseForm)
        assert desk.app.screen.query_one("#chase-size", Input).value == "0.0200"
        await pilot.press("escape")
        await settle(desk, pilot)
        await run(desk, pilot, "go ETH")
        await pilot.press("t")
        await settle(desk, pilot)
        md = desk.runtime.market_data
        _, ask = md.top_of_book("sim", "ETH")
        expected = md.format_size("sim", "ETH", 500 * 10**5 // ask)
        assert desk.app.screen.query_one("#chase-size", Input).value == expected
