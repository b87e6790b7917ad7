"""The per-key nonce manager: strict +1 under concurrency, and what each kind of answer does to it."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import OrderRejected, VenueError
from connector.lighter.nonces import InvalidNonce, NonceManager, NonceNotConsumed


class Venue:
    """Accepts a key's nonces only in strict +1 order; answers after a random number of loop turns."""

    def __init__(self, start: int = 10, seed: int = 1) -> None:
        self.expected = {4: start, 5: start}
        self.accepted: dict[int, list[int]] = {4: [], 5: []}
        self.fetches = 0
        self.rng = random.Random(seed)

    async def fetch(self, key: int) -> int:
        self.fetches += 1
        await asyncio.sleep(0)
        return self.expected[key]

    async def send(self, key: int, nonce: int) -> int:
        for _ in range(self.rng.randrange(4)):
            await asyncio.sleep(0)
        if nonce != self.expected[key]:
            raise InvalidNonce("invalid nonce")
        self.expected[key] += 1
        self.accepted[key].append(nonce)
        return nonce


async def test_concurrent_sends_on_one_key_use_each_nonce_once_in_order():
    venue = Venue()
    nm = NonceManager(venue.fetch)
    results = await asyncio.gather(*(nm.send(4, lambda n: venue.send(4, n)) for _ in range(60)))
    assert sorted(results) == list(range(10, 70))
    assert venue.accepted[4] == list(range(10, 70))
    assert venue.fetches == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([4, 5]), min_size=1, max_size=40), st.integers(0, 1000))
def test_interleaved_keys_keep_independent_strict_sequences(keys, seed):
    async def run():
        venue = Venue(seed=seed)
        nm = NonceManager(venue.fetch)
        await asyncio.gather(*(nm.send(k, lambda n, k=k: venue.send(k, n)) for k in keys))
        for key in (4, 5):
            count = keys.count(key)
            assert venue.accepted[key] == list(range(10, 10 + count))

    asyncio.run(run())


async def test_invalid_nonce_refetches_from_the_venue_and_retries_once():
    venue = Venue(start=10)
    nm = NonceManager(venue.fetch)
    await nm.send(4, lambda n: venue.send(4, n))
    venue.expected[4] = 50  # another process used the key
    assert await nm.send(4, lambda n: venue.send(4, n)) == 50
    assert nm.peek(4) == 51
    assert venue.fetches == 2


async def test_invalid_nonce_twice_gives_up_with_the_error():
    async def always_invalid(_n: int) -> int:
        raise InvalidNonce("invalid nonce")

    venue = Venue()
    nm = NonceManager(venue.fetch)
    with pytest.raises(InvalidNonce):
        await nm.send(4, always_invalid)
    assert nm.peek(4) is None


async def test_refusal_before_sequencing_keeps_the_nonce():
    venue = Venue()
    nm = NonceManager(venue.fetch)

    async def refused(_n: int) -> int:
        raise NonceNotConsumed(OrderRejected("bad price"))

    with pytest.raises(OrderRejected, match="bad price"):
        await nm.send(4, refused)
    assert nm.peek(4) == 10
    assert await nm.send(4, lambda n: venue.send(4, n)) == 10


async def test_lost_answer_makes_the_next_send_refetch():
    venue = Venue()
    nm = NonceManager(venue.fetch)

    async def lost(n: int) -> int:
        await venue.send(4, n)  # applied at the venue, answer lost
        raise VenueError("timeout")

    with pytest.raises(VenueError):
        await nm.send(4, lost)
    assert nm.peek(4) is None
    assert await nm.send(4, lambda n: venue.send(4, n)) == 11
    assert venue.fetches == 2
