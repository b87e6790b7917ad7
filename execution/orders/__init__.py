"""Orders: the model and its state table, client-order-index allocation, and the order service.

Code outside this package imports from here, never from a module inside it.
"""

from execution.orders.service import (
    ALLOWED,
    FINAL,
    MAX_CLIENT_ORDER_INDEX,
    RANK,
    AmendNotSupported,
    ClientOrderIndexAllocator,
    Order,
    OrderService,
    Transition,
)

__all__ = [
    "ALLOWED",
    "FINAL",
    "MAX_CLIENT_ORDER_INDEX",
    "RANK",
    "AmendNotSupported",
    "ClientOrderIndexAllocator",
    "Order",
    "OrderService",
    "Transition",
]
