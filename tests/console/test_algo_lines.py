"""The command bar's working orders: a scale or TWAP line shows its preview first and sends only on
Enter on the Send button; the chase variants start a tracking limit with them."""

from __future__ import annotations

from console.screens.algo_preview import AlgoPreviewScreen
from console.screens.dialogs import QuitScreen
from tests.console.harness import make_desk, ready, settle
from tests.console.test_command_lines import run


def preview_text(desk) -> str:
    screen = desk.app.screen
    assert isinstance(screen, AlgoPreviewScreen)
    return "\n".join(str(s.render()) for s in screen.query("Static"))


async def test_a_scale_line_previews_every_order_and_sends_on_enter():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "scale buy 0.1 BTC 64900..64800 x5 inc")
        text = preview_text(desk)
        assert "Scale BUY 0.1000 BTC on sim: 5 orders 64900.0 → 64800.0 (increasing)" in text
        rows = [line.split() for line in text.splitlines() if line.startswith("#")]
        assert rows == [["#1", "64900.0", "0.0066"], ["#2", "64875.0", "0.0133"], ["#3", "64850.0", "0.0200"],
                        ["#4", "64825.0", "0.0267"], ["#5", "64800.0", "0.0334"]]  # fmt: skip
        assert desk.venue.requests == []  # nothing sent before the answer
        await pilot.press("y")  # a letter never sends
        await settle(desk, pilot)
        assert isinstance(desk.app.screen, AlgoPreviewScreen) and desk.venue.requests == []
        await pilot.press("enter")
        await settle(desk, pilot)
        reqs = [r for r in desk.venue.requests if r[0] == "limit"]
        assert [r[4] for r in reqs] == [649_000, 648_750, 648_500, 648_250, 648_000]
        assert sum(r[3] for r in reqs) == 1_000
        [scale] = desk.runtime.algos.algos.values()
        assert scale.kind == "scale" and len(scale.children) == 5
        assert desk.app.query_one("#tabs").active == "chases"


async def test_a_twap_line_previews_its_schedule_and_escape_sends_nothing():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "twap sell 0.3 ETH 30m x30 ioc limit 3300 jitter 10%")
        text = preview_text(desk)
        assert "TWAP SELL 0.300 ETH on sim over 30m: 30 slices (IOC)" in text
        assert ["slice", "2", "+1:00", "0.010"] in [line.split() for line in text.splitlines()]
        assert "… 19 more" in text
        assert "never below 3300.00" in text and "±10% of the interval" in text
        await pilot.press("escape")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, AlgoPreviewScreen)
        assert desk.venue.requests == [] and desk.runtime.algos.algos == {}


async def test_a_twap_line_sent_starts_its_first_slice_as_a_chase():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "twap buy 0.03 ETH 3m")
        await pilot.press("enter")
        await settle(desk, pilot)
        [twap] = desk.runtime.algos.algos.values()
        assert twap.params.slices == 3 and twap.params.slice_mode == "chase"
        [chase] = desk.runtime.tracking.chases.values()
        assert chase.size_i == 10 and twap.slice_ids == [chase.id]


async def test_the_chase_variant_lines():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "chase buy 0.05 BTC to 0.2% aggr")
        [chase] = desk.runtime.tracking.chases.values()
        mid = chase.arrival_mid_i
        assert chase.params.aggressive and chase.params.limit_ppm == 2_000
        assert chase.params.limit_price_i == mid + mid * 2_000 // 1_000_000
        await run(desk, pilot, "chase sell 1 SOL trail")
        trail = next(c for c in desk.runtime.tracking.chases.values() if c.symbol == "SOL")
        assert trail.params.trail and trail.is_ask


async def test_q_asks_while_a_twap_waits_between_slices_and_cancel_ends_it():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await run(desk, pilot, "twap buy 0.03 ETH 3m ioc")
        await pilot.press("enter")
        await settle(desk, pilot)
        [twap] = desk.runtime.algos.algos.values()
        assert desk.runtime.tracking.active() == [] and not twap.is_done
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(desk.app.screen, QuitScreen)  # nothing rests, but the TWAP would go on
        await pilot.press("tab", "tab", "enter")
        for _ in range(5):
            await pilot.pause()
            await desk.app.workers.wait_for_complete()
    assert twap.end_reason is not None and twap.end_reason.value == "cancelled"
    assert not desk.runtime.started
