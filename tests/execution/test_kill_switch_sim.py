"""The kill switch end to end on the sim venue: every order cancelled, positions flattened, desk halted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.risk import RiskRejected, TradingState
from execution.runtime import Runtime


@pytest.fixture
async def rt(clock, tmp_path):
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    await runtime.start()
    await clock.advance(0.5)
    yield runtime
    await runtime.stop()


def engine(rt) -> SimEngine:
    return rt.connectors["sim"].engine


async def rest_far_bid(rt, symbol: str, size: str):
    md = rt.market_data
    tick = md.market("sim", symbol).tick_i
    bid_i, _ = md.top_of_book("sim", symbol)
    price_i = bid_i * 97 // 100 // tick * tick
    return await rt.orders.submit_limit("sim", symbol, is_ask=False, size_i=md.to_size_i("sim", symbol, size),
                                        price_i=price_i)


async def open_positions(rt):
    md = rt.market_data
    await rt.orders.submit_market("sim", "BTC", is_ask=False, size_i=md.to_size_i("sim", "BTC", Decimal("0.02")))
    await rt.orders.submit_market("sim", "ETH", is_ask=True, size_i=md.to_size_i("sim", "ETH", Decimal("0.5")))
    assert rt.positions.size_i("sim", "BTC") > 0 and rt.positions.size_i("sim", "ETH") < 0


async def test_kill_switch_cancels_every_resting_order_and_halts(rt, clock):
    orders = [await rest_far_bid(rt, "BTC", "0.01"), await rest_far_bid(rt, "ETH", "0.1")]
    await open_positions(rt)
    assert len(engine(rt).open_orders()) == 2
    report = await rt.kill_switch()
    await clock.advance(0.2)
    assert engine(rt).open_orders() == []
    assert [o.state for o in orders] == [OrderStatus.CANCELLED, OrderStatus.CANCELLED]
    assert report.errors == [] and report.flatten_orders == []
    assert rt.positions.size_i("sim", "BTC") > 0  # no flatten asked
    assert rt.risk.state is TradingState.HALTED


async def test_kill_switch_with_flatten_closes_every_position_at_the_venue(rt, clock):
    await rest_far_bid(rt, "BTC", "0.01")
    await open_positions(rt)
    report = await rt.kill_switch(flatten=True)
    await clock.advance(0.2)
    assert report.errors == []
    assert sorted(o.symbol for o in report.flatten_orders) == ["BTC", "ETH"]
    assert all(o.reduce_only and o.kind == "market" for o in report.flatten_orders)
    assert all(p.size_i == 0 for p in engine(rt).positions())
    assert rt.positions.positions("sim") == []
    assert engine(rt).open_orders() == []


async def test_after_the_kill_switch_nothing_trades_until_rearmed(rt, clock):
    await rt.kill_switch()
    with pytest.raises(RiskRejected, match="halted"):
        await rest_far_bid(rt, "BTC", "0.01")
    assert engine(rt).open_orders() == []
    rt.risk.rearm()
    order = await rest_far_bid(rt, "BTC", "0.01")
    assert order.state == OrderStatus.OPEN
