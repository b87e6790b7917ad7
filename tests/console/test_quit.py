"""Quitting: q with live orders or chases asks; with nothing live it quits at once."""

from __future__ import annotations

from console.screens.dialogs import QuitScreen
from tests.console.harness import make_desk, ready, settle


async def rest_an_order(desk, pilot) -> None:
    bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
    await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
    await settle(desk, pilot)


async def test_q_with_nothing_live_quits_at_once():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("q")
        await pilot.pause()
        await desk.app.workers.wait_for_complete()
    assert desk.app.return_code == 0
    assert not desk.runtime.started


async def test_q_with_a_live_order_asks_and_stay_stays():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await rest_an_order(desk, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(desk.app.screen, QuitScreen)
        await pilot.press("y", "q", "enter")  # no letter answers; Enter on the focused Stay stays
        await pilot.pause()
        assert desk.app.screen is desk.main
        assert desk.runtime.started and len(desk.runtime.orders.open_orders()) == 1


async def test_q_then_cancel_them_cancels_the_order_and_quits():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await rest_an_order(desk, pilot)
        await pilot.press("q", "tab", "tab", "enter")
        for _ in range(5):
            await pilot.pause()
            await desk.app.workers.wait_for_complete()
    assert desk.runtime.orders.open_orders() == []
    assert not desk.runtime.started


async def test_q_then_leave_them_quits_with_the_order_resting():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await rest_an_order(desk, pilot)
        await pilot.press("q", "tab", "enter")
        for _ in range(5):
            await pilot.pause()
            await desk.app.workers.wait_for_complete()
    assert len(desk.runtime.orders.open_orders()) == 1
    assert not desk.runtime.started


async def test_a_hangup_leaves_live_orders_by_default_and_stops_the_runtime():
    desk = make_desk()
    assert desk.app.on_hangup == "leave"
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await rest_an_order(desk, pilot)
        await desk.app.hang_up("SIGHUP")
        await pilot.pause()
    assert len(desk.runtime.orders.open_orders()) == 1
    assert not desk.runtime.started


async def test_a_hangup_with_on_hangup_cancel_cancels_them_first():
    desk = make_desk(on_hangup="cancel")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await rest_an_order(desk, pilot)
        await desk.app.hang_up("SIGTERM")
        await pilot.pause()
    assert desk.runtime.orders.open_orders() == []
    assert not desk.runtime.started


async def test_q_with_an_emulated_stop_asks_and_cancel_them_disarms_it():
    """A stop perpdesk holds itself stops protecting the position when perpdesk quits: q must ask."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        entry = await desk.runtime.orders.submit_market("sim", "BTC", is_ask=False, size_i=100)
        await settle(desk, pilot)
        assert entry.filled_i == 100
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        stop = await desk.runtime.triggers.place("sim", "BTC", kind="stop_market", is_ask=True,
                                                 trigger_price_i=bid - 500)  # fmt: skip
        assert not stop.native and desk.runtime.orders.open_orders() == []
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(desk.app.screen, QuitScreen)
        await pilot.press("tab", "tab", "enter")
        for _ in range(5):
            await pilot.pause()
            await desk.app.workers.wait_for_complete()
    assert stop.is_done and str(stop.state) == "CANCELLED"
    assert not desk.runtime.started
