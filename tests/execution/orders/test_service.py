"""OrderService against a scripted venue: the state machine, fills, cancel and amend paths."""

from __future__ import annotations

import asyncio

import pytest

from connector.base import BaseConnector
from connector.errors import OrderRejected, PostOnlyWouldCross, RateLimited, UnknownOrder, VenueError
from connector.interface import Fill, OrderSnapshot, OrderStatus
from execution.orders import (
    MAX_CLIENT_ORDER_INDEX,
    AmendNotSupported,
    Order,
    OrderService,
)

S = OrderStatus


class ScriptedVenue(BaseConnector):
    """Answers each request from a per-method queue of results or exceptions; records calls."""

    venue = "fake"
    capabilities = frozenset({"amend"})

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict]] = []
        self.answers: dict[str, list] = {}
        self.venue_orders: dict[int, OrderSnapshot] = {}

    def script(self, method: str, *answers) -> None:
        self.answers.setdefault(method, []).extend(answers)

    async def _answer(self, method: str, default, **kw):
        self.calls.append((method, kw))
        queue = self.answers.get(method)
        if queue:
            ans = queue.pop(0)
            if isinstance(ans, BaseException):
                raise ans
            return ans
        return default

    async def submit_limit_order(self, **kw):
        return await self._answer("submit_limit_order", f"oid-{kw['client_order_index']}", **kw)

    async def submit_market_order(self, **kw):
        return await self._answer("submit_market_order", f"oid-{kw['client_order_index']}", **kw)

    async def cancel_by_client_id(self, symbol, client_order_index):
        return await self._answer("cancel_by_client_id", None, symbol=symbol, coi=client_order_index)

    async def cancel_all(self, symbol=None):
        return await self._answer("cancel_all", None, symbol=symbol)

    async def get_order(self, symbol, client_order_index):
        snap = self.venue_orders.get(client_order_index)
        res = await self._answer("get_order", snap, symbol=symbol, coi=client_order_index)
        if res is None:
            raise UnknownOrder(f"no order {client_order_index}")
        return res

    async def get_open_orders(self, symbol=None):
        return await self._answer(
            "get_open_orders", [s for s in self.venue_orders.values() if s.status.is_live], symbol=symbol
        )

    async def modify_order(self, **kw):
        return await self._answer("modify_order", None, **kw)


def snap(order: Order, status: S, filled_i: int = 0, **kw) -> OrderSnapshot:
    return OrderSnapshot(
        symbol=order.venue_symbol,
        client_order_index=order.client_order_index,
        order_id=kw.pop("order_id", order.order_id),
        is_ask=order.is_ask,
        price_i=kw.pop("price_i", order.price_i),
        size_i=kw.pop("size_i", order.size_i),
        filled_i=filled_i,
        status=status,
        **kw,
    )


def fill(order: Order, trade_id: str, size_i: int, price_i: int = 1000) -> Fill:
    return Fill(
        order.venue_symbol,
        order.client_order_index,
        order.order_id,
        trade_id,
        order.is_ask,
        price_i,
        size_i,
        1,
        True,
        0,
    )


@pytest.fixture
def venue() -> ScriptedVenue:
    return ScriptedVenue()


@pytest.fixture
def svc(venue, clock) -> OrderService:
    return OrderService({"fake": venue}, None, clock=clock)


async def test_accepted_limit_order_is_open_with_its_venue_id(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    assert order.state == S.OPEN
    assert order.order_id == f"oid-{order.client_order_index}"
    assert [(t.from_state, t.to_state) for t in order.history] == [(S.NEW, S.SUBMITTING), (S.SUBMITTING, S.OPEN)]
    assert venue.calls[0][1]["base_amount"] == 10


async def test_the_venue_request_starts_in_the_placing_task_with_no_loop_turn_before_it(svc, venue):
    """Issue 18 (key → request): nothing else the loop has ready runs between placing and the request."""
    placing, seen = asyncio.current_task(), []
    turned: list[bool] = []
    submit = venue.submit_limit_order

    async def noted(**kw):
        seen.append((asyncio.current_task(), bool(turned)))
        return await submit(**kw)

    venue.submit_limit_order = noted
    asyncio.get_running_loop().call_soon(turned.append, True)  # runs at the loop's next turn
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    assert seen == [(placing, False)]
    assert order.state == S.OPEN


async def test_venue_rejection_returns_rejected_order_with_the_venue_reason(svc, venue):
    venue.script("submit_limit_order", PostOnlyWouldCross("post-only order would cross the book"))
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000, post_only=True)
    assert order.state == S.REJECTED
    assert "would cross" in order.reason
    assert order.is_final


async def test_lost_submit_response_leaves_order_unknown(svc, venue):
    venue.script("submit_limit_order", VenueError("request timed out"))
    order = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1000)
    assert order.state == S.UNKNOWN
    assert "timed out" in order.reason


async def test_unknown_order_resolves_from_the_venue_query(svc, venue):
    venue.script("submit_limit_order", VenueError("lost"))
    order = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.OPEN, order_id="77")
    await svc.refresh(order)
    assert order.state == S.OPEN and order.order_id == "77"


async def test_unknown_order_the_venue_never_saw_becomes_rejected(svc, venue):
    venue.script("submit_limit_order", VenueError("lost"))
    order = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1000)
    await svc.refresh(order)
    assert order.state == S.REJECTED
    assert "never placed" in order.reason


async def test_hung_submit_times_out_to_unknown(venue, clock):
    svc = OrderService({"fake": venue}, None, clock=clock, request_timeout_s=0.01)
    never = asyncio.get_running_loop().create_future()
    venue.script("submit_limit_order", None)

    async def hang(**kw):
        await never

    venue.submit_limit_order = hang
    order = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1000)
    assert order.state == S.UNKNOWN


async def test_risk_refusal_sends_nothing_and_allocates_nothing(venue, clock):
    class Refuse:
        def check(self, venue, symbol, *, is_ask, size_i, price_i, reduce_only):
            raise ValueError("order notional above the maximum")

    svc = OrderService({"fake": venue}, None, clock=clock, risk=Refuse())
    with pytest.raises(ValueError, match="notional"):
        await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    assert venue.calls == []
    assert svc.orders == []


async def test_non_positive_size_is_refused_before_sending(svc, venue):
    with pytest.raises(ValueError, match="positive"):
        await svc.submit_limit("fake", "BTC", is_ask=False, size_i=0, price_i=1000)
    assert venue.calls == []


async def test_client_order_indices_are_unique_increasing_and_in_lighter_range(svc):
    ids = [
        (await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)).client_order_index for _ in range(5)
    ]
    assert ids == sorted(set(ids))
    assert all(1 <= i <= MAX_CLIENT_ORDER_INDEX for i in ids)


async def test_fills_are_deduplicated_and_fill_the_order(svc):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    svc.ingest_update("fake", fill(order, "t1", 4, 1000))
    svc.ingest_update("fake", fill(order, "t1", 4, 1000))
    assert order.filled_i == 4 and order.state == S.PARTIALLY_FILLED
    svc.ingest_update("fake", fill(order, "t2", 6, 1010))
    assert order.filled_i == 10 and order.state == S.FILLED
    assert order.avg_price_i == 1006
    assert len(order.fills) == 2


async def test_stale_open_snapshot_does_not_undo_a_fill(svc):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    svc.ingest_update("fake", snap(order, S.FILLED, 10))
    svc.ingest_update("fake", snap(order, S.OPEN, 0))
    assert order.state == S.FILLED and order.filled_i == 10


async def test_venue_filled_count_is_trusted_when_fills_were_missed(svc):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    svc.ingest_update("fake", snap(order, S.OPEN, 6))
    assert order.state == S.PARTIALLY_FILLED and order.filled_i == 6
    svc.ingest_update("fake", fill(order, "t1", 2))
    assert order.filled_i == 6  # the one fill we saw is part of the venue's 6


async def test_cancel_is_not_cancelled_until_the_venue_confirms(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.OPEN)
    await svc.cancel(order)
    assert order.state == S.CANCELLING  # acknowledged, but the venue still lists it
    svc.ingest_update("fake", snap(order, S.CANCELLED))
    assert order.state == S.CANCELLED


async def test_cancel_confirmed_by_the_venue_query_after_the_ack(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.CANCELLED)
    await svc.cancel(order)
    assert order.state == S.CANCELLED


async def test_cancel_with_no_answer_leaves_unknown_with_the_reason(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_by_client_id", VenueError("connection reset"))
    await svc.cancel(order)
    assert order.state == S.UNKNOWN
    assert "connection reset" in order.reason


async def test_refused_cancel_stays_cancelling_with_the_reason(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_by_client_id", OrderRejected("cancel not allowed now"))
    await svc.cancel(order)
    assert order.state == S.CANCELLING
    assert "not allowed" in order.reason


async def test_reconcile_restores_open_after_a_cancel_that_never_took(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_by_client_id", OrderRejected("cancel not allowed now"))
    await svc.cancel(order)
    svc.ingest_update("fake", snap(order, S.OPEN))  # a stream update may not revert it
    assert order.state == S.CANCELLING
    svc.apply_snapshot("fake", snap(order, S.OPEN), authoritative=True)
    assert order.state == S.OPEN


async def test_cancel_of_an_order_the_venue_already_filled_ends_filled(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_by_client_id", UnknownOrder("not open"))
    venue.venue_orders[order.client_order_index] = snap(order, S.FILLED, 10)
    await svc.cancel(order)
    assert order.state == S.FILLED and order.filled_i == 10


async def test_cancel_all_marks_cancelling_and_confirms_from_the_open_list(svc, venue):
    a = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    b = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1100)
    venue.venue_orders[a.client_order_index] = snap(a, S.CANCELLED)
    venue.venue_orders[b.client_order_index] = snap(b, S.CANCELLED)
    await svc.cancel_all("fake")
    assert a.state == S.CANCELLED and b.state == S.CANCELLED
    assert ("cancel_all", {"symbol": None}) in venue.calls


async def test_refused_cancel_all_leaves_each_order_cancelling_with_the_reason(svc, venue):
    a = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    b = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1100)
    venue.script("cancel_all", RateLimited("slow down"))
    assert await svc.cancel_all("fake") == [a, b]
    for o in (a, b):
        assert o.state == S.CANCELLING and o.reason == "cancel all refused: slow down"
        assert o.request_inflight == ""


async def test_cancel_all_with_no_answer_leaves_each_order_unknown(svc, venue):
    a = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_all", VenueError("connection reset"))
    await svc.cancel_all("fake")
    assert a.state == S.UNKNOWN and a.reason == "no answer to cancel all: connection reset"
    assert a.request_inflight == ""


async def test_refused_amend_leaves_the_order_as_the_venue_has_it_and_raises(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.OPEN)
    venue.script("modify_order", OrderRejected("price out of band"))
    with pytest.raises(OrderRejected):
        await svc.amend(order, price_i=1005)
    assert order.state == S.OPEN and order.price_i == 1000
    assert any(t.reason == "amend refused: price out of band" for t in order.history)
    assert [c[0] for c in venue.calls[-2:]] == ["modify_order", "get_order"]


async def test_amend_of_an_order_the_venue_no_longer_has_open_asks_the_venue_and_raises(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.venue_orders[order.client_order_index] = snap(order, S.FILLED, 10)
    venue.script("modify_order", UnknownOrder("not open"))
    with pytest.raises(UnknownOrder):
        await svc.amend(order, price_i=1005)
    assert order.state == S.FILLED and order.price_i == 1000


async def test_amend_with_no_answer_leaves_unknown_and_raises(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("modify_order", VenueError("connection reset"))
    with pytest.raises(VenueError):
        await svc.amend(order, price_i=1005)
    assert order.state == S.UNKNOWN and order.reason == "no answer to amend: connection reset"
    assert order.request_inflight == ""


async def test_a_submit_interrupted_before_the_answer_is_unknown(svc, venue):
    gate = asyncio.Event()

    async def hang(**kw):
        await gate.wait()

    venue.submit_limit_order = hang
    task = asyncio.create_task(svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000))
    await asyncio.sleep(0)
    (order,) = svc.orders
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert order.state == S.UNKNOWN and order.reason == "submit interrupted before the venue answered"
    assert order.request_inflight == ""


async def test_amend_reprices_in_place_and_records_it(svc, venue):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    svc.ingest_update("fake", fill(order, "t1", 4))
    await svc.amend(order, price_i=1005)
    assert order.price_i == 1005 and order.size_i == 10
    call = venue.calls[-1]
    assert call[0] == "modify_order" and call[1]["base_amount"] == 6 and call[1]["price"] == 1005
    assert "amended" in order.history[-1].reason


async def test_amend_without_the_capability_raises(svc, venue):
    venue.capabilities = frozenset()
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    with pytest.raises(AmendNotSupported):
        await svc.amend(order, price_i=1005)


async def test_wait_final_returns_when_the_order_ends_and_times_out_otherwise(svc):
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    with pytest.raises(TimeoutError, match="OPEN"):
        await order.wait_final(timeout=0.01)
    waiter = asyncio.create_task(order.wait_final(timeout=5))
    await asyncio.sleep(0)
    svc.ingest_update("fake", snap(order, S.CANCELLED))
    assert (await waiter) is order


async def test_listeners_hear_each_change_and_a_failing_listener_is_contained(svc):
    seen: list[S] = []
    svc.add_listener(lambda o: 1 / 0)
    svc.add_listener(lambda o: seen.append(o.state))
    await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    assert seen == [S.SUBMITTING, S.OPEN]
    assert svc.listener_errors == 2


async def test_unknown_venue_order_is_adopted_with_earlier_orphan_fills(svc):
    orphan = Fill("BTC", 424242, "9", "t9", False, 1000, 3, 0, True, 0)
    assert svc.ingest_update("fake", orphan) is None
    snap_ = OrderSnapshot("BTC", 424242, "9", False, 1000, 10, 3, S.OPEN)
    order = svc.ingest_update("fake", snap_)
    assert order is not None and order.state == S.PARTIALLY_FILLED
    assert [f.trade_id for f in order.fills] == ["t9"]
    assert "adopted" in order.history[0].reason
    nxt = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)
    assert nxt.client_order_index != 424242


async def test_cancel_of_an_order_the_venue_never_received_ends_rejected(svc, venue):
    venue.script("submit_limit_order", VenueError("response lost"))
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    venue.script("cancel_by_client_id", UnknownOrder("no such order"))
    await svc.cancel(order)
    assert order.state == S.REJECTED
    assert "never placed" in order.reason


async def test_an_adopted_order_far_ahead_does_not_drag_the_counter_towards_the_ceiling(svc):
    first = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)
    svc.ingest_update("fake", OrderSnapshot("BTC", MAX_CLIENT_ORDER_INDEX - 5, "x", False, 1, 1, 0, S.OPEN))
    svc.ingest_update("fake", OrderSnapshot("BTC", first.client_order_index + 3, "y", False, 1, 1, 0, S.OPEN))
    nxt = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)
    assert nxt.client_order_index == first.client_order_index + 4


async def test_cancelling_an_order_on_a_venue_no_longer_connected_is_a_clear_error(svc):
    stale = Order("gone", "BTC", "BTC", 5, False, "limit", 1, 1, state=S.OPEN)
    svc.load([stale])
    with pytest.raises(ValueError, match="'gone' is not connected"):
        await svc.cancel(stale)
