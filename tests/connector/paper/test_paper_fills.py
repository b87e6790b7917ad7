"""The paper venue fills only as the venue's public data says: trades through the price, trades at
the price after the queue ahead, a book that crosses; a market order walks the venue's book; the
venue's rules apply on entry; nothing reaches the venue's private side."""

from __future__ import annotations

import pytest

from connector.base import BaseConnector
from connector.clock import VirtualClock
from connector.errors import InvalidOrder, PostOnlyWouldCross
from connector.interface import BookUpdate, MarketInfo, OrderStatus, Trade
from connector.paper import PaperConnector

BTC = MarketInfo("BTC", "BTC", "USDC", price_decimals=1, size_decimals=3, min_size_i=1, tick_i=1, step_i=1,
                 min_notional_q=10_000_000, max_leverage=20)  # fmt: skip


class PublicOnly(BaseConnector):
    """A venue's public side: markets and the events a test pushes; any private call fails the test."""

    venue = "stub"

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock=clock)
        self.private_calls: list[str] = []

    async def list_markets(self) -> list[MarketInfo]:
        return [BTC]

    async def get_top_of_book(self, symbol: str):
        return None, None, 10

    def __getattr__(self, name: str):
        if name.startswith(("submit_", "cancel", "get_order", "get_open", "get_pos", "get_margin", "modify")):
            self.private_calls.append(name)
            raise AssertionError(f"paper reached the venue's private side: {name}")
        raise AttributeError(name)

    def book(self, bids, asks, snapshot: bool = True) -> None:
        self.emit("book", BookUpdate("BTC", tuple(bids), tuple(asks), snapshot, self.clock.now_ms()))

    def trade(self, price_i: int, size_i: int, *, taker_sold: bool) -> None:
        self.emit("trade", Trade("BTC", price_i, size_i, taker_sold, self.clock.now_ms(), "t"))


@pytest.fixture
async def venue():
    clock = VirtualClock()
    public = PublicOnly(clock)
    paper = PaperConnector(public, clock=clock)
    events: dict[str, list] = {"fill": [], "order": [], "position": [], "margin": [], "book": [], "trade": []}
    for kind, seen in events.items():
        paper.add_handler(kind, seen.append)
    await paper.start()
    await paper.subscribe_market_data(["BTC"])
    public.book([(1000_0, 5_000), (999_0, 8_000)], [(1001_0, 4_000), (1002_0, 6_000)])
    yield public, paper, events
    await paper.stop()
    assert public.private_calls == []


def filled(events, coi: int) -> int:
    return sum(f.size_i for f in events["fill"] if f.client_order_index == coi)


async def test_the_venues_book_and_trades_pass_through(venue):
    public, paper, events = venue
    assert await paper.get_top_of_book("BTC") == (1000_0, 1001_0, 10)
    public.trade(1001_0, 10, taker_sold=False)
    assert events["trade"][-1].price_i == 1001_0 and events["book"]


async def test_joining_a_level_waits_behind_the_size_already_there(venue):
    public, paper, events = venue
    await paper.submit_limit_order(symbol="BTC", client_order_index=1, base_amount=1_000, price=1000_0, is_ask=False)
    assert (await paper.get_order("BTC", 1)).info["queue_ahead_i"] == 5_000
    public.trade(1000_0, 3_000, taker_sold=True)  # eats 3 of the 5 ahead of us
    assert filled(events, 1) == 0
    public.trade(1000_0, 2_500, taker_sold=True)  # the last 2 ahead, then 0.5 of ours
    assert filled(events, 1) == 500
    public.trade(1000_0, 800, taker_sold=False)  # a buyer lifting at our price does not sell to us
    assert filled(events, 1) == 500
    public.trade(1000_0, 800, taker_sold=True)
    assert filled(events, 1) == 1_000
    assert (await paper.get_order("BTC", 1)).status is OrderStatus.FILLED
    fill = events["fill"][-1]
    assert fill.is_maker and fill.price_i == 1000_0


async def test_size_ahead_that_leaves_the_level_moves_us_up(venue):
    public, paper, events = venue
    await paper.submit_limit_order(symbol="BTC", client_order_index=2, base_amount=1_000, price=1000_0, is_ask=False)
    public.book([(1000_0, 1_000)], [], snapshot=False)  # 4 of the 5 ahead cancelled
    assert (await paper.get_order("BTC", 2)).info["queue_ahead_i"] == 1_000
    public.trade(1000_0, 1_500, taker_sold=True)
    assert filled(events, 2) == 500


async def test_a_trade_through_the_price_fills_and_a_new_level_has_no_queue(venue):
    public, paper, events = venue
    await paper.submit_limit_order(symbol="BTC", client_order_index=3, base_amount=2_000, price=1000_5, is_ask=False)
    assert (await paper.get_order("BTC", 3)).info["queue_ahead_i"] == 0  # inside the spread: first in line
    await paper.submit_limit_order(symbol="BTC", client_order_index=4, base_amount=2_000, price=998_0, is_ask=False)
    public.trade(999_0, 1_500, taker_sold=True)  # through 1000.5, not down to 998
    assert (filled(events, 3), filled(events, 4)) == (1_500, 0)
    assert (await paper.get_order("BTC", 3)).status is OrderStatus.PARTIALLY_FILLED


async def test_a_book_that_crosses_a_resting_order_fills_it_from_the_crossing_size(venue):
    public, paper, events = venue
    await paper.submit_limit_order(symbol="BTC", client_order_index=5, base_amount=3_000, price=1003_0, is_ask=True)
    public.book([(1004_0, 1_000), (1003_0, 1_000), (1002_0, 9_000)], [(1005_0, 1_000)])
    assert filled(events, 5) == 2_000
    assert events["fill"][-1].price_i == 1003_0 and events["fill"][-1].is_maker
    public.book([(1003_0, 4_000)], [(1005_0, 1_000)])
    assert filled(events, 5) == 3_000


async def test_a_market_order_walks_the_venues_book(venue):
    _public, paper, events = venue
    await paper.submit_market_order(symbol="BTC", client_order_index=6, size_i=7_000, is_ask=False)
    fills = [(f.price_i, f.size_i, f.is_maker) for f in events["fill"] if f.client_order_index == 6]
    assert fills == [(1001_0, 4_000, False), (1002_0, 3_000, False)]
    positions = await paper.get_positions()
    assert positions[0].size_i == 7_000
    margin = await paper.get_margin()
    assert margin.used_q > 0 and margin.info["fees_q"] > 0


async def test_a_market_order_bigger_than_the_book_fills_what_is_there(venue):
    _public, paper, events = venue
    await paper.submit_market_order(symbol="BTC", client_order_index=7, size_i=20_000, is_ask=True)
    assert filled(events, 7) == 13_000
    snap = await paper.get_order("BTC", 7)
    assert snap.status is OrderStatus.CANCELLED and snap.filled_i == 13_000


async def test_the_venues_rules_apply_on_entry(venue):
    _, paper, _ = venue
    with pytest.raises(PostOnlyWouldCross):
        await paper.submit_limit_order(
            symbol="BTC", client_order_index=8, base_amount=1_000, price=1001_0, is_ask=False, post_only=True
        )
    with pytest.raises(InvalidOrder, match="minimum"):  # 0.005 BTC at 1000 is 5 USDC, under 10
        await paper.submit_limit_order(symbol="BTC", client_order_index=9, base_amount=5, price=1000_0, is_ask=False)
    with pytest.raises(InvalidOrder, match="band"):
        await paper.submit_limit_order(
            symbol="BTC", client_order_index=10, base_amount=1_000, price=100_0, is_ask=False
        )
    assert await paper.get_open_orders() == []


async def test_amend_keeps_the_queue_at_the_same_price_and_rejoins_at_a_new_one(venue):
    public, paper, _events = venue
    await paper.submit_limit_order(symbol="BTC", client_order_index=11, base_amount=2_000, price=1000_0, is_ask=False)
    public.trade(1000_0, 2_000, taker_sold=True)
    await paper.modify_order(symbol="BTC", client_order_index=11, price=1000_0, base_amount=1_000)
    assert (await paper.get_order("BTC", 11)).info["queue_ahead_i"] == 3_000
    await paper.modify_order(symbol="BTC", client_order_index=11, price=999_0, base_amount=1_000)
    assert (await paper.get_order("BTC", 11)).info["queue_ahead_i"] == 8_000


async def test_a_market_order_stops_where_the_venue_caps_its_slippage(venue):
    public, paper, events = venue
    public.market_slippage_bps = 50  # 0.5% from the touch: 1001.0 -> 1006.0 at most
    public.book([(1000_0, 5_000)], [(1001_0, 4_000), (1005_0, 1_000), (1007_0, 9_000)])
    await paper.submit_market_order(symbol="BTC", client_order_index=12, size_i=10_000, is_ask=False)
    assert [(f.price_i, f.size_i) for f in events["fill"]] == [(1001_0, 4_000), (1005_0, 1_000)]
    assert (await paper.get_order("BTC", 12)).status.is_final


async def test_reduce_only_orders_may_close_less_than_the_minimum_notional(venue):
    _, paper, _ = venue
    await paper.submit_market_order(symbol="BTC", client_order_index=13, size_i=12, is_ask=False)  # 12 USDC
    await paper.submit_limit_order(symbol="BTC", client_order_index=14, base_amount=5, price=1003_0, is_ask=True,
                                   reduce_only=True)  # fmt: skip
    await paper.modify_order(symbol="BTC", client_order_index=14, price=1004_0, base_amount=4)
    assert (await paper.get_order("BTC", 14)).remaining_i == 4
    with pytest.raises(InvalidOrder, match="minimum"):
        await paper.submit_limit_order(symbol="BTC", client_order_index=15, base_amount=5, price=1003_0, is_ask=True)
