"""What a chase says about itself: its states, why it ended, and its events.

Kept apart from the state machine (``execution.tracking.chase``) so the console, the journal and the
algos can read a chase's vocabulary without the machinery.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ChaseState(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    DONE = "DONE"


class EndReason(enum.StrEnum):
    FILLED = "filled"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    LIMIT_REACHED = "limit_reached"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ChaseEvent:
    """One line of a chase's story, for the console panel and the journal."""

    ts_ms: int
    kind: str
    """What happened: started, placed, repriced, filled, paused, limit_reached, child_rejected, ended, …"""
    message: str
    data: dict[str, Any] = field(default_factory=dict, compare=False)
