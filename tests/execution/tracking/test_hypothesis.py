"""Hypothesis drives the market and the faults step by step; the venue-side invariants must hold
after every step, and the chase must end cleanly once the market calms down.  Failing action
lists shrink to the shortest story that breaks a rule."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from execution.tracking import EndAction
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk
from tests.execution.tracking.test_races import RunResult, _guard_prices

ACTIONS = st.one_of(
    st.tuples(st.just("move"), st.integers(-6, 6)),
    st.tuples(st.just("fill"), st.integers(1, 6)),
    st.tuples(st.just("drop"), st.just(0)),
    st.tuples(st.just("reject"), st.just(0)),
    st.tuples(st.just("cancel_reject"), st.just(0)),
    st.tuples(st.just("outage"), st.integers(1, 10)),
    st.tuples(st.just("pause"), st.just(0)),
    st.tuples(st.just("resume"), st.just(0)),
    st.tuples(st.just("limit"), st.integers(-3, 3)),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 20, 60, 250])),
)


async def scenario(actions, *, latency_ms, venue_amend, end_action, size_lots, is_ask) -> RunResult:
    clock = VirtualClock()
    desk = await Desk(clock, quiet=True, latency_ms=latency_ms, venue_amend=venue_amend).start()
    result = RunResult(0)
    ref: list = []
    _guard_prices(desk, ref, result)
    bid, ask = desk.top()
    limit = (ask - 20) if is_ask else (bid + 20)
    size = size_lots * 10
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=is_ask, size_i=size, limit_price_i=limit,
                                      timeout_s=30, end_action=end_action, min_reprice_interval_ms=0)
    ref.append(chase)
    engine, conn = desk.engine, desk.connector
    for kind, arg in actions:
        child = chase.child
        if kind == "move":
            engine.set_mid(VENUE_SYMBOL, engine.mid_i(VENUE_SYMBOL) + arg)
        elif kind == "fill" and child is not None:
            engine.trade_through(VENUE_SYMBOL, is_ask=not is_ask, price_i=child.price_i, size_i=arg * 10)
        elif kind == "drop":
            conn.inject_drop()
        elif kind == "reject":
            conn.inject_reject()
        elif kind == "cancel_reject":
            conn.inject_cancel_reject()
        elif kind == "outage":
            conn.disconnect(arg / 10, requests=arg % 2 == 0)
        elif kind == "pause":
            chase.pause()
        elif kind == "resume":
            chase.resume()
        elif kind == "limit" and not chase.is_done:
            chase.set_limit_price(limit + arg)
        await clock.advance((arg if kind == "wait" else 1) / 1000)
        assert desk.watch.max_resting_per_parent.get(chase.id, 0) <= 1
        assert desk.watch.filled_for(chase) <= size
    chase.resume()
    await desk.run_until_done(chase, max_s=60, step_s=0.1)
    await clock.advance(1)
    result.stuck = not chase.is_done
    result.overfill = max(0, desk.watch.filled_for(chase) - size)
    result.max_live = desk.watch.max_resting_per_parent.get(chase.id, 0)
    if desk.watch.resting_for(chase) and not (end_action == "leave" and chase.end_reason in ("timeout",
                                                                                               "limit_reached")):
        result.orphans = 1
    await desk.stop()
    return result


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=st.lists(ACTIONS, max_size=60),
    latency_ms=st.sampled_from([0, 3, 25, 90]),
    venue_amend=st.sampled_from(["safe", "plain", "none"]),
    end_action=st.sampled_from([a.value for a in EndAction]),
    size_lots=st.integers(1, 12),
    is_ask=st.booleans(),
)
def test_any_story_of_moves_fills_and_faults_keeps_the_invariants(
    actions, latency_ms, venue_amend, end_action, size_lots, is_ask
):
    result = asyncio.run(
        scenario(actions, latency_ms=latency_ms, venue_amend=venue_amend, end_action=end_action,
                 size_lots=size_lots, is_ask=is_ask)
    )
    assert not (result.stuck or result.overfill or result.orphans or result.beyond_limit), result
    assert result.max_live <= 1
