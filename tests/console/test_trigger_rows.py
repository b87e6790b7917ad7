"""Rows of the Orders tab and the Triggers tab for protective orders (plain Python, no screen)."""

from __future__ import annotations

from console.screens.panels import ORDER_COLUMNS, describe_order, order_rows
from execution.orders import Order
from tests.execution.triggers.harness import SYMBOL, VENUE_SYMBOL, TriggerDesk

COLUMN = {key: i for i, (key, _) in enumerate(ORDER_COLUMNS)}


class _Orders:
    def __init__(self, *orders: Order) -> None:
        self.orders = orders

    def open_orders(self, venue: str | None = None) -> list[Order]:
        return list(self.orders)


def _order(coi: int, price_i: int, kind: str = "limit") -> Order:
    # how a native trigger's child arrives: adopted from the order stream as a limit, reduce-only
    return Order("sim", SYMBOL, VENUE_SYMBOL, coi, True, kind, price_i, 100, reduce_only=True, parent_id=None)


async def test_a_native_triggers_market_child_shows_market_not_a_price_of_zero_and_a_limit_child_its_limit(
    clock, tmp_path
):
    desk = await TriggerDesk(clock, tmp_path, emulate=False).start()
    try:
        md = desk.runtime.market_data
        market_child, limit_child = _order(41, 0), _order(42, desk.mid() - 60)
        rows = order_rows(md, _Orders(market_child, limit_child))
        row = rows["sim:41"]
        assert (row[COLUMN["kind"]], row[COLUMN["price"]]) == ("market", "market")
        assert "0" not in row[COLUMN["price"]] and describe_order(md, market_child).endswith("at market")
        limit = rows["sim:42"]
        assert (limit[COLUMN["kind"]], limit[COLUMN["price"]]) == ("limit", md.format_price("sim", SYMBOL, desk.mid() - 60))
        assert order_rows(md, _Orders(_order(43, 0, "market")))["sim:43"][COLUMN["price"]] == "market"
    finally:
        await desk.stop()
