"""``lev`` and ``margin`` from the command bar: sent through ``runtime.leverage``, refused where the
venue cannot, and in a read-only console."""

from __future__ import annotations

from tests.console.harness import make_desk, ready, settle

BTC = "BTC-PERP"


async def run(desk, pilot, line: str) -> str:
    await pilot.press("colon")
    await pilot.pause()
    desk.app.focused.value = line
    await pilot.press("enter")
    await settle(desk, pilot)
    return str(desk.app.query_one("#command-error").render())


def with_leverage(desk) -> list[tuple[str, int, bool]]:
    """The fake venue declares ``leverage`` and records what it was asked."""
    sent: list[tuple[str, int, bool]] = []

    async def set_leverage(symbol: str, leverage: int, cross: bool) -> None:
        sent.append((symbol, leverage, cross))

    desk.venue.capabilities = frozenset({"leverage"})
    desk.venue.set_leverage = set_leverage
    return sent


async def test_lev_and_margin_lines_set_the_market_through_the_runtime():
    desk = make_desk()
    sent = with_leverage(desk)
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        assert await run(desk, pilot, "lev BTC 5") == ""
        assert sent == [(BTC, 5, True)]
        assert await run(desk, pilot, "margin BTC isolated") == ""
        assert sent[-1] == (BTC, 5, False)
        assert desk.runtime.leverage.get("sim", "BTC").describe() == "BTC 5x isolated"
        assert "leverage is 1 to 20" in await run(desk, pilot, "lev BTC 50")
        assert len(sent) == 2


async def test_a_venue_without_leverage_and_a_read_only_console_refuse_the_lines():
    desk = make_desk()
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        assert "does not let perpdesk set leverage" in await run(desk, pilot, "lev BTC 5")
    desk = make_desk(read_only=True)
    sent = with_leverage(desk)
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        assert "changing leverage" in await run(desk, pilot, "margin BTC isolated")
        assert sent == []


async def test_the_positions_tab_shows_each_positions_leverage_and_mode_and_follows_a_change():
    desk = make_desk()
    with_leverage(desk)
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_100)
        desk.venue.set_position(BTC, 20, 650_000)
        assert await run(desk, pilot, "lev ETH 5 isolated") == ""
        await settle(desk, pilot)
        table = desk.app.query_one("#positions-table")
        column = [key.value for key in table.columns].index("lev")
        assert table.get_row("sim:ETH")[column] == "5x iso"
        assert table.get_row("sim:BTC")[column] == "-"  # never set, and this venue cannot say
        assert await run(desk, pilot, "margin ETH cross") == ""
        assert await run(desk, pilot, "lev BTC 20") == ""
        await settle(desk, pilot)
        assert table.get_row("sim:ETH")[column] == "5x cross"
        assert table.get_row("sim:BTC")[column] == "20x cross"


async def test_an_account_wide_venue_says_so_and_every_market_shows_the_new_leverage():
    desk = make_desk()
    sent = with_leverage(desk)
    desk.venue.capabilities = frozenset({"leverage", "leverage_account_wide"})
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        said: list[str] = []
        notices = desk.main.notices
        add = notices.add
        notices.add = lambda kind, message, severity="information": (said.append(message), add(kind, message, severity))
        assert await run(desk, pilot, "lev ETH 5") == ""
        assert sent == [("ETH-PERP", 5, True)]
        assert any("leverage is account-wide: 5x on every market" in m for m in said), said
        assert [desk.runtime.leverage.get("sim", s).short for s in ("BTC", "ETH", "SOL")] == ["5x cross"] * 3
