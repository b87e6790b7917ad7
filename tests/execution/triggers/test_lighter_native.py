"""The trigger engine's native path on Lighter (through its fake on 127.0.0.1): the venue holds stops
and take-profits as stop-loss / take-profit orders and fires them itself; its trailing stop stays with
perpdesk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from connector.keys import load_key_file
from connector.lighter.connector import LighterConnector
from execution.runtime import Runtime
from execution.triggers import TriggerState
from tests.fakes.lighter import FakeLighter, write_key_file

VENUE = "lighter"
ENGINE = "BTC-PERP"  # the fake's sim engine names the market so


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def _fake(tmp_path) -> FakeLighter:
    fake = await FakeLighter(step_s=0.02).start()
    write_key_file(tmp_path / "lighter.toml", account_index=fake.account_index, api_key_index=fake.api_key_index)
    return fake


async def _runtime(fake: FakeLighter, tmp_path) -> Runtime:
    keys = load_key_file(tmp_path / "lighter.toml")
    connector = LighterConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys)
    runtime = Runtime([connector], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    await _until(lambda: runtime.market_data.mid_i(VENUE, "BTC") is not None)
    return runtime


async def _long(runtime: Runtime, fake: FakeLighter) -> int:
    size_i = runtime.market_data.to_size_i(VENUE, "BTC", "0.01")
    entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=size_i)
    await entry.wait_final(timeout=5)
    await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == size_i)
    return size_i


async def test_a_stop_the_venue_fires_while_the_socket_is_down_is_settled_from_its_record(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    try:
        await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: bool(fake.engine.triggers))
        down = asyncio.Event()
        runtime.connectors[VENUE].add_handler(
            "connection", lambda e: down.set() if e.state.name == "DISCONNECTED" else None
        )
        await fake.drop_sockets()
        fake.engine.set_mid(ENGINE, fake.engine.mid_i(ENGINE) * 95 // 100)  # fires with nobody listening
        fake.engine.advance_to(fake.clock.now_ms())
        assert not fake.engine.triggers and fake.engine.account.positions[ENGINE].size_i == 0
        await asyncio.wait_for(down.wait(), 10)
        await _until(lambda: t.is_done)  # the reconnect reads the venue again: it fired, its child filled
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert t.child is not None and t.child.is_ask
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_whole_position_stop_is_re_armed_for_the_new_size_new_first_so_the_position_is_never_bare(tmp_path):
    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    book = fake.engine.triggers
    bare: list[int] = []
    cancel = book.cancel

    def cancel_and_check(symbol: str, coi: int):  # every cancel at the venue must leave a stop armed
        snap = cancel(symbol, coi)
        if not book.snapshots(symbol):
            bare.append(coi)
        return snap

    book.cancel = cancel_and_check
    try:
        size = await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [size])  # Lighter holds the size it was given
        first = t.venue_ref
        for _ in range(2):  # two fills in a row: re-armed once they settle
            entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=size)
            await entry.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == 3 * size)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [3 * size])
        await _until(lambda: t.venue_ref != first)  # the venue cancels the old one before its answer reaches us
        assert [s.client_order_index for s in book.snapshots()] == [t.venue_ref]
        assert t.state is TriggerState.ARMED and any("re-armed" in e for e in t.events), t.events
        trim = await runtime.orders.submit_market(VENUE, "BTC", is_ask=True, size_i=size, reduce_only=True)
        await trim.wait_final(timeout=5)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [2 * size])  # and when it shrinks
        await _until(lambda: t.armed_size_i == 2 * size)
        assert bare == []
        await runtime.stop()  # the size it is armed for survives a restart: no needless re-arm after it
        runtime = await _runtime(fake, tmp_path)
        (t,) = runtime.triggers.active()
        assert t.armed_size_i == 2 * size and t.venue_ref == book.snapshots()[0].client_order_index
        fake.engine.set_mid(ENGINE, fake.engine.mid_i(ENGINE) * 95 // 100)
        await _until(lambda: t.is_done)
        assert t.state is TriggerState.DONE and t.end_reason == "filled", t.events
        assert fake.engine.account.positions[ENGINE].size_i == 0  # the whole position, grown and trimmed
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_stop_moved_while_the_position_settles_is_re_armed_for_the_size_the_move_armed(tmp_path):
    # 7 lots (armed 7) -> 5 -> the stop is moved before the quiet window ends, so the venue holds it for 5
    # -> back to 7: the stop must be re-armed for 7, not left closing 5 of 7 (the trigger's quiet window
    # runs on a virtual clock, so "before it ends" is the test's to decide)
    from connector.clock import VirtualClock

    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    book = fake.engine.triggers
    clock = runtime.triggers.clock = VirtualClock()
    try:
        lot = await _long(runtime, fake)

        async def trade(lots: int) -> None:
            order = await runtime.orders.submit_market(
                VENUE, "BTC", is_ask=lots < 0, size_i=abs(lots) * lot, reduce_only=lots < 0
            )
            await order.wait_final(timeout=5)

        async def position(lots: int) -> None:
            await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == lots * lot)

        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [lot])
        await trade(6)
        await position(7)
        await clock.advance(1.0)  # quiet: re-armed for 7
        await _until(lambda: [s.size_i for s in book.snapshots()] == [7 * lot] and t.armed_size_i == 7 * lot)
        await trade(-2)
        await position(5)
        await runtime.triggers.move(t, mid * 97 // 100)  # within the quiet window: the venue arms it for 5
        await _until(lambda: [s.size_i for s in book.snapshots()] == [5 * lot])
        await trade(2)
        await position(7)
        await clock.advance(1.0)  # quiet again: the venue holds 5, the position is 7
        await _until(lambda: [s.size_i for s in book.snapshots()] == [7 * lot] and t.armed_size_i == 7 * lot)
        assert [s.client_order_index for s in book.snapshots()] == [t.venue_ref]
        assert t.state is TriggerState.ARMED, t.events
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_stop_cancelled_while_it_is_being_re_armed_leaves_nothing_resting_at_the_venue(tmp_path):
    # the re-arm has placed the new one and cancelled the old one, but has not recorded the new one yet,
    # when the trader cancels: the cancel must take the new one off the venue, not leave it resting
    from connector.clock import VirtualClock

    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    book = fake.engine.triggers
    clock = runtime.triggers.clock = VirtualClock()
    connector = runtime.connectors[VENUE]
    cancel = connector.cancel_trigger_order
    held, go = asyncio.Event(), asyncio.Event()

    async def cancel_then_hold(symbol: str, coi: int) -> None:  # the re-arm's cancel of the old one
        await cancel(symbol, coi)
        if not held.is_set():
            held.set()
            await go.wait()

    try:
        lot = await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [lot])
        entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=lot)
        await entry.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == 2 * lot)
        connector.cancel_trigger_order = cancel_then_hold
        await clock.advance(1.0)  # quiet: the re-arm places the new one, cancels the old one, and is held there
        await asyncio.wait_for(held.wait(), 10)
        assert [s.size_i for s in book.snapshots()] == [2 * lot]
        cancelling = asyncio.ensure_future(runtime.triggers.cancel(t))
        with contextlib.suppress(TimeoutError):  # the cancel runs as far as it can meanwhile (to its end, unserialised)
            await asyncio.wait_for(asyncio.shield(cancelling), 2)
        go.set()
        await asyncio.wait_for(cancelling, 10)
        await _until(lambda: t.is_done)
        assert t.state is TriggerState.CANCELLED, t.events
        await _until(lambda: not book.snapshots())  # nothing left resting for a stop the trader cancelled
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_stop_moved_while_the_venues_account_lags_the_fills_is_re_armed_for_the_position(tmp_path):
    # the move arms it for the position as the venue's account read says (5 lots, not yet showing the last
    # fill); the position as the fills say is 7: it is re-armed for 7 once quiet, as after a change
    from connector.clock import VirtualClock

    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    book = fake.engine.triggers
    clock = runtime.triggers.clock = VirtualClock()
    connector = runtime.connectors[VENUE]
    try:
        lot = await _long(runtime, fake)
        entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=6 * lot)
        await entry.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == 7 * lot)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [7 * lot] and t.armed_size_i == 7 * lot)

        async def lagging(symbol: str, kind: str, *, is_ask: bool, reduce_only: bool) -> int:
            return 5 * lot

        connector.whole_position_size = lagging
        await runtime.triggers.move(t, mid * 97 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [5 * lot])
        del connector.whole_position_size
        await clock.advance(1.0)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [7 * lot] and t.armed_size_i == 7 * lot)
        assert t.state is TriggerState.ARMED and [s.client_order_index for s in book.snapshots()] == [t.venue_ref]
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_reconnect_while_a_stop_is_being_re_armed_reads_the_venue_after_the_re_arm(tmp_path):
    # the re-arm has placed the new one and cancelled the old one, but not recorded the new one yet, when the
    # socket comes back: reading the venue then would find the old one gone and call the stop cancelled
    from connector.clock import VirtualClock

    fake = await _fake(tmp_path)
    runtime = await _runtime(fake, tmp_path)
    book = fake.engine.triggers
    clock = runtime.triggers.clock = VirtualClock()
    connector = runtime.connectors[VENUE]
    cancel = connector.cancel_trigger_order
    held, go = asyncio.Event(), asyncio.Event()

    async def cancel_then_hold(symbol: str, coi: int) -> None:  # the re-arm's cancel of the old one
        await cancel(symbol, coi)
        if not held.is_set():
            held.set()
            await go.wait()

    try:
        lot = await _long(runtime, fake)
        mid = runtime.market_data.mid_i(VENUE, "BTC")
        t = await runtime.triggers.place(VENUE, "BTC", kind="stop_market", is_ask=True, trigger_price_i=mid * 98 // 100)
        await _until(lambda: [s.size_i for s in book.snapshots()] == [lot])
        entry = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=lot)
        await entry.wait_final(timeout=5)
        await _until(lambda: runtime.positions.size_i(VENUE, "BTC") == 2 * lot)
        connector.cancel_trigger_order = cancel_then_hold
        await clock.advance(1.0)
        await asyncio.wait_for(held.wait(), 10)
        states: list[str] = []
        connector.add_handler("connection", lambda e: states.append(e.state.name))
        await fake.drop_sockets()
        await _until(lambda: "DISCONNECTED" in states and states[-1] == "CONNECTED")  # the venue is read again
        with contextlib.suppress(AssertionError):  # the reconnect's read runs as far as it can meanwhile
            await _until(lambda: t.is_done, timeout=2)
        go.set()
        await _until(lambda: t.armed_size_i == 2 * lot)
        assert t.state is TriggerState.ARMED, t.events
        assert [s.client_order_index for s in book.snapshots()] == [t.venue_ref]
    finally:
        await runtime.stop()
        await fake.stop()
