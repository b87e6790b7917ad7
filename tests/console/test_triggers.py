"""Protective orders from the console: command lines, the Triggers tab, the keys, F1 and read-only."""

from __future__ import annotations

from console.screens.chase_form import LimitPriceForm
from console.screens.help import current_bindings
from execution.triggers import TriggerState
from tests.console.harness import make_desk, ready, settle

BTC = "BTC-PERP"


async def run(desk, pilot, line: str) -> str:
    await pilot.press("colon")
    await pilot.pause()
    desk.app.focused.value = line
    await pilot.press("enter")
    await settle(desk, pilot)
    return str(desk.app.query_one("#command-error").render())


def move(desk, mid: int) -> None:
    desk.venue.mids[BTC] = mid
    desk.venue._emit_book(BTC)


def cells(desk) -> list[list[str]]:
    table = desk.app.query_one("#triggers-table")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_stop_line_arms_an_emulated_stop_shown_in_the_triggers_tab_and_it_fires_reduce_only():
    desk = make_desk()
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        assert "no position on BTC" in await run(desk, pilot, "stop BTC 64000")
        await run(desk, pilot, "buy 0.01 BTC mkt")
        mid = desk.venue.mids[BTC]
        stop_text = f"{(mid - 100) // 10}.{(mid - 100) % 10}"
        assert await run(desk, pilot, f"stop BTC {stop_text}") == ""
        [t] = desk.runtime.triggers.active()
        assert t.kind == "stop_market" and t.is_ask and t.params.size_i is None and not t.native
        assert desk.main._tabbed.active == "triggers"
        [row] = cells(desk)
        assert row[:6] == ["T1", "BTC", "SELL", "stop", "all", stop_text]
        assert row[6] == "-100" and row[7] == "-1.5 bp" and row[8] == "perpdesk (emulated)" and row[9] == "ARMED"
        sent = len(desk.venue.requests)
        move(desk, mid - 150)
        await settle(desk, pilot)
        assert t.state is TriggerState.DONE
        [req] = desk.venue.requests[sent:]
        assert req[0] == "market" and req[4] is True and req[5] is True  # a sell, reduce-only
        assert cells(desk)[0][9].startswith("DONE")


async def test_bracket_trail_tp_and_be_lines():
    desk = make_desk()
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.02 BTC mkt")
        mid = desk.venue.mids[BTC]

        def px(p: int) -> str:
            return f"{p // 10}.{p % 10}"

        assert await run(desk, pilot, f"bracket BTC sl {px(mid - 200)} tp {px(mid + 5000)}") == ""
        assert await run(desk, pilot, f"tp BTC {px(mid + 6000)} 50%") == ""
        assert await run(desk, pilot, "trail BTC 0.5%") == ""
        kinds = sorted(str(t.kind) for t in desk.runtime.triggers.active())
        assert kinds == ["stop_market", "take_profit_market", "take_profit_market", "trailing_stop"]
        half = [t for t in desk.runtime.triggers.active() if t.params.size_i is not None]
        assert [t.params.size_i for t in half] == [100]
        [stop] = [t for t in desk.runtime.triggers.active() if t.kind == "stop_market"]
        move(desk, mid + 2_500)
        await settle(desk, pilot)
        assert await run(desk, pilot, "be BTC") == ""
        view = desk.runtime.positions.position("sim", "BTC")
        assert stop.state is TriggerState.ARMED and stop.trigger_price_i > view.entry_price_i
        assert any("moved" in e for e in stop.events)


async def test_two_take_profits_at_once_never_close_more_than_the_position_even_where_the_venue_lets_them():
    desk = make_desk()  # the fake venue does not enforce reduce-only: the engine must not over-close
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "buy 0.02 BTC mkt")
        mid = desk.venue.mids[BTC]
        await run(desk, pilot, f"tp BTC {(mid + 200) // 10}.{(mid + 200) % 10}")
        await run(desk, pilot, f"tp BTC {(mid + 300) // 10}.{(mid + 300) % 10} 50%")
        move(desk, mid + 1_000)
        await settle(desk, pilot)
        assert desk.runtime.triggers.active() == []
        assert desk.venue.positions[BTC].size_i == 0 and desk.runtime.positions.size_i("sim", "BTC") == 0


async def test_keys_attach_a_stop_move_it_a_tick_and_cancel_it():
    desk = make_desk()
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "go BTC")
        await run(desk, pilot, "buy 0.01 BTC mkt")
        await pilot.press("o")
        await pilot.pause()
        form = desk.app.screen
        assert isinstance(form, LimitPriceForm)
        await pilot.press("enter")  # the proposal: 50 ticks from the entry
        await settle(desk, pilot)
        [t] = desk.runtime.triggers.active()
        entry = desk.runtime.positions.position("sim", "BTC").entry_price_i
        assert t.trigger_price_i == entry - 50 and t.kind == "stop_market"
        await pilot.press("6")
        await settle(desk, pilot)
        await pilot.press("right_square_bracket")
        await settle(desk, pilot)
        assert t.trigger_price_i == entry - 49
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(desk, pilot)
        assert t.trigger_price_i == entry - 51
        await pilot.press("c")
        await settle(desk, pilot)
        assert t.state is TriggerState.CANCELLED and desk.runtime.orders.orders[-1].state == "FILLED"


async def test_the_help_lists_the_trigger_keys_and_they_can_be_rebound():
    desk = make_desk(keymap={"trigger.breakeven": "f12"})
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        rows = {bid: keys for keys, _, bid in current_bindings(desk.app)}
        for bid in ("tabs.triggers", "trigger.attach_stop", "trigger.attach_take_profit", "triggers.cancel",
                    "triggers.tick_up", "triggers.tick_down"):
            assert bid in rows, bid
        assert rows["trigger.breakeven"] == "f12"


async def test_a_read_only_console_refuses_trigger_lines_and_keys():
    desk = make_desk(read_only=True)
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_position(BTC, 100, desk.venue.mids[BTC])
        await settle(desk, pilot)
        assert "placing a protective order" in await run(desk, pilot, "stop BTC 64000")
        await pilot.press("o", "E")
        await settle(desk, pilot)
        assert desk.runtime.triggers.active() == [] and not isinstance(desk.app.screen, LimitPriceForm)


async def test_the_ladder_marks_stop_and_take_profit_levels_emulated_told_apart():
    from console.widgets.ladder import DepthLadder

    desk = make_desk()
    async with desk.app.run_test(size=(140, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "go BTC")
        await run(desk, pilot, "buy 0.02 BTC mkt")
        mid = desk.venue.mids[BTC]
        await run(desk, pilot, f"bracket BTC sl {(mid - 5) // 10}.{(mid - 5) % 10} tp {(mid + 5) // 10}.{(mid + 5) % 10}")
        await settle(desk, pilot)
        ladder = desk.app.query_one(DepthLadder)
        marked = {r[1]: r[6] for r in ladder._rows if r[0] in ("bid", "ask") and r[6]}
        # each level sits on the book row nearest its price (the fake's levels are one tick apart)
        assert marked == {mid - 5: "stop~", mid + 5: "take-profit~"}
        lines = [ladder.render_line(y).text for y in range(len(ladder._rows))]
        assert any("SL ○" in line for line in lines) and any("TP ○" in line for line in lines)
        for t in desk.runtime.triggers.active():  # the marks go with the triggers
            await desk.runtime.triggers.cancel(t)
        await settle(desk, pilot)
        assert not any(r[6] for r in ladder._rows if r[0] in ("bid", "ask"))


def test_distance_from_the_mark_in_ticks_and_basis_points():
    from console.screens.triggers_panel import distance

    assert distance(649_500 - 6, 649_500, 1) == ("-6", "-0.0 bp")  # under a tenth of a basis point
    assert distance(649_500 - 100, 649_500, 1) == ("-100", "-1.5 bp")  # a percent would need three decimals
    assert distance(649_500 - 400, 649_500, 1) == ("-400", "-6.1 bp")
    assert distance(670_000, 640_000, 5) == ("+6000", "+468.7 bp")
    assert distance(640_000 - 64_000, 640_000, 1) == ("-64000", "-1000.0 bp")
    assert distance(None, 640_000, 1) == ("-", "-")
