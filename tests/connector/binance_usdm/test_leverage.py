"""Leverage and margin type on Binance USDⓈ-M through the fake, over real HTTP: ``POST /fapi/v1/marginType``
(``-4046`` already-so is no error), ``POST /fapi/v1/leverage``, and ``symbolConfig`` read at start."""

from __future__ import annotations

import pytest

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.binance_usdm.rest import SIGNED
from connector.errors import InvalidOrder, VenueError
from connector.interface import SupportsLeverage
from connector.keys import load_key_file
from execution.runtime import Runtime
from tests.connector.binance_usdm.test_connector import FAST, posts, until
from tests.fakes.binance_usdm import FakeBinanceUsdm

VENUE = "binance-usdm"


@pytest.fixture
async def live(tmp_path):
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    fake.engine.set_leverage("ETHUSDT", 7)  # configured before perpdesk starts
    fake.margin_types["ETHUSDT"] = "ISOLATED"
    keys = load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue=VENUE)
    connector = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **FAST)
    runtime = Runtime([connector], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    await until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
    try:
        yield fake, runtime
    finally:
        await runtime.stop()
        await fake.stop()


async def test_the_settings_are_read_at_start_and_set_with_margin_type_then_leverage(live):
    fake, runtime = live
    assert isinstance(runtime.connectors[VENUE], SupportsLeverage)
    assert runtime.leverage.get(VENUE, "ETH").short == "7x iso"  # what the account had
    assert runtime.leverage.get(VENUE, "BTC").short == "125x cross"
    s = await runtime.leverage.set_leverage(VENUE, "BTC", 5, cross=False)
    assert s.short == "5x iso" and fake.margin_types["BTCUSDT"] == "ISOLATED"
    assert fake.engine.account.leverage["BTCUSDT"] == 5
    assert [p["marginType"] for p in posts(fake, "/fapi/v1/marginType")] == ["ISOLATED"]
    assert [p["leverage"] for p in posts(fake, "/fapi/v1/leverage")] == ["5"]
    # the mode is already isolated: the venue answers -4046, which is not an error
    s = await runtime.leverage.set_leverage(VENUE, "BTC", 10)
    assert s.short == "10x iso" and fake.engine.account.leverage["BTCUSDT"] == 10
    assert fake.refused[-1] == (-4046, "No need to change margin type.")
    s = await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=True)
    assert s.short == "10x cross" and fake.margin_types["BTCUSDT"] == "CROSSED"


async def test_the_margin_follows_the_leverage_and_a_position_blocks_a_margin_type_change(live):
    _, runtime = live
    await runtime.leverage.set_leverage(VENUE, "BTC", 10)
    order = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=100)  # 0.1 BTC
    await order.wait_final(timeout=30)
    conn = runtime.connectors[VENUE]
    (pos,) = await conn.get_positions()
    at_ten = pos.margin_q
    await runtime.leverage.set_leverage(VENUE, "BTC", 20)  # raising leverage with a position: allowed
    (pos,) = await conn.get_positions()
    assert at_ten > 0 and abs(pos.margin_q * 2 - at_ten) <= at_ten // 100  # half the margin at 20x
    with pytest.raises(InvalidOrder, match="exists position"):
        await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=False)
    assert runtime.leverage.get(VENUE, "BTC").short == "20x cross"  # unchanged by the refusal


async def test_the_fake_refuses_a_leverage_beyond_the_symbols_maximum_in_the_venues_words(live):
    fake, runtime = live
    conn = runtime.connectors[VENUE]
    assert isinstance(conn, BinanceUsdmConnector) and conn.rest is not None
    with pytest.raises(VenueError, match=r"Leverage 126 is not valid \(code -4028\)"):
        await conn.rest.request("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 126}, security=SIGNED)
    with pytest.raises(InvalidOrder, match="leverage is 1 to 125, not 126"):  # refused before sending
        await conn.set_leverage("BTCUSDT", 126, True)
    assert [p["leverage"] for p in posts(fake, "/fapi/v1/leverage")] == ["126"]


async def test_without_leverage_brackets_the_connector_still_starts_and_tries_again_at_the_next_listing(tmp_path):
    fake = await FakeBinanceUsdm(step_s=None).start()
    answer = fake.ep_leverage_bracket

    def refuse(p):
        from tests.fakes.binance_usdm_venue import VenueError as FakeRefusal

        raise FakeRefusal(-2015, "Invalid API-key, IP, or permissions for action.", 401)

    fake.ep_leverage_bracket = refuse  # type: ignore[method-assign]
    keys = load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue=VENUE)
    conn = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **FAST)
    try:
        await conn.start()
        assert {m.max_leverage for m in await conn.list_markets()} == {1}
        fake.ep_leverage_bracket = answer  # type: ignore[method-assign]
        assert {m.symbol: m.max_leverage for m in await conn.list_markets()}["BTCUSDT"] == 125
    finally:
        await conn.stop()
        await fake.stop()


async def test_a_leverage_or_margin_type_changed_elsewhere_shows_at_once(live):
    """Another client (the venue's website) changes the settings: the user-data stream says so
    (``ACCOUNT_CONFIG_UPDATE`` for the leverage, ``ACCOUNT_UPDATE`` with ``MARGIN_TYPE_CHANGE`` for the mode)."""
    fake, runtime = live
    heard = []
    runtime.leverage.add_listener(heard.append)
    fake.ep_leverage({"symbol": "ETHUSDT", "leverage": "3"})  # not through perpdesk
    await until(lambda: runtime.leverage.get(VENUE, "ETH").short == "3x iso")
    fake.ep_margin_type({"symbol": "SOLUSDT", "marginType": "ISOLATED"})
    await until(lambda: runtime.leverage.get(VENUE, "SOL").short == "50x iso")
    assert [s.short for s in heard] == ["3x iso", "50x iso"]
    assert runtime.leverage.leverage_of(VENUE, "ETH") == 3  # what the pre-trade margin check now uses


def test_a_leverage_message_that_cannot_be_read_delivers_nothing():
    from connector.binance_usdm.userstream import user_events

    markets = {"BTCUSDT": object()}
    with pytest.raises(ValueError, match="leverage"):
        user_events({"e": "ACCOUNT_CONFIG_UPDATE", "ac": {"s": "BTCUSDT", "l": "25"}}, markets, {})  # type: ignore[arg-type]
    assert user_events({"e": "ACCOUNT_CONFIG_UPDATE", "ai": {"j": True}}, markets, {}) == []  # type: ignore[arg-type]
