"""Lighter trigger orders (``native_triggers``) against the fake venue: the signed wire (order types
2..5 with ``TriggerPrice``), the listing apart from orders, the cancel, and the venue firing them on
its mark while the connector only hears the child under the trigger's client order index."""

from __future__ import annotations

import pytest

from connector.errors import InvalidOrder, UnknownOrder
from connector.interface import TRIGGER_KINDS, OrderStatus, SupportsTriggers
from connector.keys import load_key_file
from connector.lighter.connector import LighterConnector
from tests.connector.lighter.test_connector import _open, until
from tests.fakes.lighter import FakeLighter, write_key_file

SIZE = 1000  # 0.01 BTC
ENGINE = "BTC-PERP"  # the sim engine's name for it


@pytest.fixture
async def fake():
    venue = await FakeLighter(step_s=0.02).start()
    yield venue
    await venue.stop()


@pytest.fixture
def keys(tmp_path, fake):
    path = tmp_path / "lighter.toml"
    write_key_file(path, account_index=fake.account_index, api_key_index=fake.api_key_index)
    return load_key_file(path)


@pytest.fixture
async def lighter(fake, keys):
    conn, rec = await _open(fake, keys, reconnect_min_s=0.02, reconnect_max_s=0.1, requests_per_min=60_000)
    yield conn, rec
    await conn.stop()


def _tick(fake: FakeLighter) -> int:
    return fake.engine.markets[ENGINE].tick_i


def _p(fake: FakeLighter, price_i: int) -> int:
    return price_i - price_i % _tick(fake)


async def _long(conn: LighterConnector, rec, fake: FakeLighter, coi: int = 1) -> int:
    await conn.submit_market_order(symbol="BTC", client_order_index=coi, size_i=SIZE, is_ask=False)
    await until(lambda: any(f.client_order_index == coi for f in rec.events["fill"]))
    return fake.engine.mark_i(ENGINE)


def _trigger_txs(fake: FakeLighter) -> list[dict]:
    return [info for t, info in fake.accepted if t == 14 and info["Type"] >= 2]


def test_the_connector_declares_native_stops_and_take_profits_but_no_trailing_stop():
    assert "native_triggers" in LighterConnector.capabilities
    assert LighterConnector.trigger_kinds == frozenset(TRIGGER_KINDS) - {"trailing_stop"}
    assert LighterConnector.trigger_sources == frozenset({"mark"})


async def test_a_stop_market_is_a_signed_stop_loss_order_listed_apart_from_orders(lighter, fake):
    conn, rec = lighter
    assert isinstance(conn, SupportsTriggers)
    mark = await _long(conn, rec, fake)
    stop = _p(fake, mark * 98 // 100)
    await conn.submit_trigger_order(
        symbol="BTC", client_order_index=7, kind="stop_market", is_ask=True, trigger_price=stop, size_i=SIZE
    )
    [tx] = _trigger_txs(fake)
    assert (tx["Type"], tx["TriggerPrice"], tx["IsAsk"], tx["ReduceOnly"], tx["TimeInForce"]) == (2, stop, 1, 1, 0)
    assert tx["Price"] < stop and tx["OrderExpiry"] > 0  # worst price below the trigger; 28-day expiry
    [snap] = await conn.get_trigger_orders("BTC")
    want = ("stop_market", stop, SIZE, True, True)
    assert (snap.kind, snap.trigger_price_i, snap.size_i, snap.is_ask, snap.reduce_only) == want
    assert snap.limit_price_i is None
    assert all(o.client_order_index != 7 for o in await conn.get_open_orders("BTC"))
    assert all(o.client_order_index != 7 for o in await conn.get_open_orders())
    assert not rec.orders(7)  # its "pending" row is no order of ours


async def test_limit_kinds_carry_their_limit_and_a_whole_position_one_is_sized_to_the_position(lighter, fake):
    conn, rec = lighter
    mark = await _long(conn, rec, fake)
    tp, limit = _p(fake, mark * 103 // 100), _p(fake, mark * 102 // 100)
    await conn.submit_trigger_order(
        symbol="BTC", client_order_index=8, kind="take_profit_limit", is_ask=True, trigger_price=tp,
        size_i=None, limit_price=limit,
    )  # fmt: skip
    [tx] = _trigger_txs(fake)
    assert (tx["Type"], tx["Price"], tx["BaseAmount"], tx["TimeInForce"]) == (5, limit, SIZE, 1)
    [snap] = await conn.get_trigger_orders()
    assert (snap.kind, snap.limit_price_i, snap.trigger_price_i) == ("take_profit_limit", limit, tp)


async def test_what_the_venue_does_not_keep_is_refused_before_anything_is_sent(lighter, fake):
    conn, rec = lighter
    mark = await _long(conn, rec, fake)
    sent = len(fake.accepted)
    cases = [
        {"kind": "trailing_stop", "trigger_price": None, "trail_ppm": 5000},
        {"kind": "stop_market", "trigger_price": mark // 2, "trigger_on": "last"},
        {"kind": "stop_limit", "trigger_price": mark // 2},
        {"kind": "stop_market", "trigger_price": mark // 2, "limit_price": mark // 2},
        {"kind": "stop_market", "trigger_price": 0},
    ]
    for extra in cases:
        with pytest.raises(InvalidOrder):
            await conn.submit_trigger_order(symbol="BTC", client_order_index=9, is_ask=True, size_i=SIZE, **extra)
    with pytest.raises(InvalidOrder):  # no short to close with a whole-position buy stop
        await conn.submit_trigger_order(
            symbol="BTC", client_order_index=9, kind="stop_market", is_ask=False, trigger_price=mark * 2, size_i=None
        )
    assert len(fake.accepted) == sent


async def test_cancel_disarms_it_and_a_second_cancel_is_unknown(lighter, fake):
    conn, rec = lighter
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(
        symbol="BTC", client_order_index=11, kind="stop_market", is_ask=True,
        trigger_price=_p(fake, mark * 97 // 100), size_i=SIZE,
    )  # fmt: skip
    await conn.cancel_trigger_order("BTC", 11)
    assert await conn.get_trigger_orders("BTC") == []
    assert not fake.engine.triggers
    with pytest.raises(UnknownOrder):
        await conn.cancel_trigger_order("BTC", 11)
    await until(lambda: any(p.get("status") == "canceled" for p in fake.orders.values()))
    assert not rec.orders(11)  # a trigger cancelled before it fired is no order
    with pytest.raises(UnknownOrder):
        await conn.get_order("BTC", 11)


async def test_the_venue_fires_on_its_mark_and_the_child_comes_back_under_the_triggers_index(lighter, fake):
    conn, rec = lighter
    mark = await _long(conn, rec, fake)
    stop = _p(fake, mark * 98 // 100)
    await conn.submit_trigger_order(
        symbol="BTC", client_order_index=12, kind="stop_market", is_ask=True, trigger_price=stop, size_i=None
    )
    fake.engine.set_mid(ENGINE, _p(fake, mark * 95 // 100))
    await until(lambda: any(o.status is OrderStatus.FILLED for o in rec.orders(12)))
    await until(lambda: any(f.client_order_index == 12 for f in rec.events["fill"]))
    assert await conn.get_trigger_orders() == []
    assert await conn.get_positions() == []
    child = await conn.get_order("BTC", 12)
    assert child.status is OrderStatus.FILLED and child.info["type"] == "stop-loss"


async def test_after_a_restart_the_connector_learns_the_armed_triggers_from_the_venue(lighter, fake, keys):
    conn, rec = lighter
    mark = await _long(conn, rec, fake)
    await conn.submit_trigger_order(
        symbol="BTC", client_order_index=13, kind="stop_market", is_ask=True,
        trigger_price=_p(fake, mark * 97 // 100), size_i=SIZE,
    )  # fmt: skip
    again, _ = await _open(fake, keys, requests_per_min=60_000)
    try:
        [snap] = await again.get_trigger_orders()
        assert snap.client_order_index == 13
        await again.cancel_trigger_order("BTC", 13)
        assert await again.get_trigger_orders() == []
    finally:
        await again.stop()


def test_trigger_rows_and_prices_on_the_grid():
    from connector.lighter import triggers

    row = {"type": "take-profit-limit", "status": "pending"}
    assert triggers.is_trigger(row) and triggers.is_armed(row)
    assert triggers.is_trigger({**row, "status": "filled"}) and not triggers.is_armed({**row, "status": "filled"})
    assert not triggers.is_armed({"type": "limit", "status": "pending"})
    assert triggers.round_trigger(1005, 10, up=True) == 1010 and triggers.round_trigger(1005, 10, up=False) == 1000
    assert triggers.round_trigger(1000, 10, up=True) == 1000
    assert triggers.worst_price(10_000, True, 500) == 9_500 and triggers.worst_price(10_000, False, 500) == 10_500
    assert list(triggers.KINDS.values()) == [2, 3, 4, 5]
