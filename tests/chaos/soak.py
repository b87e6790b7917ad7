"""The soak: one hour of virtual time on the sim venue with random faults (rejects, lost responses,
stream outages, latency spikes) and 20 chases, with the invariants checked after every step.

``run_soak(seed)`` returns the figures (the test asserts on them, ``bench/chaos.py`` records them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from connector.clock import VirtualClock
from tests.execution.tracking.harness import SYMBOL, Desk

STEP_S = 0.5
CHASES = 20


@dataclass
class SoakFigures:
    seed: int
    virtual_s: float = 0.0
    steps: int = 0
    chases: int = 0
    filled_chases: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    overfills: int = 0
    missed_fills: int = 0
    """Fills the venue made that our chases never counted (after the run settled)."""
    duplicate_ids: int = 0
    max_resting_per_chase: int = 0


def _check(desk: Desk, figures: SoakFigures, t: float) -> None:
    watch = desk.watch
    worst = max(watch.max_resting_per_parent.values(), default=0)
    figures.max_resting_per_chase = max(figures.max_resting_per_chase, worst)
    if worst > 1:
        figures.violations.append(f"t={t:.1f}s: {worst} orders of one chase rest at the venue")
    for chase in desk.tracking.chases.values():
        venue_filled = watch.filled_for(chase)
        if venue_filled > chase.size_i or chase.filled_i > chase.size_i:
            figures.overfills += 1
            figures.violations.append(f"t={t:.1f}s: chase {chase.id} filled {venue_filled} of {chase.size_i}")
    indices = [o.client_order_index for o in desk.orders.orders]
    if len(indices) != len(set(indices)):
        figures.duplicate_ids += 1
        figures.violations.append(f"t={t:.1f}s: a client order index was used twice")


async def run_soak(seed: int = 1, hours: float = 1.0) -> SoakFigures:
    clock = VirtualClock()
    rng = random.Random(seed)
    desk = await Desk(clock, seed=seed, actions_per_s=20).start()
    conn = desk.connector
    figures = SoakFigures(seed)
    size_unit = desk.md.market("sim", SYMBOL).min_size_i
    every_s = hours * 3600 / CHASES
    spike_until = -1.0
    t = 0.0
    end_s = hours * 3600
    started = 0
    while t < end_s or (any(not c.is_done for c in desk.tracking.chases.values()) and t < end_s + 1800):
        if started < CHASES and t >= started * every_s:
            await desk.tracking.start(
                "sim",
                SYMBOL,
                is_ask=rng.random() < 0.5,
                size_i=size_unit * rng.randint(5, 40),
                offset_ticks=rng.randint(0, 2),
                timeout_s=rng.uniform(60, 900),
                post_only=True,
            )
            started += 1
        roll = rng.random()
        if t < end_s:
            if roll < 0.01:
                conn.inject_reject()
                figures.faults["reject"] = figures.faults.get("reject", 0) + 1
            elif roll < 0.02:
                conn.inject_drop()
                figures.faults["lost response"] = figures.faults.get("lost response", 0) + 1
            elif roll < 0.023:
                conn.disconnect(rng.uniform(0.5, 5.0))
                figures.faults["disconnect"] = figures.faults.get("disconnect", 0) + 1
            elif roll < 0.026 and spike_until < t:
                conn.latency_ms = rng.uniform(200, 1500)
                spike_until = t + rng.uniform(2, 20)
                figures.faults["latency spike"] = figures.faults.get("latency spike", 0) + 1
        if spike_until >= 0 and t > spike_until:
            conn.latency_ms, spike_until = 0, -1.0
        await clock.advance(STEP_S)
        t += STEP_S
        figures.steps += 1
        _check(desk, figures, t)
    conn.latency_ms = 0
    conn.reconnect()
    await clock.advance(30)  # let the last answers and resolutions land
    _check(desk, figures, t)
    figures.virtual_s = t
    figures.chases = len(desk.tracking.chases)
    for chase in desk.tracking.chases.values():
        figures.filled_chases += chase.filled_i == chase.size_i
        figures.missed_fills += max(0, desk.watch.filled_for(chase) - chase.filled_i)
    await desk.stop()
    return figures
