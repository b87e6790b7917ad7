"""MarketDataService: canonical symbols, exact conversions, books, listeners, staleness."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from connector.base import BaseConnector
from connector.interface import BookUpdate, MarketInfo, Trade
from execution.market.market_data import MarketDataService, UnknownSymbol, UnknownVenue

BTC = MarketInfo("BTC-PERP", "BTC", "USDC", 1, 4, 10)
ETH = MarketInfo("ETH-PERP", "ETH", "USDC", 2, 3, 10)


class FakeVenue(BaseConnector):
    venue = "sim"

    def __init__(self, markets, **kw):
        super().__init__(**kw)
        self.markets = markets

    async def list_markets(self):
        return list(self.markets)


@pytest.fixture
async def md(clock):
    service = MarketDataService(clock)
    await service.add_venue("sim", FakeVenue([BTC, ETH], clock=clock))
    return service


def book(symbol="BTC-PERP", bids=((649_500, 10),), asks=((649_510, 20),), snapshot=True, ts=5):
    return BookUpdate(symbol, tuple(bids), tuple(asks), snapshot, ts)


async def test_canonical_symbol_is_the_base_asset(md):
    assert md.venues() == ["sim"]
    assert md.symbols("sim") == ["BTC", "ETH"]
    assert md.venue_symbol("sim", "BTC") == "BTC-PERP"
    assert md.canonical("sim", "ETH-PERP") == "ETH"
    assert md.market("sim", "BTC") is BTC
    assert md.decimals("sim", "ETH") == (2, 3)
    assert md.min_size_i("sim", "BTC") == 10


async def test_venue_symbol_is_accepted_where_a_canonical_one_is_expected(md):
    assert md.market("sim", "BTC-PERP") is BTC


async def test_symbol_map_overrides_the_canonical_name(clock):
    md = MarketDataService(clock, symbol_map={"sim": {"XBT": "BTC-PERP"}})
    md.add_markets("sim", [BTC, ETH])
    assert md.symbols("sim") == ["ETH", "XBT"]
    assert md.venue_symbol("sim", "XBT") == "BTC-PERP"
    assert md.canonical("sim", "BTC-PERP") == "XBT"


async def test_two_markets_with_one_base_keep_distinct_names(clock):
    md = MarketDataService(clock)
    md.add_markets("sim", [BTC, MarketInfo("BTC-SPOT", "BTC", "USDC", 1, 4, 10)])
    assert md.symbols("sim") == ["BTC", "BTC-SPOT"]


async def test_unknown_venue_lists_the_loaded_ones(md):
    with pytest.raises(UnknownVenue, match="unknown venue 'lighter'; venues loaded: sim"):
        md.market("lighter", "BTC")


async def test_unknown_symbol_lists_what_the_venue_has(md):
    with pytest.raises(UnknownSymbol, match="sim has no market 'DOGE'; it has: BTC, ETH") as err:
        md.book("sim", "DOGE")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    with pytest.raises(UnknownSymbol, match="no market named 'DOGE-PERP'"):
        md.canonical("sim", "DOGE-PERP")


async def test_prices_and_sizes_convert_exactly(md):
    assert md.to_price_i("sim", "BTC", Decimal("64950.5")) == 649_505
    assert md.to_price_i("sim", "BTC", "64950.50") == 649_505
    assert md.to_size_i("sim", "BTC", Decimal("0.0125")) == 125
    assert md.to_size_i("sim", "ETH", 2) == 2000
    assert md.from_price_i("sim", "BTC", 649_505) == Decimal("64950.5")
    assert md.from_size_i("sim", "BTC", 125) == Decimal("0.0125")
    assert md.format_price("sim", "ETH", 312_345) == "3123.45"
    assert md.format_size("sim", "BTC", 10) == "0.0010"


async def test_too_many_decimals_is_refused_not_rounded(md):
    with pytest.raises(ValueError, match=r"price 64950.55 has more decimals than BTC allows \(1\)"):
        md.to_price_i("sim", "BTC", Decimal("64950.55"))
    with pytest.raises(ValueError, match=r"size 0.00001 has more decimals than BTC allows \(4\)"):
        md.to_size_i("sim", "BTC", "0.00001")


async def test_nonsense_and_floats_and_negative_prices_are_refused(md):
    with pytest.raises(ValueError, match="price 'abc' is not a number"):
        md.to_price_i("sim", "BTC", "abc")
    with pytest.raises(TypeError, match="float"):
        md.to_price_i("sim", "BTC", 64950.5)
    with pytest.raises(ValueError, match="above zero"):
        md.to_price_i("sim", "BTC", "0")
    with pytest.raises(ValueError, match="at least zero"):
        md.to_size_i("sim", "BTC", "-1")


async def test_book_updates_reach_the_book_and_the_listeners(md):
    seen = []
    md.add_listener(lambda venue, symbol: seen.append((venue, symbol)))
    md.on_book("sim", book())
    md.on_book("sim", book("ETH-PERP", bids=((300_000, 1),), asks=((300_010, 1),)))
    assert seen == [("sim", "BTC"), ("sim", "ETH")]
    assert md.top_of_book("sim", "BTC") == (649_500, 649_510)
    assert md.mid_i("sim", "BTC") == 649_505
    assert md.book("sim", "BTC").best_ask() == (649_510, 20)


async def test_mid_rounds_down_and_needs_both_sides(md):
    assert md.mid_i("sim", "BTC") is None
    md.on_book("sim", book(bids=((100, 1),), asks=((103, 1),)))
    assert md.mid_i("sim", "BTC") == 101
    md.on_book("sim", book(bids=(), asks=((103, 1),)))
    assert md.mid_i("sim", "BTC") is None
    assert md.top_of_book("sim", "BTC") == (None, 103)


async def test_a_failing_listener_does_not_stop_the_others(md):
    seen = []

    def broken(venue, symbol):
        raise RuntimeError("boom")

    md.add_listener(broken)
    md.add_listener(lambda v, s: seen.append(s))
    md.on_book("sim", book())
    assert seen == ["BTC"] and md.listener_errors == 1
    md.remove_listener(broken)
    md.on_book("sim", book())
    assert md.listener_errors == 1


async def test_age_is_measured_on_the_clock_from_the_last_change(md, clock):
    assert md.age_ms("sim", "BTC") is None
    md.on_book("sim", book())
    await clock.advance(1.5)
    assert md.age_ms("sim", "BTC") == 1500
    md.on_book("sim", book(snapshot=False, bids=((649_500, 3),), asks=()))
    assert md.age_ms("sim", "BTC") == 0


async def test_updates_for_unknown_venue_symbols_are_counted_and_dropped(md):
    md.on_book("sim", book("DOGE-PERP"))
    md.on_book("other", book())
    md.on_trade("sim", Trade("DOGE-PERP", 1, 1, True, 1))
    assert md.unknown_symbol_updates == 3


async def test_trades_go_to_a_bounded_tape(clock):
    md = MarketDataService(clock, tape_length=3)
    md.add_markets("sim", [BTC])
    for i in range(5):
        md.on_trade("sim", Trade("BTC-PERP", 649_500 + i, 1, False, i))
    assert [t.price_i for t in md.trades("sim", "BTC")] == [649_502, 649_503, 649_504]


async def test_clearing_a_venue_empties_its_books_and_tells_listeners(md):
    md.on_book("sim", book())
    seen = []
    md.add_listener(lambda v, s: seen.append(s))
    md.clear_books("sim")
    assert md.top_of_book("sim", "BTC") == (None, None)
    assert md.age_ms("sim", "BTC") is None
    assert sorted(seen) == ["BTC", "ETH"]


def test_execution_exports_market_data_service_without_importing_it_eagerly():
    code = (
        "import sys, execution; assert 'execution.market.market_data' not in sys.modules;"
        "from execution import MarketDataService; assert MarketDataService.__name__ == 'MarketDataService'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_last_price_and_24h_change_come_from_the_tape_and_the_venues_previous_day_price():
    from dataclasses import replace

    from connector.clock import VirtualClock

    md = MarketDataService(VirtualClock(start_ms=0))
    md.add_markets("sim", [replace(BTC, prev_day_price_i=600_000), ETH])
    assert md.last_price_i("sim", "BTC") is None and md.change_bps("sim", "BTC") is None
    md.on_book("sim", BookUpdate("BTC-PERP", ((629_990, 10),), ((630_010, 10),), True, 1))
    assert md.change_bps("sim", "BTC") == 500  # the mid before any trade: +5.00%
    md.on_trade("sim", Trade("BTC-PERP", 570_000, 10, True, 2))
    assert md.last_price_i("sim", "BTC") == 570_000
    assert md.change_bps("sim", "BTC") == -500
    md.on_book("sim", BookUpdate("ETH-PERP", ((339_990, 10),), ((340_010, 10),), True, 1))
    assert md.change_bps("sim", "ETH") is None  # no previous-day price from the venue
