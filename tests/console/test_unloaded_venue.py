"""Defect 6 of issue 12: a journal holding a live order for a venue not loaded in this run.

The console used to crash at start (``UnknownVenue`` from the orders panel) on every start until
the journal was deleted.  Now the order is shown as "venue not loaded" and stays journaled.
"""

from __future__ import annotations

from connector.clock import VirtualClock
from connector.interface import OrderStatus
from console.app import PerpdeskApp
from console.screens.panels import describe_order, order_rows
from execution.journal import Journal
from execution.orders import Order
from execution.runtime import Runtime
from tests.console.fakes import FakeVenue
from tests.console.harness import Desk, ready, settle


def _journal_written_by_another_venue(path, now_ms: int) -> None:
    journal = Journal(path)
    journal.save_order(
        Order(
            venue="lighter",
            symbol="BTC",
            venue_symbol="BTC",
            client_order_index=4242,
            is_ask=False,
            kind="limit",
            price_i=6_500_000,
            size_i=100,
            state=OrderStatus.OPEN,
            order_id="777",
            created_ms=now_ms,
            updated_ms=now_ms,
        )
    )
    journal.close()


async def test_the_console_starts_on_one_venue_with_a_journal_written_by_another(tmp_path):
    clock = VirtualClock()
    path = tmp_path / "journal.sqlite3"
    _journal_written_by_another_venue(path, clock.now_ms())
    venue = FakeVenue(clock, seed=7)
    runtime = Runtime({"sim": venue}, clock=clock, journal_path=path)
    desk = Desk(PerpdeskApp(runtime, clock=clock), venue, runtime, clock)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("1")
        await settle(desk, pilot)
        assert desk.app.is_running
        md, orders = runtime.market_data, runtime.orders
        ghost = orders.get("lighter", 4242)
        assert ghost is not None and ghost.state == OrderStatus.OPEN  # kept, not resolved against another venue
        row = order_rows(md, orders)["lighter:4242"]
        assert "venue not loaded" in " ".join(row)
        assert "venue not loaded" in describe_order(md, ghost)
    kept = {(o.venue, o.client_order_index): o.state for o in Journal(path).load_orders()}
    assert kept[("lighter", 4242)] == OrderStatus.OPEN
