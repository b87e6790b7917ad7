"""OrderService through the runtime on the sim venue: real rejections, amend, cancel faults, cancel-all."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import InvalidOrder
from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.runtime import Runtime

S = OrderStatus


@pytest.fixture
async def rt(clock, tmp_path):
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    await runtime.start()
    await clock.advance(0.5)
    yield runtime
    await runtime.stop()


def _sim(rt) -> SimConnector:
    return rt.connectors["sim"]


def _size(rt) -> int:
    return rt.market_data.to_size_i("sim", "BTC", Decimal("0.01"))


def _tick(rt) -> int:
    return rt.market_data.market("sim", "BTC").tick_i


def _far_bid(rt, ticks_more: int = 0) -> int:
    """A bid 3% below the touch: the market will not reach it during a test."""
    bid_i, _ = rt.market_data.top_of_book("sim", "BTC")
    return bid_i * 97 // 100 // _tick(rt) * _tick(rt) - ticks_more * _tick(rt)


async def test_post_only_that_would_cross_comes_back_rejected_with_the_venue_reason(rt):
    _, ask_i = rt.market_data.top_of_book("sim", "BTC")
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=_size(rt), price_i=ask_i, post_only=True)
    assert order.state == S.REJECTED
    assert "would cross" in order.reason


async def test_amend_moves_the_resting_order_at_the_venue(rt):
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=_size(rt), price_i=_far_bid(rt))
    await rt.orders.amend(order, price_i=_far_bid(rt) + 10 * _tick(rt))
    venue = _sim(rt).engine.order("BTC-PERP", client_order_index=order.client_order_index)
    assert (venue.price_i, venue.size_i) == (order.price_i, order.size_i) == (_far_bid(rt) + 10 * _tick(rt), _size(rt))
    assert order.state == S.OPEN


async def test_an_amend_that_would_grow_an_order_on_a_fill_safe_venue_is_refused_before_sending(rt):
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=_size(rt), price_i=_far_bid(rt))
    with pytest.raises(InvalidOrder, match="cannot grow"):
        await rt.orders.amend(order, price_i=_far_bid(rt), size_i=2 * _size(rt))
    venue = _sim(rt).engine.order("BTC-PERP", client_order_index=order.client_order_index)
    assert venue.size_i == order.size_i == _size(rt)


async def test_refused_cancel_leaves_cancelling_and_the_reconciler_restores_open(rt, clock):
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=_size(rt), price_i=_far_bid(rt))
    _sim(rt).inject_cancel_reject("cancel refused: venue busy")
    await rt.orders.cancel(order)
    assert order.state == S.CANCELLING and "venue busy" in order.reason
    await clock.advance(rt.reconciler.interval_s + rt.reconciler.settle_s + 1)
    assert order.state == S.OPEN
    assert any("did not take effect" in r.reason for r in rt.reconciler.log)


async def test_cancel_whose_answer_is_lost_is_unknown_until_the_reconciler_confirms(rt, clock):
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=_size(rt), price_i=_far_bid(rt))
    _sim(rt).disconnect(duration_s=None)  # the stream will not tell us either
    _sim(rt).inject_drop()
    await rt.orders.cancel(order)
    assert order.state == S.UNKNOWN
    await rt.reconciler.reconcile(why="heartbeat")
    assert order.state == S.CANCELLED


async def test_cancel_all_cancels_every_open_order_and_confirms_each(rt):
    orders = [
        await rt.orders.submit_limit("sim", sym, is_ask=False, size_i=rt.market_data.min_size_i("sim", sym), price_i=p)
        for sym, p in (("BTC", _far_bid(rt)), ("BTC", _far_bid(rt, 10)))
    ]
    await rt.orders.cancel_all()
    assert [o.state for o in orders] == [S.CANCELLED, S.CANCELLED]
    assert _sim(rt).engine.open_orders() == []
    assert rt.orders.open_orders() == []


async def test_market_order_is_final_on_return_even_when_the_stream_is_down(rt):
    _sim(rt).disconnect(duration_s=None)
    order = await rt.orders.submit_market("sim", "BTC", is_ask=False, size_i=_size(rt), allow_disconnected=True)
    assert order.state == S.FILLED and order.filled_i == _size(rt)
