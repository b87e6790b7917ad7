"""Issue 12, defect 4: the log names an order the way the Orders tab does (its "Order id" column), for
an order's transitions, for an order left UNKNOWN and for what the reconciler changed (sim venue, virtual
time).  The name is ``execution.orders.order_name``: the venue's order id, or ``#`` and our client
order index while the venue has not given one."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from connector.interface import OrderStatus
from connector.sim.connector import SimConnector
from connector.sim.engine import SimEngine
from console.screens.panels import ORDER_COLUMNS, order_rows
from execution.runtime import Runtime

S = OrderStatus
ID_COLUMN = [key for key, _ in ORDER_COLUMNS].index("id")


def tab_name(runtime: Runtime, order) -> str:
    """The text of the order's "Order id" cell in the Orders tab."""
    return order_rows(runtime.market_data, runtime.orders)[f"{order.venue}:{order.client_order_index}"][ID_COLUMN]


def lines_about(caplog, name: str) -> list[logging.LogRecord]:
    """Log records naming the order ``name`` (a transition line, or a reconcile line's subject)."""
    return [r for r in caplog.records if re.search(rf"\bsim order {re.escape(name)}[: ]", r.getMessage())]


async def test_transition_unknown_and_reconcile_log_lines_name_the_order_as_the_orders_tab_does(
    clock, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="execution")
    sim = SimConnector(engine=SimEngine(7, clock=clock), clock=clock)
    runtime = Runtime([sim], clock=clock, journal_path=tmp_path / "journal.sqlite3")
    await runtime.start()
    await clock.advance(0.5)
    md = runtime.market_data
    bid_i, ask_i = md.top_of_book("sim", "BTC")
    tick = md.market("sim", "BTC").tick_i
    size = md.to_size_i("sim", "BTC", Decimal("0.01"))

    resting = await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=size, price_i=bid_i - 100 * tick)
    assert resting.state is S.OPEN and resting.order_id
    name = tab_name(runtime, resting)
    assert name == resting.order_id
    assert any("-> OPEN" in r.getMessage() for r in lines_about(caplog, name))

    sim.inject_drop()  # the answer to the next request is lost: the order is UNKNOWN
    lost = await runtime.orders.submit_limit("sim", "BTC", is_ask=True, size_i=size, price_i=ask_i + 100 * tick)
    assert lost.state is S.UNKNOWN
    unknown_name = tab_name(runtime, lost)
    assert unknown_name == (lost.order_id or f"#{lost.client_order_index}")
    (warned,) = [r for r in lines_about(caplog, unknown_name) if "-> UNKNOWN" in r.getMessage()]
    assert warned.levelno == logging.WARNING

    caplog.clear()
    await runtime.reconciler.reconcile("sim", why="check")
    assert lost.state is S.OPEN
    resolved_name = tab_name(runtime, lost)  # the venue's id now, in the tab and in the log alike
    assert resolved_name == lost.order_id
    messages = [r.getMessage() for r in lines_about(caplog, resolved_name)]
    assert any(m.startswith(f"reconcile: sim order {resolved_name} ") and "UNKNOWN -> OPEN" in m for m in messages)
    assert any(m == f"sim order {resolved_name}: UNKNOWN -> OPEN ({lost.reason})" for m in messages)
    await runtime.stop()
