"""What the orders package needs from its neighbours, as small Protocols.

Typing against these instead of ``execution.journal``, ``execution.market`` or
``execution.risk`` keeps the arrows one way: the journal depends on the order model, never
the reverse, and a test can hand in any object with the right methods.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from connector.interface import Fill
from execution.orders.model import Order, Transition


class HighWaterMarks(Protocol):
    """The highest client order index handed out per venue, kept across restarts."""

    def highwater(self, venue: str) -> int: ...

    def set_highwater(self, venue: str, index: int) -> None: ...


@runtime_checkable
class OrderJournal(HighWaterMarks, Protocol):
    """Exactly the journal methods the orders package calls (``execution.journal.Journal`` has them)."""

    def save_order(self, order: Order) -> None: ...

    def record_transition(self, order: Order, t: Transition) -> None: ...

    def record_fill(self, order: Order, fill: Fill) -> None: ...


class SymbolMap(Protocol):
    """Canonical <-> venue symbols (``execution.MarketDataService``); either way raises for an unknown one."""

    def venue_symbol(self, venue: str, symbol: str) -> str: ...

    def canonical(self, venue: str, venue_symbol: str) -> str: ...


class PreTradeCheck(Protocol):
    """Refuses an order by raising (``execution.risk.RiskManager``) before anything is sent."""

    def check(self, venue: str, symbol: str, *, is_ask: bool, size_i: int, price_i: int, reduce_only: bool) -> None: ...
