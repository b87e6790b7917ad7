"""Working orders built on the one tracking limit: scale (a ladder of limits) and TWAP (slices over time).

``runtime.algos`` is an ``AlgoManager``.  Code outside this package imports from here.
"""

from execution.algos.base import AlgoState, WorkingOrder
from execution.algos.manager import AlgoManager
from execution.algos.plan import Distribution, child_problem, scale_prices, scale_sizes, slice_due, twap_schedule
from execution.algos.scale import ScaleOrder, ScaleParams
from execution.algos.twap import TwapOrder, TwapParams

__all__ = [
    "AlgoManager",
    "AlgoState",
    "Distribution",
    "ScaleOrder",
    "ScaleParams",
    "TwapOrder",
    "TwapParams",
    "WorkingOrder",
    "child_problem",
    "scale_prices",
    "scale_sizes",
    "slice_due",
    "twap_schedule",
]
