"""The tracking harness's sim desk (virtual time) plus the working-order manager on top of it."""

from __future__ import annotations

from typing import Any

from connector.clock import VirtualClock
from connector.interface import OrderStatus
from execution.algos import AlgoManager
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk

__all__ = ["SYMBOL", "VENUE_SYMBOL", "AlgoDesk", "algo_desk"]

_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class AlgoDesk(Desk):
    def __init__(self, clock: VirtualClock, **kw: Any) -> None:
        kw.setdefault("quiet", True)
        super().__init__(clock, **kw)
        self.algos = AlgoManager(self.tracking, journal=self.journal, on_restart=kw.get("on_restart", "resume"))

    def resting_at_venue(self, parent_ids: set[str]) -> list[int]:
        """Client order indices the venue itself lists as resting for these parents."""
        return [coi for coi in self.watch.resting if self.watch.parent_of(coi) in parent_ids]

    async def stop(self) -> None:
        await self.algos.stop()
        await super().stop()


async def algo_desk(clock: VirtualClock, **kw: Any) -> AlgoDesk:
    desk = AlgoDesk(clock, **kw)
    await desk.start()
    return desk
