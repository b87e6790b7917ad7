"""Pacing for venue traffic: a token bucket and an exponential backoff with jitter.

Both run on the injectable clock, so a test can check a minute of pacing in microseconds, and
both take their randomness from an injectable ``random.Random`` so a run can be replayed.
"""

from __future__ import annotations

import asyncio
import random

from connector.clock import Clock, RealClock

_EPSILON = 1e-9
_MIN_WAIT_S = 1e-6
"""A wait is never shorter than this, so a virtual clock always moves forward."""


class RateLimiter:
    """A token bucket: ``burst`` tokens, refilled at ``rate_per_s``; a request spends ``cost`` tokens.

    Waiters are served first come, first served.  ``penalize`` empties the bucket until a time
    the venue named (a 429's retry-after), so every caller backs off together.
    """

    def __init__(self, rate_per_s: float, burst: float | None = None, *, clock: Clock | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst if burst is not None else max(1.0, rate_per_s))
        if self.burst <= 0:
            raise ValueError("burst must be positive")
        self.clock: Clock = clock or RealClock()
        self._tokens = self.burst
        self._updated_ns = self.clock.now_ns()
        self._blocked_until_ns = 0
        self._lock = asyncio.Lock()
        self.waits = 0
        """How many acquisitions had to wait (for the status bar and benchmarks)."""

    def _refill(self) -> None:
        now = self.clock.now_ns()
        start = max(self._updated_ns, self._blocked_until_ns)
        if now > start:
            self._tokens = min(self.burst, self._tokens + (now - start) / 1e9 * self.rate_per_s)
        self._updated_ns = max(now, self._updated_ns)

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens if self.clock.now_ns() >= self._blocked_until_ns else 0.0

    def delay_for(self, cost: float = 1) -> float:
        """Seconds until ``cost`` tokens are available (0 when they are now)."""
        self._check_cost(cost)
        self._refill()
        now = self.clock.now_ns()
        blocked = max(0.0, (self._blocked_until_ns - now) / 1e9)
        missing = cost - self._tokens
        if missing <= _EPSILON:  # float refill can land a hair short of a whole token
            missing = 0.0
        delay = blocked + missing / self.rate_per_s
        return max(delay, _MIN_WAIT_S) if delay > 0 else 0.0

    def try_acquire(self, cost: float = 1) -> bool:
        """Spend ``cost`` tokens if they are there now; never waits."""
        if self.delay_for(cost) > 0:
            return False
        self._tokens = max(0.0, self._tokens - cost)
        return True

    async def acquire(self, cost: float = 1) -> None:
        """Wait (on the clock) until ``cost`` tokens are available, then spend them."""
        self._check_cost(cost)
        async with self._lock:
            waited = False
            while True:
                delay = self.delay_for(cost)
                if delay <= 0:
                    self._tokens = max(0.0, self._tokens - cost)
                    break
                waited = True
                await self.clock.sleep(delay)
            if waited:
                self.waits += 1

    def penalize(self, seconds: float) -> None:
        """Empty the bucket and hold it empty for ``seconds`` (the venue said to slow down)."""
        self._refill()
        self._tokens = 0.0
        self._blocked_until_ns = max(self._blocked_until_ns, self.clock.now_ns() + int(seconds * 1e9))

    def _check_cost(self, cost: float) -> None:
        if cost <= 0 or cost > self.burst:
            raise ValueError(f"cost {cost} must be positive and at most the burst ({self.burst:g})")


class Backoff:
    """Delays ``base_s * factor**n`` capped at ``max_s``, each shrunk by up to ``jitter`` at random.

    With the default jitter of one half a delay below the cap is never shorter than the one
    before, so the delays grow while reconnecting clients still spread out.
    """

    def __init__(
        self,
        base_s: float = 0.5,
        max_s: float = 30.0,
        *,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self.base_s, self.max_s, self.factor, self.jitter = base_s, max_s, factor, jitter
        self.rng = rng or random.Random()
        self.attempts = 0

    def next_delay(self) -> float:
        raw = min(self.max_s, self.base_s * self.factor**self.attempts)
        self.attempts += 1
        return raw * (1 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempts = 0
