"""Randomized race runs of the tracking limit against the sim venue (seeded, virtual time).

Every run mixes latency, partial fills (also while a cancel or amend is in flight), fills
that beat a cancel, rejections, lost responses, refused cancels, stream outages, pauses,
limit moves and user cancels, then checks at the venue: at most one resting child, no
overfill, nothing left resting unless asked, no child sent beyond the limit, no stuck parent.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import pytest

from connector.clock import VirtualClock
from execution.tracking import EndAction
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk

INFLIGHT_HITS = [0]
"""How many times a run filled an order while a cancel or amend for it was in flight."""


@dataclass
class RunResult:
    seed: int
    overfill: int = 0
    orphans: int = 0
    stuck: bool = False
    max_live: int = 0
    beyond_limit: int = 0
    mismatch: int = 0
    end_reason: str = ""
    children: int = 0
    reprices: int = 0
    fills: int = 0
    notes: list[str] = field(default_factory=list)


def _guard_prices(desk: Desk, chase_ref: list, result: RunResult) -> None:
    """Check every price at the moment it leaves for the venue against the limit then in force."""
    conn = desk.connector
    submit, modify = conn.submit_limit_order, conn.modify_order

    def beyond(price: int) -> bool:
        chase = chase_ref[0] if chase_ref else None
        if chase is None or chase.params.limit_price_i is None:
            return False
        limit = chase.params.limit_price_i
        return price < limit if chase.is_ask else price > limit

    async def checked_submit(**kw):
        if beyond(kw["price"]):
            result.beyond_limit += 1
        return await submit(**kw)

    async def checked_modify(**kw):
        if beyond(kw["price"]):
            result.beyond_limit += 1
        return await modify(**kw)

    conn.submit_limit_order = checked_submit
    conn.modify_order = checked_modify


async def race_run(seed: int, *, amend_policy: str = "fill_safe") -> RunResult:
    rng = random.Random(seed)
    clock = VirtualClock()
    latency = rng.choice([0, 0, 2, 10, 30, 80])
    desk = await Desk(clock, seed=seed % 97, latency_ms=latency, jitter_ms=rng.choice([0, 0, 5, 30]),
                      quiet=rng.random() < 0.5, venue_amend=rng.choice(["safe", "plain", "none"]),
                      actions_per_s=rng.choice([5, 20, 50]), amend=amend_policy).start()
    result = RunResult(seed)
    chase_ref: list = []
    _guard_prices(desk, chase_ref, result)
    tick = desk.tick()
    is_ask = rng.random() < 0.5
    bid, ask = desk.top()
    touch = ask if is_ask else bid
    limit = None
    if rng.random() < 0.5:
        room = rng.randint(-3, 15) * tick
        limit = touch - room if is_ask else touch + room
    size = rng.randint(3, 40) * 10
    chase = await desk.tracking.start(
        "sim", SYMBOL, is_ask=is_ask, size_i=size,
        offset_ticks=rng.choice([0, 0, 1, -1, 2]),
        limit_price_i=limit,
        max_chase_ticks=rng.choice([None, None, 3, 10]),
        min_reprice_interval_ms=rng.choice([0, 50, 200]),
        timeout_s=rng.choice([1, 2, 4, 8]),
        end_action=rng.choice(list(EndAction)).value,
    )
    chase_ref.append(chase)
    conn, engine = desk.connector, desk.engine
    kept_resting = False
    for _ in range(400):
        if chase.is_done:
            break
        r = rng.random()
        child = chase.child
        if child is not None and child.request_inflight in ("cancel", "amend") and rng.random() < 0.6:
            # the classic race: the order fills (partly or fully) while our cancel/amend travels
            INFLIGHT_HITS[0] += 1
            engine.trade_through(VENUE_SYMBOL, is_ask=not is_ask, price_i=child.price_i,
                                 size_i=rng.choice([10, child.remaining_i or 10]))
        elif r < 0.15 and child is not None:
            # a taker hits our price: partial or full, maybe while a request is in flight
            engine.trade_through(VENUE_SYMBOL, is_ask=not is_ask, price_i=child.price_i,
                                 size_i=rng.choice([10, 10, 20, child.size_i]))
        elif r < 0.45:
            mid = engine.mid_i(VENUE_SYMBOL)
            engine.set_mid(VENUE_SYMBOL, mid + rng.randint(-4, 4) * tick)
        elif r < 0.50:
            conn.inject_drop()
        elif r < 0.54:
            conn.inject_reject()
        elif r < 0.58:
            conn.inject_cancel_reject()
        elif r < 0.60:
            conn.disconnect(rng.choice([0.05, 0.3, 1.0]), requests=rng.random() < 0.5)
        elif r < 0.62:
            chase.pause()
        elif r < 0.66:
            chase.resume()
        elif r < 0.68 and limit is not None:
            chase.set_limit_price(limit + rng.randint(-3, 3) * tick)
        elif r < 0.69:
            kept_resting = rng.random() < 0.5
            try:
                await desk.drive(chase.cancel(keep_resting=kept_resting), max_s=60)
            except TimeoutError:
                break  # counted as stuck below
        await clock.advance(rng.choice([0.001, 0.005, 0.02, 0.05, 0.2]))
    if not chase.is_done:
        chase.resume()
        await desk.run_until_done(chase, max_s=60, step_s=0.1)
    await clock.advance(1)  # let in-flight answers land
    result.stuck = not chase.is_done
    for child in chase.children:  # what the reconciler does after an outage: ask the venue
        await desk.drive(desk.orders.refresh(child))
    venue_filled = desk.watch.filled_for(chase)
    result.overfill = max(0, venue_filled - size)
    result.max_live = desk.watch.max_resting_per_parent.get(chase.id, 0)
    leave_ok = kept_resting or (chase.params.end_action is EndAction.LEAVE and chase.end_reason in ("timeout", "limit_reached"))
    resting = desk.watch.resting_for(chase)
    if resting and not leave_ok:
        result.orphans = len(resting)
    if chase.filled_i != venue_filled:
        result.mismatch = 1
        result.notes.append(f"ours {chase.filled_i} venue {venue_filled}")
    result.end_reason = str(chase.end_reason)
    result.children = len(chase.children)
    result.reprices = chase.reprices
    result.fills = sum(1 for e in chase.events if e.kind == "filled")
    await desk.stop()
    return result


def _check(results: list[RunResult]) -> None:
    bad = [r for r in results if r.overfill or r.orphans or r.stuck or r.max_live > 1 or r.beyond_limit or r.mismatch]
    assert not bad, bad[:5]


RUNS = 1000



async def test_a_thousand_randomized_races_never_overfill_orphan_or_stick():
    started = time.perf_counter()
    hits_before = INFLIGHT_HITS[0]
    results = [await race_run(seed) for seed in range(RUNS)]
    _check(results)
    assert INFLIGHT_HITS[0] - hits_before >= 100  # the fill-during-cancel/amend race really happened
    print(f"{RUNS} race runs in {time.perf_counter() - started:.1f} s, {INFLIGHT_HITS[0] - hits_before} in-flight fills")


MORE_CHUNKS = 10
"""The 5,000 more runs in ten tests of 500 seeds each (the same seeds): each stays well inside the
suite's timeout on a loaded machine, and pytest -n spreads them over its workers."""


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(MORE_CHUNKS))
async def test_five_thousand_more_randomized_races_never_overfill_orphan_or_stick(chunk):
    first = RUNS + chunk * (5000 // MORE_CHUNKS)
    results = [await race_run(seed) for seed in range(first, first + 5000 // MORE_CHUNKS)]
    _check(results)


async def test_an_amend_that_is_not_fill_safe_does_overfill_under_races():
    """Why ``amend="fill_safe"`` is the default: the same races with a plain amend overfill."""
    results = [await race_run(seed, amend_policy="always") for seed in range(300)]
    assert any(r.overfill for r in results)
