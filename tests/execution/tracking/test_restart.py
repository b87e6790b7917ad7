"""A journaled chase survives a restart of the whole runtime: it resumes (or is cancelled, per
setting) with its fills intact, including fills that happened at the venue while we were down."""

from __future__ import annotations

import random

from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.runtime import Runtime
from execution.tracking import ChaseState, EndReason
from tests.execution.tracking.harness import QUIET_BTC, SYMBOL, VENUE_SYMBOL, VenueWatch

BID = 649_995


async def runtime_on(engine, clock, journal_path, **tracking) -> Runtime:
    settings = {"tracking": tracking} if tracking else None
    rt = Runtime({"sim": SimConnector(engine=engine, clock=clock)}, clock=clock, journal_path=journal_path,
                 settings=settings)
    await rt.start()
    await clock.advance(0.3)
    return rt


def quiet_engine(clock, seed=7) -> SimEngine:
    return SimEngine(seed, clock=clock, markets=[QUIET_BTC])


async def test_the_runtime_exposes_the_tracking_manager(clock, tmp_path):
    rt = await runtime_on(quiet_engine(clock), clock, tmp_path / "j.sqlite3")
    chase = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(0.1)
    assert chase.price_i == BID
    await rt.stop()


async def test_a_live_chase_resumes_after_a_restart_with_its_fills(clock, tmp_path):
    engine, path = quiet_engine(clock), tmp_path / "j.sqlite3"
    rt = await runtime_on(engine, clock, path)
    chase = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100, limit_price_i=650_100)
    await clock.advance(0.1)
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=30)
    await clock.advance(0.1)
    assert chase.filled_i == 30
    chase_id = chase.id
    await rt.stop()

    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=20)  # fills while we are away
    rt2 = await runtime_on(engine, clock, path)
    await clock.advance(2)
    again = rt2.tracking.get(chase_id)
    assert again is not None and again.state is ChaseState.RUNNING
    assert again.filled_i == 50
    assert again.params.limit_price_i == 650_100
    assert any(e.kind == "restored" for e in again.events)
    engine.set_mid(VENUE_SYMBOL, 650_050)
    await clock.advance(1)
    assert again.price_i == 650_045
    assert len([o for o in engine.open_orders()]) == 1
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=650_045, size_i=50)
    await clock.advance(0.5)
    assert again.end_reason is EndReason.FILLED and again.filled_i == 100
    await rt2.stop()


async def test_on_restart_cancel_pulls_the_child_and_keeps_the_fills(clock, tmp_path):
    engine, path = quiet_engine(clock), tmp_path / "j.sqlite3"
    rt = await runtime_on(engine, clock, path)
    chase = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(0.1)
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=40)
    await clock.advance(0.1)
    await rt.stop()

    rt2 = await runtime_on(engine, clock, path, on_restart="cancel")
    await clock.advance(3)
    again = rt2.tracking.get(chase.id)
    assert again.end_reason is EndReason.CANCELLED
    assert again.filled_i == 40
    assert engine.open_orders() == []
    assert rt2.journal.load_parents(live_only=True) == []
    await rt2.stop()


async def test_an_ended_chase_is_not_resumed(clock, tmp_path):
    engine, path = quiet_engine(clock), tmp_path / "j.sqlite3"
    rt = await runtime_on(engine, clock, path)
    chase = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(0.1)
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=100)
    await clock.advance(0.1)
    assert chase.end_reason is EndReason.FILLED
    await rt.stop()
    rt2 = await runtime_on(engine, clock, path)
    assert rt2.tracking.get(chase.id) is None
    assert engine.open_orders() == []
    await rt2.stop()


async def test_randomized_restarts_keep_fills_and_never_overfill(clock, tmp_path):
    restored = 0
    for seed in range(25):
        rng = random.Random(seed)
        engine = quiet_engine(clock, seed)
        path = tmp_path / f"j{seed}.sqlite3"
        rt = await runtime_on(engine, clock, path)
        watch = VenueWatch(rt.orders)
        engine.subscribe(watch)
        size = rng.randint(5, 30) * 10
        is_ask = rng.random() < 0.5
        chase = await rt.tracking.start("sim", SYMBOL, is_ask=is_ask, size_i=size, timeout_s=30)
        for _ in range(rng.randint(1, 20)):
            child = chase.child
            if child is not None and rng.random() < 0.4:
                engine.trade_through(VENUE_SYMBOL, is_ask=not is_ask, price_i=child.price_i, size_i=10)
            elif rng.random() < 0.5:
                engine.set_mid(VENUE_SYMBOL, engine.mid_i(VENUE_SYMBOL) + rng.randint(-5, 5))
            await clock.advance(rng.choice([0.01, 0.1, 0.3]))
        before = chase.filled_i
        await rt.stop()
        engine.unsubscribe(watch)
        if rng.random() < 0.5:  # the venue keeps trading while we are down
            for snap in engine.open_orders():
                engine.trade_through(VENUE_SYMBOL, is_ask=not snap.is_ask, price_i=snap.price_i, size_i=10)
        on_restart = rng.choice(["resume", "cancel"])
        rt2 = await runtime_on(engine, clock, path, on_restart=on_restart)
        again = rt2.tracking.get(chase.id)
        if chase.is_done:
            assert again is None
            await rt2.stop()
            continue
        assert again is not None and again.filled_i >= before
        restored += 1
        for _ in range(600):
            if again.is_done:
                break
            child = again.child
            if child is not None and rng.random() < 0.3:
                engine.trade_through(VENUE_SYMBOL, is_ask=not is_ask, price_i=child.price_i, size_i=20)
            await clock.advance(0.1)
        assert again.is_done, (seed, again, again.events[-3:])
        venue_filled = sum(f.filled_i for f in (engine.order(VENUE_SYMBOL, client_order_index=c.client_order_index)
                                                  for c in again.children))
        assert again.filled_i == venue_filled <= size, seed
        if on_restart == "cancel":
            assert again.end_reason is EndReason.CANCELLED
        assert engine.open_orders() == [], seed
        [record] = [r for r in rt2.journal.load_parents(live_only=False) if r["parent_id"] == again.id]
        assert record["done"] and record["filled_i"] == again.filled_i and record["end_reason"] == again.end_reason
        journaled = {o.client_order_index for o in rt2.journal.load_orders() if o.parent_id == again.id}
        assert journaled == {c.client_order_index for c in again.children}, seed
        await rt2.stop()
    assert restored >= 10  # most runs really were interrupted mid-chase


async def test_a_paused_chase_stays_paused_after_a_restart(clock, tmp_path):
    engine, path = quiet_engine(clock), tmp_path / "j.sqlite3"
    rt = await runtime_on(engine, clock, path)
    chase = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(0.1)
    chase.pause()
    await clock.advance(0.5)
    await rt.stop()
    rt2 = await runtime_on(engine, clock, path)
    await clock.advance(1)
    again = rt2.tracking.get(chase.id)
    assert again.state is ChaseState.PAUSED and engine.open_orders() == []
    again.resume()
    await clock.advance(0.5)
    assert again.price_i == BID
    await rt2.stop()


async def test_the_kill_switch_ends_every_chase_and_leaves_nothing_resting(clock, tmp_path):
    engine = quiet_engine(clock)
    rt = await runtime_on(engine, clock, tmp_path / "j.sqlite3")
    a = await rt.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    b = await rt.tracking.start("sim", SYMBOL, is_ask=True, size_i=100)
    await clock.advance(0.1)
    report = await rt.kill_switch()
    assert report.chases_stopped == 2
    assert a.end_reason is b.end_reason is EndReason.CANCELLED
    assert engine.open_orders() == []
    await rt.stop()
