"""Client order indices: unique per venue, never reused after a restart.

Each venue's counter starts above both the journal's high-water mark and a wall-clock
base, and stays in ``1 .. 2**48 - 1`` (Lighter's range).
"""

from __future__ import annotations

from connector.clock import Clock
from execution.orders.ports import HighWaterMarks

MAX_CLIENT_ORDER_INDEX = 2**48 - 1
"""Lighter accepts client order indices up to 2**48 - 1; every venue accepts at least that range."""

OBSERVE_WINDOW = 10**9
"""How far ahead of our counter an index seen at the venue may lie and still be stepped over."""


class ClientOrderIndexAllocator:
    """Per-venue monotonic counter seeded above the journal's high-water mark and a ms-clock base."""

    def __init__(self, clock: Clock, journal: HighWaterMarks | None = None) -> None:
        self._clock = clock
        self._journal = journal
        self._next: dict[str, int] = {}

    def _seed(self, venue: str) -> int:
        nxt = self._next.get(venue)
        if nxt is None:
            high = self._journal.highwater(venue) if self._journal is not None else 0
            # A ms timestamp leaves room for ~2**48 - now_ms more indices and keeps two
            # journal-less runs apart; the journal's mark keeps a fast restart apart.
            nxt = max(high + 1, self._clock.now_ms() % MAX_CLIENT_ORDER_INDEX, 1)
            self._next[venue] = nxt
        return nxt

    def allocate(self, venue: str) -> int:
        nxt = self._seed(venue)
        if nxt > MAX_CLIENT_ORDER_INDEX:
            raise RuntimeError(f"{venue}: client order indices exhausted (limit 2**48 - 1)")
        self._next[venue] = nxt + 1
        if self._journal is not None:
            self._journal.set_highwater(venue, nxt)
        return nxt

    def observe(self, venue: str, index: int) -> None:
        """Step over an index seen at the venue (an adopted order) when it lies just ahead of ours.

        Indices far ahead (another client's scheme) cannot collide for a billion orders;
        following them could run the counter towards the 2**48 ceiling.
        """
        nxt = self._seed(venue)
        if nxt <= index < nxt + OBSERVE_WINDOW:
            self._next[venue] = index + 1
            if self._journal is not None:
                self._journal.set_highwater(venue, index)
