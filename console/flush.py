"""When the main screen paints: at a fixed rate, and at once when the book moves after a quiet spell.

A fixed-rate flush makes every tick wait for the next beat (up to a whole period at 25 Hz) before
the ladder even hears of it.  ``Flusher`` is a leading-edge throttle on top of that beat: a change
that arrives when the last flush is at least a frame (1/60 s) old is flushed at once (on the
screen's queue, as the next thing it does); one that arrives sooner is flushed at the end of that
frame, once, however many more arrive meanwhile.  The fixed beat stays for what is painted on time
rather than on change (the account, the chases, notices); it skips a beat that follows a flush by
less than a frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.message_pump import MessagePump
    from textual.timer import Timer

FRAME_S = 1 / 60


class Flusher:
    """Calls ``flush`` on ``node``'s queue at ``hz`` and, between beats, soon after each ``poke``."""

    leading_edge = True
    """False: the fixed beat only (how the console painted before; the bench's baseline)."""

    def __init__(
        self,
        node: MessagePump,
        flush: Callable[[], object],
        *,
        hz: float,
        frame_s: float | None = None,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.node, self.flush = node, flush
        self.frame_s = FRAME_S if frame_s is None else frame_s
        self.now = now
        self.flushes = 0
        self._last = float("-inf")
        self._queued = False
        self._timer: Timer | None = None
        self.beat = node.set_interval(1 / hz, self._beat)

    def poke(self) -> None:
        """Something the screen shows changed: flush now, or at the end of this frame."""
        if not self.leading_edge or self._queued or self._timer is not None:
            return
        wait = self._last + self.frame_s - self.now()
        if wait <= 0:
            self._queued = True
            self.node.call_next(self._run)
        else:
            self._timer = self.node.set_timer(wait, self._run, name="flush")

    def _beat(self) -> None:
        if not self.leading_edge or self.now() - self._last >= self.frame_s:
            self._run()

    def _run(self) -> None:
        self._queued = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._last = self.now()
        self.flushes += 1
        self.flush()
