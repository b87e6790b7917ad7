"""The runtime on Backpack through the fake venue: orders, the reconciler, and the tracking limit."""

from __future__ import annotations

import pytest

from connector.backpack.connector import BackpackConnector
from connector.interface import ConnectionState, OrderStatus
from connector.keys import load_key_file
from execution.runtime import Runtime
from execution.tracking import EndReason
from tests.connector.backpack.test_connector import BTC, until
from tests.fakes.backpack import FakeBackpack


@pytest.fixture
async def fake():
    venue = await FakeBackpack(step_s=0.02).start()
    yield venue
    await venue.stop()


@pytest.fixture
async def runtime(fake, tmp_path):
    keys = load_key_file(fake.write_key_file(tmp_path / "backpack.toml"), venue="backpack")
    conn = BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, reconnect_min_s=0.02, reconnect_max_s=0.1,
        requests_per_s=1000, burst=1000,
    )  # fmt: skip
    rt = Runtime([conn], journal_path=tmp_path / "journal.sqlite")
    await rt.start()
    await until(lambda: rt.market_data.top_of_book("backpack", "BTC")[0] is not None)
    yield rt
    await rt.stop()


def _bid(rt: Runtime, pct: int = 2) -> int:
    bid, _ = rt.market_data.top_of_book("backpack", "BTC")
    return bid * (100 - pct) // 100


async def test_an_order_rests_fills_and_moves_the_position(runtime, fake):
    price = _bid(runtime)
    order = await runtime.orders.submit_limit("backpack", "BTC", is_ask=False, size_i=20, price_i=price)
    assert order.state is OrderStatus.OPEN and order.order_id
    assert order.client_order_index >= 2**32  # a wide index: only its low 32 bits travel
    fake.engine.trade_through(BTC, is_ask=True, price_i=price, size_i=20)
    await order.wait_final(timeout=30)
    assert (order.state, order.filled_i, len(order.fills)) == (OrderStatus.FILLED, 20, 1)
    await until(lambda: runtime.positions.position("backpack", "BTC") is not None)


async def test_a_fill_missed_while_disconnected_is_found_after_the_reconnect(runtime, fake):
    conn = runtime.connectors["backpack"]
    price = _bid(runtime)
    order = await runtime.orders.submit_limit("backpack", "BTC", is_ask=False, size_i=20, price_i=price)
    await fake.drop_sockets()
    fake.engine.trade_through(BTC, is_ask=True, price_i=price, size_i=20)  # its events go nowhere
    await until(lambda: conn.reconnects == 1 and conn.connection_state["backpack"] is ConnectionState.CONNECTED)
    await order.wait_final(timeout=30)
    await runtime.reconciler.wait_idle()
    assert (order.state, order.filled_i) == (OrderStatus.FILLED, 20)


async def test_a_post_only_that_would_take_ends_rejected(runtime, fake):
    _, ask = runtime.market_data.top_of_book("backpack", "BTC")
    order = await runtime.orders.submit_limit(
        "backpack", "BTC", is_ask=False, size_i=20, price_i=ask + 10, post_only=True
    )
    assert order.state is OrderStatus.REJECTED and "immediately match" in order.reason


async def test_a_cancel_is_confirmed_by_the_venue(runtime, fake):
    order = await runtime.orders.submit_limit("backpack", "BTC", is_ask=False, size_i=20, price_i=_bid(runtime))
    await runtime.orders.cancel(order)
    await order.wait_final(timeout=30)
    assert order.state is OrderStatus.CANCELLED and fake.engine.open_orders(BTC) == []


async def test_a_chase_follows_a_rising_bid_by_cancel_and_replace_and_fills(runtime, fake):
    live_children: list[int] = []
    runtime.orders.add_listener(
        lambda o: live_children.append(sum(1 for c in runtime.orders.open_orders("backpack") if c.parent_id))
    )
    chase = await runtime.tracking.start(
        "backpack", "BTC", is_ask=False, size_i=30, post_only=True, min_reprice_interval_ms=20
    )
    child = await until(lambda: chase.child if chase.child is not None and chase.child.order_id else None)
    first_price = child.price_i
    fake.engine.set_mid(BTC, fake.engine.mid_i(BTC) + 200)  # the bid runs away by 20 dollars
    await until(lambda: chase.child is not None and chase.child.order_id and chase.child.price_i > first_price)
    sent = [path for method, path, _ in fake.requests if method in ("POST", "DELETE")]
    assert sent.count("/api/v1/order") >= 3  # placed, cancelled, placed again: no amend on this venue
    fake.engine.trade_through(BTC, is_ask=True, price_i=chase.child.price_i, size_i=30)
    await chase.wait_done(timeout=30)
    assert (chase.filled_i, chase.end_reason) == (30, EndReason.FILLED)
    assert max(live_children) <= 1
    assert fake.engine.open_orders(BTC) == []
