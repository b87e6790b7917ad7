"""What every venue's ``funding.py`` shares: the rate as an exact int, a fixed schedule, a slow poller.

Each venue parses its own payloads (``connector/<venue>/funding.py``) into ``FundingSnapshot``;
this module only holds the arithmetic and the loop that venues without a funding stream poll with.
A poll runs as one of the connector's ``spawn``-ed tasks, so it ends when the connector stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.clock import Clock
from connector.interface import FUNDING_RATE_DECIMALS, FundingSnapshot

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
POLL_INTERVAL_S = 15.0
"""How often a venue without a funding stream is asked: funding moves slowly, the venue's limits matter more."""


def rate_e8(value: Any, *, percent: bool = False) -> int:
    """A venue's funding rate (decimal string or number; ``percent``: given in %) in 1e-8 units,
    rounded to the nearest unit, halves away from zero."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a funding rate") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a funding rate")
    scaled = d.scaleb(FUNDING_RATE_DECIMALS - (2 if percent else 0))
    return int(scaled.to_integral_value(ROUND_HALF_UP))


def price_i(value: Any, decimals: int) -> int:
    """A venue's mark price (it may carry more digits than the tick) scaled to ``decimals``, halves away from zero."""
    return int(Decimal(str(value)).scaleb(decimals).to_integral_value(ROUND_HALF_UP))


def next_boundary(now_ms: int, interval_ms: int) -> int:
    """The next settlement of a schedule that runs every ``interval_ms`` from the epoch (on the hour, ...)."""
    return (now_ms // interval_ms + 1) * interval_ms


Fetch = Callable[[], Awaitable[list[FundingSnapshot]]]


async def poll_funding(
    fetch: Fetch, emit: Callable[[str, Any], None], clock: Clock, *, venue: str, interval_s: float = POLL_INTERVAL_S
) -> None:
    """``fetch`` now and every ``interval_s`` on ``clock``, emitting each snapshot as a ``"funding"`` event.

    A failed poll is logged and the next one tries again; cancelling the task (the connector's
    ``stop``) ends the loop."""
    failures = 0
    while True:
        try:
            for snap in await fetch():
                emit("funding", snap)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            level = logging.WARNING if failures == 1 else logging.DEBUG
            log.log(level, "%s: funding poll failed (%s); trying again in %.0f s", venue, exc, interval_s)
        await clock.sleep(interval_s)
