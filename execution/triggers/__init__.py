"""Protective orders (stops, take-profits, brackets, trailing stops): ``runtime.triggers``.

Code outside this package imports from here, never from a module inside it.
"""

from execution.triggers.engine import TriggerManager
from execution.triggers.model import Trigger, TriggerKind, TriggerOn, TriggerParams, TriggerState

__all__ = ["Trigger", "TriggerKind", "TriggerManager", "TriggerOn", "TriggerParams", "TriggerState"]
