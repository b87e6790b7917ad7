"""Per-key transaction nonces for venues that sequence signed transactions (Lighter).

The venue accepts a key's transactions only with nonces in strict ``+1`` order, so a
send holds its key's lock from signing until the venue has answered: requests on one
key leave in nonce order and two concurrent sends can never reuse or skip a nonce.
After each answer the next nonce is decided by what the answer means:

* accepted -> ``nonce + 1``;
* refused before sequencing (bad request, rate limit) -> the nonce was not consumed;
* ``invalid nonce`` -> someone else moved the key on: fetch the venue's next nonce and
  retry once with it;
* no answer (timeout, dropped link, cancelled) -> unknown: fetch before the next send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from connector.errors import OrderRejected

T = TypeVar("T")


class InvalidNonce(OrderRejected):
    """The venue says the nonce is not the one it expects (the transaction was not applied)."""


class NonceNotConsumed(Exception):
    """Wraps a refusal the venue gave before sequencing; ``cause`` is re-raised to the caller."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class NonceManager:
    """One lock and one counter per API key; the counter is fetched from the venue lazily."""

    def __init__(self, fetch: Callable[[int], Awaitable[int]], *, retries_on_invalid: int = 1) -> None:
        self._fetch = fetch
        self._next: dict[int, int | None] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.retries_on_invalid = retries_on_invalid
        self.refetches = 0

    def lock(self, key: int) -> asyncio.Lock:
        if key not in self._locks:
            self._locks[key] = asyncio.Lock()
        return self._locks[key]

    def peek(self, key: int) -> int | None:
        """The nonce the next send on ``key`` will use, if known."""
        return self._next.get(key)

    def invalidate(self, key: int) -> None:
        self._next[key] = None

    async def _current(self, key: int) -> int:
        nonce = self._next.get(key)
        if nonce is None:
            nonce = await self._fetch(key)
            self.refetches += 1
            self._next[key] = nonce
        return nonce

    async def send(self, key: int, attempt: Callable[[int], Awaitable[T]]) -> T:
        """Run ``attempt(nonce)`` under the key's lock and advance the nonce by its outcome."""
        async with self.lock(key):
            tries = 0
            while True:
                nonce = await self._current(key)
                try:
                    result = await attempt(nonce)
                except InvalidNonce:
                    self._next[key] = None
                    if tries < self.retries_on_invalid:
                        tries += 1
                        continue
                    raise
                except NonceNotConsumed as exc:
                    raise exc.cause from None
                except BaseException:
                    self._next[key] = None
                    raise
                self._next[key] = nonce + 1
                return result
