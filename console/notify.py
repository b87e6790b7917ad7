"""Notifications that cannot flood the screen: a few per window per kind, then one summary.

A burst of fills (a sweep through twenty of our levels) becomes three toasts and "17 more
fills", not twenty toasts covering the book.  Runs on the injected clock so tests are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from connector.clock import Clock

Emit = Callable[[str, str], None]


@dataclass(slots=True)
class _Kind:
    window_start_ms: int = 0
    shown: int = 0
    suppressed: int = 0
    severity: str = "information"
    queue: list[tuple[str, str]] = field(default_factory=list)


class Throttle:
    def __init__(self, clock: Clock, *, limit: int = 3, window_ms: int = 2_000) -> None:
        self.clock = clock
        self.limit = limit
        self.window_ms = window_ms
        self._kinds: dict[str, _Kind] = {}

    def add(self, kind: str, message: str, severity: str = "information") -> None:
        self._kinds.setdefault(kind, _Kind()).queue.append((message, severity))

    def flush(self, emit: Emit) -> None:
        """Emit what the window allows; summarise the rest once its window has passed."""
        now = self.clock.now_ms()
        for kind, k in self._kinds.items():
            if now - k.window_start_ms >= self.window_ms:
                if k.suppressed:
                    emit(f"{k.suppressed} more {kind} notification(s)", k.severity)
                k.window_start_ms, k.shown, k.suppressed = now, 0, 0
            for message, severity in k.queue:
                if k.shown < self.limit:
                    k.shown += 1
                    emit(message, severity)
                else:
                    k.suppressed += 1
                    k.severity = severity
            k.queue.clear()
