"""Waiting on the runtime's clock (real or virtual): until an event, or until a deadline."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.clock import Clock


async def wait_on_clock(clock: Clock, event: asyncio.Event, timeout_s: float) -> None:
    """Until ``event`` is set or ``timeout_s`` has passed on ``clock``."""
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(timeout_s))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        sleeper.cancel()


def earliest(*deadlines: int | None) -> int | None:
    """The soonest of the deadlines given (``None`` ones ignored); ``None`` when there is none."""
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None
