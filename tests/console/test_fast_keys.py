"""Keys that arrive together (one write from the terminal) go where the trader typed them.

``burst`` posts every key to the app before it handles the first, as Textual's driver does with the
keys of one read: nothing waits for a focus change between them.
"""

from __future__ import annotations

from textual import events

from console import key_gate
from tests.console.harness import make_desk, ready, settle
from tests.console.settle import until

NAMES = {" ": "space", ":": "colon", "!": "exclamation_mark", "@": "at", "$": "dollar_sign", "\r": "enter",
         "\x1b": "escape", "\t": "tab", "%": "percent_sign", ".": "full_stop"}


def burst(app, text: str) -> None:
    """Every character of ``text`` as a key event, all queued at once (``\\r`` is Enter, ``\\x1b`` Esc)."""
    for ch in text:
        key = NAMES.get(ch, ch)
        app.post_message(events.Key(key, ch if ch.isprintable() else None))


async def test_a_key_in_the_same_write_as_the_colon_is_typed_into_the_bar():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        burst(desk.app, ":2")
        await settle(desk, pilot)
        assert desk.app.focused.id == "command-input"
        assert desk.app.focused.value == "2"
        assert desk.main.query_one("#tabs").active == "orders"
        burst(desk.app, "\x1b")
        await settle(desk, pilot)
        assert not desk.main.query_one("#command-bar").is_open


async def test_command_lines_typed_back_to_back_fire_no_hotkey():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        burst(desk.app, ":buy 0.01 BTC @ 64940.5\r")
        await settle(desk, pilot)
        assert len(desk.runtime.orders.open_orders()) == 1
        burst(desk.app, ":buy 0.01 BTC mkt\r" * 3 + ":buy 0.01 BTC @ 64940.5\r")
        await settle(desk, pilot)
        for _ in range(5):
            await settle(desk, pilot)
        assert desk.app.screen is desk.main, "a dialog opened: a hotkey fired"
        kinds = [r[0] for r in desk.venue.requests]
        assert kinds.count("limit") == 2 and "cancel" not in " ".join(kinds)
        assert len(desk.runtime.orders.open_orders()) == 2
        assert not desk.main.query_one("#command-bar").is_open


async def test_after_a_send_focus_is_back_on_the_desk_and_the_next_c_is_not_typed():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        burst(desk.app, "b\t0.01\r2")
        await settle(desk, pilot)
        assert desk.main.query_one("#size").value == "0.01"
        assert desk.main.query_one("#tabs").active == "positions", "the 2 after Enter was typed into the form"
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100
        burst(desk.app, "b\t0.0x\r")  # a bad size: focus goes back to the field to fix it
        await settle(desk, pilot)
        assert desk.app.focused.id == "size"


async def test_the_orders_cursor_follows_the_newest_order_so_c_cancels_it():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        for step in (5, 6, 7):
            await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - step)
            await settle(desk, pilot)
        newest = max(desk.runtime.orders.open_orders(), key=lambda o: o.client_order_index)
        burst(desk.app, "1c")
        await settle(desk, pilot)
        await settle(desk, pilot)
        assert newest not in desk.runtime.orders.open_orders()
        assert len(desk.runtime.orders.open_orders()) == 2


async def test_z_cancels_the_newest_order_wherever_the_cursor_is():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        for step in (5, 6, 7):
            await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - step)
            await desk.clock.advance(0.01)
            await settle(desk, pilot)
        newest = max(desk.runtime.orders.open_orders(), key=lambda o: o.client_order_index)
        await pilot.press("1", "up", "up", "z")  # the cursor moved to the oldest: z still takes the newest
        await settle(desk, pilot)
        await settle(desk, pilot)
        assert newest not in desk.runtime.orders.open_orders()
        assert len(desk.runtime.orders.open_orders()) == 2


async def test_shift_b_and_s_join_the_touch_post_only_with_the_default_size():
    desk = make_desk(sizes={"BTC": "0.01", "ETH": "$500"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
        await pilot.press("B", "S")
        await settle(desk, pilot)
        buy, sell = desk.venue.requests
        assert buy[0] == "limit" and buy[3] == 100 and buy[4] == bid and buy[5] is False and buy[6] is True
        assert sell[0] == "limit" and sell[3] == 100 and sell[4] == ask and sell[5] is True and sell[6] is True
        await pilot.press("colon", *["space" if c == " " else c for c in "go SOL"], "enter")
        await settle(desk, pilot)
        await pilot.press("B")  # no default size for SOL: nothing sent
        await settle(desk, pilot)
        assert len(desk.venue.requests) == 2


async def _form_typed_up_to_the_last_digit(desk, pilot) -> None:
    """A BUY ticket at the bid with "0.0" in the size field, the last digit still to come."""
    for key in ("escape", "b", "tab", "ctrl+u", "0", ".", "0"):
        await pilot.press(key)
    await settle(desk, pilot)


async def test_s_typed_right_after_enter_does_not_turn_the_buy_being_sent_into_a_sell():
    """``…1⏎s`` in one read: Enter reads the size behind the queued 1, and the desk's ``s`` (a sell ticket:
    side and price change at once) used to act before that read, so a SELL at the ask was sent."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await _form_typed_up_to_the_last_digit(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        burst(desk.app, "1\rs")
        for _ in range(3):
            await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100 and req[4] == bid and req[5] is False, f"sent {req}, a BUY at {bid}"
        assert desk.main.query_one("#entry").is_ask, "the s after Enter did not open the sell ticket"


async def _an_older_resting_order(desk, pilot):
    """A BUY resting 50 ticks under the bid, placed before the keys under test; returns it and the bid."""
    bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
    old = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 50)
    await desk.clock.advance(0.01)
    await settle(desk, pilot)
    return old, bid


async def test_z_typed_right_after_enter_takes_back_the_order_just_sent_not_the_one_before():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, _ = await _an_older_resting_order(desk, pilot)
        await _form_typed_up_to_the_last_digit(desk, pilot)
        burst(desk.app, "1\rz")
        for _ in range(3):
            await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == [old], "z cancelled the older order and left the new one"


async def test_z_typed_right_after_a_command_line_takes_back_that_lines_order():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        old, bid = await _an_older_resting_order(desk, pilot)
        price = desk.runtime.market_data.format_price("sim", "BTC", bid - 60)
        burst(desk.app, f":buy 0.01 BTC @ {price}\rz")
        for _ in range(3):
            await settle(desk, pilot)
        assert desk.runtime.orders.open_orders() == [old], "z cancelled the older order and left the line's"


async def test_keys_held_by_a_hold_never_released_are_handled_after_the_limit_in_order(monkeypatch, caplog):
    monkeypatch.setattr(key_gate, "KEY_HOLD_LIMIT_S", 0.05)
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.app.hold_keys()  # a field removed before its callback ran: nobody releases it
        burst(desk.app, "23")
        await settle(desk, pilot)
        assert desk.main.query_one("#tabs").active == "orders", "a key went through a closed gate"
        await until(lambda: desk.main.query_one("#tabs").active == "fills", pilot, what="the held 2 and 3 handled")
        assert "keys held" in caplog.text
