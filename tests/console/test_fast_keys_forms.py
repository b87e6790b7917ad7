"""Keys typed right after the key that sends, in the forms and dialogs other than the order form (that one is
test_fast_keys.py): they wait until what was sent has been handed to execution, then act on the desk.

Each burst is one read from the terminal (``burst``): the last digit, Enter (or ``y``) and a desk key."""

from __future__ import annotations

from textual import events

from console.screens.algo_preview import AlgoPreviewScreen
from console.screens.chase_form import ChaseForm, LimitPriceForm
from console.screens.dialogs import ConfirmScreen, DestructiveScreen
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run
from tests.console.test_fast_keys import _an_older_resting_order, burst

BTC = "BTC-PERP"


async def _settled(desk, pilot, *, advance: float = 0.5) -> None:
    """Every queued key handled, what it started done, and the chases' timers past their first step."""
    for _ in range(3):
        await settle(desk, pilot)
    await desk.clock.advance(advance)
    await settle(desk, pilot)


def _sell_ticket_open(desk) -> bool:
    """The desk's ``s`` was handled there: the order form, on the sell side, with the price focused."""
    return desk.main.query_one("#entry").is_ask and desk.app.focused is not None and desk.app.focused.id == "price"


async def _chase_form_typed_up_to_the_last_digit(desk, pilot) -> None:
    """The chase form (a BUY: the order form's side) with "0.0" in the size field, the last digit to come."""
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(desk.app.screen, ChaseForm)
    await pilot.press("ctrl+u", "0", ".", "0")
    await settle(desk, pilot)


async def _cancel_all_asked(desk, pilot) -> None:
    """An order resting, F8 pressed: the cancel-all question up, Stay focused."""
    await _an_older_resting_order(desk, pilot)
    await pilot.press("f8")
    await pilot.pause()
    assert isinstance(desk.app.screen, DestructiveScreen)


def _the_chase(desk):
    [chase] = desk.runtime.tracking.chases.values()
    return chase


async def test_s_right_after_enter_in_the_chase_form_starts_the_buy_chase_then_opens_the_sell_ticket():
    """Before: the s went into the size field being read ("0.01s"), so no chase started at all."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _chase_form_typed_up_to_the_last_digit(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        burst(desk.app, "1\rs")
        await _settled(desk, pilot)
        assert not isinstance(desk.app.screen, ChaseForm), "the form is still up: the s was typed into it"
        chase = _the_chase(desk)
        assert not chase.is_ask and chase.size_i == 100
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100 and req[4] == bid and req[5] is False, f"sent {req}"
        assert _sell_ticket_open(desk), "the s after Enter did not reach the desk"


async def test_z_right_after_enter_in_the_chase_form_leaves_the_older_order_alone():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        await _chase_form_typed_up_to_the_last_digit(desk, pilot)
        burst(desk.app, "1\rz")
        await _settled(desk, pilot)
        chase = _the_chase(desk)
        assert not chase.is_ask and chase.size_i == 100
        assert old in desk.runtime.orders.open_orders(), "z cancelled the order from before the chase"


async def test_z_right_after_a_chase_line_leaves_the_older_order_alone():
    """Before: the bar's hold ended when the line had run, before the chase's worker had started it."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        burst(desk.app, ":chase buy 0.01 BTC\rz")
        await _settled(desk, pilot)
        chase = _the_chase(desk)
        assert not chase.is_ask and chase.size_i == 100
        assert old in desk.runtime.orders.open_orders(), "z cancelled the order from before the chase"


async def _a_long_position(desk, pilot) -> None:
    await run(desk, pilot, "buy 0.01 BTC mkt")
    assert desk.runtime.positions.size_i("sim", "BTC") == 100


def _price_text(ticks: int) -> str:
    return f"{ticks // 10}.{ticks % 10}"


async def test_s_right_after_enter_in_the_stop_price_form_places_the_typed_stop_then_opens_the_sell_ticket():
    """Before: the s went into the price field of a form about to close, and was lost."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _a_long_position(desk, pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(desk.app.screen, LimitPriceForm)
        stop = _price_text(desk.venue.mids[BTC] - 100)
        await pilot.press("ctrl+u", *stop[:-1])
        await settle(desk, pilot)
        burst(desk.app, stop[-1] + "\rs")
        await _settled(desk, pilot)
        [t] = desk.runtime.triggers.active()
        assert t.kind == "stop_market" and t.is_ask
        assert desk.runtime.market_data.format_price("sim", "BTC", t.trigger_price_i) == stop
        assert _sell_ticket_open(desk), "the s after Enter did not reach the desk"


async def test_a_tab_key_right_after_enter_in_the_chase_limit_form_switches_tab_after_the_limit_moved():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _chase_form_typed_up_to_the_last_digit(desk, pilot)
        await pilot.press("1", "enter")
        await _settled(desk, pilot)
        chase = _the_chase(desk)
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(desk.app.screen, LimitPriceForm)
        await pilot.press("ctrl+u", *"6490")
        await settle(desk, pilot)
        burst(desk.app, "0\r2")
        await _settled(desk, pilot)
        assert chase.params.limit_price_i == 649_000
        assert desk.main.query_one("#tabs").active == "positions", "the 2 after Enter did not reach the desk"


async def test_s_right_after_enter_on_a_scales_send_button_sends_the_scale_then_opens_the_sell_ticket():
    """Before: the s reached the preview as it closed, and was lost."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "scale buy 0.1 BTC 64900..64800 x5")
        assert isinstance(desk.app.screen, AlgoPreviewScreen)
        burst(desk.app, "\rs")
        await _settled(desk, pilot)
        reqs = desk.venue.requests
        assert [r[4] for r in reqs] == [649_000, 648_750, 648_500, 648_250, 648_000]
        assert all(r[0] == "limit" and r[5] is False for r in reqs) and sum(r[3] for r in reqs) == 1_000
        assert _sell_ticket_open(desk), "the s after Enter did not reach the desk"


async def _a_large_buy_asked(desk, pilot) -> None:
    """The order form's BUY 0.01 BTC at the bid, above the confirmation notional: the question is up."""
    await pilot.press("b", "tab", "ctrl+u", *"0.01", "enter")
    await pilot.pause()
    assert isinstance(desk.app.screen, ConfirmScreen)


async def test_s_right_after_y_on_a_large_order_sends_the_buy_then_opens_the_sell_ticket():
    """Before: the s reached the question as it closed, and was lost."""
    desk = make_desk(confirm_above_q=100 * 10**6)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _a_large_buy_asked(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        burst(desk.app, "ys")
        await _settled(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100 and req[4] == bid and req[5] is False, f"sent {req}"
        assert _sell_ticket_open(desk), "the s after y did not reach the desk"


async def test_z_right_after_y_on_a_large_order_takes_back_that_order():
    """Before: the z reached the question as it closed, and was lost: the order stayed."""
    desk = make_desk(confirm_above_q=100 * 10**6)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        await _a_large_buy_asked(desk, pilot)
        sent = len(desk.venue.requests)
        burst(desk.app, "yz")
        await _settled(desk, pilot)
        assert len(desk.venue.requests) == sent + 1, "the large order was not sent"
        assert desk.runtime.orders.open_orders() == [old], "z did not take back the order just sent"


async def test_b_right_after_enter_on_cancel_all_cancels_then_opens_the_buy_ticket():
    """Before: the b reached the question as it closed, and was lost."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _cancel_all_asked(desk, pilot)
        await pilot.press("tab")  # from Stay to the confirm button
        burst(desk.app, "\rb")
        await _settled(desk, pilot)
        assert desk.runtime.orders.open_orders() == []
        entry = desk.main.query_one("#entry")
        assert not entry.is_ask and desk.app.focused is not None and desk.app.focused.id == "price", \
            "the b after Enter did not reach the desk"


async def test_tab_then_enter_in_one_read_on_cancel_all_presses_the_button_tab_moved_to():
    """Before: Enter (a priority key) pressed the focused Stay while the Tab still waited in Stay's queue,
    so "Tab, Enter" typed fast answered Stay and nothing was cancelled."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _cancel_all_asked(desk, pilot)
        burst(desk.app, "\t\r")
        await _settled(desk, pilot)
        assert not isinstance(desk.app.screen, DestructiveScreen)
        assert desk.runtime.orders.open_orders() == [], "Tab then Enter answered Stay"


async def test_a_stop_typed_in_the_same_read_as_o_is_placed_at_the_price_typed():
    """The keys right behind ``o`` reach the price field, in order (the form is pushed by ``key_gate.push_form``, as
    the chase form is; this one took its focus in time even before)."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _a_long_position(desk, pilot)
        stop = _price_text(desk.venue.mids[BTC] - 100)
        burst(desk.app, "o")
        desk.app.post_message(events.Key("ctrl+u", "\x15"))
        burst(desk.app, stop + "\r")
        await _settled(desk, pilot)
        [t] = desk.runtime.triggers.active()
        assert t.kind == "stop_market" and t.is_ask
        assert desk.runtime.market_data.format_price("sim", "BTC", t.trigger_price_i) == stop


async def test_b_right_after_f8_f8_cancels_then_opens_the_buy_ticket():
    """Before: the second F8 was taken by the dialog's own key handler, after the b had already gone to the
    dialog's button: the b was lost with the dialog."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _cancel_all_asked(desk, pilot)
        desk.app.post_message(events.Key("f8", None))
        burst(desk.app, "b")
        await _settled(desk, pilot)
        assert desk.runtime.orders.open_orders() == []
        entry = desk.main.query_one("#entry")
        assert not entry.is_ask and desk.app.focused is not None and desk.app.focused.id == "price", \
            "the b after F8 F8 did not reach the desk"
