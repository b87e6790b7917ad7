"""The simulated venue: how long an hour of market takes (3 markets, 100 ms steps).

Unwatched, only the price process and trade flow run; watched, every book change is built
as a 20-level snapshot and delivered to one subscriber.
"""

from __future__ import annotations

import time

from bench.stats import Figure, median, percentile
from connector.clock import VirtualClock
from connector.sim.engine import SimEngine

HOUR_MS = 3_600_000


def _hour(watched: bool) -> tuple[float, int]:
    engine = SimEngine(7, clock=VirtualClock(start_ms=0))
    count = 0

    def sink(_event: object) -> None:
        nonlocal count
        count += 1

    if watched:
        engine.subscribe(sink)
    start = time.perf_counter()
    engine.advance_to(HOUR_MS)
    return time.perf_counter() - start, count


def run(repeats: int = 3) -> list[Figure]:
    figures = []
    for watched, target in ((False, "< 1 s"), (True, "a few s")):
        samples, events = [], 0
        for _ in range(repeats):
            seconds, events = _hour(watched)
            samples.append(seconds)
        figures.append(
            Figure(
                "sim",
                f"hour of market, {'one subscriber' if watched else 'unwatched'}",
                median(samples),
                "s",
                p99=percentile(samples, 99),
                target=target,
                note=f"{events} events delivered" if watched else "",
            )
        )
    return figures


if __name__ == "__main__":
    for f in run():
        print(f"{f.name}: {f.value:.3f} {f.unit} ({f.note})")
