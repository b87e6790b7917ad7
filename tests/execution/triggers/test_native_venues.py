"""What every venue that holds triggers natively must do, through its fake on 127.0.0.1: a bracket
rests there and one side fires there, a restart finds an armed stop still held, both sides crossing
in one step never close more than the position, and nothing rests once it is flat.  Venue-specific
cases (the socket going down, trailing stops, re-arming, wire details) stay in
``test_<venue>_native.py``."""

from __future__ import annotations

import asyncio

import pytest

from execution.triggers import TriggerState
from tests.execution.triggers.venues import ALL, BACKPACK, HYPERLIQUID, LIGHTER, SYMBOL, Venue, until

every_venue = pytest.mark.parametrize("venue", ALL, ids=[v.name for v in ALL])


@every_venue
async def test_a_bracket_rests_at_the_venue_one_side_fires_there_and_the_other_is_cancelled(tmp_path, venue: Venue):
    fake = await venue.start_fake(tmp_path)
    runtime = await venue.runtime(fake, tmp_path)
    try:
        await venue.long(runtime)
        mid = runtime.market_data.mid_i(venue.name, SYMBOL)
        b = await runtime.triggers.bracket(
            venue.name, SYMBOL, stop_price_i=mid * 98 // 100, take_profit_price_i=mid * 102 // 100
        )
        assert b.stop.native and b.take_profit.native
        # the venue holds both sides (Lighter's sendTx answers before its sequencer has them)
        await until(lambda: venue.held(fake) == ["stop_market", "take_profit_market"])
        venue.bracket_wire(fake)
        await asyncio.sleep(0.2)
        assert runtime.orders.open_orders(venue.name) == []  # the venue's trigger updates are not orders
        venue.move(fake, -50_000)  # through the stop, at the venue
        await until(lambda: b.is_done)
        assert b.stop.state is TriggerState.DONE and b.stop.end_reason == "filled", b.stop.events
        assert b.stop.child is not None and b.stop.child.is_ask
        assert b.take_profit.state is TriggerState.CANCELLED
        assert fake.engine.account.positions[venue.engine_symbol].size_i == 0
        await until(lambda: venue.nothing_resting(fake))
    finally:
        await runtime.stop()
        await fake.stop()


@every_venue
async def test_a_restart_while_armed_finds_the_stop_still_held_by_the_venue_and_it_fires_there(tmp_path, venue: Venue):
    fake = await venue.start_fake(tmp_path)
    runtime = await venue.runtime(fake, tmp_path)
    try:
        await venue.long(runtime)
        mid = runtime.market_data.mid_i(venue.name, SYMBOL)
        t = await runtime.triggers.place(venue.name, SYMBOL, kind="stop_market", is_ask=True,
                                         trigger_price_i=mid * 98 // 100)  # fmt: skip
        assert t.native
        await until(lambda: venue.held(fake) == ["stop_market"])
    finally:
        await runtime.stop()  # perpdesk goes away; the venue keeps the stop
    assert venue.held(fake) == ["stop_market"]
    runtime = await venue.runtime(fake, tmp_path)
    try:
        (restored,) = runtime.triggers.active()
        assert restored.id == t.id and restored.native and restored.state is TriggerState.ARMED
        await asyncio.sleep(0.3)  # the restored trigger's look at the venue: still held, still armed
        assert restored.state is TriggerState.ARMED
        assert runtime.orders.open_orders(venue.name) == []  # the venue's trigger is no order of ours
        venue.move(fake, -50_000)
        await until(lambda: restored.is_done)
        assert restored.state is TriggerState.DONE and restored.end_reason == "filled", restored.events
        assert fake.engine.account.positions[venue.engine_symbol].size_i == 0
    finally:
        await runtime.stop()
        await fake.stop()


@every_venue
async def test_both_bracket_sides_crossing_in_one_step_never_close_more_than_the_position(tmp_path, venue: Venue):
    fake = await venue.start_fake(tmp_path)
    runtime = await venue.runtime(fake, tmp_path)
    try:
        size = await venue.long(runtime)
        mid = runtime.market_data.mid_i(venue.name, SYMBOL)
        b = await runtime.triggers.bracket(
            venue.name, SYMBOL, stop_price_i=mid * 99 // 100, take_profit_price_i=mid * 101 // 100
        )
        await until(lambda: venue.held(fake) == ["stop_market", "take_profit_market"])
        engine, sym = fake.engine, venue.engine_symbol
        # one step at the venue, before perpdesk hears anything: the mark goes through the stop and then
        # through the take-profit, so both fire there; the second child is reduce-only on a flat position
        venue.move(fake, -20_000)
        after_stop = engine.account.positions[sym].size_i
        venue.move(fake, +40_000)
        assert engine.triggers.fired == 2 and not engine.triggers
        assert after_stop == 0 and engine.account.positions[sym].size_i == 0  # closed once, never flipped
        await until(lambda: b.is_done)
        assert b.stop.state is TriggerState.DONE and b.stop.end_reason == "filled", b.stop.events
        assert b.stop.filled_i == size
        assert b.take_profit.filled_i == 0, b.take_profit.events  # refused as reduce-only, or cancelled
        assert b.take_profit.state in (TriggerState.DONE, TriggerState.CANCELLED)
        await until(lambda: venue.nothing_resting(fake) and runtime.orders.open_orders(venue.name) == [])
        await asyncio.sleep(0.3)
        assert engine.account.positions[sym].size_i == 0 and runtime.positions.size_i(venue.name, SYMBOL) == 0
    finally:
        await runtime.stop()
        await fake.stop()


@pytest.mark.parametrize("venue", [HYPERLIQUID, LIGHTER, BACKPACK], ids=["hyperliquid", "lighter", "backpack"])
async def test_a_trailing_stop_stays_emulated_where_the_venue_keeps_none(tmp_path, venue: Venue):
    fake = await venue.start_fake(tmp_path)
    runtime = await venue.runtime(fake, tmp_path)
    try:
        await venue.long(runtime)
        t = await runtime.triggers.place(venue.name, SYMBOL, kind="trailing_stop", is_ask=True, trail_ppm=10_000)
        assert not t.native and not fake.engine.triggers
        await runtime.triggers.cancel(t)
    finally:
        await runtime.stop()
        await fake.stop()
