"""End to end on the sim venue: an abrupt restart and a stream outage both end with our orders
and positions equal to the venue's, nothing lost, nothing doubled, and a log of what changed."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from execution.journal import Journal, JournalError
from execution.orders import order_name
from execution.runtime import Runtime

S = OrderStatus


async def _runtime(engine, clock, path) -> tuple[Runtime, SimConnector]:
    sim = SimConnector(engine=engine, clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=path)
    await runtime.start()
    await clock.advance(0.5)  # first book snapshots
    return runtime, sim


async def _crash(runtime: Runtime, journal_path, copy_to) -> None:
    """What a killed process leaves: the journal files as they are on disk, no stop(), no end of run.

    The files are copied while the old connection is still open (nothing checkpointed or
    closed); then the old process's tasks and stream subscriptions cease to exist.
    """
    for suffix in ("", "-wal", "-shm"):
        src = journal_path.with_name(journal_path.name + suffix)
        if src.exists():
            shutil.copyfile(src, copy_to.with_name(copy_to.name + suffix))
    runtime.reconciler._heartbeat.cancel()
    for connector in runtime.connectors.values():
        await connector.stop()


def _venue_open(engine) -> dict[int, tuple[S, int]]:
    return {s.client_order_index: (s.status, s.filled_i) for s in engine.open_orders()}


def _our_live(runtime) -> dict[int, tuple[S, int]]:
    return {o.client_order_index: (o.state, o.filled_i) for o in runtime.orders.open_orders("sim")}


@pytest.fixture
def engine(clock) -> SimEngine:
    return SimEngine(7, clock=clock)


async def test_restart_after_an_abrupt_stop_loses_nothing_and_doubles_nothing(engine, clock, tmp_path):
    path = tmp_path / "a" / "journal.sqlite3"
    a, sim_a = await _runtime(engine, clock, path)
    md = a.market_data
    bid_i, ask_i = md.top_of_book("sim", "BTC")
    tick = md.market("sim", "BTC").tick_i
    size = md.to_size_i("sim", "BTC", Decimal("0.01"))
    resting = await a.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i - 100 * tick)
    bought = await a.orders.submit_market("sim", "BTC", is_ask=False, size_i=size)
    sim_a.inject_drop()
    lost = await a.orders.submit_limit("sim", "BTC", is_ask=True, size_i=size, price_i=ask_i + 100 * tick)
    assert (resting.state, bought.state, lost.state) == (S.OPEN, S.FILLED, S.UNKNOWN)
    before = {o.client_order_index for o in a.orders.orders}

    copy = tmp_path / "b" / "journal.sqlite3"
    copy.parent.mkdir()
    await _crash(a, path, copy)

    b, _ = await _runtime(engine, clock, copy)
    after = {o.client_order_index: o for o in b.orders.orders}
    assert set(after) == before  # none lost, none adopted twice
    assert after[lost.client_order_index].state == S.OPEN
    assert after[lost.client_order_index].order_id is not None
    assert after[bought.client_order_index].state == S.FILLED
    assert _our_live(b) == _venue_open(engine)
    venue_pos = engine.position("BTC-PERP").size_i
    assert venue_pos == size and b.positions.size_i("sim", "BTC") == venue_pos

    changes = [(r.subject, r.change) for r in b.reconciler.log]
    assert ("run", "previous run did not stop cleanly") in changes
    assert any(s.startswith(f"order {order_name(after[lost.client_order_index])} ") and c == "UNKNOWN -> OPEN" for s, c in changes)
    assert ("position BTC", "size 0.0000 -> 0.0100") in changes

    nxt = await b.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i - 200 * tick)
    assert nxt.client_order_index > max(before)
    await b.orders.cancel(after[lost.client_order_index])
    assert after[lost.client_order_index].state == S.CANCELLED
    await b.stop()


async def test_changes_made_at_the_venue_during_an_outage_are_reconciled_on_reconnect(engine, clock, tmp_path):
    runtime, sim = await _runtime(engine, clock, tmp_path / "journal.sqlite3")
    md = runtime.market_data
    bid_i, ask_i = md.top_of_book("sim", "BTC")
    tick = md.market("sim", "BTC").tick_i
    size = md.to_size_i("sim", "BTC", Decimal("0.01"))
    to_cancel = await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i - 100 * tick)
    to_fill = await runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=size, price_i=ask_i + 100 * tick)
    untouched = await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i - 300 * tick)

    sim.disconnect(duration_s=None)
    engine.cancel("BTC-PERP", client_order_index=to_cancel.client_order_index)
    engine.trade_through("BTC-PERP", is_ask=False, price_i=to_fill.price_i, size_i=size)
    assert (to_cancel.state, to_fill.state) == (S.OPEN, S.OPEN)  # the stream lost both events
    assert runtime.positions.size_i("sim", "BTC") == 0

    sim.reconnect()
    await runtime.reconciler.wait_idle()

    assert to_cancel.state == S.CANCELLED
    assert to_fill.state == S.FILLED and to_fill.filled_i == size
    assert untouched.state == S.OPEN
    assert _our_live(runtime) == _venue_open(engine)
    assert runtime.positions.size_i("sim", "BTC") == engine.position("BTC-PERP").size_i == -size

    log = {r.subject.split()[1]: r for r in runtime.reconciler.log if r.subject.startswith("order")}
    assert log[order_name(to_cancel)].change == "OPEN -> CANCELLED"
    assert log[order_name(to_fill)].change == "OPEN -> FILLED, filled 0.0000 -> 0.0100"
    assert all(r.reason.startswith("reconnect") for r in log.values())
    assert order_name(untouched) not in log
    stored = runtime.journal.load_reconcile_log()
    assert {r["change"] for r in stored} >= {"OPEN -> CANCELLED", "OPEN -> FILLED, filled 0.0000 -> 0.0100"}
    await runtime.stop()


async def test_a_clean_stop_disarms_the_dead_man_switch_and_ends_the_run(engine, clock, tmp_path):
    runtime, sim = await _runtime(engine, clock, tmp_path / "journal.sqlite3")
    assert sim._dms is not None  # armed by the first reconcile pass
    await clock.advance(runtime.reconciler.interval_s * 5)  # kept armed by the heartbeat: nothing cancelled
    md = runtime.market_data
    bid_i, _ = md.top_of_book("sim", "BTC")
    tick = md.market("sim", "BTC").tick_i
    far_i = bid_i * 97 // 100 // tick * tick  # 3% below: the market will not reach it
    order = await runtime.orders.submit_limit(
        "sim", "BTC", is_ask=False, size_i=md.min_size_i("sim", "BTC"), price_i=far_i
    )
    await clock.advance(runtime.reconciler.dead_man_after_s * 2)  # the heartbeat re-arms: nothing is cancelled
    assert order.state == S.OPEN
    await runtime.stop()
    assert sim._dms is None
    (run,) = Journal(tmp_path / "journal.sqlite3").runs()
    assert run["stopped_ms"] is not None


async def test_a_corrupt_journal_stops_the_runtime_before_anything_starts(engine, clock, tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"\x00garbage" * 512)
    sim = SimConnector(engine=engine, clock=clock)
    with pytest.raises(JournalError, match="corrupt") as err:
        Runtime([sim], clock=clock, journal_path=path)
    assert str(path) in str(err.value)
    assert not sim.started


_KILLED_CHILD = """
import asyncio, os, signal, sys
from connector.clock import VirtualClock
from connector.sim.connector import SimConnector
from execution.runtime import Runtime

async def main(path):
    clock = VirtualClock()
    rt = Runtime([SimConnector(clock=clock)], clock=clock, journal_path=path)
    await rt.start()
    await clock.advance(0.5)
    bid_i, _ = rt.market_data.top_of_book("sim", "BTC")
    size = rt.market_data.min_size_i("sim", "BTC")
    await rt.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i * 97 // 100)
    await rt.orders.submit_market("sim", "BTC", is_ask=False, size_i=size)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1]))
"""


def test_the_journal_survives_a_killed_process(tmp_path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "journal.sqlite3"
    proc = subprocess.run([sys.executable, "-c", _KILLED_CHILD, str(path)], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    journal = Journal(path)
    states = sorted((o.kind, o.state) for o in journal.load_orders())
    assert states == [("limit", S.OPEN), ("market", S.FILLED)]
    assert [r["stopped_ms"] for r in journal.runs()] == [None]
