"""The reconciler against a scripted venue: venue truth wins, each change is logged with why."""

from __future__ import annotations

import asyncio

import pytest

from connector.errors import OrderRejected, VenueError
from connector.interface import ConnectionEvent, ConnectionState, OrderSnapshot, OrderStatus
from execution.journal import Journal
from execution.orders import OrderService, order_name
from execution.reconciler import Reconciler
from tests.execution.orders.test_service import ScriptedVenue, snap

S = OrderStatus


class DeadManVenue(ScriptedVenue):
    capabilities = frozenset({"amend", "dead_man_switch"})

    def __init__(self) -> None:
        super().__init__()
        self.armed: list[float | None] = []

    async def schedule_cancel_all(self, after_s):
        self.armed.append(after_s)

    async def get_positions(self):
        return []

    async def get_margin(self):
        return None


@pytest.fixture
def venue() -> DeadManVenue:
    return DeadManVenue()


@pytest.fixture
def svc(venue, clock) -> OrderService:
    return OrderService({"fake": venue}, None, clock=clock)


@pytest.fixture
def rec(svc, clock, tmp_path) -> Reconciler:
    return Reconciler(svc, clock=clock, journal=Journal(tmp_path / "j.sqlite3"), interval_s=10, settle_s=5)


async def test_an_order_cancelled_at_the_venue_becomes_cancelled_and_is_logged(svc, venue, rec):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.CANCELLED)
    records = await rec.reconcile(why="test")
    assert order.state == S.CANCELLED
    assert [(r.change, r.subject.split()[1]) for r in records] == [("OPEN -> CANCELLED", order_name(order))]
    assert "venue reports CANCELLED" in records[0].reason
    assert rec.journal.load_reconcile_log()[-1]["change"] == "OPEN -> CANCELLED"


async def test_an_order_filled_at_the_venue_takes_the_venue_filled_size(svc, venue, rec):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.FILLED, 10)
    (record,) = await rec.reconcile()
    assert order.state == S.FILLED and order.filled_i == 10
    assert record.change == "OPEN -> FILLED, filled 0 -> 10"


async def test_an_open_venue_order_we_did_not_know_is_adopted(svc, venue, rec):
    venue.venue_orders[5] = OrderSnapshot("BTC", 5, "55", True, 2000, 3, 1, S.OPEN)
    (record,) = await rec.reconcile()
    order = svc.get("fake", 5)
    assert order is not None and order.state == S.PARTIALLY_FILLED and order.filled_i == 1
    assert record.change == "adopted as PARTIALLY_FILLED"


async def test_an_unknown_order_the_venue_never_saw_is_rejected_after_settling(svc, venue, rec, clock):
    venue.script("submit_limit_order", VenueError("response lost"))
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    assert order.state == S.UNKNOWN
    assert await rec.reconcile() == []  # too young to conclude anything
    await clock.advance(6)
    (record,) = await rec.reconcile()
    assert order.state == S.REJECTED
    assert "never placed" in record.reason


async def test_a_cancel_that_never_took_effect_is_reverted_once_settled(svc, venue, rec, clock):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.OPEN)
    venue.script("cancel_by_client_id", OrderRejected("busy"))
    await svc.cancel(order)
    assert await rec.reconcile() == [] and order.state == S.CANCELLING
    await clock.advance(6)
    (record,) = await rec.reconcile()
    assert order.state == S.OPEN
    assert "did not take effect" in record.reason


async def test_a_reconnect_queues_one_pass(svc, venue, rec):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.CANCELLED)
    rec.on_connection("fake", ConnectionEvent("fake", "orders", ConnectionState.CONNECTED))
    await rec.wait_idle()
    assert order.state == S.OPEN  # a first connect is not a reconnect
    for stream in ("orders", "book"):
        rec.on_connection("fake", ConnectionEvent("fake", stream, ConnectionState.DISCONNECTED))
        rec.on_connection("fake", ConnectionEvent("fake", stream, ConnectionState.CONNECTED))
    await rec.wait_idle()
    assert order.state == S.CANCELLED
    assert rec.log[-1].reason.startswith("reconnect")


async def test_heartbeat_reconciles_and_keeps_the_dead_man_switch_armed_until_stop(svc, venue, rec, clock):
    await rec.start()
    assert venue.armed == [60.0]
    passes = rec.passes
    await clock.advance(10)
    await clock.advance(10)
    assert rec.passes == passes + 2
    assert venue.armed == [60.0, 60.0, 60.0]
    await rec.stop()
    assert venue.armed[-1] is None
    await clock.advance(30)
    assert rec.passes == passes + 2


async def test_a_runtime_without_the_dead_man_switch_never_arms_or_disarms_the_venues_timer(svc, venue, clock, tmp_path):
    rec = Reconciler(svc, clock=clock, interval_s=10, settle_s=5, dead_man_after_s=None)
    await rec.start()
    await clock.advance(10)
    await rec.stop()
    assert venue.armed == []


async def test_a_failing_venue_query_is_logged_not_raised(svc, venue, rec):
    venue.script("get_open_orders", VenueError("502 bad gateway"))
    (record,) = await rec.reconcile(why="heartbeat")
    assert record.change == "incomplete" and "502" in record.reason
    assert rec.failures == 1


async def test_an_order_concluded_never_placed_is_revived_when_the_venue_shows_it_later(svc, venue, rec, clock):
    venue.script("submit_limit_order", VenueError("response lost"))
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    await clock.advance(6)
    await rec.reconcile()
    assert order.state == S.REJECTED
    venue.venue_orders[order.client_order_index] = snap(order, S.OPEN, order_id="late-1")
    (record,) = await rec.reconcile()
    assert order.state == S.OPEN and order.order_id == "late-1"
    assert record.change == "REJECTED -> OPEN"
    assert "after all" in order.history[-1].reason


async def test_wait_idle_waits_for_a_pass_already_running(svc, venue, rec):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.CANCELLED)
    gate = asyncio.Event()
    answer = venue.get_open_orders

    async def slow_open_orders(symbol=None):
        await gate.wait()
        return await answer(symbol)

    venue.get_open_orders = slow_open_orders
    rec.on_connection("fake", ConnectionEvent("fake", "orders", ConnectionState.DISCONNECTED))
    rec.on_connection("fake", ConnectionEvent("fake", "orders", ConnectionState.CONNECTED))
    await asyncio.sleep(0)  # the pass has taken its lock, left the queue and waits on the venue
    waiter = asyncio.create_task(rec.wait_idle())
    await asyncio.sleep(0)
    assert not waiter.done()
    gate.set()
    await waiter
    assert order.state == S.CANCELLED


async def test_reconcile_returns_its_records_even_when_the_log_is_full(svc, venue, clock, tmp_path):
    rec = Reconciler(svc, clock=clock, log_length=2)
    orders = [await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000) for _ in range(3)]
    for o in orders:
        venue.venue_orders[o.client_order_index] = snap(o, S.CANCELLED)
    assert len(await rec.reconcile()) == 2
    o = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[o.client_order_index] = snap(o, S.CANCELLED)
    assert len(await rec.reconcile()) == 1


class OneBadOrderVenue(DeadManVenue):
    """The venue answers an error for one order's status lookup, every time."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: int | None = None
        self.account_queries = 0

    async def get_order(self, symbol, client_order_index):
        if client_order_index == self.bad:
            raise VenueError("500 order status unavailable")
        return await super().get_order(symbol, client_order_index)

    async def get_positions(self):
        self.account_queries += 1
        return []


async def test_one_order_whose_lookup_keeps_failing_never_stops_the_pass(clock, tmp_path):
    venue = OneBadOrderVenue()
    svc = OrderService({"fake": venue}, None, clock=clock)
    rec = Reconciler(svc, clock=clock, interval_s=10, settle_s=5, lookup_failures_bound=3)
    bad = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    good = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1001)
    venue.bad = bad.client_order_index
    venue.venue_orders[good.client_order_index] = snap(good, S.CANCELLED)
    records = await rec.reconcile(why="heartbeat")
    assert good.state == S.CANCELLED  # the other order is reconciled
    assert venue.account_queries == 1  # and so are positions and margin
    assert bad.state == S.OPEN
    assert [r.change for r in records if r.subject.split()[1] == order_name(bad)] == [
        "status query failed"
    ]
    await rec.reconcile(why="heartbeat")
    assert bad.state == S.OPEN
    (record,) = await rec.reconcile(why="heartbeat")
    assert bad.state == S.UNKNOWN  # the bound reached: UNKNOWN, with what to do
    assert record.change == "OPEN -> UNKNOWN" and "3 times in a row" in record.reason and "500" in record.reason
    assert venue.account_queries == 3
    venue.bad = None
    venue.venue_orders[bad.client_order_index] = snap(bad, S.OPEN)
    await rec.reconcile(why="heartbeat")
    assert bad.state == S.OPEN  # a lookup that answers again resolves it
