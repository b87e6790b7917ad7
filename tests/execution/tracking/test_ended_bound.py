"""Ended chases kept in memory are bounded (``manager.MAX_ENDED_CHASES``), with their children (issue 18's
soak: a day of chasing kept every chase and every child order it ever placed)."""

from __future__ import annotations

from execution.tracking.manager import MAX_ENDED_CHASES
from tests.execution.tracking.harness import SYMBOL, Desk

EXTRA = 20


async def _chase_and_cancel(desk: Desk):
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100, offset_ticks=5)
    for _ in range(200):  # placed (the venue's action budget may make it wait)
        if chase.live_children:
            break
        await desk.clock.advance(0.05)
    await desk.drive(chase.cancel())
    assert chase.is_done and chase.children
    return chase


async def test_the_oldest_ended_chases_and_their_children_are_forgotten(clock):
    desk = await Desk(clock, quiet=True).start()
    try:
        chases = [await _chase_and_cancel(desk) for _ in range(MAX_ENDED_CHASES + EXTRA)]
        assert len(desk.tracking.chases) == MAX_ENDED_CHASES
        gone, kept = chases[:EXTRA], chases[EXTRA:]
        assert all(desk.tracking.get(c.id) is None for c in gone)
        assert all(desk.tracking.get(c.id) is c for c in kept)
        parents = {o.parent_id for o in desk.orders.orders}
        assert parents == {c.id for c in kept}  # the forgotten chases' children went with them
        assert all(desk.orders.store.was_forgotten("sim", o.client_order_index) for c in gone for o in c.children)
    finally:
        await desk.stop()


async def test_a_chase_an_algo_reads_stays(clock):
    desk = await Desk(clock, quiet=True).start()
    try:
        first = await _chase_and_cancel(desk)
        desk.tracking.keep_ended = lambda chase: chase is first  # as a TWAP keeps its slices
        for _ in range(MAX_ENDED_CHASES + EXTRA):
            await _chase_and_cancel(desk)
        assert desk.tracking.get(first.id) is first
        assert len(desk.tracking.chases) == MAX_ENDED_CHASES + 1
    finally:
        await desk.stop()
