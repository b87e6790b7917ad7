"""Defect 2 of issue 12: ``OrderService`` and the tracking limit take exactly ``int`` for ``*_i``.

Anything else is ``InvalidOrder`` naming the field and ``md.to_size_i``/``md.to_price_i``, and
nothing is allocated, journaled or sent.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.errors import InvalidOrder
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.orders import OrderService
from execution.runtime import Runtime

WRONG = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(1, 10**12).map(float),
    st.booleans(),
    st.integers(1, 10**9).map(Decimal),
    st.integers(1, 10**9).map(str),
    st.none(),
)


class _Recorder:
    """A connector that records every request it gets."""

    capabilities = frozenset({"amend"})

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name):
        async def call(*args, **kwargs):
            self.calls.append(name)
            return "1"

        return call


@settings(max_examples=60, deadline=None)
@given(bad=WRONG, field=st.sampled_from(["size_i", "price_i"]), market=st.booleans())
def test_order_service_refuses_wrong_types_before_anything(bad, field, market):
    conn = _Recorder()
    service = OrderService({"sim": conn}, clock=VirtualClock())
    if market and field == "price_i":
        return
    args = {"size_i": 5, "price_i": 100}
    args[field] = bad
    with pytest.raises(InvalidOrder, match=rf"{field} must be a scaled int.*use md\.to_"):
        if market:
            asyncio.run(service.submit_market("sim", "BTC", is_ask=True, size_i=args["size_i"]))
        else:
            asyncio.run(service.submit_limit("sim", "BTC", is_ask=False, **args))
    assert service.orders == [] and conn.calls == []


@pytest.fixture
async def rt(clock, tmp_path):
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    await runtime.start()
    await clock.advance(0.5)
    yield runtime
    await runtime.stop()


async def test_amend_refuses_a_float_price_and_leaves_the_order_alone(rt):
    bid_i, _ = rt.market_data.top_of_book("sim", "BTC")
    tick = rt.market_data.market("sim", "BTC").tick_i
    price = bid_i * 97 // 100 // tick * tick
    size = rt.market_data.to_size_i("sim", "BTC", Decimal("0.01"))
    order = await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=price)
    with pytest.raises(InvalidOrder, match="price_i"):
        await rt.orders.amend(order, price_i=float(price + tick))
    with pytest.raises(InvalidOrder, match="size_i"):
        await rt.orders.amend(order, price_i=price + tick, size_i=size * 1.5)
    assert (order.price_i, order.size_i) == (price, size)


@pytest.mark.parametrize(
    ("field", "value"), [("size_i", 42.5), ("size_i", True), ("limit_price_i", 29527.0), ("limit_price_i", "29527")]
)
async def test_the_tracking_limit_refuses_wrong_types_before_a_chase_exists(rt, field, value):
    size = rt.market_data.to_size_i("sim", "BTC", Decimal("0.01"))
    args = {"size_i": size, "limit_price_i": None, field: value}
    with pytest.raises(InvalidOrder, match=rf"{field} must be a scaled int.*use md\.to_"):
        await rt.tracking.start("sim", "BTC", is_ask=False, **args)
    assert rt.tracking.chases == {}
    assert rt.orders.orders == []
