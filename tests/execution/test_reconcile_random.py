"""Randomized against the sim venue: orders, cancels, lost responses, stream outages and changes made
at the venue while we were not listening, in any order.  After reconnecting and reconciling, our
orders and positions equal the venue's, nothing is UNKNOWN, and no order was lost or adopted twice."""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.errors import UnknownOrder
from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.runtime import Runtime

S = OrderStatus

actions = st.lists(
    st.one_of(
        st.tuples(st.just("limit"), st.booleans(), st.integers(-3, 40)),
        st.tuples(st.just("market"), st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("drop")),
        st.tuples(st.just("outage")),
        st.tuples(st.just("reconnect")),
        st.tuples(st.just("venue_cancel"), st.integers(0, 20)),
        st.tuples(st.just("trade_through"), st.booleans()),
        st.tuples(st.just("advance"), st.integers(1, 200)),
    ),
    max_size=25,
)


async def _play(script, journal: Path) -> None:
    clock = VirtualClock()
    engine = SimEngine(11, clock=clock)
    sim = SimConnector(engine=engine, clock=clock)
    rt = Runtime([sim], clock=clock, journal_path=journal)
    await rt.start()
    await clock.advance(0.5)
    md = rt.market_data
    tick = md.market("sim", "BTC").tick_i
    size = md.to_size_i("sim", "BTC", Decimal("0.01"))
    submitted = []
    for action in script:
        kind = action[0]
        bid_i, ask_i = engine.top("BTC-PERP")
        if kind == "limit":
            _, is_ask, away = action
            price = ask_i + away * tick if is_ask else bid_i - away * tick
            submitted.append(
                await rt.orders.submit_limit(
                    "sim", "BTC", is_ask=is_ask, size_i=size, price_i=price, allow_disconnected=True
                )
            )
        elif kind == "market":
            submitted.append(
                await rt.orders.submit_market("sim", "BTC", is_ask=action[1], size_i=size, allow_disconnected=True)
            )
        elif kind == "cancel" and submitted:
            await rt.orders.cancel(submitted[action[1] % len(submitted)])
        elif kind == "drop":
            sim.inject_drop()
        elif kind == "outage":
            sim.disconnect(duration_s=None)
        elif kind == "reconnect":
            sim.reconnect()
        elif kind == "venue_cancel" and submitted:
            try:
                engine.cancel("BTC-PERP", client_order_index=submitted[action[1] % len(submitted)].client_order_index)
            except UnknownOrder:
                pass
        elif kind == "trade_through":
            is_ask = action[1]
            engine.trade_through(
                "BTC-PERP", is_ask=is_ask, price_i=bid_i - 5 * tick if is_ask else ask_i + 5 * tick, size_i=size
            )
        elif kind == "advance":
            await clock.advance(action[1] / 10)

    sim.reconnect()
    await rt.reconciler.wait_idle()
    await clock.advance(rt.reconciler.settle_s + 1)
    await rt.reconciler.reconcile(why="check")

    ours = {o.client_order_index: o for o in rt.orders.orders}
    assert len(ours) == len(submitted)  # nothing adopted twice, nothing lost
    assert not [o for o in ours.values() if o.state == S.UNKNOWN]
    assert {o.client_order_index: (o.state, o.filled_i) for o in rt.orders.open_orders()} == {
        s.client_order_index: (s.status, s.filled_i) for s in engine.open_orders()
    }
    for order in submitted:
        try:
            venue = engine.order("BTC-PERP", client_order_index=order.client_order_index)
        except UnknownOrder:
            assert order.state == S.REJECTED
            continue
        assert (order.state, order.filled_i) == (venue.status, venue.filled_i), order.history
    assert rt.positions.size_i("sim", "BTC") == engine.position("BTC-PERP").size_i
    await rt.stop()


@settings(max_examples=40, deadline=None)
@given(script=actions)
def test_after_reconciling_orders_and_positions_equal_the_venue(script):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_play(script, Path(tmp) / "journal.sqlite3"))
