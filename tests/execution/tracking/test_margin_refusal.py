"""Defect 3 of issue 12 (the chase part): a venue's insufficient-margin refusal ends a chase at once.

Before, a chase of an absurd size placed 5-9 doomed children before it gave up.
"""

from __future__ import annotations

from execution.tracking import ChaseState, EndReason
from tests.execution.tracking.harness import SYMBOL, Desk


async def test_an_insufficient_margin_rejection_ends_the_chase_after_one_child(clock):
    desk = await Desk(clock, quiet=True).start()
    submits: list[dict] = []
    original = desk.connector.submit_limit_order

    async def recorded(**kw):
        submits.append(kw)
        return await original(**kw)

    desk.connector.submit_limit_order = recorded
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=10**12)
    assert await desk.run_until_done(chase, max_s=60)
    assert chase.state is ChaseState.DONE and chase.end_reason is EndReason.REJECTED
    assert len(submits) == 1
    assert "insufficient margin" in chase.events[-1].message
    await desk.stop()
