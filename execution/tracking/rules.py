"""The pure rules of the tracking limit: where the child goes and how much is left.

Kept apart from the asyncio state machine in ``execution.tracking.chase`` so every rule
(touch + offset, post-only, tick grid, max chase, the trader's limit, de-duplicated
fills) is tested directly and exhaustively, without a venue.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connector.interface import Fill


class Clamp(enum.StrEnum):
    """What held the child price back from where the touch and offset put it."""

    NONE = ""
    LIMIT = "limit"
    MAX_CHASE = "max_chase"
    TRAIL = "trail"
    """A one-way trail: the child never moves back from the best price it has had."""


@dataclass(frozen=True, slots=True)
class Quote:
    price_i: int
    clamp: Clamp = Clamp.NONE


def floor_tick(price_i: int, tick_i: int) -> int:
    return price_i - price_i % tick_i


def ceil_tick(price_i: int, tick_i: int) -> int:
    return -floor_tick(-price_i, tick_i)


def touch_excluding(levels: Iterable[tuple[int, int]], own: Mapping[int, int]) -> int | None:
    """Best price on one side once our own orders are taken out of it.

    ``levels`` are best-first ``(price_i, size_i)``; ``own`` maps price to the size we rest
    there (the chase's child, other chases, manual orders).  A level that is no more than
    ours is ours alone and is skipped: chasing our own orders would only leapfrog them.
    """
    for price, size in levels:
        if size <= own.get(price, 0):
            continue
        return price
    return None


def desired_price(
    *,
    is_ask: bool,
    bid_i: int | None,
    ask_i: int | None,
    tick_i: int,
    offset_ticks: int = 0,
    post_only: bool = True,
    limit_price_i: int | None = None,
    start_price_i: int | None = None,
    max_chase_ticks: int | None = None,
    aggressive: bool = False,
    trail_bound_i: int | None = None,
) -> Quote | None:
    """Where the child should rest, or ``None`` when the book gives no reference.

    ``bid_i``/``ask_i`` are the touch *excluding our own child*.  Offset 0 joins the
    best price on our side, positive sits behind it, negative improves into the spread
    but (post-only) never reaches the other side.  ``aggressive`` takes the other side as
    the reference instead: one tick inside it (offset counts from there).  The result sits on
    the tick grid, never further than ``max_chase_ticks`` from ``start_price_i``, never more
    aggressive than ``trail_bound_i`` (a one-way trail: the best price the child has had)
    and never beyond ``limit_price_i``; when one holds it back, ``clamp`` says which.
    """
    if tick_i <= 0:
        raise ValueError(f"tick_i must be positive, got {tick_i}")
    own, other = (ask_i, bid_i) if is_ask else (bid_i, ask_i)
    sign = 1 if is_ask else -1  # direction of "less aggressive" for our side
    if other is not None and (aggressive or own is None):
        # aggressive, or an empty side: one tick off the other side is the best passive price there is
        price = other + sign * (1 + offset_ticks) * tick_i
    elif own is not None:
        price = own + sign * offset_ticks * tick_i
    else:
        return None
    if post_only and other is not None:
        price = max(price, other + tick_i) if is_ask else min(price, other - tick_i)
    price = ceil_tick(price, tick_i) if is_ask else floor_tick(price, tick_i)
    clamp = Clamp.NONE
    if max_chase_ticks is not None and start_price_i is not None:
        bound = start_price_i - max_chase_ticks * tick_i if is_ask else start_price_i + max_chase_ticks * tick_i
        if beyond(is_ask, price, bound):
            price, clamp = bound, Clamp.MAX_CHASE
    if trail_bound_i is not None and beyond(is_ask, price, trail_bound_i):
        price, clamp = trail_bound_i, Clamp.TRAIL
    if limit_price_i is not None:
        bound = ceil_tick(limit_price_i, tick_i) if is_ask else floor_tick(limit_price_i, tick_i)
        if beyond(is_ask, price, bound):
            price, clamp = bound, Clamp.LIMIT
    if price <= 0:
        return None
    return Quote(price, clamp)


def beyond(is_ask: bool, price_i: int, bound_i: int) -> bool:
    """True when ``price_i`` is more aggressive than ``bound_i`` for our side."""
    return price_i < bound_i if is_ask else price_i > bound_i


def should_hold(
    *,
    is_ask: bool,
    child_price_i: int,
    quote: Quote,
    alone_at_best: bool,
    limit_price_i: int | None,
    max_bound_i: int | None,
    follow: bool = False,
) -> bool:
    """Keep the child where it is?

    Yes when it already sits at the wanted price, or when it is alone at the best price on
    its side: nobody is ahead of it, so moving (either way) would only pay an action and,
    upwards, pay more or, downwards, lose queue priority.  The exception is a child whose
    price now breaks the limit or the chase bound (the trader moved the limit): that is
    always repaired.  ``follow`` (aggressive, or a one-way trail) moves even a child alone
    at the best price: those follow their reference wherever the rules allow.
    """
    if quote.price_i == child_price_i:
        return True
    if limit_price_i is not None and beyond(is_ask, child_price_i, limit_price_i):
        return False
    if max_bound_i is not None and beyond(is_ask, child_price_i, max_bound_i):
        return False
    return alone_at_best and not follow


def favourable(is_ask: bool, a_i: int | None, b_i: int) -> int:
    """The better price for our side (a sell's higher, a buy's lower); ``a_i`` may be missing."""
    if a_i is None:
        return b_i
    return max(a_i, b_i) if is_ask else min(a_i, b_i)


def ppm_of(price_i: int, ppm: int) -> int:
    """``ppm`` parts per million of ``price_i``, rounded down (10_000 ppm = 1 %)."""
    return price_i * ppm // 1_000_000


def chase_to_price(is_ask: bool, arrival_i: int, ppm: int) -> int:
    """The price ``ppm`` of the arrival price away in the adverse direction (a buy's higher)."""
    distance = ppm_of(arrival_i, ppm)
    return arrival_i - distance if is_ask else arrival_i + distance


class FillLedger:
    """Fills of every child, de-duplicated by trade id; the remainder comes from here.

    A child's own ``filled_i`` may run ahead of the fills we have seen (a snapshot after a
    reconnect reports fills whose events were lost); the ledger takes the larger of the
    two per child so the remainder never double counts and never under counts.  Totals are
    kept incrementally: a long chase with many children costs the same per update.
    """

    __slots__ = ("_contrib", "_keys", "_notional", "_price", "_reported", "_seen", "filled_i", "target_i")

    def __init__(self, target_i: int) -> None:
        self.target_i = target_i
        self._keys: set[tuple[int, str]] = set()
        self._seen: dict[int, tuple[int, int]] = {}
        """client_order_index -> (size, notional) of the fills seen"""
        self._reported: dict[int, int] = {}
        """client_order_index -> filled_i as the order reports it (only grows)"""
        self._price: dict[int, int] = {}
        self._contrib: dict[int, tuple[int, int]] = {}
        self.filled_i = 0
        self._notional = 0

    def _update(self, coi: int) -> None:
        size, notional = self._seen.get(coi, (0, 0))
        reported = self._reported.get(coi, 0)
        extra = max(0, reported - size)
        new = (size + extra, notional + extra * self._price.get(coi, 0))
        old = self._contrib.get(coi, (0, 0))
        self._contrib[coi] = new
        self.filled_i += new[0] - old[0]
        self._notional += new[1] - old[1]

    def add_fill(self, fill: Fill) -> bool:
        """Record one fill; returns False for a duplicate."""
        key = (fill.client_order_index, fill.trade_id)
        if key in self._keys:
            return False
        self._keys.add(key)
        size, notional = self._seen.get(fill.client_order_index, (0, 0))
        self._seen[fill.client_order_index] = (size + fill.size_i, notional + fill.size_i * fill.price_i)
        self._update(fill.client_order_index)
        return True

    def add_fills(self, fills: Iterable[Fill]) -> list[Fill]:
        return [f for f in fills if self.add_fill(f)]

    def report(self, client_order_index: int, filled_i: int, price_i: int) -> None:
        """The order's own cumulative fill count (only grows); unseen fills count at ``price_i``."""
        if filled_i <= self._reported.get(client_order_index, 0) and client_order_index in self._price:
            return
        self._reported[client_order_index] = max(filled_i, self._reported.get(client_order_index, 0))
        self._price[client_order_index] = price_i
        self._update(client_order_index)

    @property
    def notional(self) -> int:
        """Sum of size × price; fills known only from a report count at the child's price."""
        return self._notional

    @property
    def avg_price_i(self) -> int | None:
        filled = self.filled_i
        if filled <= 0:
            return None
        return (2 * self._notional + filled) // (2 * filled)  # rounded half up

    @property
    def remainder_i(self) -> int:
        return max(0, self.target_i - self.filled_i)

    @property
    def overfill_i(self) -> int:
        return max(0, self.filled_i - self.target_i)


def slippage_i(is_ask: bool, avg_price_i: int | None, arrival_mid_i: int | None) -> int | None:
    """Price given up against the mid at arrival; positive means worse for us."""
    if avg_price_i is None or arrival_mid_i is None:
        return None
    return arrival_mid_i - avg_price_i if is_ask else avg_price_i - arrival_mid_i


def slippage_ppm(slip_i: int | None, arrival_mid_i: int | None) -> int | None:
    """Slippage in parts per million of the arrival mid (100 ppm = 1 bp)."""
    if slip_i is None or not arrival_mid_i:
        return None
    return (slip_i * 1_000_000) // arrival_mid_i if slip_i >= 0 else -((-slip_i * 1_000_000) // arrival_mid_i)
