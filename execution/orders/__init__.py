"""Orders: the model and its state table, client-order-index allocation, the registry,
merging venue updates, and the order service.

Code outside this package imports from here, never from a module inside it (the journal,
which the package must not depend on, takes the model from ``execution.orders.model``).
"""

from execution.orders.allocator import MAX_CLIENT_ORDER_INDEX, ClientOrderIndexAllocator
from execution.orders.model import (
    ALLOWED,
    FINAL,
    RANK,
    REVERTS_ON_RECONCILE,
    AmendNotSupported,
    Order,
    Transition,
    VenueDisconnected,
    order_name,
)
from execution.orders.ports import HighWaterMarks, OrderJournal, PreTradeCheck, SymbolMap
from execution.orders.service import OrderService
from execution.orders.store import OrderStore

__all__ = [
    "ALLOWED",
    "FINAL",
    "MAX_CLIENT_ORDER_INDEX",
    "RANK",
    "REVERTS_ON_RECONCILE",
    "AmendNotSupported",
    "ClientOrderIndexAllocator",
    "HighWaterMarks",
    "Order",
    "OrderJournal",
    "OrderService",
    "OrderStore",
    "PreTradeCheck",
    "SymbolMap",
    "Transition",
    "VenueDisconnected",
    "order_name",
]
