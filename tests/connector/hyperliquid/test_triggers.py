"""Hyperliquid trigger orders (``native_triggers``) against the fake venue: the wire, the listing, the
cancel, and the venue firing them on its mark while the connector only hears the child."""

from __future__ import annotations

import pytest

from connector.errors import InvalidOrder, OrderRejected, UnknownOrder
from connector.hyperliquid import wire
from connector.hyperliquid.connector import HyperliquidConnector
from connector.interface import TRIGGER_KINDS, OrderStatus, SupportsTriggers
from connector.keys import load_key_file
from connector.scaling import str_to_scaled
from tests.connector.hyperliquid.test_connector import FAST, Venue
from tests.fakes.hyperliquid import FakeHyperliquid

SIZE = 1000  # 0.01 BTC


@pytest.fixture
async def venue(tmp_path):
    fake = await FakeHyperliquid(step_s=None).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "hl.toml"), venue="hyperliquid")
    connector = HyperliquidConnector(base_url=fake.base_url, keys=keys, **FAST)
    v = Venue(fake, connector)
    await connector.start()
    await connector.subscribe_market_data(["BTC"])
    await v.wait("book", lambda b: b.symbol == "BTC" and b.bids)
    try:
        yield v
    finally:
        await connector.stop()
        await fake.stop()


async def _long(v: Venue, coi: int = 1) -> int:
    await v.connector.submit_market_order(symbol="BTC", client_order_index=coi, size_i=SIZE, is_ask=False)
    await v.wait("fill", lambda f: f.client_order_index == coi)
    return v.fake.engine.mark_i("BTC")


def _p(price_i: int) -> int:
    """On the venue's grid (5 significant figures: whole dollars at this price)."""
    return price_i - price_i % 10


def _trigger_actions(v: Venue) -> list[dict]:
    return [a for a in v.fake.actions if a["type"] == "order" and "trigger" in a["orders"][0]["t"]]


def test_the_connector_declares_native_stops_and_take_profits_but_no_trailing_stop():
    assert "native_triggers" in HyperliquidConnector.capabilities
    assert HyperliquidConnector.trigger_kinds == frozenset(TRIGGER_KINDS) - {"trailing_stop"}
    assert HyperliquidConnector.trigger_sources == frozenset({"mark"})


async def test_a_stop_market_goes_out_as_a_reduce_only_sl_trigger_and_is_listed_apart_from_orders(venue):
    assert isinstance(venue.connector, SupportsTriggers)
    mark = await _long(venue)
    stop = _p(mark * 98 // 100)
    oid = await venue.connector.submit_trigger_order(
        symbol="BTC", client_order_index=501, kind="stop_market", is_ask=True, trigger_price=stop, size_i=SIZE
    )
    assert oid
    (action,) = _trigger_actions(venue)
    (sent,) = action["orders"]
    assert action["grouping"] == "na"
    assert list(sent) == ["a", "b", "p", "s", "r", "t", "c"] and sent["r"] is True and sent["b"] is False
    assert list(sent["t"]["trigger"]) == ["isMarket", "triggerPx", "tpsl"]
    assert sent["t"]["trigger"]["isMarket"] is True and sent["t"]["trigger"]["tpsl"] == "sl"
    assert str_to_scaled(sent["t"]["trigger"]["triggerPx"], 1) == stop
    assert str_to_scaled(sent["p"], 1) < stop  # a market trigger's worst price, below the trigger for a sell
    assert sent["c"] == wire.cloid_from_index(501)
    (snap,) = await venue.connector.get_trigger_orders("BTC")
    assert (snap.client_order_index, snap.kind, snap.is_ask, snap.trigger_price_i, snap.size_i) == (
        501, "stop_market", True, stop, SIZE,
    )  # fmt: skip
    assert snap.info["triggerCondition"].startswith("Price below")
    assert await venue.connector.get_open_orders("BTC") == []
    # the venue's "open" update for the trigger is not an order
    assert not [o for o in venue.events["order"] if o.client_order_index == 501]


async def test_a_take_profit_limit_carries_its_limit_and_a_whole_position_one_goes_as_position_tpsl(venue):
    mark = await _long(venue)
    tp, limit = _p(mark * 102 // 100), _p(mark * 1015 // 1000)
    await venue.connector.submit_trigger_order(
        symbol="BTC", client_order_index=502, kind="take_profit_limit", is_ask=True, trigger_price=tp,
        size_i=None, limit_price=limit,
    )  # fmt: skip
    (action,) = _trigger_actions(venue)
    assert action["grouping"] == "positionTpsl"
    (sent,) = action["orders"]
    assert sent["t"]["trigger"]["tpsl"] == "tp" and sent["t"]["trigger"]["isMarket"] is False
    assert str_to_scaled(sent["p"], 1) == limit and str_to_scaled(sent["s"], 5) == SIZE
    (snap,) = await venue.connector.get_trigger_orders()
    assert snap.kind == "take_profit_limit" and snap.size_i is None and snap.limit_price_i == limit


async def test_what_the_venue_does_not_keep_is_refused_before_anything_is_sent(venue):
    mark = await _long(venue)
    with pytest.raises(InvalidOrder, match="trailing stop is held by perpdesk"):
        await venue.connector.submit_trigger_order(
            symbol="BTC", client_order_index=503, kind="trailing_stop", is_ask=True, trigger_price=None, size_i=SIZE,
            trail_ppm=5000,
        )  # fmt: skip
    with pytest.raises(InvalidOrder, match="mark price"):
        await venue.connector.submit_trigger_order(
            symbol="BTC", client_order_index=504, kind="stop_market", is_ask=True, trigger_price=_p(mark * 98 // 100),
            size_i=SIZE, trigger_on="last",
        )  # fmt: skip
    with pytest.raises(InvalidOrder, match="no position"):  # a whole-position buy stop while long
        await venue.connector.submit_trigger_order(
            symbol="BTC", client_order_index=505, kind="stop_market", is_ask=False, trigger_price=_p(mark * 102 // 100),
            size_i=None,
        )  # fmt: skip
    assert _trigger_actions(venue) == []


async def test_a_stop_limit_better_than_its_trigger_is_refused_by_the_venue(venue):
    mark = await _long(venue)
    with pytest.raises(OrderRejected, match="Invalid TP/SL price"):
        await venue.connector.submit_trigger_order(
            symbol="BTC", client_order_index=506, kind="stop_limit", is_ask=True, trigger_price=_p(mark * 98 // 100),
            size_i=SIZE, limit_price=_p(mark * 99 // 100),
        )  # fmt: skip
    assert await venue.connector.get_trigger_orders() == []


async def test_cancel_disarms_it_and_a_second_cancel_is_unknown(venue):
    mark = await _long(venue)
    await venue.connector.submit_trigger_order(
        symbol="BTC", client_order_index=507, kind="stop_market", is_ask=True, trigger_price=_p(mark * 98 // 100),
        size_i=SIZE,
    )  # fmt: skip
    await venue.connector.cancel_trigger_order("BTC", 507)
    assert await venue.connector.get_trigger_orders() == []
    assert not venue.fake.engine.triggers
    with pytest.raises(UnknownOrder):
        await venue.connector.cancel_trigger_order("BTC", 507)
    with pytest.raises(UnknownOrder):  # a cancelled trigger is no order either
        await venue.connector.get_order("BTC", 507)


async def test_the_venue_fires_on_its_mark_and_the_child_comes_back_under_the_triggers_cloid(venue):
    mark = await _long(venue)
    await venue.connector.submit_trigger_order(
        symbol="BTC", client_order_index=508, kind="stop_market", is_ask=True, trigger_price=_p(mark * 98 // 100),
        size_i=SIZE,
    )  # fmt: skip
    venue.fake.engine.set_mid("BTC", _p(mark * 95 // 100))
    venue.fake.engine.advance_to(venue.fake.clock.now_ms() + 100)
    child = await venue.wait("order", lambda o: o.client_order_index == 508 and o.status is OrderStatus.FILLED)
    assert child.is_ask and child.price_i == str_to_scaled(_trigger_actions(venue)[0]["orders"][0]["p"], 1)
    await venue.wait("fill", lambda f: f.client_order_index == 508)
    assert venue.fake.engine.account.positions["BTC"].size_i == 0
    assert await venue.connector.get_trigger_orders() == []
    looked_up = await venue.connector.get_order("BTC", 508)
    assert looked_up.status is OrderStatus.FILLED and looked_up.reduce_only
    with pytest.raises(UnknownOrder):
        await venue.connector.cancel_trigger_order("BTC", 508)


async def test_after_a_restart_the_connector_learns_the_armed_triggers_from_the_venue(venue, tmp_path):
    mark = await _long(venue)
    await venue.connector.submit_trigger_order(
        symbol="BTC", client_order_index=509, kind="stop_market", is_ask=True, trigger_price=_p(mark * 98 // 100),
        size_i=SIZE,
    )  # fmt: skip
    keys = load_key_file(tmp_path / "hl.toml", venue="hyperliquid")
    fresh = HyperliquidConnector(base_url=venue.fake.base_url, keys=keys, **FAST)
    await fresh.start()
    try:
        assert await fresh.get_open_orders() == []
        await fresh.cancel_trigger_order("BTC", 509)
        assert not venue.fake.engine.triggers
    finally:
        await fresh.stop()
