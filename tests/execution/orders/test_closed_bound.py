"""Closed orders held in memory are bounded (``store.MAX_CLOSED_ORDERS``); the journal keeps them all.

A console that types an order every few seconds kept every order it ever sent, with its history and
fills (issue 18's soak: memory still rising after an hour).  The most recently closed orders of one's
own stay; a chase's or an algo's children stay (their parent reads them); the rest is in the journal.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from decimal import Decimal

import pytest

from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.runtime import Runtime

S = OrderStatus
KEEP = 10


@pytest.fixture
async def rt(clock, tmp_path):
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    runtime.orders.store.max_closed = KEEP
    await runtime.start()
    await clock.advance(0.5)
    yield runtime
    await runtime.stop()


def _far_bid(rt) -> int:
    bid_i, _ = rt.market_data.top_of_book("sim", "BTC")
    tick = rt.market_data.market("sim", "BTC").tick_i
    return bid_i * 97 // 100 // tick * tick


async def _place_and_cancel(rt, n: int, parent_id: str | None = None) -> list:
    size_i = rt.market_data.to_size_i("sim", "BTC", Decimal("0.01"))
    placed = []
    for _ in range(n):
        order = await rt.orders.submit_limit(
            "sim", "BTC", is_ask=False, size_i=size_i, price_i=_far_bid(rt), parent_id=parent_id
        )
        await rt.orders.cancel(order)
        await order.wait_final(timeout=5)
        assert order.state == S.CANCELLED
        placed.append(order)
    return placed


async def test_only_the_most_recently_closed_orders_stay_in_memory_and_the_journal_keeps_all(rt):
    resting = await rt.orders.submit_limit(
        "sim", "BTC", is_ask=False, size_i=rt.market_data.to_size_i("sim", "BTC", Decimal("0.01")),
        price_i=_far_bid(rt),
    )  # fmt: skip
    placed = await _place_and_cancel(rt, 3 * KEEP)
    kept = rt.orders.orders
    assert [o.client_order_index for o in kept] == [resting.client_order_index] + [
        o.client_order_index for o in placed[-KEEP:]
    ]
    assert rt.orders.store.forgotten == 2 * KEEP
    old = placed[0]
    assert rt.orders.get("sim", old.client_order_index) is None
    journaled = {o.client_order_index: o for o in rt.journal.load_orders()}
    assert {o.client_order_index for o in placed} <= journaled.keys()
    assert journaled[old.client_order_index].state == S.CANCELLED


async def test_a_late_closed_word_on_a_forgotten_order_is_not_adopted(rt):
    placed = await _place_and_cancel(rt, 2 * KEEP)
    old = placed[0]
    assert rt.orders.store.was_forgotten("sim", old.client_order_index)
    snap = await rt.connectors["sim"].get_order("BTC-PERP", client_order_index=old.client_order_index)
    assert snap.status == S.CANCELLED
    assert rt.orders.apply_snapshot("sim", snap) is None
    assert rt.orders.get("sim", old.client_order_index) is None
    # a live one we do not know is still adopted (an order placed elsewhere)
    live = dataclasses.replace(snap, status=S.OPEN)
    adopted = rt.orders.apply_snapshot("sim", live)
    assert adopted is not None and adopted.state == S.OPEN


async def test_a_parents_closed_children_stay(rt):
    children = await _place_and_cancel(rt, 2 * KEEP, parent_id="tl-test")
    assert {o.client_order_index for o in rt.orders.orders} == {o.client_order_index for o in children}
    assert rt.orders.store.forgotten == 0


async def test_live_objects_stay_flat_over_hundreds_of_orders_sent_and_cancelled(rt, monkeypatch):
    """300 orders sent and cancelled on the sim: the heap after 300 is within a margin of the heap after
    100 (the bounds, lowered here, are full by then).  Each order used to stay, with its history and
    fills, in the order service and in the sim venue: ~40 live objects an order."""
    import gc
    import weakref

    import connector.sim.engine as engine_module

    monkeypatch.setattr(engine_module, "MAX_CLOSED_ORDERS", KEEP)
    monkeypatch.setattr(engine_module, "FORGET_EVERY", 5)

    async def live() -> Counter[str]:
        # the sim answers at once, so the orders above ran without one turn of the loop: the loop drops the
        # ack timeouts' cancelled timers (two an order) only when it turns
        await asyncio.sleep(0)
        gc.collect()
        # sqlite3 keeps a weak reference to every cursor the journal made and prunes the dead ones only
        # every 200 cursors: up to ~200 dead references come and go, bounded; they are not counted
        return Counter(
            type(o).__qualname__ for o in gc.get_objects() if not (type(o) is weakref.ref and o() is None)
        )

    await _place_and_cancel(rt, 100)
    before = await live()
    await _place_and_cancel(rt, 200)
    after = await live()
    grown = after.total() - before.total()
    most = (after - before).most_common(5)
    assert grown < 200, f"{grown:+,} live objects over 200 more orders, most grown: {most}"
    assert len(rt.orders.orders) == KEEP


async def test_the_default_bound_fills_within_minutes_of_typing(clock, tmp_path):
    """50 closed orders of one's own (issue 18's soak: 200 took a typist 11 minutes to fill, the heap
    growing all that while); the Orders tab lists them under the open ones, the journal keeps all."""
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    await runtime.start()
    await clock.advance(0.5)
    try:
        placed = await _place_and_cancel(runtime, 80)
        assert len(runtime.orders.orders) == 50
        assert runtime.orders.store.was_forgotten("sim", placed[0].client_order_index)
        assert len(runtime.journal.load_orders()) >= 80
    finally:
        await runtime.stop()
