"""The runtime (order service, reconciler) on Lighter through the fake venue."""

from __future__ import annotations

import asyncio

import pytest

from connector.interface import ConnectionState, OrderStatus
from connector.keys import load_key_file
from connector.lighter.connector import LighterConnector
from execution.runtime import Runtime
from tests.connector.lighter.test_connector import until
from tests.fakes.lighter import FakeLighter, write_key_file


@pytest.fixture
async def fake():
    venue = await FakeLighter(step_s=0.02).start()
    yield venue
    await venue.stop()


@pytest.fixture
async def runtime(fake, tmp_path):
    path = tmp_path / "lighter.toml"
    write_key_file(path, account_index=fake.account_index, api_key_index=fake.api_key_index)
    conn = LighterConnector(
        base_url=fake.base_url,
        ws_url=fake.ws_url,
        keys=load_key_file(path),
        reconnect_min_s=0.02,
        reconnect_max_s=0.1,
        requests_per_min=60_000,
    )
    rt = Runtime([conn], journal_path=tmp_path / "journal.sqlite")
    await rt.start()
    await until(lambda: rt.market_data.top_of_book("lighter", "BTC")[0] is not None)
    yield rt
    await rt.stop()


async def _bid(rt: Runtime, pct: int = 2) -> int:
    bid, _ = rt.market_data.top_of_book("lighter", "BTC")
    return bid * (100 - pct) // 100


async def test_an_order_rests_fills_and_moves_the_position(runtime, fake):
    price = await _bid(runtime)
    order = await runtime.orders.submit_limit("lighter", "BTC", is_ask=False, size_i=20, price_i=price)
    # Lighter acks asynchronously (async_ack): the order is OPEN once the venue's stream says so
    await until(lambda: order.state is OrderStatus.OPEN)
    fake.engine.trade_through("BTC-PERP", is_ask=True, price_i=price, size_i=20)
    await order.wait_final(timeout=30)
    assert (order.state, order.filled_i, len(order.fills)) == (OrderStatus.FILLED, 20, 1)


async def test_a_fill_made_while_disconnected_is_booked_once_with_the_venues_trade_id(runtime, fake):
    conn = runtime.connectors["lighter"]
    price = await _bid(runtime)
    order = await runtime.orders.submit_limit("lighter", "BTC", is_ask=False, size_i=20, price_i=price)
    await until(lambda: any(o.client_order_index == order.client_order_index for o in fake.engine.open_orders()))
    await fake.drop_sockets()
    fake.engine.trade_through("BTC-PERP", is_ask=True, price_i=price, size_i=20)  # its events go nowhere
    trade_id = str(fake._own_trades[-1]["trade_id"])
    await until(lambda: conn.reconnects == 1 and conn.connection_state["lighter"] is ConnectionState.CONNECTED)
    await order.wait_final(timeout=30)
    await until(lambda: order.fills)  # from the account_all_trades snapshot, whoever saw FILLED first
    await runtime.reconciler.wait_idle()
    assert (order.state, order.filled_i) == (OrderStatus.FILLED, 20)
    assert [(f.trade_id, f.size_i) for f in order.fills] == [(trade_id, 20)]
    assert runtime.positions.duplicate_fills == 0


async def test_an_accepted_order_stays_submitting_until_the_venue_confirms(runtime, fake):
    fake.tx_delay_s = 0.3
    price = await _bid(runtime)
    order = await runtime.orders.submit_limit("lighter", "BTC", is_ask=False, size_i=20, price_i=price)
    assert order.state is OrderStatus.SUBMITTING
    await until(lambda: order.state is OrderStatus.OPEN)


async def test_a_post_only_the_venue_cancels_ends_rejected(runtime, fake):
    conn = runtime.connectors["lighter"]
    _, ask = runtime.market_data.top_of_book("lighter", "BTC")
    conn.stream.chains[1].asks.clear()  # let it through our guard: the venue refuses it
    fake.tx_delay_s = 0.2  # as on the venue, the refusal comes after sendTx answered
    order = await runtime.orders.submit_limit(
        "lighter", "BTC", is_ask=False, size_i=20, price_i=ask + 50, post_only=True
    )
    await asyncio.wait_for(order.wait_final(), 30)
    assert order.state is OrderStatus.REJECTED and "post-only" in order.reason
