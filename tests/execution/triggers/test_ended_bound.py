"""Ended triggers kept in memory are bounded (``forget.MAX_ENDED_TRIGGERS``), with their orders (issue 18: every
stop and take-profit ever placed stayed in ``runtime.triggers``); armed ones always stay."""

from __future__ import annotations

from execution.triggers.forget import MAX_ENDED_TRIGGERS
from tests.execution.triggers.harness import SIZE, SYMBOL

EXTRA = 10


async def test_the_oldest_ended_triggers_and_their_orders_are_forgotten_armed_ones_stay(desk):
    await desk.open(SIZE)
    mid = desk.mid()
    armed = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 500)
    fired = await desk.triggers.place("sim", SYMBOL, kind="take_profit_limit", is_ask=True, trigger_price_i=mid + 100,
                                      limit_price_i=mid + 90, size_i=SIZE // 2)  # fmt: skip
    await desk.move(mid + 100)
    assert await desk.until(lambda: fired.is_done) and fired.child is not None
    await desk.move(mid)
    ended = [fired]
    for _ in range(MAX_ENDED_TRIGGERS + EXTRA):
        t = await desk.triggers.place("sim", SYMBOL, kind="stop_market", is_ask=True, trigger_price_i=mid - 100)
        ended.append(await desk.drive(desk.triggers.cancel(t)))
    gone, kept = ended[: EXTRA + 1], ended[EXTRA + 1 :]
    assert set(desk.triggers.triggers) == {armed.id, *(t.id for t in kept)}
    assert all(desk.triggers.get(t.id) is None for t in gone)
    assert desk.triggers.active() == [armed] and desk.triggers.on("sim", SYMBOL) == [armed]
    if not fired.native:  # its order went with it (the journal keeps both); a native one's order is the
        assert fired.child not in desk.runtime.orders.orders  # venue's own, under the closed-orders bound
    gone_ids = {t.id for t in gone}
    assert not any(o.parent_id in gone_ids for o in desk.runtime.orders.orders)
