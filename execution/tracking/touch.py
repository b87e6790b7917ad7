"""Reading the top of book for one chase: where its child should be, and whether to move it.

The touch is read with every chase's own orders taken out (``own_levels``), so chases never
leapfrog themselves or each other, and a child alone at the best price is left where it is.
When no book event came for ``stale_after_ms`` (a silent or dropped stream) the touch is asked
of the venue instead.  Nothing here knows the chase: it is given the parameters and prices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from execution.tracking.rules import (
    Clamp,
    Quote,
    beyond,
    ceil_tick,
    desired_price,
    floor_tick,
    should_hold,
    touch_excluding,
)

if TYPE_CHECKING:
    from connector.interface import IConnector
    from execution.market import MarketDataService
    from execution.orders import Order
    from execution.tracking.params import ChaseParams

log = logging.getLogger(__name__)

Top = tuple[int | None, int | None]
"""``(bid_i, ask_i)``; either may be missing."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at the touch: the price the child should have, and the mid seen on the way."""

    quote: Quote | None
    """``None`` when the book gives no reference."""
    mid_i: int | None
    """Mid of the raw top (ours included); ``None`` unless both sides are there."""


@dataclass(frozen=True, slots=True)
class Stale:
    """The book has been silent for ``stale_after_ms`` or more."""

    age_ms: int | None
    """How long it has been silent; ``None`` when it never spoke."""
    ask_venue: bool
    """Time to ask the venue again; otherwise ``Touch.fallback`` (its last answer) stands."""


def own_levels(children: Iterable[Order]) -> dict[int, int]:
    """Price -> remaining size of our live orders on one market and side (ours to skip)."""
    own: dict[int, int] = {}
    for c in children:
        own[c.price_i] = own.get(c.price_i, 0) + c.remaining_i
    return own


def breaks_limit(params: ChaseParams, price_i: int) -> bool:
    """The price is beyond the (possibly just moved) limit: no back-off may delay fixing that."""
    return params.limit_price_i is not None and beyond(params.is_ask, price_i, params.limit_price_i)


def cross_price(params: ChaseParams, top: Top, tick_i: int) -> int | None:
    """An aggressive limit ``cross_ticks`` through the other side, never past the limit."""
    far = top[0] if params.is_ask else top[1]
    limit = params.limit_price_i
    if limit is not None:  # onto the tick grid, on the trader's side of it
        limit = ceil_tick(limit, tick_i) if params.is_ask else floor_tick(limit, tick_i)
    if far is None:
        return limit
    price = far - params.cross_ticks * tick_i if params.is_ask else far + params.cross_ticks * tick_i
    if limit is not None and beyond(params.is_ask, price, limit):
        return limit
    return price


class Touch:
    """The top of book as one chase sees it; keeps the stale fallback and whether it sits at the limit."""

    def __init__(self, market_data: MarketDataService, connector: IConnector | None) -> None:
        self.market_data = market_data
        self.connector = connector
        self.fallback: Top | None = None
        """The touch the venue last gave when the book was stale."""
        self.at_limit = False
        """The touch is beyond the limit and the child sits at it."""
        self._asked_ms: int | None = None

    def stale(self, params: ChaseParams, now: int) -> Stale | None:
        """``None`` while the book is fresh."""
        age = self.market_data.age_ms(params.venue, params.symbol)
        if age is not None and age <= params.stale_after_ms:
            return None
        due = self._asked_ms is None or now - self._asked_ms >= params.stale_after_ms
        return Stale(age, ask_venue=due)

    async def ask_venue(self, params: ChaseParams, now: int) -> Top | None:
        """Top of book straight from the venue; ``None`` (kept as ``fallback``) if it cannot say."""
        self._asked_ms = now
        self.fallback = None
        if self.connector is not None:
            symbol = self.market_data.venue_symbol(params.venue, params.symbol)
            try:
                bid, ask, _ = await self.connector.get_top_of_book(symbol)
            except Exception as exc:
                log.info("%s: top of book for %s unavailable: %s", params.venue, params.symbol, exc)
            else:
                self.fallback = (bid, ask)
        return self.fallback

    def read(
        self,
        params: ChaseParams,
        own: dict[int, int],
        start_price_i: int | None,
        top: Top | None = None,
        trail_i: int | None = None,
    ) -> Reading:
        """Where the child should rest: from the book without ``own``, or from a bare ``top``.

        ``trail_i``: with ``params.trail``, the best price the child has had (it never goes back).
        """
        market = self.market_data.market(params.venue, params.symbol)
        if top is not None:
            # a bare top of book cannot tell our orders from others': take it as it is
            own = {}
            bids = [(top[0], 1)] if top[0] is not None else []
            asks = [(top[1], 1)] if top[1] is not None else []
        else:
            book = self.market_data.book(params.venue, params.symbol)
            bids = book.bids(5)
            asks = book.asks(5)
        if params.is_ask:
            ask = touch_excluding(asks, own)
            bid = bids[0][0] if bids else None
        else:
            bid = touch_excluding(bids, own)
            ask = asks[0][0] if asks else None
        quote = desired_price(
            is_ask=params.is_ask,
            bid_i=bid,
            ask_i=ask,
            tick_i=market.tick_i,
            offset_ticks=params.offset_ticks,
            post_only=params.post_only,
            limit_price_i=params.limit_price_i,
            start_price_i=start_price_i,
            max_chase_ticks=params.max_chase_ticks,
            aggressive=params.aggressive,
            trail_bound_i=trail_i if params.trail else None,
        )
        mid = (bids[0][0] + asks[0][0]) // 2 if bids and asks else None
        return Reading(quote, mid)

    def note(self, quote: Quote) -> bool:
        """Record whether ``quote`` sits at the limit; True when it has just come to (news)."""
        clamped = quote.clamp is Clamp.LIMIT
        news = clamped and not self.at_limit
        self.at_limit = clamped
        return news

    def hold(
        self, params: ChaseParams, child_price_i: int, quote: Quote, own: dict[int, int], start_price_i: int | None
    ) -> bool:
        """Keep the child where it is (see ``rules.should_hold``)?"""
        md = self.market_data
        book = md.book(params.venue, params.symbol)
        levels = book.asks(1) if params.is_ask else book.bids(1)
        if not levels or beyond(params.is_ask, child_price_i, levels[0][0]):
            alone = True  # the book has not caught up with our child yet: it is the best price
        else:
            alone = levels[0][0] == child_price_i and levels[0][1] <= own.get(child_price_i, 0)
        bound = None
        if params.max_chase_ticks is not None and start_price_i is not None:
            step = params.max_chase_ticks * md.market(params.venue, params.symbol).tick_i
            bound = start_price_i - step if params.is_ask else start_price_i + step
        return should_hold(
            is_ask=params.is_ask,
            child_price_i=child_price_i,
            quote=quote,
            alone_at_best=alone,
            limit_price_i=params.limit_price_i,
            max_bound_i=bound,
            follow=params.aggressive or params.trail,
        )
