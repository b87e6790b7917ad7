"""The headless core: market data, orders, positions, risk, tracking limit, runtime.

Names are exported lazily so ``import execution`` stays cheap; add new exports to
``_EXPORTS`` (name -> module).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "L2Book": "execution.market",
    "MarketDataService": "execution.market",
    "Order": "execution.orders",
    "OrderService": "execution.orders",
    "Journal": "execution.journal",
    "JournalError": "execution.journal",
    "KillReport": "execution.kill_switch",
    "Reconciler": "execution.reconciler",
    "ReconcileRecord": "execution.reconciler",
    "PositionService": "execution.position_service",
    "RiskLimits": "execution.risk",
    "RiskManager": "execution.risk",
    "RiskRejected": "execution.risk",
    "TradingState": "execution.risk",
    "Runtime": "execution.runtime",
    "RuntimeSettings": "execution.config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'execution' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
