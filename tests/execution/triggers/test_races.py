"""Races issue 16 names: a fire during an outage, two protective orders at once, a partly filled entry,
a manual close while a stop fires, and nothing left resting once the position is flat."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.clock import VirtualClock
from connector.interface import Fill
from execution.triggers import TriggerState
from tests.execution.triggers.harness import SIZE, SYMBOL, VENUE_SYMBOL, TriggerDesk

DONE, CANCELLED, ARMED = TriggerState.DONE, TriggerState.CANCELLED, TriggerState.ARMED


@pytest.mark.parametrize("mode", ["emulated"])
async def test_emulated_after_an_outage_it_fires_only_if_still_past_and_says_so(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    stays = await desk.triggers.place("sim", SYMBOL, kind="take_profit_market", is_ask=True, trigger_price_i=mid + 100)
    fires = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    desk.sim.disconnect(None)
    await desk.move(mid + 150)  # through the take-profit and back, unseen
    await desk.move(mid - 150)  # through the stop, and it stays there
    assert stays.state is ARMED and fires.state is ARMED  # nothing seen, nothing fired
    desk.sim.reconnect()
    assert await desk.until(lambda: fires.is_done)
    assert fires.state is DONE and fires.end_reason == "filled"
    assert any("after the reconnect" in e and "still past" in e for e in fires.events)
    assert any("after the reconnect" in line for line in desk.triggers.log)
    assert await desk.until(lambda: stays.is_done)  # the position is closed: the take-profit goes too
    assert stays.state is CANCELLED and desk.venue_position() == 0


@pytest.mark.parametrize("mode", ["emulated"])
async def test_emulated_after_an_outage_a_price_that_came_back_does_not_fire(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    desk.sim.disconnect(None)
    await desk.move(mid - 150)
    await desk.move(mid)
    desk.sim.reconnect()
    await desk.settle(1.0)
    assert t.state is ARMED and desk.venue_position() == SIZE
    assert any("after the reconnect" in e and "not past" in e for e in t.events)


@pytest.mark.parametrize("mode", ["native"])
async def test_native_the_venue_fires_during_an_outage_and_we_reconcile_on_reconnect(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    b = await desk.triggers.bracket("sim", SYMBOL, stop_price_i=mid - 100, take_profit_price_i=mid + 100)
    desk.sim.disconnect(None)
    await desk.move(mid - 150)
    assert desk.venue_position() == 0 and b.stop.state is ARMED  # fired at the venue, unheard
    desk.sim.reconnect()
    assert await desk.until(lambda: b.is_done)
    assert b.stop.state is DONE and b.stop.end_reason == "filled"
    assert b.take_profit.state is CANCELLED and desk.sim.triggers.snapshots() == []


async def test_two_stops_at_once_never_close_more_than_the_position(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    a = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    b = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 90)
    await desk.move(mid - 300)  # both in the same tick
    assert await desk.until(lambda: a.is_done and b.is_done)
    assert desk.venue_position() == 0 and desk.position() == 0
    reasons = sorted(t.end_reason for t in (a, b))
    assert reasons.count("filled") == 1, reasons
    assert sum(t.filled_i for t in (a, b)) == SIZE


async def test_an_entry_filling_partly_with_its_bracket_attached(desk):
    mid = desk.mid()
    bid, _ask = desk.runtime.market_data.top_of_book("sim", SYMBOL)
    entry = await desk.runtime.orders.submit_limit("sim", SYMBOL, is_ask=False, size_i=3 * SIZE, price_i=bid)
    b = await desk.triggers.bracket("sim", SYMBOL, stop_price_i=mid - 100, take_profit_price_i=mid + 100, is_ask=True)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=bid, size_i=SIZE)  # a third of the entry fills
    await desk.settle()
    assert entry.filled_i == SIZE and desk.position() == SIZE and not b.is_done
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=bid, size_i=SIZE)  # and another third
    await desk.settle()
    assert desk.position() == 2 * SIZE
    await desk.runtime.orders.cancel(entry)
    await desk.move(mid - 150)
    assert await desk.until(lambda: b.is_done)
    assert b.stop.state is DONE and b.stop.filled_i == 2 * SIZE  # followed the position as it grew
    assert desk.venue_position() == 0 and b.take_profit.state is CANCELLED


@pytest.mark.parametrize("mode", ["emulated"])
async def test_a_manual_close_racing_a_firing_stop_never_flips_the_position(clock, tmp_path, mode):
    desk = await TriggerDesk(clock, tmp_path, latency_ms=40).start()
    try:
        await desk.open(SIZE)
        mid = desk.mid()
        t = await desk.drive(
            desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
        )
        desk.engine.set_mid(VENUE_SYMBOL, mid - 150)
        fired = await desk.until(lambda: t.state is not ARMED)
        assert fired and t.state is TriggerState.TRIGGERED  # its order is on the way ...
        manual = asyncio.ensure_future(
            desk.runtime.orders.submit_market("sim", SYMBOL, is_ask=True, size_i=SIZE, reduce_only=True)
        )  # ... and the trader closes by hand at the same time
        assert await desk.until(lambda: manual.done() and t.is_done)
        assert desk.venue_position() == 0
        fills = [f for f in desk.runtime.orders.orders for f in f.fills]
        assert sum(f.size_i for f in fills if f.is_ask) == SIZE  # one of the two closed it; the other was refused
    finally:
        await desk.stop()


def _never_flips(desk: TriggerDesk, log: list[int]) -> None:
    def watch(event):
        if isinstance(event, Fill):
            log.append(desk.engine.account.positions[VENUE_SYMBOL].size_i)

    desk.engine.subscribe(watch, [])


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    moves=st.lists(st.integers(min_value=-300, max_value=300), min_size=1, max_size=8),
    extra_stop=st.booleans(),
    native=st.booleans(),
)
def test_whatever_the_path_nothing_is_left_after_flat_and_nothing_flips(tmp_path_factory, moves, extra_stop, native):
    async def scenario() -> None:
        clock = VirtualClock()
        desk = await TriggerDesk(clock, tmp_path_factory.mktemp("j"), emulate=not native).start()
        sizes: list[int] = []
        _never_flips(desk, sizes)
        try:
            await desk.open(SIZE)
            mid = desk.mid()
            await desk.triggers.bracket("sim", SYMBOL, stop_price_i=mid - 100, take_profit_price_i=mid + 100)
            if extra_stop:
                await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 50)
            for m in moves:
                await desk.move(mid + m)
            await desk.settle(1.0)
            assert all(s >= 0 for s in sizes), sizes
            assert desk.venue_position() in (0, SIZE)
            if desk.venue_position() == 0:
                assert desk.triggers.active() == [] and desk.sim.triggers.snapshots() == []
                assert desk.runtime.orders.open_orders() == []
        finally:
            await desk.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["emulated", "native"])
async def test_a_snapshot_that_briefly_says_flat_does_not_strip_the_position_of_its_stop(desk):
    from connector.interface import Position

    await desk.open(SIZE)
    mid = desk.mid()
    stop = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    now = desk.clock.now_ms() + 1
    desk.runtime.positions.ingest("sim", Position(VENUE_SYMBOL, 0, 0, mid, 0, ts_ms=now))  # stale, says flat
    desk.runtime.positions.ingest("sim", Position(VENUE_SYMBOL, SIZE, mid, mid, 0, ts_ms=now + 1))  # and back
    await desk.settle(1.0)
    assert stop.state is ARMED
    await desk.move(mid - 150)
    assert await desk.until(lambda: stop.is_done)
    assert stop.end_reason == "filled" and desk.venue_position() == 0
