"""What every venue connector must do, run against each harness in ``tests/harnesses``.

Only ``IConnector`` methods and the engine's test hooks are used, so a new venue joins by
adding a harness module.  Orders rest well away from the touch so the moving market cannot
fill them by accident; fills are forced with ``engine.trade_through``.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.harnesses
from connector.errors import PostOnlyWouldCross, UnknownOrder
from connector.interface import (
    BookUpdate,
    Fill,
    IConnector,
    Margin,
    MarketInfo,
    OrderSnapshot,
    OrderStatus,
    Position,
)

HARNESSES = sorted(m.name for m in pkgutil.iter_modules(tests.harnesses.__path__))


@pytest.fixture(params=HARNESSES)
async def h(request, tmp_path):
    module = importlib.import_module(f"tests.harnesses.{request.param}")
    async with module.open_harness(tmp_path) as harness:
        yield harness


async def _market(h) -> MarketInfo:
    markets = {m.symbol: m for m in await h.connector.list_markets()}
    return markets[h.symbol]


async def _bid_below_touch(h, pct: int = 2) -> int:
    """A tick-aligned price ``pct`` percent under the best bid."""
    bid, _, _ = await h.connector.get_top_of_book(h.symbol)
    tick = (await _market(h)).tick_i
    return bid * (100 - pct) // 100 // tick * tick


async def _rest_bid(h, coi: int, size_mult: int = 1, pct: int = 2) -> tuple[int, int, str]:
    m = await _market(h)
    price = await _bid_below_touch(h, pct)
    size = m.min_size_i * size_mult
    oid = await h.connector.submit_limit_order(
        symbol=h.symbol, client_order_index=coi, base_amount=size, price=price, is_ask=False, post_only=True
    )
    return price, size, oid


def _for(coi: int, status: OrderStatus | None = None):
    def match(e) -> bool:
        return e.client_order_index == coi and (status is None or e.status is status)

    return match


async def test_connector_satisfies_the_protocol(h):
    assert isinstance(h.connector, IConnector)
    assert h.connector.venue == h.venue
    assert isinstance(h.connector.capabilities, frozenset)


async def test_markets_carry_decimals_and_minimum_size(h):
    markets = await h.connector.list_markets()
    assert markets and all(isinstance(m, MarketInfo) for m in markets)
    m = await _market(h)
    assert m.base == "BTC"
    assert await h.connector.get_price_size_decimals(h.symbol) == (m.price_decimals, m.size_decimals)
    assert await h.connector.get_min_size_i(h.symbol) == m.min_size_i > 0


async def test_top_of_book_is_an_uncrossed_pair_in_the_price_scale(h):
    bid, ask, scale = await h.connector.get_top_of_book(h.symbol)
    pd, _ = await h.connector.get_price_size_decimals(h.symbol)
    assert scale == 10**pd
    assert bid is not None and ask is not None
    assert 0 < bid < ask


async def test_post_only_bid_below_the_touch_rests_open(h):
    price, size, oid = await _rest_bid(h, 101)
    assert isinstance(oid, str) and oid
    snap = await h.connector.get_order(h.symbol, 101)
    assert (snap.status, snap.price_i, snap.size_i, snap.filled_i, snap.is_ask) == (
        OrderStatus.OPEN,
        price,
        size,
        0,
        False,
    )
    assert snap.post_only
    assert 101 in {o.client_order_index for o in await h.connector.get_open_orders(h.symbol)}
    event = await h.wait_for("order", _for(101, OrderStatus.OPEN))
    assert isinstance(event, OrderSnapshot) and event.price_i == price


async def test_cancel_by_client_id_cancels_and_reports_it(h):
    await _rest_bid(h, 102)
    await h.connector.cancel_by_client_id(h.symbol, 102)
    await h.wait_for("order", _for(102, OrderStatus.CANCELLED))
    assert (await h.connector.get_order(h.symbol, 102)).status is OrderStatus.CANCELLED
    assert 102 not in {o.client_order_index for o in await h.connector.get_open_orders(h.symbol)}


async def test_cancel_by_order_id_cancels(h):
    _, _, oid = await _rest_bid(h, 103)
    await h.connector.cancel_by_order_id(h.symbol, oid)
    await h.wait_for("order", _for(103, OrderStatus.CANCELLED))
    assert (await h.connector.get_order(h.symbol, 103)).status is OrderStatus.CANCELLED


async def test_cancel_all_cancels_every_open_order(h):
    await _rest_bid(h, 104, pct=2)
    await _rest_bid(h, 105, pct=3)
    assert {104, 105} <= {o.client_order_index for o in await h.connector.get_open_orders()}
    await h.connector.cancel_all()
    await h.wait_for("order", _for(104, OrderStatus.CANCELLED))
    await h.wait_for("order", _for(105, OrderStatus.CANCELLED))
    assert await h.connector.get_open_orders(h.symbol) == []


async def test_resting_bid_fills_when_the_market_trades_through_it(h):
    price, size, _ = await _rest_bid(h, 106, size_mult=2)
    await h.wait_for("order", _for(106, OrderStatus.OPEN))
    h.engine.trade_through(
        h.engine_symbol, is_ask=True, price_i=await h.engine_price(price), size_i=await h.engine_size(size)
    )
    fill = await h.wait_for("fill", _for(106))
    assert isinstance(fill, Fill)
    assert (fill.price_i, fill.size_i, fill.is_ask) == (price, size, False)
    assert fill.trade_id
    await h.wait_for("order", _for(106, OrderStatus.FILLED))
    snap = await h.connector.get_order(h.symbol, 106)
    assert (snap.status, snap.filled_i) == (OrderStatus.FILLED, size)
    pos_event = await h.wait_for("position", lambda p: p.symbol == h.symbol and p.size_i == size)
    assert isinstance(pos_event, Position) and pos_event.entry_price_i == price
    positions = {p.symbol: p for p in await h.connector.get_positions()}
    assert positions[h.symbol].size_i == size


async def test_a_smaller_trade_fills_a_resting_order_partially(h):
    price, size, _ = await _rest_bid(h, 107, size_mult=4)
    await h.wait_for("order", _for(107, OrderStatus.OPEN))
    h.engine.trade_through(
        h.engine_symbol, is_ask=True, price_i=await h.engine_price(price), size_i=await h.engine_size(size // 4)
    )
    fill = await h.wait_for("fill", _for(107))
    assert fill.size_i == size // 4
    await h.wait_for("order", _for(107, OrderStatus.PARTIALLY_FILLED))
    snap = await h.connector.get_order(h.symbol, 107)
    assert (snap.status, snap.filled_i) == (OrderStatus.PARTIALLY_FILLED, size // 4)


async def test_market_buy_fills_and_opens_a_long(h):
    m = await _market(h)
    await h.connector.submit_market_order(symbol=h.symbol, client_order_index=108, size_i=m.min_size_i, is_ask=False)
    fill = await h.wait_for("fill", _for(108))
    assert fill.size_i == m.min_size_i and not fill.is_maker and fill.fee_q > 0
    await h.wait_for("order", _for(108, OrderStatus.FILLED))
    await h.wait_for("position", lambda p: p.symbol == h.symbol and p.size_i == m.min_size_i)
    positions = {p.symbol: p for p in await h.connector.get_positions()}
    assert positions[h.symbol].size_i == m.min_size_i
    margin = await h.connector.get_margin()
    assert margin.used_q > 0
    assert margin.available_q <= margin.equity_q


async def test_margin_is_reported_in_quote_units(h):
    margin = await h.connector.get_margin()
    assert isinstance(margin, Margin)
    assert margin.collateral_q > 0
    assert margin.equity_q == margin.collateral_q
    assert 0 <= margin.available_q <= margin.equity_q


async def test_margin_event_follows_a_fill(h):
    m = await _market(h)
    await h.connector.submit_market_order(symbol=h.symbol, client_order_index=109, size_i=m.min_size_i, is_ask=True)
    event = await h.wait_for("margin", lambda e: e.used_q > 0)
    assert isinstance(event, Margin)


async def test_book_snapshots_are_delivered_for_a_subscribed_market(h):
    book = await h.wait_for("book", lambda b: b.symbol == h.symbol and b.bids and b.asks)
    assert isinstance(book, BookUpdate)
    assert book.bids[0][0] < book.asks[0][0]
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)


async def test_unknown_order_raises_unknown_order(h):
    with pytest.raises(UnknownOrder):
        await h.connector.cancel_by_client_id(h.symbol, 987_654)
    with pytest.raises(UnknownOrder):
        await h.connector.get_order(h.symbol, 987_654)


async def test_post_only_that_would_cross_is_rejected(h):
    m = await _market(h)
    _, ask, _ = await h.connector.get_top_of_book(h.symbol)
    price = (ask * 101 // 100) // m.tick_i * m.tick_i
    with pytest.raises(PostOnlyWouldCross):
        await h.connector.submit_limit_order(
            symbol=h.symbol, client_order_index=110, base_amount=m.min_size_i, price=price, is_ask=False, post_only=True
        )
    assert 110 not in {o.client_order_index for o in await h.connector.get_open_orders(h.symbol)}


async def test_amend_reprices_a_resting_order_where_declared(h):
    if "amend" not in h.connector.capabilities:
        pytest.skip(f"{h.venue} does not declare amend")
    price, size, _ = await _rest_bid(h, 111, pct=2)
    await h.wait_for("order", _for(111, OrderStatus.OPEN))
    tick = (await _market(h)).tick_i
    new_price = price - 10 * tick
    await h.connector.modify_order(symbol=h.symbol, client_order_index=111, price=new_price, base_amount=size)
    await h.wait_for("order", lambda e: e.client_order_index == 111 and e.price_i == new_price)
    snap = await h.connector.get_order(h.symbol, 111)
    assert (snap.price_i, snap.remaining_i) == (new_price, size) and snap.status.is_live
