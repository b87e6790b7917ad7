"""A chase keeps its latest ``MAX_CHASE_EVENTS`` events (issue 18: one working for hours grew by one per re-price);
its listeners still hear every one."""

from __future__ import annotations

from execution.tracking.chase import MAX_CHASE_EVENTS
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk


async def test_a_chase_repricing_for_long_keeps_only_its_latest_events(clock):
    desk = await Desk(clock, quiet=True, venue_amend="safe").start()
    heard = []
    desk.tracking.add_listener(lambda chase, event: heard.append(event))
    try:
        chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
        await clock.advance(0.3)
        for step in range(1, 2 * MAX_CHASE_EVENTS):  # the market climbs; the buy follows it up
            if chase.reprices > MAX_CHASE_EVENTS:
                break
            desk.engine.set_mid(VENUE_SYMBOL, 650_000 + 10 * step)
            await clock.advance(0.3)
        assert chase.reprices > MAX_CHASE_EVENTS and not chase.is_done
        assert chase.events == heard[-MAX_CHASE_EVENTS:]
    finally:
        await desk.stop()
