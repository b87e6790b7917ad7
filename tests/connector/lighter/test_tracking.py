"""A tracking limit chasing the touch on Lighter through the fake venue, re-pricing with amend."""

from __future__ import annotations

import asyncio

import pytest

from connector.clock import RealClock
from connector.interface import OrderStatus
from connector.lighter.wire import TX_CANCEL_ORDER, TX_CREATE_ORDER, TX_MODIFY_ORDER
from connector.sim.engine import SimEngine
from tests.connector.lighter.test_connector import until
from tests.connector.lighter.test_runtime import runtime  # noqa: F401  (fixture)
from tests.execution.tracking.harness import QUIET_BTC
from tests.fakes.lighter import FakeLighter

tracking_limit = pytest.importorskip("execution.tracking")


@pytest.fixture
async def fake():
    """A BTC market that moves only when the test moves it.

    With the default market's random flow the first child (a bid at the touch) could fill before
    the test saw it rest: the fake's engine catches up with the wall clock, so on a busy machine
    (xdist, other jobs) one tick runs many steps of flow at once; the chase then ended FILLED and
    the wait for its first child ran out (30 s).
    """
    venue = await FakeLighter(SimEngine(7, clock=RealClock(), markets=[QUIET_BTC]), step_s=0.02).start()
    yield venue
    await venue.stop()


async def test_a_chase_follows_a_rising_bid_by_amending_and_fills(runtime, fake):  # noqa: F811
    manager = tracking_limit.TrackingLimitManager(
        runtime.orders, runtime.market_data, clock=RealClock(), amend="always", min_reprice_interval_ms=20
    )
    live_children: list[int] = []
    runtime.orders.add_listener(
        lambda o: live_children.append(sum(1 for c in runtime.orders.open_orders("lighter") if c.parent_id))
    )
    chase = await manager.start("lighter", "BTC", is_ask=False, size_i=30, post_only=True)
    child = await until(lambda: chase.child if chase.child is not None and chase.child.order_id else None)
    first_price = child.price_i
    mid = fake.engine.mid_i("BTC-PERP")
    fake.engine.set_mid("BTC-PERP", mid + 200)  # the bid runs away by 20 dollars
    await until(lambda: any(t == TX_MODIFY_ORDER for t, _ in fake.accepted), timeout=15)
    await until(lambda: chase.child is not None and chase.child.price_i > first_price, timeout=15)
    sent = [t for t, _ in fake.accepted]
    assert sent.count(TX_CREATE_ORDER) == 1 and TX_CANCEL_ORDER not in sent  # re-priced in place
    while not chase.is_done:  # trade through wherever the child rests now
        child = chase.child
        if child is not None and child.order_id and child.state in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            fake.engine.trade_through("BTC-PERP", is_ask=True, price_i=child.price_i, size_i=child.remaining_i)
        await asyncio.sleep(0.05)
    await chase.wait_done(timeout=15)
    assert (chase.filled_i, chase.end_reason) == (30, tracking_limit.EndReason.FILLED)
    assert chase.child is None or chase.child.state is OrderStatus.FILLED
    assert max(live_children) <= 1
    await manager.stop()
