"""The pure arithmetic of the working orders: a scale's ladder, a TWAP's schedule, a child's venue rules.

No asyncio and no venue here, so every rule is tested directly (and with hypothesis): prices on
the tick grid between the two ends, sizes on the step grid summing exactly to the target, slice
start times that stay in order whatever the jitter.
"""

from __future__ import annotations

import enum
import random

from connector.interface import QUOTE_DECIMALS, MarketInfo
from connector.scaling import rescale

PPM = 1_000_000
MAX_JITTER_PPM = 499_999
"""Below half an interval, so jittered slices never swap places."""


class Distribution(enum.StrEnum):
    """How a scale's size spreads over its prices, from the first end to the second."""

    FLAT = "flat"
    INCREASING = "increasing"
    DECREASING = "decreasing"


def _floor(value: int, step: int) -> int:
    return value - value % step


def _ceil(value: int, step: int) -> int:
    return -_floor(-value, step)


def scale_prices(from_price_i: int, to_price_i: int, count: int, tick_i: int) -> list[int]:
    """``count`` distinct prices on the tick grid from one end to the other (both ends included).

    Ends off the grid are moved inward onto it; the inner prices are spaced as evenly as the grid
    allows (rounded half up to the nearest tick).  ``ValueError`` when the range cannot hold them.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if tick_i <= 0:
        raise ValueError(f"tick must be positive, got {tick_i}")
    if min(from_price_i, to_price_i) <= 0:
        raise ValueError("prices must be positive")
    lo, hi = sorted((from_price_i, to_price_i))
    lo_g, hi_g = _ceil(lo, tick_i), _floor(hi, tick_i)
    if hi_g < lo_g:
        raise ValueError(f"no price on the tick grid ({tick_i}) between {lo} and {hi}")
    room = (hi_g - lo_g) // tick_i + 1
    if count > room:
        raise ValueError(f"the range holds only {room} prices on the tick grid; ask for at most {room} orders")
    start, sign = (lo_g, 1) if from_price_i <= to_price_i else (hi_g, -1)
    if count == 1:
        return [start]
    span = room - 1
    gaps = count - 1
    return [start + sign * ((2 * span * k + gaps) // (2 * gaps)) * tick_i for k in range(count)]


def scale_sizes(total_i: int, count: int, step_i: int, distribution: str | Distribution = "flat") -> list[int]:
    """``count`` sizes on the step grid that sum exactly to ``total_i``.

    Each level gets its weighted share rounded down to the step; the steps left over (fewer than
    ``count``) go one each to the levels the distribution favours (flat: the first; increasing:
    the last; decreasing: the first), so nothing is lost, nothing exceeded and the shape holds.
    """
    dist = Distribution(distribution)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if step_i <= 0 or total_i <= 0:
        raise ValueError("size and step must be positive")
    if total_i % step_i:
        raise ValueError(f"size {total_i} is not on the size step {step_i}")
    units = total_i // step_i
    if dist is Distribution.FLAT:
        weights = [1] * count
    elif dist is Distribution.INCREASING:
        weights = list(range(1, count + 1))
    else:
        weights = list(range(count, 0, -1))
    whole = sum(weights)
    shares = [units * w // whole for w in weights]
    left = units - sum(shares)
    favoured = range(count - left, count) if dist is Distribution.INCREASING else range(left)
    for k in favoured:
        shares[k] += 1
    return [s * step_i for s in shares]


def child_problem(market: MarketInfo, price_i: int, size_i: int) -> str | None:
    """Why the venue would refuse this child (tick, step, minimum size or notional), or None."""
    if price_i <= 0 or price_i % market.tick_i:
        return f"price {price_i} is not on the tick grid ({market.tick_i})"
    if size_i <= 0:
        return "nothing to place"
    if size_i % (market.step_i or 1):
        return f"size {size_i} is not on the size step ({market.step_i})"
    if size_i < market.min_size_i:
        return f"size {size_i} is below the minimum {market.min_size_i}"
    if market.min_notional_q:
        notional = rescale(size_i * price_i, market.price_decimals + market.size_decimals, QUOTE_DECIMALS)
        if notional < market.min_notional_q:
            return f"notional {notional} is below the minimum {market.min_notional_q} (quote units)"
    return None


def jitter_ppm(jitter: float | int) -> int:
    """A jitter fraction of the slice interval (0.1 = ±10 %) as ppm; ``ValueError`` outside [0, 0.5)."""
    if isinstance(jitter, bool):
        raise ValueError("jitter must be a number")
    ppm = round(jitter * PPM)
    if not 0 <= ppm <= MAX_JITTER_PPM:
        raise ValueError(f"jitter must be at least 0 and below 0.5 of the interval, got {jitter}")
    return ppm


def twap_schedule(duration_ms: int, slices: int, jitter_ppm: int, seed: int) -> list[int]:
    """Each slice's start, in ms from the TWAP's start: evenly spaced, each but the first moved by
    up to ±``jitter_ppm`` of the interval (a seeded draw, so a restart rebuilds the same schedule).
    Strictly increasing and inside ``[0, duration_ms)``."""
    if slices < 1:
        raise ValueError(f"slices must be at least 1, got {slices}")
    if duration_ms < slices:
        raise ValueError(f"a duration of {duration_ms} ms cannot hold {slices} slices")
    if not 0 <= jitter_ppm <= MAX_JITTER_PPM:
        raise ValueError(f"jitter must be below half the interval, got {jitter_ppm} ppm")
    interval = duration_ms // slices
    spread = interval * jitter_ppm // PPM
    rng = random.Random(seed)
    starts = [0]
    for k in range(1, slices):
        starts.append(k * interval + (rng.randint(-spread, spread) if spread else 0))
    return starts


def slice_due(planned: list[int], k: int, filled_i: int, step_i: int) -> int:
    """What slice ``k`` should buy or sell: the schedule's total up to and including it less what has
    filled, on the step grid (an unfilled remainder rolls into the next slice; never negative)."""
    due = sum(planned[: k + 1]) - filled_i
    return max(0, _floor(due, step_i or 1))
