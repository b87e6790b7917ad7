"""The tracking limit (the chase): one implementation that the console, scripts, triggers and algos drive.

Code outside this package imports from here, never from a module inside it.
"""

from execution.tracking.chase import (
    ChaseEvent,
    ChaseParams,
    ChaseState,
    EndAction,
    EndReason,
    TrackingLimit,
    TrackingLimitManager,
)

__all__ = [
    "ChaseEvent",
    "ChaseParams",
    "ChaseState",
    "EndAction",
    "EndReason",
    "TrackingLimit",
    "TrackingLimitManager",
]
