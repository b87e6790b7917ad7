"""More command-bar lines, good and bad: each good line does exactly what it says, through the same
paths as the keys (the kill switch asks first); a bad line leaves the bar open with the reason and
sends nothing."""

from __future__ import annotations

import pytest

from console.screens.dialogs import KillSwitchScreen
from tests.console.harness import make_desk, ready, settle


def keys(line: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in line]


async def run(desk, pilot, line: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*keys(line), "enter")
    await settle(desk, pilot)


def error_text(desk) -> str:
    return str(desk.app.query_one("#command-error").render())


async def test_a_notional_market_line_sends_the_size_the_notional_buys():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        _, ask = desk.runtime.market_data.top_of_book("sim", "ETH")
        await run(desk, pilot, "buy $500 ETH mkt")
        [req] = desk.venue.requests
        assert req[:2] == ("market", "ETH-PERP") and req[4] is False
        # ETH has 2 price and 3 size decimals: the largest size whose value at the ask is <= $500
        assert req[3] == 500 * 10**5 // ask
        assert not desk.app.query_one("#command-bar").is_open


async def test_a_venue_qualified_sell_reduce_only_limit():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("SOL-PERP", 300, 152_000)
        await settle(desk, pilot)
        await run(desk, pilot, "sell 0.5 sim:SOL @ 153.005 ro")
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[1] == "SOL-PERP" and req[3] == 50 and req[4] == 153_005
        assert req[5] is True  # is_ask
        assert desk.runtime.orders.open_orders()[0].reduce_only


async def test_cancel_all_for_one_symbol_leaves_the_others():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ 64900")
        await run(desk, pilot, "buy 1 ETH @ 3400")
        assert len(desk.runtime.orders.open_orders()) == 2
        await run(desk, pilot, "cancel all ETH")
        await pilot.press("f8")
        await settle(desk, pilot)
        [left] = desk.runtime.orders.open_orders()
        assert left.symbol == "BTC"


async def test_close_all_closes_every_position_reduce_only():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("SOL-PERP", 300, 152_000)
        desk.venue.set_position("ETH-PERP", -1500, 345_100)
        await settle(desk, pilot)
        await run(desk, pilot, "close all!")
        sent = {r[1]: r for r in desk.venue.requests}
        assert sent["SOL-PERP"][3:] == (300, True, True)
        assert sent["ETH-PERP"][3:] == (1500, False, True)


async def test_kill_line_opens_the_kill_switch_dialog_and_sends_nothing_by_itself():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ 64900")
        await run(desk, pilot, "kill")
        assert isinstance(desk.app.screen, KillSwitchScreen)
        assert desk.app.screen.choice is None
        await pilot.press("escape")
        await settle(desk, pilot)
        assert len(desk.runtime.orders.open_orders()) == 1


async def test_kill_flat_preselects_flatten_and_waits_for_its_key_again():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("SOL-PERP", 300, 152_000)
        await run(desk, pilot, "buy 0.01 BTC @ 64900")
        await run(desk, pilot, "kill flat")
        screen = desk.app.screen
        assert isinstance(screen, KillSwitchScreen) and screen.choice == "flatten"
        assert len(desk.runtime.orders.open_orders()) == 1
        await pilot.press("y")
        await settle(desk, pilot)
        assert len(desk.runtime.orders.open_orders()) == 1
        await pilot.press("ctrl+k")
        await settle(desk, pilot)
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []
        assert ("market", "SOL-PERP") in {r[:2] for r in desk.venue.requests}
        assert str(desk.runtime.risk.state.value) == "HALTED"


async def test_chase_line_starts_a_tracking_limit():
    pytest.importorskip("execution.tracking.chase")
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "chase buy 0.05 BTC to 65100 off 0")
        [chase] = desk.runtime.tracking.chases.values()
        assert chase.symbol == "BTC" and chase.params.limit_price_i == 651_000
        assert desk.app.query_one("#tabs").active == "chases"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("purchase 1 BTC @ 1", "unknown command"),
        ("buy 0.01 BTC", "expected @ PRICE or mkt"),
        ("buy 0.01 BTC @ 64900.55", "decimals"),
        ("buy 0.01 DOGE @ 1", "no market DOGE"),
        ("buy 0.01 nowhere:BTC @ 64900", "no market BTC on nowhere"),
        ("sell 0.01 BTC mkt po", "cannot be post-only"),
        ("buy $0.01 BTC @ 64900", "too small"),
        ("chase buy 0.05 BTC off one", "whole number"),
        ("cancel everything", "expected 'all'"),
    ],
)
async def test_a_bad_line_says_why_keeps_the_bar_open_and_sends_nothing(line, needle):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, line)
        assert needle in error_text(desk)
        assert desk.app.query_one("#command-bar").is_open
        assert desk.app.query_one("#command-input").value == line
        assert desk.venue.requests == []
        assert desk.runtime.orders.open_orders() == []


async def test_the_error_caret_points_at_the_bad_word():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ abc")
        caret, message = error_text(desk).split("\n", 1)
        assert caret == " " * len("buy 0.01 BTC @ ") + "^"
        assert "expected a price" in message
        bar = desk.app.query_one("#command-bar")
        text_x = desk.app.query_one("#command-input").content_region.x
        assert bar.query_one("#command-error").content_region.x == text_x


async def test_up_recalls_earlier_lines_and_down_returns_to_the_draft():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "go ETH")
        await run(desk, pilot, "go SOL")
        await run(desk, pilot, "buy BTC")  # does not parse: not kept
        await pilot.press("escape", "colon", *keys("sell"))
        value = lambda: desk.app.query_one("#command-input").value  # noqa: E731
        await pilot.press("up")
        assert value() == "go SOL"
        await pilot.press("up", "up")
        assert value() == "go ETH"
        await pilot.press("down")
        assert value() == "go SOL"
        await pilot.press("down")
        assert value() == "sell"
        await pilot.press("up", "enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("sim", "SOL")
        assert desk.venue.requests == []


async def test_kill_with_a_bang_kills_without_the_dialog():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ 64900")
        await run(desk, pilot, "kill!")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, KillSwitchScreen)
        assert desk.runtime.orders.open_orders() == []
        assert str(desk.runtime.risk.state.value) == "HALTED"
