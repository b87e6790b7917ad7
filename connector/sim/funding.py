"""The sim venue's funding: a deterministic rate per market and hour, settled on the hour.

No funding is charged to the sim account; the snapshots exist so the console, scripts and tests
see what a real venue publishes.  The rate is a fixed function of the market and the hour (so a
run replays), between -0.0050 % and +0.0075 % per hour; the mark is the engine's mark.
"""

from __future__ import annotations

import zlib

from connector.funding import HOUR_MS, next_boundary
from connector.interface import FundingSnapshot
from connector.sim.engine import SimEngine

BASE_RATE_E8 = 1_250
"""0.00125 % an hour: the baseline (interest-only) hourly rate of the hourly venues."""
STEP_E8 = 250


def sim_rate_e8(symbol: str, now_ms: int) -> int:
    """The rate for the hour that contains ``now_ms``: the baseline plus a per-market, per-hour step."""
    hour = now_ms // HOUR_MS
    return BASE_RATE_E8 + ((zlib.crc32(symbol.encode()) + 7 * hour) % 11 - 5) * STEP_E8


def sim_funding(engine: SimEngine, symbols: list[str], now_ms: int) -> list[FundingSnapshot]:
    return [
        FundingSnapshot(s, sim_rate_e8(s, now_ms), HOUR_MS, next_boundary(now_ms, HOUR_MS), engine.mark_i(s), now_ms)
        for s in symbols
        if s in engine.markets
    ]
