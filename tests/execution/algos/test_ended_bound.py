"""Ended scales and TWAPs kept in memory are bounded (``manager.MAX_ENDED_ALGOS``), with their orders (issue 18:
every algo ever run stayed in ``runtime.algos``, a TWAP's slices with it)."""

from __future__ import annotations

from execution.algos.manager import MAX_ENDED_ALGOS
from tests.execution.algos.harness import SYMBOL, algo_desk

EXTRA = 10


async def _scale(desk, *, cancel: bool = True, keep_resting: bool = False):
    s = await desk.drive(desk.algos.scale("sim", SYMBOL, is_ask=False, size_i=100, from_price_i=649_900,
                                          to_price_i=649_800, count=2))  # fmt: skip (waits on the action budget)
    if cancel:
        await desk.drive(desk.algos.cancel(s, keep_resting=keep_resting))
        assert s.is_done
    return s


async def test_the_oldest_ended_algos_and_their_orders_are_forgotten_live_ones_stay(clock):
    desk = await algo_desk(clock)
    try:
        working = await _scale(desk, cancel=False)
        resting = await _scale(desk, keep_resting=True)  # ended, its two orders still on the book
        ended = [await _scale(desk) for _ in range(MAX_ENDED_ALGOS + EXTRA)]
        gone, kept = ended[:EXTRA], ended[EXTRA:]  # ``resting`` stays beside the last ended, however old
        assert set(desk.algos.algos) == {working.id, resting.id, *(s.id for s in kept)}
        assert all(desk.algos.get(s.id) is None for s in gone)
        assert desk.algos.get(working.id) is working and not working.is_done
        parents = {o.parent_id for o in desk.orders.orders}
        assert parents == set(desk.algos.algos)  # the forgotten algos' orders went with them
        assert all(desk.orders.store.was_forgotten("sim", o.client_order_index) for s in gone for o in s.children)
    finally:
        await desk.stop()


async def test_a_forgotten_twap_no_longer_holds_its_slices(clock):
    desk = await algo_desk(clock)
    try:
        w = await desk.algos.twap("sim", SYMBOL, is_ask=False, size_i=100, duration_s=60, slices=3)
        await clock.advance(1)
        [first] = w.slices
        await desk.drive(desk.algos.cancel(w))
        assert desk.tracking.keep_ended(first)  # the TWAP reads it
        for _ in range(MAX_ENDED_ALGOS):
            await _scale(desk)
        assert desk.algos.get(w.id) is None
        assert desk.algos.owner_of(first.id) is None and not desk.tracking.keep_ended(first)
    finally:
        await desk.stop()
