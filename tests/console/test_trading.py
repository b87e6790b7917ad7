"""Trading from the keyboard: every key path (place, cancel, cancel-all, close, kill switch) on a fake venue."""

from __future__ import annotations

from console.screens.dialogs import ConfirmScreen, DestructiveScreen, KillSwitchScreen
from console.widgets.order_entry import OrderEntry
from tests.console.harness import make_desk, ready, settle


async def place_two_orders(desk, pilot) -> None:
    """Resting orders to act on, placed through the runtime (the key path for placing is tested above)."""
    bid, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
    await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
    await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=200, price_i=ask + 5)
    await settle(desk, pilot)
    assert len(desk.runtime.orders.open_orders()) == 2


def capture_notices(desk) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    desk.main._notify_now = lambda message, severity: seen.append((message, severity))
    return seen


async def test_b_tab_size_enter_places_a_limit_buy_at_the_touch():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        await pilot.press("b", "tab", *"0.01", "enter")
        await settle(desk, pilot)
        assert desk.venue.requests == [("limit", "BTC-PERP", desk.venue.requests[0][2], 100, bid, False, False, False)]
        [order] = desk.runtime.orders.open_orders()
        assert order.state == "OPEN"
        assert desk.app.query_one("#orders-table").row_count == 1
        assert desk.app.query_one("#status").view.ack_ms == 0  # virtual time: the fake answers at once
        # our order is marked on the ladder at its level
        ladder = desk.app.query_one("#ladder")
        assert any(r[0] == "bid" and r[1] == bid and r[4] == 100 for r in ladder._rows)


async def test_every_invalid_field_is_shown_inline_and_nothing_is_sent():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("s", *"x", "tab", *"0.00001", "enter")
        await settle(desk, pilot)
        assert desk.venue.requests == []
        entry = desk.app.query_one(OrderEntry)
        assert "not a number" in str(entry.query_one("#price-error").render())
        assert "decimals" in str(entry.query_one("#size-error").render())
        assert entry.query_one("#price").has_class("-invalid")


async def test_f_keys_switch_to_a_post_only_limit_sell_without_leaving_the_field():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        _, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
        await pilot.press("b", "f2", "f5", "tab", *"0.002", "f9")
        await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[4] == ask and req[5] is True and req[6] is True and req[3] == 20


async def test_f3_market_order_and_f4_size_as_quote_notional():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        _, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
        await pilot.press("b", "f3", "f4")
        assert desk.app.focused.id == "size"
        await pilot.press(*"1000", "enter")
        await settle(desk, pilot)
        [req] = desk.venue.requests
        expected = 1000 * 10**5 // ask  # 1000 USD at the ask, in 4-dp BTC, rounded down
        assert req[0] == "market" and req[3] == expected and req[4] is False


async def test_an_order_above_the_confirmation_notional_asks_first():
    desk = make_desk(confirm_above_q=100 * 10**6)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "tab", *"0.01", "enter")
        await pilot.pause()
        assert isinstance(desk.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(desk, pilot)
        assert desk.venue.requests == []
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("y")
        await settle(desk, pilot)
        assert len(desk.venue.requests) == 1


async def test_escape_leaves_the_field_and_c_cancels_the_selected_order():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "tab", *"0.01", "enter")
        await settle(desk, pilot)
        [order] = desk.runtime.orders.open_orders()
        await pilot.press("escape", "1", "c")
        await settle(desk, pilot)
        assert order.state == "CANCELLED"
        assert desk.app.query_one("#orders-table").row_count == 0


async def test_cancel_all_needs_a_confirmation():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await place_two_orders(desk, pilot)
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("n")
        await settle(desk, pilot)
        assert len(desk.runtime.orders.open_orders()) == 2
        await pilot.press("C", "y", "C", "enter")  # letters and Enter on the focused "Stay" never confirm
        await settle(desk, pilot)
        assert desk.app.screen is desk.main
        assert len(desk.runtime.orders.open_orders()) == 2
        await pilot.press("C", "f8")  # the function key again confirms
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []


async def test_x_closes_the_selected_position_with_a_reduce_only_market_order():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_000)
        await settle(desk, pilot)
        await pilot.press("2")
        assert desk.app.query_one("#positions-table").row_count == 1
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("y", "x")
        await settle(desk, pilot)
        assert desk.venue.requests == [] and isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("tab", "enter")  # Enter on the confirm button
        await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "market" and req[1] == "ETH-PERP" and req[3] == 1500 and req[4] is False and req[5] is True


async def test_kill_switch_takes_two_steps_then_cancels_everything_and_halts():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await place_two_orders(desk, pilot)
        await desk.runtime.tracking.start("sim", "BTC", is_ask=False, size_i=100)
        said: list[str] = []
        desk.main.notify = lambda text, **_: said.append(text)
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert isinstance(desk.app.screen, KillSwitchScreen)
        await pilot.press("y")  # nothing chosen yet: no effect
        await pilot.pause()
        assert isinstance(desk.app.screen, KillSwitchScreen)
        await pilot.press("k", "y")
        await settle(desk, pilot)
        assert isinstance(desk.app.screen, KillSwitchScreen), "y confirmed the kill switch"
        await pilot.press("ctrl+k")  # its own key again confirms
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []
        assert desk.runtime.risk.state == "HALTED"
        # the chase cancels its own child first; cancel-all takes the two resting orders
        assert "KILL SWITCH: 2 order(s) cancelled, 1 chase(s) stopped; trading HALTED (A re-arms)" in said, said


async def test_ctrl_k_opens_the_kill_switch_over_any_dialog_and_only_once():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await place_two_orders(desk, pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("ctrl+k", "ctrl+k")
        await pilot.pause()
        assert isinstance(desk.app.screen, KillSwitchScreen)
        assert isinstance(desk.app.screen_stack[-2], DestructiveScreen)
        await pilot.press("k", "tab", "enter")
        await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == []


async def test_a_halted_desk_refuses_orders_inline_and_shift_a_rearms_it():
    desk = make_desk(confirm_above_q=10**15)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.runtime.risk.halt("kill switch")
        await pilot.press("b", "tab", "1", "enter")
        await settle(desk, pilot)
        assert "halted" in str(desk.app.query_one("#flags-error").render())
        assert desk.venue.requests == []
        await pilot.press("escape", "A", "y")
        await settle(desk, pilot)
        assert desk.runtime.risk.state == "ACTIVE"


async def test_kill_switch_can_be_aborted():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("ctrl+k", "k", "escape")
        await settle(desk, pilot)
        assert desk.runtime.risk.state == "ACTIVE"


async def test_a_venue_rejection_is_notified_with_the_reason():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        seen = capture_notices(desk)
        await ready(desk, pilot)
        desk.venue.reject_next = "insufficient margin"
        await pilot.press("b", "tab", *"0.01", "enter")
        await settle(desk, pilot)
        assert any("REJECTED: insufficient margin" in m and s == "error" for m, s in seen)
        assert "REJECTED: insufficient margin" in str(desk.app.query_one("#entry-summary").render())
        await pilot.press("escape", "5")
        log = desk.app.query_one("#log-table")
        assert "REJECTED: insufficient margin" in str(log.get_row_at(log.row_count - 1)[-1])


async def test_fills_are_listed_and_notified():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        seen = capture_notices(desk)
        await ready(desk, pilot)
        await pilot.press("b", "f3", *"0.01", "enter")
        await settle(desk, pilot)
        assert desk.app.query_one("#fills-table").row_count == 1
        assert any(m.startswith("Filled BUY 0.0100 BTC") for m, _ in seen)
        assert desk.app.query_one("#positions-table").row_count == 1


async def test_disconnects_and_trading_state_changes_are_logged_and_notified():
    from connector.interface import ConnectionState

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        seen = capture_notices(desk)
        await ready(desk, pilot)
        desk.venue.set_connection("book", ConnectionState.DISCONNECTED, "socket closed")
        desk.runtime.risk.halt("test halt")
        await settle(desk, pilot)
        assert any("book disconnected: socket closed" in m and s == "warning" for m, s in seen)
        assert not any("connected" in m and "disconnected" not in m for m, _ in seen)  # start-up is quiet
        assert desk.app.query_one("#status").view.venues == (("sim", "disconnected"),)
        assert any("trading HALTED: test halt" in m for m, _ in seen)
        assert desk.app.query_one("#status").view.trading_state == "HALTED"
        await pilot.press("5")
        log = desk.app.query_one("#log-table")
        assert log.row_count >= 2
        desk.venue.set_connection("book", ConnectionState.CONNECTED)
        await settle(desk, pilot)
        assert any("book reconnected" in m for m, _ in seen)


async def test_editing_a_field_clears_its_error_and_the_preview_follows_the_flags():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "1", "x", "tab", "1", "enter")  # typing replaces the prefilled price
        await settle(desk, pilot)
        entry = desk.app.query_one(OrderEntry)
        assert entry.query_one("#price-error").has_class("-shown")
        assert desk.app.focused.id == "price"  # the send found an error: back to the field to fix it
        await pilot.press("end", "backspace")
        await pilot.pause()
        assert not entry.query_one("#price-error").has_class("-shown")
        assert "≈" in str(entry.query_one("#entry-summary").render())
        await pilot.press("f5")
        await pilot.pause()
        assert "post-only" in str(entry.query_one("#entry-summary").render())


async def test_the_header_shows_how_long_the_venue_took_to_answer_our_last_order():
    desk = make_desk(confirm_above_q=10**15)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.latency_s = 0.25
        await pilot.press("b", "tab", "1", "enter")
        await pilot.pause()
        assert desk.app.query_one("#status").view.ack_ms is None
        await desk.clock.advance(0.25)
        await settle(desk, pilot)
        assert desk.app.query_one("#status").view.ack_ms == 250
        assert "ack 250ms" in str(desk.app.query_one("#status").render())


async def test_the_order_form_shows_the_margin_an_order_needs_and_what_is_available():
    """Issue 13: the pre-trade check's figures in the form, before anything is sent."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "tab", *"0.1")
        await settle(desk, pilot)
        entry = desk.app.query_one(OrderEntry)
        summary = str(entry.query_one("#entry-summary").render())
        preview = desk.runtime.risk.margin_preview(*desk.main.selected, False, 1_000, None)
        assert "margin " in summary and preview.available_q is not None
        assert preview.text().split(" / ")[1] in summary and "not enough" not in summary
        await pilot.press("backspace", "backspace", "backspace", *"1000")  # 1000 BTC
        await settle(desk, pilot)
        assert "not enough" in str(entry.query_one("#entry-summary").render())
        assert desk.runtime.orders.open_orders() == []
        await pilot.press("f6")  # reduce-only needs none
        await settle(desk, pilot)
        assert "reduce-only: needs no margin" in str(entry.query_one("#entry-summary").render())
