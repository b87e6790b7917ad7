"""The tracking limit (the chase): one implementation that the console, scripts, triggers and algos drive.

Code outside this package imports from here, never from a module inside it.
"""

from execution.tracking.chase import ChaseHost, TrackingLimit
from execution.tracking.manager import ParentJournal, TrackingLimitManager
from execution.tracking.model import ChaseEvent, ChaseState, EndReason
from execution.tracking.params import AmendPolicy, ChaseParams, EndAction, OnRestart
from execution.tracking.report import ExecutionReport, build_report
from execution.tracking.rules import FillLedger

__all__ = [
    "AmendPolicy",
    "ChaseEvent",
    "ChaseHost",
    "ChaseParams",
    "ChaseState",
    "EndAction",
    "EndReason",
    "ExecutionReport",
    "FillLedger",
    "OnRestart",
    "ParentJournal",
    "TrackingLimit",
    "TrackingLimitManager",
    "build_report",
]
