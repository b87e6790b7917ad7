"""The first screen: market list, depth ladder, header, quitting; Pilot on a fake venue in virtual time."""

from __future__ import annotations

import asyncio

from console.widgets.ladder import DepthLadder, LadderData
from console.widgets.market_list import MarketList
from console.widgets.status import StatusBar, age_level
from tests.console.harness import make_desk, ready, settle


async def test_arrows_and_enter_switch_the_market_and_the_ladder_follows():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        assert desk.main.selected == ("sim", "BTC")
        await pilot.press("down", "enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("sim", "ETH")
        ladder = desk.app.query_one(DepthLadder)
        assert ladder._data.price_decimals == 2
        best_ask = desk.runtime.market_data.top_of_book("sim", "ETH")[1]
        assert any(r[0] == "ask" and r[1] == best_ask for r in ladder._rows)
        await pilot.press("up", "up", "enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("sim", "SOL")


async def test_q_quits_and_stops_the_connectors():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert desk.app.return_code == 0
    assert desk.venue.started is False
    assert desk.runtime.started is False


async def test_ctrl_c_quits_cleanly_even_from_a_text_field():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b")
        assert desk.app.focused.id == "price"
        await pilot.press("q")  # typed into the field, not a quit
        assert desk.app.is_running
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert desk.app.return_code == 0
    assert desk.venue.started is False


async def test_unknown_symbol_exits_with_code_2_and_names_the_choices():
    desk = make_desk(symbol="DOGE")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):
            await pilot.pause()
            if desk.app.error_message:
                break
    assert desk.app.return_code == 2
    assert "DOGE" in desk.app.error_message and "BTC, ETH, SOL" in desk.app.error_message


async def test_symbol_option_opens_that_market():
    desk = make_desk(symbol="sol")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        assert desk.main.selected == ("sim", "SOL")


async def test_book_ticks_are_coalesced_into_one_paint_per_frame():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        ladder = desk.app.query_one(DepthLadder)
        calls = []
        original = ladder.update_book
        ladder.update_book = lambda data: (calls.append(data), original(data))
        seen = desk.app.bridge.events_seen
        desk.venue.tick(200)  # 600 book events between two frames
        assert desk.app.bridge.events_seen - seen == 600
        desk.main.flush()
        assert len(calls) == 1
        desk.main.flush()  # nothing new: no repaint
        assert len(calls) == 1


async def test_ladder_repaints_only_rows_whose_content_changed():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        ladder = desk.app.query_one(DepthLadder)
        data = ladder._data
        await pilot.pause()
        before = ladder.repainted_rows
        ladder.update_book(LadderData(list(data.bids), list(data.asks), data.price_decimals, data.size_decimals))
        await pilot.pause()
        assert ladder.repainted_rows == before
        bids = list(data.bids)
        shown = sum(1 for r in ladder._rows if r[0] == "bid")
        deepest = shown - 1  # the deepest bid on screen: its size and cum change, nothing else
        bids[deepest] = (bids[deepest][0], bids[deepest][1] - 1)
        ladder.update_book(LadderData(bids, list(data.asks), data.price_decimals, data.size_decimals))
        await pilot.pause()
        assert 1 <= ladder.repainted_rows - before <= 2


async def test_header_shows_venue_connection_and_book_age_from_the_injected_clock():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await desk.clock.advance(3)
        desk.main.refresh_status()
        view = desk.app.query_one(StatusBar).view
        assert ("sim", "connected") in view.venues
        assert dict(view.ages)["book"] == 3000
        assert age_level(3000) == "warn" and age_level(6000) == "bad" and age_level(100) == "ok"


async def test_market_list_shows_each_markets_quote():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        markets = desk.app.query_one(MarketList)
        md = desk.runtime.market_data
        bid, ask = md.top_of_book("sim", "ETH")
        last, change = md.last_price_i("sim", "ETH"), md.change_bps("sim", "ETH")
        assert markets._quotes[("sim", "ETH")][:2] == ("%.2f" % (bid / 100), "%.2f" % (ask / 100))
        assert markets._quotes[("sim", "ETH")][2] == ("%.2f" % (last / 100) if last is not None else "-")
        assert change is not None and markets._quotes[("sim", "ETH")][3].endswith("%")


def test_change_text_reads_like_a_quote_board():
    from console.widgets.market_list import change_text

    assert (change_text(42), change_text(-1250), change_text(0), change_text(None)) == ("+0.42%", "-12.50%", " 0.00%", "")


async def test_first_book_is_painted_soon_after_start():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(desk.app.ready.wait(), 30)
        await pilot.pause()
        assert desk.main.first_paint_ns is not None


async def test_two_venues_list_markets_by_venue_and_show_the_cross_venue_spread():
    desk = make_desk(second_venue=True)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        markets = desk.app.query_one(MarketList)
        assert markets.markets == [("sim", "BTC"), ("sim", "ETH"), ("sim", "SOL"),
                                   ("alt", "BTC"), ("alt", "ETH"), ("alt", "SOL")]
        md = desk.runtime.market_data
        diff = md.mid_i("alt", "BTC") - md.mid_i("sim", "BTC")
        text = str(desk.app.query_one("#xvenue").render())
        assert text.startswith("alt ") and f"mid +{diff / 10:.1f}" in text
        await pilot.press("down", "down", "down", "enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("alt", "BTC")
        assert str(desk.app.query_one("#xvenue").render()).startswith("sim ")


async def test_mid_chart_takes_one_sample_a_second_of_market_time():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        chart = desk.app.query_one("#chart")
        assert len(chart.data) == 0  # one sample is no line yet
        desk.venue.tick(5)  # same instant: no new sample
        desk.main.flush()
        assert len(chart.data) == 0
        for _ in range(3):
            await desk.clock.advance(1)
            desk.venue.tick(1)
            desk.main.flush()
        assert len(chart.data) == 4
        assert chart.data[-1] == desk.runtime.market_data.mid_i("sim", "BTC")


async def test_a_book_that_stops_updating_is_marked_stale_and_recovers():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        ladder = desk.app.query_one(DepthLadder)
        assert not ladder.has_class("-stale")
        await desk.clock.advance(6)
        desk.main.refresh_status()
        assert ladder.has_class("-stale") and "STALE" in ladder.border_title
        desk.venue.tick(1)
        await settle(desk, pilot)
        assert not ladder.has_class("-stale") and "STALE" not in ladder.border_title


async def test_a_disconnected_venue_marks_its_book_stale_at_once():
    from connector.interface import ConnectionState

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_connection("book", ConnectionState.DISCONNECTED, "socket closed")
        await settle(desk, pilot)
        assert desk.app.query_one(DepthLadder).has_class("-stale")
