"""Issue 12, defect 4: no new order goes out blind while a venue is disconnected, and after a reconnect
every UNKNOWN order is resolved by one reconcile pass (the sim venue on virtual time)."""

from __future__ import annotations

import asyncio

import pytest

from connector.interface import ConnectionState, OrderStatus
from connector.sim.connector import SimConnector
from execution.orders import VenueDisconnected
from execution.runtime import Runtime

S = OrderStatus


async def started(clock, tmp_path) -> tuple[Runtime, SimConnector]:
    venue = SimConnector(clock=clock, seed=3)
    runtime = Runtime({"sim": venue}, clock=clock, journal_path=tmp_path / "j.sqlite3")
    task = asyncio.ensure_future(runtime.start())
    while not task.done():
        await clock.advance(0.05)
    await task
    await clock.advance(0.5)
    return runtime, venue


async def settle(clock, runtime: Runtime, seconds: float = 0.5) -> None:
    await clock.advance(seconds)
    waiting = asyncio.ensure_future(runtime.reconciler.wait_idle())
    while not waiting.done():
        await clock.advance(0.1)
    await waiting


def resting_bid(runtime: Runtime) -> int:
    bid, _ = runtime.market_data.top_of_book("sim", "BTC")
    return bid - 50 * runtime.market_data.market("sim", "BTC").tick_i


async def test_a_new_order_or_chase_is_refused_while_disconnected_and_cancels_still_go(clock, tmp_path):
    runtime, venue = await started(clock, tmp_path)
    md = runtime.market_data
    size = md.market("sim", "BTC").min_size_i
    resting = await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime))
    assert resting.state is S.OPEN

    venue.disconnect(None)
    assert runtime.connection_state("sim") is ConnectionState.DISCONNECTED
    before = len(runtime.orders.orders)
    with pytest.raises(VenueDisconnected, match=r"sim is stream disconnected.*allow_disconnected=True") as err:
        await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime))
    assert isinstance(err.value, ValueError)
    with pytest.raises(VenueDisconnected):
        await runtime.orders.submit_market("sim", "BTC", is_ask=True, size_i=size)
    with pytest.raises(VenueDisconnected):
        await runtime.tracking.start("sim", "BTC", is_ask=False, size_i=size)
    assert len(runtime.orders.orders) == before and runtime.tracking.chases == {}  # nothing made, nothing sent

    cancelled = await runtime.orders.cancel(resting)  # cancels are always attempted
    assert cancelled.state is S.CANCELLED
    anyway = await runtime.orders.submit_limit(
        "sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime), allow_disconnected=True
    )
    assert anyway.state is S.OPEN

    venue.reconnect()
    order = await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime))
    assert order.state is S.OPEN
    await runtime.stop()


async def test_after_a_reconnect_one_reconcile_pass_resolves_every_unknown_order(clock, tmp_path):
    runtime, venue = await started(clock, tmp_path)
    size = runtime.market_data.market("sim", "BTC").min_size_i
    venue.disconnect(None, requests=True)  # nothing reaches the venue
    lost = await runtime.orders.submit_limit(
        "sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime), allow_disconnected=True
    )
    venue._requests_down = False
    venue.inject_drop()  # reaches the venue, the answer is lost
    landed = await runtime.orders.submit_limit(
        "sim", "BTC", is_ask=False, size_i=size, price_i=resting_bid(runtime), allow_disconnected=True
    )
    assert (lost.state, landed.state) == (S.UNKNOWN, S.UNKNOWN)
    passes = runtime.reconciler.passes

    await clock.advance(1)
    venue.reconnect()
    await settle(clock, runtime)

    assert runtime.reconciler.passes == passes + 1  # one pass, after the reconnect
    assert (lost.state, landed.state) == (S.REJECTED, S.OPEN)
    assert not [o for o in runtime.orders.orders if o.state is S.UNKNOWN]
    assert clock.now_ms() - lost.history[-1].ts_ms < 5_000 + 1_000  # resolved within the settle time
    await runtime.stop()
