"""What a venue's answer to a request (submit, cancel, cancel-all, amend) means for its orders.

Every command waits on the venue the same way, so a refusal and a missing answer are
settled in one place: a refused request leaves the order as the venue has it, with the
reason; a request whose answer never came (timeout, lost response) leaves the order
``UNKNOWN``, and the reconciler asks the venue and resolves it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from connector.errors import AuthError, InvalidOrder, OrderRejected, RateLimited, UnknownOrder, VenueError
from connector.interface import OrderStatus
from execution.orders.model import Order
from execution.orders.store import OrderStore

S = OrderStatus
T = TypeVar("T")

REFUSED = (OrderRejected, InvalidOrder, RateLimited, AuthError)
"""Errors that mean the venue did not act on the request (as opposed to 'no answer')."""


class Outcome(enum.Enum):
    ANSWERED = "answered"
    REFUSED = "refused"  # the venue did not act on the request
    NOT_OPEN = "not open"  # the venue has no such order open
    NO_ANSWER = "no answer"  # timeout, lost response: what the venue did is not known


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    outcome: Outcome
    value: T | None = None
    error: Exception | None = None


async def await_answer(
    store: OrderStore,
    what: str,
    orders: Sequence[Order],
    request: Awaitable[T],
    timeout_s: float,
    *,
    names_order: bool = False,
) -> Answer[T]:
    """Await one venue request made for ``orders`` and settle what a failure means for them.

    Whatever the answer, none of them stays marked in flight.  Refused: a submission was
    never placed and is REJECTED; a cancel or amend is noted on the order with the venue's
    reason.  No answer: each order becomes UNKNOWN.  ``UnknownOrder`` for a request that
    ``names_order`` is returned as NOT_OPEN, for the caller to ask the venue what became of
    the order.  Any other exception (cancellation included) propagates with the orders
    still marked in flight.
    """
    try:
        # awaited in this task, not wrapped in one of its own (3.11's wait_for): the request starts now,
        # not a loop turn later behind whatever else is ready (issue 18, key → request)
        async with asyncio.timeout(timeout_s):
            value = await request
    except REFUSED as exc:
        for o in orders:
            o.request_inflight = ""
            if what == "submit":
                o.refusal = exc
                store.move(o, S.REJECTED, str(exc) or type(exc).__name__)
            else:
                store.note(o, f"{what} refused: {exc}")
        return Answer(Outcome.REFUSED, error=exc)
    except (VenueError, TimeoutError, OSError) as exc:
        for o in orders:
            o.request_inflight = ""
        if names_order and isinstance(exc, UnknownOrder):
            return Answer(Outcome.NOT_OPEN, error=exc)
        for o in orders:
            store.move(o, S.UNKNOWN, f"no answer to {what}: {exc or type(exc).__name__}")
        return Answer(Outcome.NO_ANSWER, error=exc)
    for o in orders:
        o.request_inflight = ""
    return Answer(Outcome.ANSWERED, value)
