"""The command bar: good lines act, bad lines say what was expected and send nothing."""

from __future__ import annotations

from console.screens.dialogs import DestructiveScreen
from tests.console.harness import make_desk, ready, settle


def keys(line: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in line]


async def run(desk, pilot, line: str, *, type_it: bool = False) -> None:
    """Open the bar with ``:`` and enter ``line`` (typed key by key, or set at once to keep tests quick)."""
    await pilot.press("colon")
    await pilot.pause()
    assert desk.app.focused.id == "command-input"
    if type_it:
        await pilot.press(*keys(line))
    else:
        desk.app.focused.value = line
    await pilot.press("enter")
    await settle(desk, pilot)


async def test_a_limit_order_line_is_validated_and_sent():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ 64940.5 po", type_it=True)
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100 and req[4] == 649_405 and req[6] is True
        assert not desk.app.query_one("#command-bar").is_open


async def test_a_bad_line_shows_what_was_expected_and_sends_nothing():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy BTC 0.1")
        bar = desk.app.query_one("#command-bar")
        assert bar.is_open
        assert "expected a size" in str(bar.query_one("#command-error").render())
        assert desk.venue.requests == []
        await pilot.press("escape")
        await pilot.pause()
        assert not bar.is_open


async def test_a_line_the_market_refuses_is_reported_under_the_bar():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "sell 0.00001 BTC @ 64960")
        assert "decimals" in str(desk.app.query_one("#command-error").render())
        assert desk.venue.requests == []


async def test_go_switches_market_and_tab_completes_the_symbol():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("colon", *keys("go E"))
        await pilot.pause()
        await pilot.pause()
        await pilot.press("tab")
        assert desk.app.query_one("#command-input").value == "go ETH"
        await pilot.press("enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("sim", "ETH")


async def test_cancel_all_and_close_lines():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.01 BTC @ 64940")
        assert len(desk.runtime.orders.open_orders()) == 1
        await run(desk, pilot, "cancel all")  # asks, as F8 does
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("f8")
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []
        await run(desk, pilot, "buy 0.01 BTC @ 64940")
        await run(desk, pilot, "cancel all BTC!")  # the ! answers in the line
        assert desk.app.screen is desk.main
        assert desk.runtime.orders.open_orders() == []
        desk.venue.set_position("SOL-PERP", 300, 152_000)
        await settle(desk, pilot)
        await run(desk, pilot, "close SOL")
        assert isinstance(desk.app.screen, DestructiveScreen)
        assert desk.venue.requests[-1][0] != "market"
        await pilot.press("y")
        await settle(desk, pilot)
        assert desk.venue.requests[-1][0] != "market", "y confirmed a close"
        await pilot.press("f7")
        await settle(desk, pilot)
        req = desk.venue.requests[-1]
        assert req[:2] == ("market", "SOL-PERP") and req[3] == 300 and req[4] is True and req[5] is True


async def test_an_unknown_theme_is_refused_with_the_choices():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "theme purple")
        assert "unknown theme 'purple'" in str(desk.app.query_one("#command-error").render())
        assert desk.app.theme == "perpdesk-dark"


async def test_a_theme_line_switches_the_theme_and_persists_it_through_the_hook():
    saved = []
    desk = make_desk(persist_theme=saved.append)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "theme perpdesk-high-contrast")
        await pilot.pause()
        assert desk.app.theme == "perpdesk-high-contrast"
    assert saved == ["perpdesk-high-contrast"]


def test_cli_persists_the_theme_into_the_config_file(tmp_path):
    from console.cli import _save_theme

    config = tmp_path / "config.toml"
    config.write_text('# mine\nvenues = ["sim"]\n')
    _save_theme("perpdesk-light", config)
    text = config.read_text()
    assert 'theme = "perpdesk-light"' in text and "# mine" in text
