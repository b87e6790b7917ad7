"""How the Positions tab writes funding, the time to the next settlement and the distance to liquidation.

Plain Python from scaled ints (no float, no screen), so the exact text is tested directly.
"""

from __future__ import annotations

from connector.interface import FUNDING_RATE_DECIMALS

_PCT_UNIT = 10 ** (FUNDING_RATE_DECIMALS - 2 - 4)
"""One 0.0001 % in rate units: the rate is written as a percentage with four decimals."""


def _div_half_away(num: int, den: int) -> int:
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def interval_text(interval_ms: int) -> str:
    """``1h``, ``8h``, ``30m``: how often the venue settles."""
    minutes = interval_ms // 60_000
    return f"{minutes // 60}h" if minutes and minutes % 60 == 0 else f"{minutes}m"


def funding_rate_text(rate_e8: int, interval_ms: int) -> str:
    """``+0.0100%/8h``: the rate per the venue's own interval, signed (positive: longs pay)."""
    units = _div_half_away(rate_e8, _PCT_UNIT)
    sign = "-" if units < 0 else "+"
    return f"{sign}{abs(units) // 10_000}.{abs(units) % 10_000:04d}%/{interval_text(interval_ms)}"


def countdown_text(ms: int | None) -> str:
    """``mm:ss`` to the next settlement (``h:mm:ss`` from an hour), ``-`` when unknown."""
    if ms is None:
        return "-"
    s = max(0, ms) // 1000
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"


def liq_distance_text(ppm: int | None) -> str:
    """``-12.5%``: the move from the mark to the liquidation price, signed; ``-`` when unknown."""
    if ppm is None:
        return "-"
    tenths = _div_half_away(ppm, 1_000)
    sign = "-" if ppm < 0 else "+"  # a long just above its liquidation reads -0.0%, never +0.0%
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}%"
