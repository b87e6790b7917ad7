"""TWAP on the sim venue in virtual time (quiet market: bid 64999.5, ask 65000.5; tick 1, minimum size 10)."""

from __future__ import annotations

import asyncio

from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.algos import AlgoState, TwapOrder
from execution.runtime import Runtime
from execution.tracking import ChaseState, EndReason
from tests.execution.algos.harness import SYMBOL, VENUE_SYMBOL, algo_desk
from tests.execution.tracking.harness import QUIET_BTC

BID, ASK = 649_995, 650_005


async def test_an_hour_of_ioc_twap_runs_on_the_virtual_clock_slice_by_slice(clock):
    # the quiet market steps once a second (its default 100 ms would be 36000 wake-ups of nothing)
    desk = await algo_desk(clock, engine=SimEngine(7, clock=clock, markets=[QUIET_BTC], step_ms=1_000))
    await clock.advance(1)  # its first book (without one, the first slice has no price and rolls on)
    w = await desk.algos.twap("sim", SYMBOL, is_ask=False, size_i=600, duration_s=3600, slices=60,
                              slice_mode="ioc", limit_price_i=650_010, jitter=0.1)  # fmt: skip
    assert isinstance(w, TwapOrder) and w.state is AlgoState.RUNNING
    await desk.drive(w.wait_done(), step_s=60, max_s=3700)
    assert w.end_reason is EndReason.FILLED and w.filled_i == 600
    kids = w.children
    assert len(kids) == 60 and all(k.filled_i == k.size_i == 10 for k in kids)
    assert all(k.price_i <= 650_010 for k in kids)  # capped at the limit, never through it
    # each slice went out exactly at its jittered start (the virtual clock wakes sleepers on their deadline)
    assert [o.created_ms - w.started_ms for o in kids] == w.starts
    assert w.starts != [k * 60_000 for k in range(60)]  # jittered
    r = w.report
    assert r.filled_i == 600 and r.children == 60 and r.maker_ppm == 0 and r.avg_price_i == ASK
    await desk.stop()


async def test_chase_slices_roll_their_unfilled_remainder_into_the_next_and_sit_at_the_limit(clock):
    desk = await algo_desk(clock)
    w = await desk.algos.twap("sim", SYMBOL, is_ask=False, size_i=100, duration_s=60, slices=3,
                              limit_price_i=650_010)  # fmt: skip  planned 34, 33, 33
    await clock.advance(1)
    [first] = w.slices
    assert first.size_i == 34 and first.price_i == BID and first.params.timeout_ms == 20_000
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=20)
    await clock.advance(20)
    assert first.end_reason is EndReason.TIMEOUT and first.filled_i == 20
    second = w.slices[-1]
    assert second is not first and second.size_i == 67 - 20  # its 33 plus the 14 left over
    desk.engine.set_mid(VENUE_SYMBOL, 651_000)  # the market runs away: the chase waits at the limit
    await clock.advance(5)
    assert second.price_i == 650_010 and second.at_limit
    await clock.advance(15)
    third = w.slices[-1]
    assert third.size_i == 80 and third.price_i == 650_010
    desk.engine.set_mid(VENUE_SYMBOL, 650_000)  # back through the limit: it trades
    await clock.advance(1)
    assert w.end_reason is EndReason.FILLED and w.filled_i == 100
    assert len(w.slices) == 3 and w.report.children == 3
    await desk.stop()


async def test_pause_pulls_the_slice_and_resume_picks_the_schedule_up(clock):
    desk = await algo_desk(clock)
    w = await desk.algos.twap("sim", SYMBOL, is_ask=True, size_i=90, duration_s=30, slices=3)
    await clock.advance(1)
    [first] = w.slices
    desk.algos.pause(w)
    await clock.advance(1)
    assert w.state is AlgoState.PAUSED and first.state is ChaseState.PAUSED and not first.live_children
    await clock.advance(20)  # the first slice times out paused; the second's window passes unstarted
    assert len(w.slices) == 1
    desk.algos.resume(w)
    await clock.advance(0.5)
    third = w.slices[-1]
    assert len(w.slices) == 2 and third.size_i == 90  # everything due by now
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=False, price_i=ASK, size_i=90)
    await clock.advance(0.5)
    assert w.end_reason is EndReason.FILLED
    await desk.stop()


async def test_cancel_mid_twap_pulls_the_slice_and_starts_no_other(clock):
    desk = await algo_desk(clock)
    w = await desk.algos.twap("sim", SYMBOL, is_ask=False, size_i=100, duration_s=60, slices=3)
    await clock.advance(1)
    [first] = w.slices
    await desk.drive(desk.algos.cancel(w))
    assert w.end_reason is EndReason.CANCELLED and first.end_reason is EndReason.CANCELLED
    await clock.advance(60)
    assert len(w.slices) == 1 and desk.resting_at_venue({w.id, first.id}) == []
    await desk.stop()


def _runtime(engine, clock, path, on_restart="resume") -> Runtime:
    return Runtime({"sim": SimConnector(engine=engine, clock=clock)}, clock=clock, journal_path=path,
                   settings={"tracking": {"on_restart": on_restart}})  # fmt: skip


async def test_a_twap_survives_a_restart_mid_way_and_adopts_its_live_slice(clock, tmp_path):
    engine, path = SimEngine(7, clock=clock, markets=[QUIET_BTC]), tmp_path / "j.sqlite3"
    rt = _runtime(engine, clock, path)
    await rt.start()
    await clock.advance(0.3)
    w = await rt.algos.twap("sim", SYMBOL, is_ask=False, size_i=90, duration_s=30, slices=3)
    await clock.advance(11)  # into the second slice
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=25)
    await clock.advance(0.2)
    assert w.next_slice == 2 and w.filled_i == 25
    twap_id, slice_id = w.id, w.slice_ids[-1]
    assert rt.journal.load_parents(kind="twap")[0]["parent_id"] == twap_id
    await rt.stop()

    rt2 = _runtime(engine, clock, path)
    await rt2.start()
    await clock.advance(0.5)
    again = rt2.algos.get(twap_id)
    assert isinstance(again, TwapOrder) and again.state is AlgoState.RUNNING
    assert rt2.tracking.get(twap_id) is None  # never restored as a chase
    assert again.current is rt2.tracking.get(slice_id) and again.filled_i == 25
    await clock.advance(10)  # the third slice: everything still due
    assert again.slices[-1].size_i == 90 - 25 and again.next_slice == 3
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=65)
    await clock.advance(0.5)
    assert again.end_reason is EndReason.FILLED and again.filled_i == 90
    await rt2.stop()


async def test_on_restart_cancel_ends_a_twap_and_its_slice(clock, tmp_path):
    engine, path = SimEngine(7, clock=clock, markets=[QUIET_BTC]), tmp_path / "j.sqlite3"
    rt = _runtime(engine, clock, path)
    await rt.start()
    await clock.advance(0.3)
    w = await rt.algos.twap("sim", SYMBOL, is_ask=False, size_i=90, duration_s=30, slices=3)
    await clock.advance(1)
    await rt.stop()
    rt2 = _runtime(engine, clock, path, on_restart="cancel")
    await rt2.start()
    await clock.advance(3)
    again = rt2.algos.get(w.id)
    assert again.end_reason is EndReason.CANCELLED
    assert rt2.journal.load_parents(kind="twap") == [] and engine.open_orders() == []
    await clock.advance(30)
    assert len(again.slice_ids) == 1
    await rt2.stop()


async def test_the_kill_switch_ends_a_twap_before_it_can_start_another_slice(clock, tmp_path):
    engine = SimEngine(7, clock=clock, markets=[QUIET_BTC])
    rt = _runtime(engine, clock, tmp_path / "j.sqlite3")
    await rt.start()
    await clock.advance(0.3)
    w = await rt.algos.twap("sim", SYMBOL, is_ask=False, size_i=90, duration_s=30, slices=3)
    s = await rt.algos.scale("sim", SYMBOL, is_ask=False, size_i=20, from_price_i=649_900, to_price_i=649_800,
                             count=2)  # fmt: skip
    await clock.advance(1)
    task = asyncio.ensure_future(rt.kill_switch())
    while not task.done():
        await clock.advance(0.1)
    report = task.result()
    assert w.end_reason is EndReason.CANCELLED and "kill switch" in w.note
    assert s.end_reason is EndReason.CANCELLED
    await clock.advance(40)
    assert len(w.slice_ids) == 1 and engine.open_orders() == [] and report.errors == []
    assert report.algos_halted == 2 and report.triggers_disarmed == 0
    await rt.stop()


async def test_a_refused_slice_ends_the_twap_rather_than_trying_every_slice(clock, tmp_path):
    engine = SimEngine(7, clock=clock, markets=[QUIET_BTC])
    rt = _runtime(engine, clock, tmp_path / "j.sqlite3")
    await rt.start()
    await clock.advance(0.3)
    rt.risk.halt()
    w = await rt.algos.twap("sim", SYMBOL, is_ask=False, size_i=90, duration_s=30, slices=3)
    await clock.advance(1)
    assert w.end_reason is EndReason.REJECTED and "halted" in w.note
    await clock.advance(30)
    assert len(w.slice_ids) == 1
    await rt.stop()


async def test_a_twap_paused_past_its_duration_ends_without_starting_a_late_slice(clock):
    desk = await algo_desk(clock)
    w = await desk.algos.twap("sim", SYMBOL, is_ask=False, size_i=90, duration_s=30, slices=3)
    await clock.advance(1)
    desk.algos.pause(w)
    await clock.advance(40)
    desk.algos.resume(w)
    await clock.advance(1)
    assert w.end_reason is EndReason.TIMEOUT and len(w.slice_ids) == 1 and "duration is over" in w.note
    await desk.stop()
