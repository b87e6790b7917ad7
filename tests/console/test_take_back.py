"""``z`` takes back what was just placed: an order a chase or algo drives is taken back with it (cancelled
alone, the chase placed another and kept working while the trader thought it taken back)."""

from __future__ import annotations

from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run
from tests.console.test_fast_keys import _an_older_resting_order


async def _steps(desk, pilot, seconds: float = 0.5) -> None:
    for _ in range(3):
        await settle(desk, pilot)
    await desk.clock.advance(seconds)
    await settle(desk, pilot)


async def test_z_after_a_chase_started_ends_the_chase_and_leaves_the_older_order():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        await run(desk, pilot, "chase buy 0.01 BTC")
        await _steps(desk, pilot)
        [chase] = desk.runtime.tracking.chases.values()
        assert not chase.is_done and len(desk.runtime.orders.open_orders()) == 2, "the chase's order is not resting"
        await pilot.press("z")
        await _steps(desk, pilot)
        await _steps(desk, pilot)
        assert chase.is_done, "z cancelled the chase's order and the chase went on"
        assert desk.runtime.orders.open_orders() == [old]
        await pilot.press("z")  # the next z takes the older order back
        await _steps(desk, pilot)
        assert desk.runtime.orders.open_orders() == []


async def test_z_after_a_scale_takes_back_all_its_orders_and_ends_it():
    """Before: z cancelled the scale's newest order only, four of its five still resting."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        await run(desk, pilot, "scale buy 0.1 BTC 64900..64800 x5")
        await pilot.press("enter")  # the preview's Send
        await _steps(desk, pilot)
        [scale] = desk.runtime.algos.algos.values()
        assert len(desk.runtime.orders.open_orders()) == 6
        await pilot.press("z")
        await _steps(desk, pilot)
        await _steps(desk, pilot)
        assert scale.is_done
        assert desk.runtime.orders.open_orders() == [old]


async def test_cancel_last_ends_a_paused_chase_as_z_does():
    """Before: ``cancel last`` looked at open orders only and said there were none (the paused chase's
    order pulled), while the chase stayed, paused, to resume later."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "chase buy 0.01 BTC")
        await _steps(desk, pilot)
        [chase] = desk.runtime.tracking.chases.values()
        chase.pause()
        await _steps(desk, pilot)
        assert desk.runtime.orders.open_orders() == [] and not chase.is_done
        await run(desk, pilot, "cancel last")
        await _steps(desk, pilot)
        assert chase.is_done
