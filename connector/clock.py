"""An injectable clock: wall time in the console, virtual time in tests.

Everything that waits or stamps time (the sim venue, timers, the tracking limit,
the reconciler heartbeat) takes a ``Clock`` so a test can run an hour of market in
well under a second and never sleeps in real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...
    def now_ns(self) -> int: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """Time moves only when a test calls ``advance``; sleepers wake in deadline order."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now_ns = start_ms * 1_000_000
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now_ms(self) -> int:
        return self._now_ns // 1_000_000

    def now_ns(self) -> int:
        return self._now_ns

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now_ns + int(seconds * 1e9), next(self._seq), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way and letting it run."""
        target = self._now_ns + int(seconds * 1e9)
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now_ns = max(self._now_ns, deadline)
            if not fut.done():
                fut.set_result(None)
            await settle()
        self._now_ns = target
        await settle()

    @property
    def pending(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())


async def settle(max_rounds: int = 200) -> None:
    """Yield until the loop has no ready callbacks (bounded), so woken tasks finish their step."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            # one more round: a task woken by the last callback may still be queued
            await asyncio.sleep(0)
            if not ready:
                return
