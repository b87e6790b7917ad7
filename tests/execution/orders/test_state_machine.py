"""Randomized: whatever order, duplication or staleness the venue's updates arrive in,
an order never moves backwards, ``filled_i`` never shrinks, no fill counts twice, final
states stay final, and once every update has arrived the order matches the venue — and the journal holds the same."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.errors import VenueError
from connector.interface import Fill, OrderSnapshot, OrderStatus
from execution.journal import Journal
from execution.orders import ALLOWED, FINAL, RANK, OrderService
from tests.execution.orders.test_service import ScriptedVenue

S = OrderStatus
SIZE = 12


def test_the_transition_table_only_moves_forward_outside_unknown():
    for src, targets in ALLOWED.items():
        for dst in targets:
            if S.UNKNOWN in (src, dst):
                continue
            assert RANK[dst] > RANK[src], (src, dst)
    for final in FINAL:
        assert ALLOWED[final] == frozenset()


@st.composite
def venue_histories(draw):
    """What really happened at the venue: fills, then maybe an ending.  Consistent by construction."""
    sizes = draw(st.lists(st.integers(1, 5), max_size=5))
    fills, total = [], 0
    for s in sizes:
        s = min(s, SIZE - total)
        if s <= 0:
            break
        total += s
        fills.append(s)
    if total == SIZE:
        ending = S.FILLED
    else:
        ending = draw(st.sampled_from([None, S.CANCELLED, S.EXPIRED]))
    return fills, ending


def _events(coi: int, fills: list[int], ending):
    """Every event the venue would have emitted, in true order."""
    out: list[OrderSnapshot | Fill] = [OrderSnapshot("BTC", coi, "1", False, 1000, SIZE, 0, S.OPEN)]
    filled = 0
    for n, s in enumerate(fills):
        filled += s
        out.append(Fill("BTC", coi, "1", f"t{n}", False, 1000 + n, s, 1, True, n))
        status = S.FILLED if filled == SIZE else S.PARTIALLY_FILLED
        out.append(OrderSnapshot("BTC", coi, "1", False, 1000, SIZE, filled, status))
    if ending in (S.CANCELLED, S.EXPIRED):
        out.append(OrderSnapshot("BTC", coi, "1", False, 1000, SIZE, filled, ending))
    return out, filled


@settings(max_examples=150, deadline=None)
@given(
    history=venue_histories(),
    data=st.data(),
)
def test_random_update_sequences_never_move_an_order_backwards(history, data):
    fills, ending = history

    async def run():
        venue = ScriptedVenue()
        venue.script("get_order", *[VenueError("busy")] * 10)
        journal = Journal(":memory:")
        svc = OrderService({"fake": venue}, None, clock=VirtualClock(), journal=journal)
        order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=SIZE, price_i=1000)
        events, venue_filled = _events(order.client_order_index, fills, ending)
        order_ = list(data.draw(st.permutations(range(len(events))), label="order"))
        dups = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=6), label="dups")
        for d in dups:
            order_.insert(data.draw(st.integers(0, len(order_)), label="at"), d)
        cancel_at = data.draw(st.one_of(st.none(), st.integers(0, len(order_))), label="cancel_at")

        prev_rank, prev_filled, was_final = RANK[order.state], order.filled_i, None
        for step, idx in enumerate([*order_, None]):
            if step == cancel_at:
                await svc.cancel(order)
            if idx is not None:
                svc.ingest_update("fake", events[idx])
            assert RANK[order.state] >= prev_rank, order.history
            assert order.filled_i >= prev_filled
            ids = [f.trade_id for f in order.fills]
            assert len(ids) == len(set(ids))
            assert sum(f.size_i for f in order.fills) <= order.filled_i <= SIZE
            if was_final is not None:
                assert order.state == was_final
            elif order.is_final:
                was_final = order.state
            prev_rank, prev_filled = RANK[order.state], order.filled_i

        assert order.filled_i == venue_filled
        assert len(order.fills) == len(fills)
        if ending is not None:
            assert order.state == ending
        elif cancel_at is not None:
            assert order.state == S.CANCELLING
        else:
            assert order.state == (S.PARTIALLY_FILLED if venue_filled else S.OPEN)

        (stored,) = journal.load_orders()
        assert (stored.state, stored.filled_i, stored.history, stored.fills) == (
            order.state,
            order.filled_i,
            order.history,
            order.fills,
        )

    asyncio.run(run())


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.one_of(st.just("allocate"), st.just("restart"), st.integers(-5_000, 5_000)), max_size=40))
def test_client_order_indices_stay_unique_and_increasing_across_restarts_and_clock_jumps(steps):
    from execution.orders import MAX_CLIENT_ORDER_INDEX, ClientOrderIndexAllocator

    class Clock:
        now = 1_700_000_000_000

        def now_ms(self):
            return self.now

    clock, journal = Clock(), Journal(":memory:")
    alloc = ClientOrderIndexAllocator(clock, journal)
    seen: list[int] = []
    for step in steps:
        if step == "allocate":
            seen.append(alloc.allocate("sim"))
        elif step == "restart":
            alloc = ClientOrderIndexAllocator(clock, journal)
        else:
            clock.now += step  # wall clocks jump, both ways
    assert seen == sorted(set(seen))
    assert all(1 <= i <= MAX_CLIENT_ORDER_INDEX for i in seen)
