"""A per-venue budget of order actions (place, amend, cancel) per second.

Venues throttle order traffic per account; a chase that re-prices on every tick
would burn that allowance and then be refused exactly when the market moves.  The
bucket runs on the injectable clock so tests drive it in virtual time, and counts
in milli-tokens so no float ever enters the arithmetic.
"""

from __future__ import annotations

from connector.clock import Clock

_MILLI = 1000


class ActionBudget:
    """Token bucket: ``rate_per_s`` actions a second on average, bursts of up to ``burst``."""

    def __init__(self, clock: Clock, *, rate_per_s: int = 10, burst: int | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
        self._clock = clock
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else rate_per_s
        if self.burst <= 0:
            raise ValueError(f"burst must be positive, got {self.burst}")
        self._milli = self.burst * _MILLI
        self._last_ms = clock.now_ms()
        self.taken = 0
        self.refused = 0

    def _refill(self) -> None:
        now = self._clock.now_ms()
        elapsed = now - self._last_ms
        if elapsed > 0:
            # rate tokens per 1000 ms == rate milli-tokens per ms
            self._milli = min(self.burst * _MILLI, self._milli + elapsed * self.rate_per_s)
            self._last_ms = now

    @property
    def available(self) -> int:
        self._refill()
        return self._milli // _MILLI

    def try_take(self) -> bool:
        """Spend one action if the budget allows it now."""
        self._refill()
        if self._milli >= _MILLI:
            self._milli -= _MILLI
            self.taken += 1
            return True
        self.refused += 1
        return False

    def wait_ms(self) -> int:
        """Milliseconds until one action is affordable (0 when it is now)."""
        self._refill()
        missing = _MILLI - self._milli
        if missing <= 0:
            return 0
        return -(-missing // self.rate_per_s)
