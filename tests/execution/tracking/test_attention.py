"""Defect 1 of issue 12: a child whose status lookup keeps failing parks its chase in NEEDS_ATTENTION.

Before: the order stayed as it was and the chase asked the venue every second, forever.  Now the
order service gives up after ``lookup_attempts`` failures in a row (the order is UNKNOWN, saying why),
the chase parks (it asks again only when woken, with backoff) and picks up once the venue answers.
"""

from __future__ import annotations

import itertools

from connector.errors import VenueError
from connector.interface import OrderStatus
from execution.tracking import ChaseState
from tests.execution.tracking.harness import SYMBOL, Desk


async def test_a_child_whose_lookup_keeps_failing_parks_the_chase_until_the_venue_answers(clock):
    desk = await Desk(clock, quiet=True).start()
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(0.5)
    child = chase.child
    assert child is not None and child.state == OrderStatus.OPEN
    real_get_order = desk.connector.get_order
    lookups: list[int] = []

    async def failing(symbol, client_order_index):
        lookups.append(clock.now_ms())
        raise VenueError("500 order status unavailable")

    desk.connector.get_order = failing
    for _ in range(3):  # a stream outage: the chase re-reads its child each time
        chase.on_reconnect()
        await clock.advance(0.5)
    assert child.state == OrderStatus.UNKNOWN
    assert "status query failed 3 times in a row" in child.reason
    await clock.advance(2)
    assert chase.state is ChaseState.NEEDS_ATTENTION
    assert any(e.kind == "needs_attention" for e in chase.events)
    before = len(lookups)
    await clock.advance(120)  # parked: no spinning on the venue, only a query now and then, backing off
    later = lookups[before - 1 :]
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert len(gaps) <= 5 and all(g >= 16_000 for g in gaps[1:]), gaps
    assert not chase.is_done

    desk.connector.get_order = real_get_order
    chase.on_reconnect()
    await clock.advance(1)
    assert child.state == OrderStatus.OPEN
    for _ in range(100):
        if chase.state is ChaseState.RUNNING:
            break
        chase.wake()
        await clock.advance(1)
    assert chase.state is ChaseState.RUNNING
    await desk.stop()
