"""The fast keys and lines: cross, move the selected order, close part of a position, reverse it, and
``cancel last`` / ``cancel ID`` / ``close BTC 50%`` / ``reverse BTC`` / ``size BTC 0.02``."""

from __future__ import annotations

import pytest

from console.bindings import FOR_APP
from console.parsing.commands import (
    CancelLastCommand,
    CancelOrderCommand,
    CloseCommand,
    ReverseCommand,
    SizeCommand,
    SymbolRef,
    parse,
)
from console.screens.dialogs import DestructiveScreen
from console.screens.hands import part_of
from console.screens.help import current_bindings
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run


def test_the_new_lines_parse():
    assert parse("cancel last") == CancelLastCommand()
    assert parse("cancel 1001") == CancelOrderCommand("1001")
    assert parse("close BTC 50%") == CloseCommand(SymbolRef("BTC"), False, 50)
    assert parse("close BTC 25 %!") == CloseCommand(SymbolRef("BTC"), True, 25)
    assert parse("close BTC") == CloseCommand(SymbolRef("BTC"), False, 100)
    assert parse("reverse BTC") == ReverseCommand(SymbolRef("BTC"))
    assert parse("reverse sim:BTC!") == ReverseCommand(SymbolRef("BTC", "sim"), True)
    assert parse("size BTC 0.02").size_is_notional is False
    assert parse("size ETH $500") == SizeCommand(SymbolRef("ETH"), parse("size ETH 500").size, True)
    for bad in ("close BTC 0%", "close BTC 150%", "close BTC half", "size BTC", "size BTC -1"):
        with pytest.raises(ValueError):
            parse(bad)


def test_part_of_a_position_rounds_down_to_the_size_step_and_keeps_the_sign():
    assert part_of(1500, 50, 1) == 750
    assert part_of(-1500, 25, 10) == -370
    assert part_of(-1500, 100, 10) == -1500
    assert part_of(3, 25, 1) == 0


def test_the_new_keys_are_in_the_registry_and_the_help():
    ids = {b.id for b in FOR_APP}
    for wanted in ("order.cross_buy", "order.cross_sell", "order.move_up", "order.move_down",
                   "order.move_to_touch", "position.close_25", "position.close_50", "position.close",
                   "position.reverse"):
        assert wanted in ids


async def test_help_lists_the_new_keys():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        rows = {bid: keys for keys, _, bid in current_bindings(desk.app)}
        assert rows["order.cross_buy"] == "U" and rows["position.reverse"] == "R"


async def test_u_and_d_cross_at_the_touch_with_the_default_size():
    desk = make_desk(sizes={"BTC": "0.01"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
        await pilot.press("U", "D")
        await settle(desk, pilot)
        buy, sell = desk.venue.requests
        assert buy[0] == "limit" and buy[3] == 100 and buy[4] == ask and buy[5] is False and buy[6] is False
        assert sell[0] == "limit" and sell[3] == 100 and sell[4] == bid and sell[5] is True and sell[6] is False


async def test_brackets_and_equals_move_the_selected_order_by_cancel_then_replace():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5, post_only=True)
        await settle(desk, pilot)
        await pilot.press("right_square_bracket")
        await settle(desk, pilot)
        [live] = desk.runtime.orders.open_orders()
        assert live.price_i == bid - 4 and live.size_i == 100 and live.post_only
        assert [r[0] for r in desk.venue.requests] == ["limit", "limit"]  # the fake cannot amend
        await pilot.press("left_square_bracket")
        # the next key moves the order the table selects, which is the replacement only once a frame
        # has painted it (the idle wait used to let the flusher's timer do that between the keys)
        await settle(desk, pilot)
        assert desk.main._selected_order().price_i == bid - 5
        await pilot.press("left_square_bracket")
        await settle(desk, pilot)
        [live] = desk.runtime.orders.open_orders()
        assert live.price_i == bid - 6
        await pilot.press("equals_sign")
        await settle(desk, pilot)
        [live] = desk.runtime.orders.open_orders()
        assert live.price_i == desk.runtime.market_data.top_of_book("sim", "BTC")[0]


async def test_a_move_amends_in_place_where_the_venues_amend_is_fill_safe(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        order = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
        await settle(desk, pilot)
        amended = []

        async def amend(o, *, price_i, size_i=None):
            amended.append((o, price_i))
            o.price_i = price_i
            return o

        monkeypatch.setattr(desk.runtime.tracking, "may_amend", lambda venue: True)
        monkeypatch.setattr(desk.runtime.orders, "amend", amend)
        await pilot.press("right_square_bracket")
        await settle(desk, pilot)
        assert amended == [(order, bid - 4)]
        assert len(desk.venue.requests) == 1  # no cancel, no new order


async def test_v_x_and_shift_x_close_part_of_the_selected_position_after_asking():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_000)
        await settle(desk, pilot)
        await pilot.press("2", "V")
        await pilot.pause()
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("y", "V")  # letters never confirm
        await settle(desk, pilot)
        assert desk.venue.requests == []
        await pilot.press("tab", "enter")
        await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "market" and req[3] == 375 and req[4] is False and req[5] is True
        await pilot.press("X", "tab", "enter")
        await settle(desk, pilot)
        assert desk.venue.requests[-1][3] == 1125 // 2 and desk.venue.requests[-1][5] is True


async def test_r_reverses_the_selected_position_after_asking():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_000)
        await settle(desk, pilot)
        await pilot.press("2", "R")
        await pilot.pause()
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("tab", "enter")
        await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[0] == "market" and req[3] == 3000 and req[4] is False and req[5] is False
        assert desk.runtime.positions.size_i("sim", "ETH") == 1500


async def test_cancel_last_and_cancel_by_id_lines():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, ask = desk.runtime.market_data.top_of_book("sim", "BTC")
        first = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
        second = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=100, price_i=ask + 5)
        third = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=100, price_i=ask + 6)
        await settle(desk, pilot)
        await run(desk, pilot, "cancel last")
        assert desk.runtime.orders.open_orders() == [first, second]
        assert third.state == "CANCELLED"
        await run(desk, pilot, f"cancel {first.order_id}")
        assert desk.runtime.orders.open_orders() == [second]
        await run(desk, pilot, "cancel 999999")
        assert "no open order 999999" in str(desk.app.query_one("#command-error").render())


async def test_close_percent_and_reverse_lines_ask_unless_they_end_with_a_bang():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position("ETH-PERP", -1500, 345_000)
        await settle(desk, pilot)
        await run(desk, pilot, "close ETH 50%")
        assert isinstance(desk.app.screen, DestructiveScreen) and desk.venue.requests == []
        await pilot.press("escape")
        await settle(desk, pilot)
        await run(desk, pilot, "close ETH 50%!")
        assert desk.venue.requests[-1][3] == 750 and desk.venue.requests[-1][5] is True
        await run(desk, pilot, "reverse ETH")
        assert isinstance(desk.app.screen, DestructiveScreen) and len(desk.venue.requests) == 1
        await pilot.press("escape")
        await settle(desk, pilot)
        await run(desk, pilot, "reverse ETH!")
        assert desk.venue.requests[-1][3] == 1500 and desk.venue.requests[-1][4] is False
        assert desk.runtime.positions.size_i("sim", "ETH") == 750


async def test_size_line_sets_the_sessions_default_size_used_by_the_one_key_orders():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "size BTC 0.00001")  # more decimals than BTC has
        assert "decimals" in str(desk.app.query_one("#command-error").render())
        await pilot.press("escape")
        await run(desk, pilot, "size BTC 0.02")
        assert desk.main.sizes["BTC"] == "0.02"
        await pilot.press("B")
        await settle(desk, pilot)
        [req] = desk.venue.requests
        assert req[3] == 200


async def test_move_keys_typed_into_the_command_bar_or_a_field_move_nothing():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        order = await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
        await settle(desk, pilot)
        await pilot.press("colon", "left_square_bracket", "right_square_bracket", "equals_sign", "minus", "plus",
                          "escape")
        await pilot.press("b", "left_square_bracket", "right_square_bracket", "equals_sign", "escape")
        await settle(desk, pilot)
        assert order.price_i == bid - 5 and desk.runtime.orders.open_orders() == [order]
        assert len(desk.venue.requests) == 1


def test_keymap_refuses_keys_a_field_would_not_hold_back():
    from console.keymap import check_keymap

    [problem] = check_keymap({"order.move_down": "minus"})
    assert "'-'" in problem and "command bar" in problem
    assert check_keymap({"order.move_down": "left_square_bracket"}) == []
