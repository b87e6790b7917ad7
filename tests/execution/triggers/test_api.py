"""The API as issue 16 names it: place / cancel / active, states, exact ints, reduce-only, journal kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import InvalidOrder
from connector.interface import OrderStatus
from execution.triggers import TriggerState
from tests.execution.triggers.harness import SIZE, SYMBOL

ARMED, TRIGGERED, DONE, CANCELLED = (TriggerState.ARMED, TriggerState.TRIGGERED, TriggerState.DONE,
                                     TriggerState.CANCELLED)  # fmt: skip


@pytest.mark.parametrize("field", ["trigger_price_i", "size_i", "limit_price_i", "trail_ticks", "trail_ppm"])
@pytest.mark.parametrize("bad", [1.0, True, Decimal(1), "1"])
async def test_every_scaled_field_must_be_exactly_an_int(desk, field, bad):
    kw = {"kind": "stop_limit", "is_ask": True, "trigger_price_i": desk.mid() - 50, "limit_price_i": desk.mid() - 60}
    if field.startswith("trail"):
        kw = {"kind": "trailing_stop", "is_ask": True}
    kw[field] = bad
    with pytest.raises(InvalidOrder, match=field):
        await desk.triggers.place("sim", SYMBOL, **kw)
    assert desk.triggers.active() == []


async def test_a_sell_stop_fires_a_reduce_only_market_order_for_the_whole_position(desk, mode):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100,
                                  size_i=None, trigger_on="mark", limit_price_i=None)  # fmt: skip
    assert t.state is ARMED and t.native == (mode == "native")
    assert ("fires only while it runs" in t.held_by) == (mode == "emulated")
    assert [s.client_order_index for s in desk.sim.triggers.snapshots()] == ([t.venue_ref] if t.native else [])
    assert desk.triggers.active() == [t]
    await desk.move(mid - 50)
    assert t.state is ARMED
    await desk.open(SIZE)  # the position grows: the whole-position stop follows it
    await desk.move(mid - 120)
    await t.wait_done(timeout=5)
    assert t.state is DONE and t.end_reason == "filled"
    assert t.child is not None and t.child.reduce_only and t.child.is_ask and t.child.filled_i == 2 * SIZE
    if not t.native:  # a native child is the venue's order under the trigger's own index
        assert t.child.kind == "market" and t.child.parent_id == t.id
    else:
        assert t.child.client_order_index == t.venue_ref
    assert desk.position() == 0 and desk.venue_position() == 0
    assert desk.triggers.active() == []


async def test_a_take_profit_limit_fires_a_reduce_only_limit(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="take_profit_limit", is_ask=True, trigger_price_i=mid + 100,
                                  limit_price_i=mid + 90, size_i=SIZE // 2)  # fmt: skip
    await desk.move(mid + 100)
    assert await desk.until(lambda: t.is_done)
    assert t.state is DONE and t.child.price_i == mid + 90 and t.child.reduce_only
    assert t.child.size_i == SIZE // 2 and desk.position() == SIZE // 2


async def test_a_stop_never_opens_a_position(desk):
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    await desk.move(mid - 200)
    assert await desk.until(lambda: t.is_done)
    if t.native:  # the venue fires it and refuses its child as reduce-only
        assert t.state is DONE and "REJECTED" in t.end_reason and "reduce-only" in t.end_reason
    else:
        assert t.state is DONE and "nothing to close" in t.end_reason and t.child is None
        assert desk.runtime.orders.orders == []
    assert desk.position() == 0 and desk.venue_position() == 0


async def test_a_buy_stop_on_a_long_never_flips_it(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=False, trigger_price_i=mid + 100)
    await desk.move(mid + 150)
    assert await desk.until(lambda: t.is_done)
    assert t.state is DONE and ("other side" in t.end_reason or "reduce-only" in t.end_reason)
    assert desk.venue_position() == SIZE


async def test_a_trigger_the_price_is_already_past_is_refused(desk):
    mid = desk.mid()
    with pytest.raises(InvalidOrder, match="would fire at once"):
        await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid + 10)
    with pytest.raises(InvalidOrder, match="would fire at once"):
        await desk.triggers.place("sim", SYMBOL, kind="take_profit_market", is_ask=True, trigger_price_i=mid - 10)


async def test_cancel_disarms_and_the_journal_keeps_it_as_a_trigger_not_a_chase(desk):
    await desk.open(SIZE)
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=desk.mid() - 100)
    rows = desk.runtime.journal.load_parents(live_only=True, kind="trigger")
    assert [r["parent_id"] for r in rows] == [t.id] and rows[0]["state"] == "ARMED"
    assert desk.runtime.journal.load_parents(live_only=True) == []  # chases only
    await desk.triggers.cancel(t)
    assert t.state is CANCELLED and desk.triggers.active() == []
    assert desk.runtime.journal.load_parents(live_only=True, kind="trigger") == []
    await desk.move(desk.mid() - 300)
    assert desk.venue_position() == SIZE


async def test_a_trailing_stop_follows_the_best_price_up_only(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="trailing_stop", is_ask=True, trail_ticks=50)
    assert t.trigger_price_i == mid - 50
    await desk.move(mid + 100)
    assert t.trigger_price_i == mid + 50 and t.best_i == mid + 100
    await desk.move(mid + 60)  # back down, not yet through: the trigger stays where it was
    assert t.trigger_price_i == mid + 50 and t.state is ARMED
    await desk.move(mid + 40)
    assert await desk.until(lambda: t.is_done)
    assert t.state is DONE and t.end_reason == "filled" and desk.venue_position() == 0


async def test_a_trailing_stop_in_ppm(desk):
    await desk.open(SIZE)
    mid = desk.mid()  # 650_000 = 65000.0
    t = await desk.triggers.place("sim", SYMBOL, kind="trailing_stop", is_ask=True, trail_ppm=5_000)  # 0.5%
    assert t.trigger_price_i == mid - mid * 5_000 // 1_000_000


@pytest.mark.parametrize("mode", ["emulated"])
async def test_a_refused_child_ends_the_trigger_and_says_why(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    desk.sim.inject_reject("no (injected)")
    await desk.move(mid - 150)
    assert await desk.until(lambda: t.is_done)
    assert t.state is DONE and "no (injected)" in t.end_reason
    assert t.child is None or t.child.state is OrderStatus.REJECTED


async def test_an_armed_emulated_trigger_is_restored_after_a_restart_and_fires_only_if_still_past(clock, tmp_path):
    from tests.execution.triggers.harness import TriggerDesk

    first = await TriggerDesk(clock, tmp_path).start()
    await first.open(SIZE)
    mid = first.mid()
    stop = await first.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    tp = await first.triggers.place("sim", SYMBOL, kind="take_profit_market", is_ask=True, trigger_price_i=mid + 100)
    await first.stop()
    # while nobody runs: the price goes through the stop and comes back (it must not fire) ...
    first.engine.set_mid("BTC-PERP", mid - 200)
    first.engine.set_mid("BTC-PERP", mid)
    # ... and then past the take-profit, where it stays (it fires, and says so)
    first.engine.set_mid("BTC-PERP", mid + 150)
    second = await TriggerDesk(clock, tmp_path, engine=first.engine).start()
    try:
        restored = {t.id: t for t in second.triggers.triggers.values()}
        assert set(restored) == {stop.id, tp.id}
        assert second.runtime.tracking.active() == []  # never restored as a chase
        new_stop, new_tp = restored[stop.id], restored[tp.id]
        assert await second.until(lambda: new_tp.is_done)
        assert new_tp.state is TriggerState.DONE and new_tp.end_reason == "filled"
        assert any("after the restore" in e and "still past" in e for e in new_tp.events)
        assert any("after the restore" in line for line in second.triggers.log)
        assert new_stop.state is TriggerState.CANCELLED  # the position closed: nothing left resting
        assert second.venue_position() == 0
    finally:
        await second.stop()


async def test_a_native_trigger_the_venue_fired_while_we_were_away_is_settled_on_restart(clock, tmp_path):
    from tests.execution.triggers.harness import TriggerDesk

    first = await TriggerDesk(clock, tmp_path, emulate=False).start()
    await first.open(SIZE)
    mid = first.mid()
    b = await first.triggers.bracket("sim", SYMBOL, stop_price_i=mid - 100, take_profit_price_i=mid + 100)
    assert b.stop.native and b.take_profit.native
    await first.stop()
    first.engine.set_mid("BTC-PERP", mid - 150)  # the venue fires the stop with nobody listening
    assert first.venue_position() == 0
    second = await TriggerDesk(clock, tmp_path, emulate=False, engine=first.engine).start()
    try:
        stop, tp = second.triggers.get(b.stop.id), second.triggers.get(b.take_profit.id)
        assert await second.until(lambda: stop.is_done and tp.is_done)
        assert stop.state is TriggerState.DONE and stop.end_reason == "filled"
        assert stop.child is not None and stop.child.client_order_index == stop.venue_ref
        assert tp.state is TriggerState.CANCELLED and second.sim.triggers.snapshots() == []
    finally:
        await second.stop()


async def test_the_kill_switch_disarms_every_trigger_first(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    b = await desk.triggers.bracket("sim", SYMBOL, stop_price_i=mid - 100, take_profit_price_i=mid + 100)
    report = await desk.drive(desk.runtime.kill_switch())
    assert report.triggers_disarmed == 2 and report.algos_halted == 0
    assert all(t.state is CANCELLED and t.end_reason == "kill switch" for t in b.sides)
    assert desk.sim.triggers.snapshots() == []
    await desk.move(mid - 200)
    assert desk.venue_position() == SIZE  # nothing fired after the kill


@pytest.mark.parametrize("mode", ["native"])
async def test_a_price_source_the_venue_does_not_watch_is_emulated_there(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    on_mark = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
    on_last = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100,
                                        trigger_on="last")  # fmt: skip
    assert on_mark.native and not on_last.native  # the sim's triggers watch its mark (and mid), not the last trade
    assert [s.client_order_index for s in desk.sim.triggers.snapshots()] == [on_mark.venue_ref]
    with pytest.raises(InvalidOrder, match="trigger_on"):
        await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=1, trigger_on="index")
