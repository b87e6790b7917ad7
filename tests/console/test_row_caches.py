"""The ladder's and the market list's rendered rows are kept up to ``ROW_CACHE``, oldest dropped first
(they were kept until 4,096 and 2,048 and then all dropped: a sawtooth of thousands of lines that set the
heap's high-water mark over a long session), and a row still renders what its book or quote says."""

from __future__ import annotations

from textual.app import App, ComposeResult

from console.themes import THEME_VARIABLE_DEFAULTS
from console.widgets import ladder as ladder_module
from console.widgets import market_list as market_list_module
from console.widgets.ladder import DepthLadder, LadderData
from console.widgets.market_list import MarketList

BOOKS = 300
"""Distinct books (each level's size moves): ~3,600 distinct rows at 60×14, many more than ``ROW_CACHE``."""


class _App(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield DepthLadder(id="ladder")
        yield MarketList(id="markets")


def _book(n: int) -> LadderData:
    bids = [(649_507 - i, 1_000 + n * 7 + i) for i in range(6)]
    asks = [(649_509 + i, 2_000 + n * 5 + i) for i in range(6)]
    return LadderData(bids=bids, asks=asks, price_decimals=1, size_decimals=4)


async def test_the_ladder_keeps_at_most_row_cache_rows_and_draws_the_newest_book():
    app = _App()
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        ladder = app.query_one(DepthLadder)
        drawn = 0
        for n in range(BOOKS):
            ladder.update_book(_book(n))
            drawn += len([ladder.render_line(y) for y in range(ladder.size.height)])
            assert len(ladder._strips) <= ladder_module.ROW_CACHE
        assert drawn > 2 * ladder_module.ROW_CACHE
        text = "\n".join(ladder.render_line(y).text for y in range(ladder.size.height))
        last = _book(BOOKS - 1)
        assert "64950.7" in text and f"{last.bids[0][1] / 10_000:.4f}" in text, text


async def test_the_market_list_keeps_at_most_row_cache_rows_and_draws_the_newest_quote():
    app = _App()
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        markets = app.query_one(MarketList)
        keys = [("sim", "BTC"), ("sim", "ETH")]
        markets.set_markets(keys, keys[0])
        await pilot.pause()
        for n in range(BOOKS * 3):
            markets.update_quote(keys[n % 2], f"{64_000 + n}.0", f"{64_001 + n}.0")
            [markets.render_line(y) for y in range(4)]
            assert len(markets._strips) <= market_list_module.ROW_CACHE
        lines = [markets.render_line(y).text for y in range(4)]
        assert any(f"{64_000 + BOOKS * 3 - 1}.0" in line for line in lines), lines
