"""Tracking limits from the keyboard: start from the form, then pause/resume, move the limit, cancel."""

from __future__ import annotations

from console.screens.chase_form import ChaseForm, LimitPriceForm
from tests.console.harness import make_desk, ready, settle


async def start_chase(desk, pilot, size="0.01"):
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(desk.app.screen, ChaseForm)
    await pilot.press(*size, "enter")
    await settle(desk, pilot)
    await desk.clock.advance(0.5)
    await settle(desk, pilot)
    [chase] = [c for c in desk.runtime.tracking.chases.values() if not c.is_done][-1:]
    return chase


async def test_t_opens_the_form_and_enter_starts_a_chase_at_the_touch():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        chase = await start_chase(desk, pilot)
        assert not chase.is_ask and chase.size_i == 100
        assert chase.child is not None and chase.child.price_i == bid
        table = desk.app.query_one("#chases-table")
        assert table.row_count == 1
        assert desk.app.query_one("#tabs").active == "chases"


async def test_an_invalid_chase_is_shown_inline_and_not_started():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("t", *"0.00001", "tab", *"abc", "enter")
        await pilot.pause()
        form = desk.app.screen
        assert isinstance(form, ChaseForm)
        assert "decimals" in str(form.query_one("#chase-size-error").render())
        assert "price above zero" in str(form.query_one("#chase-limit-error").render())
        assert desk.runtime.tracking.chases == {}
        await pilot.press("escape")
        assert not isinstance(desk.app.screen, ChaseForm)


async def test_p_pauses_and_resumes_the_selected_chase():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        chase = await start_chase(desk, pilot)
        await pilot.press("p")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert chase.state == "PAUSED" and chase.child is None
        await pilot.press("p")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert chase.state == "RUNNING"


async def test_l_moves_the_limit_of_a_live_chase():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        chase = await start_chase(desk, pilot)
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(desk.app.screen, LimitPriceForm)
        await pilot.press(*"64900.0", "enter")
        await settle(desk, pilot)
        assert chase.params.limit_price_i == 649_000


async def test_c_cancels_the_chase_and_its_child():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        chase = await start_chase(desk, pilot)
        child = chase.child
        await pilot.press("c")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert chase.is_done and chase.end_reason == "cancelled"
        assert child.state == "CANCELLED"


async def test_shift_k_cancels_the_chase_but_keeps_the_child_resting():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        chase = await start_chase(desk, pilot)
        child = chase.child
        await pilot.press("K")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert chase.is_done
        assert child.state == "OPEN"


async def test_a_finished_chase_is_notified_in_trader_units():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        seen = []
        desk.main._notify_now = lambda message, severity: seen.append(message)
        await ready(desk, pilot)
        chase = await start_chase(desk, pilot)
        child = chase.child
        desk.venue.fill(desk.venue.orders[child.client_order_index], 100, child.price_i)
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert chase.is_done
        price = desk.runtime.market_data.format_price("sim", "BTC", child.price_i)
        assert any(m == f"chase #1 BTC: ended (filled): 0.0100/0.0100 avg {price}" for m in seen), seen


async def test_a_new_chase_is_selected_even_when_older_ones_are_listed():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        first = await start_chase(desk, pilot)
        await pilot.press("c")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert first.is_done
        second = await start_chase(desk, pilot)
        await pilot.press("p")
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        assert second.state == "PAUSED"
