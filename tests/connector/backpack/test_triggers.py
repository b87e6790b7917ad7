"""Backpack trigger orders (``native_triggers``) against the fake venue: the wire, the listing, cancel,
the venue firing, and a restart that learns what the venue holds."""

from __future__ import annotations

import pytest

from connector.backpack.connector import BackpackConnector
from connector.errors import InvalidOrder, UnknownOrder
from connector.interface import SupportsTriggers
from connector.scaling import scaled_to_str
from tests.connector.backpack.test_connector import BTC, _open, until
from tests.fakes.backpack import FakeBackpack


@pytest.fixture
async def fake():
    venue = await FakeBackpack(step_s=0.02).start()
    yield venue
    await venue.stop()


@pytest.fixture
async def venue(fake, tmp_path):
    from connector.keys import load_key_file

    keys = load_key_file(fake.write_key_file(tmp_path / "backpack.toml"), venue="backpack")
    conn, rec = await _open(fake, keys)
    yield conn, rec, fake, keys
    await conn.stop()


async def _long(conn: BackpackConnector, rec, size_i: int = 100) -> None:
    await conn.submit_market_order(symbol=BTC, client_order_index=1, size_i=size_i, is_ask=False)
    await until(lambda: any(p.size_i == size_i for p in rec.events["position"]))


def _trigger_bodies(fake: FakeBackpack) -> list[dict]:
    return [b for m, p, b in fake.requests if (m, p) == ("POST", "/api/v1/order") and "triggerPrice" in b]


def test_the_connector_declares_native_stops_and_take_profits_but_no_trailing_stop():
    conn = BackpackConnector(keys=None)
    assert "native_triggers" in conn.capabilities and isinstance(conn, SupportsTriggers)
    assert "trailing_stop" not in conn.trigger_kinds and "stop_limit" in conn.trigger_kinds
    assert conn.trigger_sources == {"mark", "last"}


async def test_a_stop_market_goes_out_as_a_reduce_only_trigger_order_and_is_listed_apart_from_orders(venue):
    conn, rec, fake, _ = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    order_id = await conn.submit_trigger_order(
        symbol=BTC, client_order_index=7, kind="stop_market", is_ask=True, trigger_price=mid * 98 // 100 + 1, size_i=50
    )
    (body,) = _trigger_bodies(fake)
    assert body["orderType"] == "Market" and body["side"] == "Ask" and body["reduceOnly"] is True
    sd = conn._markets[BTC].size_decimals
    assert body["triggerBy"] == "MarkPrice" and body["triggerQuantity"] == scaled_to_str(50, sd)
    assert "quantity" not in body and body["clientId"] == 7
    (snap,) = await conn.get_trigger_orders(BTC)
    assert (snap.client_order_index, snap.kind, snap.is_ask, snap.size_i) == (7, "stop_market", True, 50)
    assert snap.trigger_price_i % fake.engine.markets[BTC].tick_i == 0 and snap.trigger_price_i >= mid * 98 // 100
    assert order_id and await conn.get_open_orders(BTC) == []  # a trigger is no resting order
    assert not rec.orders(7)  # its TriggerPending update is not an order either


async def test_a_take_profit_limit_carries_its_limit_and_a_whole_position_one_goes_as_100_percent(venue):
    conn, rec, fake, _ = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    await conn.submit_trigger_order(
        symbol=BTC, client_order_index=8, kind="take_profit_limit", is_ask=True, trigger_price=mid * 103 // 100,
        size_i=None, limit_price=mid * 102 // 100, trigger_on="last",
    )  # fmt: skip
    (body,) = _trigger_bodies(fake)
    assert body["orderType"] == "Limit" and body["triggerQuantity"] == "100%" and body["triggerBy"] == "LastPrice"
    (snap,) = await conn.get_trigger_orders()
    assert (snap.kind, snap.size_i, snap.trigger_on) == ("take_profit_limit", None, "last")
    assert snap.limit_price_i is not None


async def test_what_the_venue_does_not_keep_is_refused_before_anything_is_sent(venue):
    conn, _, fake, _ = venue
    mid = fake.engine.mid_i(BTC)
    for kind, extra in (
        ("trailing_stop", {"trail_ppm": 10_000}),
        ("stop_limit", {}),
        ("stop_market", {"trigger_on": "mid"}),
    ):
        with pytest.raises(InvalidOrder):
            await conn.submit_trigger_order(
                symbol=BTC, client_order_index=9, kind=kind, is_ask=True, trigger_price=mid, size_i=50, **extra
            )
    with pytest.raises(InvalidOrder):
        await conn.submit_trigger_order(
            symbol=BTC, client_order_index=9, kind="stop_market", is_ask=True, trigger_price=mid, size_i=None,
            reduce_only=False,
        )  # fmt: skip
    assert _trigger_bodies(fake) == []


async def test_cancel_disarms_it_and_a_second_cancel_is_unknown(venue):
    conn, rec, fake, _ = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    await conn.submit_trigger_order(
        symbol=BTC, client_order_index=10, kind="stop_market", is_ask=True, trigger_price=mid * 97 // 100, size_i=None
    )
    await conn.cancel_trigger_order(BTC, 10)
    assert not fake.engine.triggers and await conn.get_trigger_orders() == []
    with pytest.raises(UnknownOrder):
        await conn.cancel_trigger_order(BTC, 10)
    assert not rec.orders(10)  # the trigger's cancelled update is not an order's


async def test_the_venue_fires_and_the_child_comes_back_under_the_triggers_client_id(venue):
    conn, rec, fake, _ = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    await conn.submit_trigger_order(
        symbol=BTC, client_order_index=11, kind="stop_market", is_ask=True, trigger_price=mid * 98 // 100, size_i=None
    )
    fake.engine.set_mid(BTC, mid * 95 // 100)
    await until(lambda: rec.orders(11) and rec.orders(11)[-1].status.is_final)
    child = rec.orders(11)[-1]
    assert child.is_ask and child.reduce_only and child.filled_i == 100
    assert any(f.client_order_index == 11 for f in rec.events["fill"])
    assert await conn.get_trigger_orders() == []


async def test_after_a_restart_the_connector_learns_the_armed_triggers_from_the_venue(venue):
    conn, rec, fake, keys = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    await conn.submit_trigger_order(
        symbol=BTC, client_order_index=12, kind="take_profit_market", is_ask=True, trigger_price=mid * 103 // 100,
        size_i=None,
    )  # fmt: skip
    fresh, _ = await _open(fake, keys)
    try:
        (snap,) = await fresh.get_trigger_orders(BTC)  # the kind follows from where the trigger lies
        assert (snap.client_order_index % 2**32, snap.kind, snap.size_i) == (12, "take_profit_market", None)
        await fresh.cancel_trigger_order(BTC, snap.client_order_index)
        assert not fake.engine.triggers
    finally:
        await fresh.stop()


async def test_cancel_all_cancels_resting_orders_and_leaves_the_armed_triggers(venue):
    conn, rec, fake, _ = venue
    await _long(conn, rec)
    mid = fake.engine.mid_i(BTC)
    await conn.submit_trigger_order(
        symbol=BTC, client_order_index=13, kind="stop_market", is_ask=True, trigger_price=mid * 97 // 100, size_i=None
    )
    bid = mid * 95 // 100
    await conn.submit_limit_order(
        symbol=BTC, client_order_index=14, base_amount=100, price=bid - bid % 10, is_ask=False
    )
    await conn.cancel_all(BTC)
    assert await conn.get_open_orders(BTC) == []
    assert [t.client_order_index for t in await conn.get_trigger_orders(BTC)] == [13]
    (sent,) = [b for m, p, b in fake.requests if (m, p) == ("DELETE", "/api/v1/orders")]
    assert sent == {"symbol": BTC, "orderType": "RestingLimitOrder"}
