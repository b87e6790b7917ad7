"""Ended triggers leave memory: the manager keeps the most recently ended ``MAX_ENDED_TRIGGERS``.

Every stop, take-profit and bracket side ever placed stayed in ``runtime.triggers`` with its order
(issue 18); older ended ones are forgotten here with their closed orders, and stay in the journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from execution.ended import EndedKept

if TYPE_CHECKING:
    from execution.orders import OrderService
    from execution.triggers.model import Trigger

MAX_ENDED_TRIGGERS = 100
"""Ended triggers kept in memory, the most recently ended (the Triggers tab lists the last 50); one whose
order still rests after its end stays however old."""


class ForgetEnded:
    """The part of ``TriggerManager`` that forgets the oldest ended triggers."""

    orders: OrderService
    triggers: dict[str, Trigger]
    _by_market: dict[tuple[str, str], list[Trigger]]
    _native_refs: dict[tuple[str, int], Trigger]
    _recheck: dict[str, str]

    def _ended_kept(self) -> EndedKept:
        return EndedKept(MAX_ENDED_TRIGGERS, stays=self._must_stay, forget=self._forget)

    def _must_stay(self, trigger_id: str) -> bool:
        t = self.triggers.get(trigger_id)
        return t is not None and (not t.is_done or (t.child is not None and not t.child.is_final))

    def _forget(self, trigger_id: str) -> None:
        t = self.triggers.pop(trigger_id, None)
        if t is None:
            return
        market = self._by_market.get((t.venue, t.symbol), [])
        if t in market:
            market.remove(t)
        if t.venue_ref is not None and self._native_refs.get((t.venue, t.venue_ref)) is t:
            del self._native_refs[(t.venue, t.venue_ref)]
        self._recheck.pop(trigger_id, None)
        self.orders.store.forget_children(trigger_id)
