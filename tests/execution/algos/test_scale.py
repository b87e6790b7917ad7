"""Scale orders on the sim venue (quiet market: bid 64999.5, ask 65000.5; tick 1, step 1, minimum size 10)."""

from __future__ import annotations

import pytest

from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.algos import AlgoState
from execution.journal import Journal
from execution.runtime import Runtime
from execution.tracking import EndReason
from tests.execution.algos.harness import SYMBOL, VENUE_SYMBOL, algo_desk
from tests.execution.tracking.harness import QUIET_BTC


async def test_a_scale_places_a_ladder_on_the_grid_summing_to_the_target(clock):
    desk = await algo_desk(clock)
    s = await desk.algos.scale(
        "sim", SYMBOL, is_ask=False, size_i=1_000, from_price_i=649_900, to_price_i=649_000, count=10,
        distribution="increasing",
    )  # fmt: skip
    await clock.advance(0.1)
    assert s.state is AlgoState.RUNNING and not s.refused
    prices = [c.price_i for c in s.children]
    sizes = [c.size_i for c in s.children]
    assert prices == [649_900, 649_800, 649_700, 649_600, 649_500, 649_400, 649_300, 649_200, 649_100, 649_000]
    assert sum(sizes) == 1_000 and sizes == sorted(sizes)
    assert all(c.state is OrderStatus.OPEN and c.parent_id == s.id for c in s.children)
    assert len(desk.resting_at_venue({s.id})) == 10
    assert s.summary == "10 of 10 orders placed"
    await desk.stop()


async def test_a_child_that_breaks_a_venue_rule_is_refused_alone_with_a_summary(clock):
    desk = await algo_desk(clock)
    # 60 over 5 levels increasing: 4, 8, 12, 16, 20 -> the first two are below the minimum 10
    s = await desk.algos.scale("sim", SYMBOL, is_ask=True, size_i=60, from_price_i=650_100, to_price_i=650_500,
                               count=5, distribution="increasing")  # fmt: skip
    assert [c.size_i for c in s.children] == [12, 16, 20]
    assert [(r.level, r.size_i) for r in s.refused] == [(1, 4), (2, 8)]
    assert s.summary.startswith("3 of 5 orders placed; refused 2 (12 not placed): #1 at 650100: size 4 is below")
    await desk.stop()


async def test_a_request_the_range_cannot_hold_is_refused_before_anything_is_sent(clock):
    desk = await algo_desk(clock)
    with pytest.raises(ValueError, match="at most 3 orders"):
        await desk.algos.scale("sim", SYMBOL, is_ask=False, size_i=100, from_price_i=649_990, to_price_i=649_992,
                               count=4)  # fmt: skip
    assert desk.orders.orders == []
    await desk.stop()


@pytest.mark.parametrize("keep", [False, True])
async def test_cancel_mid_scale_leaves_nothing_resting_unless_asked(clock, keep):
    desk = await algo_desk(clock, latency_ms=20)
    s = await desk.drive(desk.algos.scale("sim", SYMBOL, is_ask=False, size_i=500, from_price_i=649_995,
                                          to_price_i=649_955, count=5))  # fmt: skip
    await clock.advance(0.2)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=649_985, size_i=150)  # two levels trade
    await clock.advance(0.2)
    assert s.filled_i == 150 and not s.is_done
    await desk.drive(desk.algos.cancel(s, keep_resting=keep))
    assert s.state is AlgoState.DONE and s.end_reason is EndReason.CANCELLED
    resting = desk.resting_at_venue({s.id})
    assert len(resting) == (4 if keep else 0)  # the partly filled level and the three below it
    assert s.filled_i == 150 and s.report.filled_i == 150
    await desk.stop()


async def test_a_scale_is_journaled_as_its_own_kind_and_never_restored_as_a_chase(clock, tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    desk = await algo_desk(clock, journal=journal)
    s = await desk.algos.scale("sim", SYMBOL, is_ask=False, size_i=100, from_price_i=649_990, to_price_i=649_900,
                               count=2)  # fmt: skip
    assert journal.load_parents(live_only=True) == []  # the chases' own view
    [row] = journal.load_parents(live_only=True, kind="scale")
    assert row["parent_id"] == s.id and row["params"]["summary"] == s.summary
    assert await desk.tracking.restore() == []
    await desk.stop()
    journal.close()


async def test_a_scale_ends_filled_when_every_child_has_traded(clock):
    desk = await algo_desk(clock)
    s = await desk.algos.scale("sim", SYMBOL, is_ask=False, size_i=40, from_price_i=649_995, to_price_i=649_994,
                               count=2)  # fmt: skip
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=649_990, size_i=1_000)
    await clock.advance(0.2)
    assert s.end_reason is EndReason.FILLED and s.filled_i == 40
    r = s.report
    assert r.children == 2 and r.maker_ppm == 1_000_000 and r.avg_price_i == 649_995  # 20 @ ..995 + 20 @ ..994
    await desk.stop()


def _runtime(engine, clock, path, on_restart="resume"):
    return Runtime({"sim": SimConnector(engine=engine, clock=clock)}, clock=clock, journal_path=path,
                   settings={"tracking": {"on_restart": on_restart}})  # fmt: skip


@pytest.mark.parametrize("on_restart", ["resume", "cancel"])
async def test_a_scale_resumes_after_a_restart_or_is_cancelled(clock, tmp_path, on_restart):
    engine, path = SimEngine(7, clock=clock, markets=[QUIET_BTC]), tmp_path / "j.sqlite3"
    rt = _runtime(engine, clock, path)
    await rt.start()
    await clock.advance(0.3)
    s = await rt.algos.scale("sim", SYMBOL, is_ask=False, size_i=40, from_price_i=649_995, to_price_i=649_990,
                             count=2)  # fmt: skip
    engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=649_995, size_i=20)
    await clock.advance(0.2)
    assert s.filled_i == 20
    await rt.stop()

    rt2 = _runtime(engine, clock, path, on_restart)
    await rt2.start()
    await clock.advance(2)
    again = rt2.algos.get(s.id)
    assert again is not None and again.kind == "scale" and again.filled_i == 20 and len(again.children) == 2
    assert rt2.tracking.get(s.id) is None
    if on_restart == "cancel":
        assert again.end_reason is EndReason.CANCELLED and engine.open_orders() == []
    else:
        assert again.state is AlgoState.RUNNING
        engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=649_990, size_i=20)
        await clock.advance(0.5)
        assert again.end_reason is EndReason.FILLED and again.filled_i == 40
    await rt2.stop()
