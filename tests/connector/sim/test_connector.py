"""SimConnector: the runner on the clock, latency, injected faults, outages, dead man's switch."""

from __future__ import annotations

import asyncio

import pytest

from connector.clock import RealClock, VirtualClock
from connector.errors import InvalidOrder, OrderRejected, PostOnlyWouldCross, UnknownOrder, VenueError
from connector.interface import (
    TRIGGER_KINDS,
    ConnectionState,
    IConnector,
    OrderStatus,
    SupportsAmend,
    SupportsDeadManSwitch,
    SupportsTriggers,
)
from connector.sim.connector import SimConnector

BTC = "BTC-PERP"


@pytest.fixture
async def sim(clock: VirtualClock):
    connector = SimConnector(clock=clock)
    events: dict[str, list] = {}
    for kind in ("book", "trade", "order", "fill", "position", "margin", "connection"):
        events[kind] = []
        connector.add_handler(kind, events[kind].append)
    connector.events = events
    await connector.start()
    yield connector
    await connector.stop()


async def rest_bid(sim: SimConnector, coi: int, price: int = 640_000) -> str:
    return await sim.submit_limit_order(
        symbol=BTC, client_order_index=coi, base_amount=10, price=price, is_ask=False, post_only=True
    )


def test_declares_the_venue_and_its_capabilities():
    sim = SimConnector(clock=VirtualClock())
    assert sim.venue == "sim" and sim.capabilities == frozenset(
        {"amend", "amend_fill_safe", "dead_man_switch", "native_triggers", "leverage", "funding"}
    )
    assert isinstance(sim, IConnector) and isinstance(sim, SupportsAmend) and isinstance(sim, SupportsDeadManSwitch)
    assert isinstance(sim, SupportsTriggers) and sim.trigger_kinds == frozenset(TRIGGER_KINDS)


async def test_the_runner_steps_the_market_as_the_clock_moves(sim, clock):
    await sim.subscribe_market_data([BTC])
    await clock.advance(1.0)
    assert sim.engine.steps == 10
    books = sim.events["book"]
    assert books and {b.symbol for b in books} == {BTC}
    assert all(t.symbol == BTC for t in sim.events["trade"])
    connected = [e.state for e in sim.events["connection"]]
    assert connected == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]


async def test_no_market_data_before_subscribing(sim, clock):
    await clock.advance(1.0)
    assert sim.events["book"] == [] and sim.events["trade"] == []


async def test_subscribing_to_an_unknown_market_is_refused(sim):
    with pytest.raises(InvalidOrder, match="unknown sim market"):
        await sim.subscribe_market_data(["DOGE-PERP"])


async def test_top_of_book_comes_with_the_price_scale(sim):
    bid, ask, scale = await sim.get_top_of_book(BTC)
    assert (bid, ask, scale) == (650_000, 650_001, 10)
    assert await sim.get_price_size_decimals("SOL-PERP") == (3, 2)
    assert await sim.get_min_size_i("ETH-PERP") == 10


async def test_latency_is_paid_on_the_clock_half_each_way(clock):
    sim = SimConnector(clock=clock, latency_ms=200)
    await sim.start()
    task = asyncio.create_task(rest_bid(sim, 1))
    await clock.advance(0.05)
    assert sim.engine.open_orders() == [] and not task.done()
    await clock.advance(0.06)
    assert len(sim.engine.open_orders()) == 1 and not task.done()
    await clock.advance(0.1)
    assert task.done() and task.result() == sim.engine.open_orders()[0].order_id
    await sim.stop()


async def test_an_injected_rejection_never_reaches_the_book(sim):
    sim.inject_reject("margin check failed (test)")
    with pytest.raises(OrderRejected, match=r"margin check failed \(test\)"):
        await rest_bid(sim, 1)
    assert await sim.get_open_orders() == []
    await rest_bid(sim, 2)
    assert [o.client_order_index for o in await sim.get_open_orders()] == [2]


async def test_a_dropped_response_still_places_the_order(sim):
    sim.inject_drop()
    with pytest.raises(VenueError, match="response was lost"):
        await rest_bid(sim, 1)
    snap = await sim.get_order(BTC, 1)
    assert snap.status is OrderStatus.OPEN
    assert [o.client_order_index for o in sim.events["order"]] == [1]


async def test_a_dropped_cancel_response_still_cancels(sim):
    await rest_bid(sim, 1)
    sim.inject_drop()
    with pytest.raises(VenueError):
        await sim.cancel_by_client_id(BTC, 1)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.CANCELLED


async def test_an_injected_cancel_rejection_leaves_the_order_working(sim):
    await rest_bid(sim, 1)
    sim.inject_cancel_reject("order is being processed")
    with pytest.raises(OrderRejected, match="being processed"):
        await sim.cancel_by_client_id(BTC, 1)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.OPEN
    await sim.cancel_by_client_id(BTC, 1)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.CANCELLED


async def test_venue_errors_pass_through_as_connector_errors(sim):
    with pytest.raises(PostOnlyWouldCross):
        await rest_bid(sim, 1, price=660_000)
    with pytest.raises(UnknownOrder):
        await sim.cancel_by_order_id(BTC, "123")
    with pytest.raises(InvalidOrder):
        await sim.get_price_size_decimals("DOGE-PERP")


async def test_events_during_an_outage_are_lost_not_delayed(sim, clock):
    await rest_bid(sim, 1)
    sim.disconnect(1.0)
    assert sim.events["connection"][-1].state is ConnectionState.DISCONNECTED
    sim.engine.trade_through(BTC, is_ask=True, price_i=640_000, size_i=10)
    assert sim.events["fill"] == [] and sim.dropped_events > 0
    margins_before = len(sim.events["margin"])
    await clock.advance(1.0)
    assert [e.state for e in sim.events["connection"][-2:]] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    await clock.advance(1.0)
    assert sim.events["fill"] == []
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.FILLED
    assert sim.events["position"][0].size_i == 10  # the reconnect snapshot
    assert len(sim.events["margin"]) > margins_before


async def test_a_subscription_is_answered_with_a_snapshot_at_once(sim, clock):
    """As a real venue answers a subscribe: the book is on screen without waiting for the market to move."""
    await sim.subscribe_market_data([BTC])
    assert sim.engine.steps == 0
    (book,) = sim.events["book"]
    assert book.symbol == BTC and book.is_snapshot and book.bids and book.asks
    assert (book.bids[0][0], book.asks[0][0]) == sim.engine.top(BTC)
    await sim.subscribe_market_data([BTC])  # already subscribed: no second snapshot out of turn
    assert len(sim.events["book"]) == 1


async def test_markets_subscribed_before_the_start_get_their_snapshot_at_the_start(clock):
    sim = SimConnector(clock=clock)
    books: list = []
    sim.add_handler("book", books.append)
    await sim.subscribe_market_data([BTC])
    assert books == []  # not started: nothing streams yet
    await sim.start()
    try:
        assert [b.symbol for b in books] == [BTC] and sim.engine.steps == 0
    finally:
        await sim.stop()


async def test_an_outage_without_a_duration_lasts_until_reconnect(sim, clock):
    await sim.subscribe_market_data([BTC])
    sim.events["book"].clear()  # the subscription's own snapshot
    sim.disconnect(None)
    await clock.advance(5.0)
    assert sim.events["book"] == []
    sim.reconnect()
    await clock.advance(0.1)
    assert sim.events["book"]


async def test_modify_order_reprices_in_place_and_never_grows_the_order(sim):
    oid = await sim.submit_limit_order(
        symbol=BTC, client_order_index=1, base_amount=30, price=640_000, is_ask=False, post_only=True
    )
    assert await sim.modify_order(symbol=BTC, client_order_index=1, price=639_000, base_amount=50) == oid
    snap = await sim.get_order(BTC, 1)
    assert (snap.price_i, snap.size_i) == (639_000, 30)  # fill-safe: capped at what is left
    await sim.modify_order(symbol=BTC, client_order_index=1, price=639_500, base_amount=20)
    snap = await sim.get_order(BTC, 1)
    assert (snap.price_i, snap.size_i) == (639_500, 20)


async def test_without_fill_safety_an_amend_may_grow_the_order(clock):
    sim = SimConnector(clock=clock, fill_safe_amend=False)
    await sim.start()
    try:
        assert "amend_fill_safe" not in sim.capabilities and "amend" in sim.capabilities
        await rest_bid(sim, 1)
        await sim.modify_order(symbol=BTC, client_order_index=1, price=639_000, base_amount=20)
        assert (await sim.get_order(BTC, 1)).size_i == 20
    finally:
        await sim.stop()


async def test_market_order_and_account_queries(sim):
    await sim.submit_market_order(symbol=BTC, client_order_index=1, size_i=100, is_ask=True)
    positions = await sim.get_positions()
    assert [(p.symbol, p.size_i) for p in positions] == [(BTC, -100)]
    margin = await sim.get_margin()
    assert margin.used_q > 0 and sim.events["fill"][0].client_order_index == 1


async def test_dead_man_switch_cancels_unless_rearmed(sim, clock):
    await rest_bid(sim, 1)
    await sim.schedule_cancel_all(5)
    await clock.advance(3)
    await sim.schedule_cancel_all(5)
    await clock.advance(3)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.OPEN
    await clock.advance(3)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.CANCELLED


async def test_dead_man_switch_can_be_disarmed(sim, clock):
    await rest_bid(sim, 1)
    await sim.schedule_cancel_all(2)
    await sim.schedule_cancel_all(None)
    await clock.advance(5)
    assert (await sim.get_order(BTC, 1)).status is OrderStatus.OPEN


async def test_stop_ends_the_runner_and_reports_stopped(clock):
    sim = SimConnector(clock=clock)
    await sim.start()
    await sim.stop()
    steps = sim.engine.steps
    await clock.advance(1.0)
    assert sim.engine.steps == steps
    assert sim.connection_state["stream"] is ConnectionState.STOPPED


async def test_runs_in_real_time_on_the_real_clock():
    sim = SimConnector()
    assert isinstance(sim.clock, RealClock)
    first_book: asyncio.Future = asyncio.get_running_loop().create_future()
    sim.add_handler("book", lambda b: first_book.done() or first_book.set_result(b))
    await sim.start()
    try:
        await sim.subscribe_market_data([BTC])
        book = await asyncio.wait_for(first_book, timeout=30.0)
        assert book.symbol == BTC and book.bids[0][0] < book.asks[0][0]
    finally:
        await sim.stop()


async def test_jittered_latency_is_seeded_and_bounded():
    async def arrival_times(seed: int) -> list[int]:
        sim = SimConnector(clock=VirtualClock(start_ms=0), seed=seed, latency_ms=100, jitter_ms=50)
        times = []
        for coi in range(5):
            task = asyncio.create_task(rest_bid(sim, coi))
            while not task.done():
                await sim.clock.advance(0.001)
            times.append(sim.clock.now_ms())
        return [b - a for a, b in zip([0, *times], times, strict=False)]

    first = await arrival_times(3)
    assert first == await arrival_times(3)
    assert all(100 <= t <= 151 for t in first) and len(set(first)) > 1


async def test_a_failing_market_step_stops_the_market_and_says_so(sim, clock, monkeypatch, caplog):
    def broken(now_ms: int) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.engine, "advance_to", broken)
    await clock.advance(1.0)
    last = sim.events["connection"][-1]
    assert last.state is ConnectionState.DISCONNECTED and "boom" in last.reason
    assert len([r for r in caplog.records if "market step failed" in r.getMessage()]) == 1


async def test_each_event_is_delivered_once_after_subscribing_market_data(sim):
    await sim.subscribe_market_data([BTC])
    await sim.subscribe_market_data(["ETH-PERP"])
    await rest_bid(sim, 1)
    assert [o.client_order_index for o in sim.events["order"]] == [1]


async def test_an_outage_can_take_requests_down_too(sim, clock):
    sim.disconnect(1.0, requests=True)
    with pytest.raises(VenueError, match="not connected"):
        await rest_bid(sim, 1)
    assert sim.engine.open_orders() == []
    await clock.advance(1.0)
    await rest_bid(sim, 2)
    assert [o.client_order_index for o in await sim.get_open_orders()] == [2]
