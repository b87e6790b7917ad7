"""A chase's child orders: at most one live at a time, and the fills they bring.

A new child is placed only when every earlier child is final (the chase asks only when
``current`` is None), so there is never more than one live child.  A re-price amends in place
or cancels; a cancel is "done" only when the venue confirms it or the order ends, and a child
whose fate is unclear (lost response, cancel refused) is asked about at the venue before
anything else happens.  Fills are taken into the ``FillLedger`` de-duplicated, so the remainder
is always ``target - fills``.

Each action returns what happened (a small result); the chase turns that into its events and
its state, so this module never calls back into it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connector.errors import InsufficientMargin, VenueError
from connector.interface import OrderStatus
from execution.tracking.rules import floor_tick

if TYPE_CHECKING:
    from connector.clock import Clock
    from connector.interface import Fill, MarketInfo
    from execution.orders import Order, OrderService
    from execution.tracking.budget import ActionBudget
    from execution.tracking.params import ChaseParams
    from execution.tracking.rules import FillLedger

log = logging.getLogger(__name__)

RESOLVE_AFTER_MS = 1_000
"""A child in an unclear state (lost response, cancel not yet confirmed) is asked about at
the venue after this long without news."""
_MAX_REJECTS = 8
"""Consecutive child rejections before the parent gives up (post-only crosses in a fast
market are normal and retried)."""
_RETRY_BASE_MS = 100
_RETRY_MAX_MS = 2_000
_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_UNCLEAR = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.CANCELLING, OrderStatus.NEW)


@dataclass(frozen=True, slots=True)
class Placed:
    order: Order
    size_i: int
    replaced: tuple[int, str] | None = None
    """``(old price, why)`` when this child replaces one cancelled to re-price it."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The venue refused the child (a post-only cross, most often); retry after ``retry_at_ms``."""

    order: Order
    give_up: bool
    """Too many in a row: the chase should end."""


@dataclass(frozen=True, slots=True)
class Refused:
    """Refused before sending (risk, or an order the venue cannot express)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Dust:
    """The remainder is below what the venue accepts: nothing was sent."""

    remainder_i: int
    min_size_i: int


Placement = Placed | Rejected | Refused | Dust


@dataclass(frozen=True, slots=True)
class Amended:
    old_i: int
    new_i: int
    why: str


@dataclass(frozen=True, slots=True)
class AmendFailed:
    """Refused or unanswered; the order service has asked the venue already."""

    old_i: int
    new_i: int
    error: str


@dataclass(frozen=True, slots=True)
class Replacing:
    """The cancel is sent; the new child goes out once the old one is final (``Placed.replaced``)."""

    old_i: int


Repricing = Amended | AmendFailed | Replacing


@dataclass(frozen=True, slots=True)
class Resolution:
    next_ms: int
    """When to look at the child again."""
    resting: bool
    """The venue says it rests: the caller pulls it (``cancel``) or chases it again (``trust``)."""
    attention: bool = False
    """Its status query kept failing (the order is UNKNOWN): an operator should look."""


class Children:
    """The child orders of one chase, in the order they were placed."""

    def __init__(
        self,
        orders: OrderService,
        clock: Clock,
        budget: ActionBudget,
        ledger: FillLedger,
        parent_id: str,
        existing: Iterable[Order] = (),
    ) -> None:
        self.orders = orders
        self.clock = clock
        self.budget = budget
        self.ledger = ledger
        self.parent_id = parent_id
        self.all: list[Order] = list(existing)
        self.retry_at_ms: int | None = None
        """After a rejection or a failed amend: no new attempt before this."""
        self._rejects = 0
        self._amend_failures = 0
        self._cancel_sent: dict[int, int] = {}
        self._unclear_since: dict[int, int] = {}
        self._pending_reprice: tuple[int, str] | None = None
        self._fill_counts: dict[int, int] = {}
        self._settled: set[int] = set()
        """Final and fully read: skipped by the routine ``sync`` (a late update still comes through ``sync([o])``)."""

    @property
    def live(self) -> list[Order]:
        return [c for c in self.all if not c.is_final]

    @property
    def current(self) -> Order | None:
        """The child that may still rest or fill, if any."""
        live = self.live
        return live[-1] if live else None

    @property
    def replacing(self) -> bool:
        """A re-price waits on the current child's cancel."""
        return self._pending_reprice is not None

    def unclear(self, child: Order) -> bool:
        """In flight, or a cancel we sent is not confirmed yet: ask before acting on it."""
        coi = child.client_order_index
        return child.state in _UNCLEAR or coi in self._cancel_sent or coi in self._unclear_since

    def suspect_live(self, now: int) -> None:
        """After a restart: ask the venue about each live child at the next look."""
        for child in self.live:
            self._unclear_since[child.client_order_index] = now - RESOLVE_AFTER_MS

    def trust(self, child: Order) -> None:
        """The venue says it rests untouched: it is ours to chase again."""
        self._unclear_since.pop(child.client_order_index, None)

    # -- actions -----------------------------------------------------------------------

    async def place(self, params: ChaseParams, market: MarketInfo, price_i: int, *, cross: bool = False) -> Placement:
        """A child for the whole remainder at ``price_i`` (not post-only when ``cross``)."""
        size = floor_tick(self.ledger.remainder_i, market.step_i or 1)
        if size < max(market.min_size_i, 1):
            return Dust(self.ledger.remainder_i, market.min_size_i)
        self.budget.try_take()
        try:
            order = await self.orders.submit_limit(
                params.venue,
                params.symbol,
                is_ask=params.is_ask,
                size_i=size,
                price_i=price_i,
                post_only=params.post_only and not cross,
                reduce_only=params.reduce_only,
                parent_id=self.parent_id,
                allow_disconnected=True,  # the chase was allowed at its start
            )
        except ValueError as exc:
            return Refused(str(exc))
        self.all.append(order)
        if order.state is OrderStatus.REJECTED:
            self._rejects += 1
            # back off: a post-only cross usually means our book is a step behind the venue's
            backoff = min(_RETRY_MAX_MS, _RETRY_BASE_MS << (self._rejects - 1))
            self.retry_at_ms = self.clock.now_ms() + max(backoff, params.min_reprice_interval_ms)
            # more margin will not appear by waiting: a venue's insufficient-margin refusal is final
            final = isinstance(order.refusal, InsufficientMargin)
            return Rejected(order, give_up=final or (self._rejects >= _MAX_REJECTS and not cross))
        self._rejects = 0
        self.retry_at_ms = None
        replaced, self._pending_reprice = self._pending_reprice, None
        return Placed(order, size, replaced)

    async def place_market(self, params: ChaseParams, size_i: int) -> Placed | Refused:
        try:
            order = await self.orders.submit_market(
                params.venue,
                params.symbol,
                is_ask=params.is_ask,
                size_i=size_i,
                reduce_only=params.reduce_only,
                parent_id=self.parent_id,
                allow_disconnected=True,  # the chase was allowed at its start
            )
        except ValueError as exc:
            return Refused(str(exc))
        self.all.append(order)
        return Placed(order, size_i)

    async def reprice(self, child: Order, price_i: int, *, amend: bool, why: str) -> Repricing:
        """Amend in place when ``amend``, else cancel now and place the replacement once it is final."""
        now = self.clock.now_ms()
        old = child.price_i
        if amend:
            self.budget.try_take()
            try:
                await self.orders.amend(child, price_i=price_i)
            except NotImplementedError:
                pass  # the venue cannot amend after all: cancel and replace below
            except (VenueError, ValueError, TimeoutError) as exc:
                # a filled or vanished child is final now, an unanswered one UNKNOWN (resolved
                # before anything else); a refused amend leaves it resting, and the next try
                # waits a little longer
                self._amend_failures += 1
                backoff = min(_RETRY_MAX_MS, _RETRY_BASE_MS << min(self._amend_failures - 1, 8))
                self.retry_at_ms = now + backoff
                return AmendFailed(old, price_i, str(exc))
            else:
                self._amend_failures = 0
                return Amended(old, price_i, why)
        self._pending_reprice = (old, why)
        await self.cancel(child)
        return Replacing(old)

    async def cancel(self, child: Order) -> None:
        """Send a cancel, at most once a ``RESOLVE_AFTER_MS``; the child stays unclear until it is final."""
        coi = child.client_order_index
        now = self.clock.now_ms()
        if coi in self._cancel_sent and now - self._cancel_sent[coi] < RESOLVE_AFTER_MS:
            return
        self._cancel_sent[coi] = now
        self._unclear_since.setdefault(coi, now)
        self.budget.try_take()
        try:
            await self.orders.cancel(child)
        except (VenueError, TimeoutError) as exc:
            # most often: it filled while the cancel was in flight; resolve() finds out
            log.info("chase %s: cancel of child %s refused: %s", self.parent_id, coi, exc)

    async def cancel_resting(self) -> None:
        for child in self.live:
            if child.state in _RESTING:
                await self.cancel(child)

    async def resolve(self, child: Order, now: int) -> Resolution:
        """Wait for news on an unclear child; after a while without any, ask the venue."""
        coi = child.client_order_index
        since = self._unclear_since.setdefault(coi, now)
        if now - since < RESOLVE_AFTER_MS:
            attention = self.orders.lookup_failures(child) >= self.orders.lookup_attempts
            return Resolution(since + RESOLVE_AFTER_MS, resting=False, attention=attention)
        self._unclear_since[coi] = now
        await self.refresh(child, settled=True)
        resting = not child.is_final and child.state in _RESTING
        if resting:
            self._cancel_sent.pop(coi, None)
        failures = self.orders.lookup_failures(child)
        wait_ms = RESOLVE_AFTER_MS * 2 ** min(failures, 5)  # back off while the venue will not say
        if failures:
            self._unclear_since[coi] = now + wait_ms - RESOLVE_AFTER_MS
        return Resolution(now + wait_ms, resting, attention=failures >= self.orders.lookup_attempts)

    async def refresh(self, child: Order, *, settled: bool = False) -> None:
        """Ask the venue about one child; the order service applies the answer.

        ``settled``: our cancel has had time to act, so a venue that still lists the order
        as resting is believed (CANCELLING goes back to OPEN and the cancel is sent again).
        """
        try:
            await self.orders.refresh(child, why="tracking limit: child state unclear", authoritative=settled)
        except Exception as exc:
            log.info("could not refresh order %s: %s", child.client_order_index, exc)

    # -- fills -------------------------------------------------------------------------

    def sync(self, orders: Iterable[Order] | None = None) -> list[Fill]:
        """Take new fills into the ledger, from ``orders`` or every child not yet settled; returns them."""
        if orders is None:
            orders = [c for c in self.all if c.client_order_index not in self._settled]
        new: list[Fill] = []
        for child in orders:
            coi = child.client_order_index
            fills = child.fills
            seen = self._fill_counts.get(coi, 0)
            new.extend(f for f in (fills[seen:] if len(fills) >= seen else fills) if self.ledger.add_fill(f))
            self._fill_counts[coi] = len(fills)
            self.ledger.report(coi, child.filled_i, child.price_i)
            if child.is_final:
                self._settled.add(coi)
        return new
