"""``create_connector(venue, paper=True)`` over the venues' fakes: no key file is read (one lies where
the venue would find it), the whole order life runs, and the fake's request log shows only public
endpoints were reached."""

from __future__ import annotations

import pytest

import connector.factory as factory
from connector.config import VenueSettings
from connector.factory import create_connector
from connector.interface import OrderStatus
from connector.paper import PaperConnector
from connector.sim.connector import SimConnector
from tests.fakes.backpack import FakeBackpack
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.harnesses import LoopbackHarness, open_paper

HL_PUBLIC_INFO = {"meta", "metaAndAssetCtxs", "l2Book", "allMids"}


@pytest.fixture(autouse=True)
def _no_key_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a key file was loaded in paper mode")

    monkeypatch.setattr(factory, "load_key_file", refuse)


async def _trade_a_little(h: LoopbackHarness) -> None:
    c = h.connector
    m = {m.symbol: m for m in await c.list_markets()}[h.symbol]
    bid, _, _ = await c.get_top_of_book(h.symbol)
    price = bid * 98 // 100 // m.tick_i * m.tick_i
    await c.submit_limit_order(symbol=h.symbol, client_order_index=1, base_amount=m.min_size_i * 4, price=price,
                               is_ask=False)  # fmt: skip
    h.engine.trade_through(h.engine_symbol, is_ask=True, price_i=await h.engine_price(price),
                           size_i=await h.engine_size(m.min_size_i))  # fmt: skip
    await h.wait_for("fill", lambda f: f.client_order_index == 1)
    await c.submit_market_order(symbol=h.symbol, client_order_index=2, size_i=m.min_size_i, is_ask=False)
    await c.modify_order(symbol=h.symbol, client_order_index=1, price=price - m.tick_i, base_amount=m.min_size_i)
    await c.get_open_orders()
    await c.get_positions()
    await c.get_margin()
    await c.cancel_all()
    assert (await c.get_order(h.symbol, 1)).status is OrderStatus.CANCELLED
    assert sum(p.size_i for p in await c.get_positions()) == 2 * m.min_size_i


async def test_paper_hyperliquid_reaches_only_public_endpoints(monkeypatch, tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    key_file = fake.write_key_file(tmp_path / "hl.toml")
    monkeypatch.setenv(factory.key_file_env_var("hyperliquid"), str(key_file))
    async with open_paper("hyperliquid", fake, "BTC", base_url=fake.base_url) as h:
        assert isinstance(h.connector, PaperConnector) and h.connector.venue == "hyperliquid"
        await _trade_a_little(h)
    assert fake.requests, "the paper connector read the venue's public data"
    assert {path for path, _ in fake.requests} == {"/info"}
    assert {body["type"] for _, body in fake.requests} <= HL_PUBLIC_INFO
    assert not any("user" in body for _, body in fake.requests)
    assert fake.subscriptions and not any("user" in sub for sub in fake.subscriptions)
    assert fake.actions == [] and fake.fills == []


async def test_paper_backpack_reaches_only_public_endpoints(monkeypatch, tmp_path):
    fake = await FakeBackpack(step_s=0.02).start()
    key_file = fake.write_key_file(tmp_path / "bp.toml")
    monkeypatch.setenv(factory.key_file_env_var("backpack"), str(key_file))
    async with open_paper("backpack", fake, "BTC_USDC_PERP", base_url=fake.base_url, ws_url=fake.ws_url) as h:
        await _trade_a_little(h)
    assert fake.http_log and {path for _, path in fake.http_log} <= {
        "/",
        "/api/v1/markets",
        "/api/v1/depth",
        "/api/v1/time",
        "/api/v1/markPrices",
    }
    assert fake.requests == [] and fake.refused == []
    assert fake.ws_asked and not any(name.startswith("account.") for name in fake.ws_asked)


def test_paper_comes_from_the_venue_settings_too():
    conn = create_connector("hyperliquid", venue_settings=VenueSettings(paper=True, paper_collateral=2_500))
    assert isinstance(conn, PaperConnector) and conn.public.venue == "hyperliquid"
    assert conn.engine.account.collateral_q == 2_500 * 10**6
    assert getattr(conn.public, "account_address", None) is None


def test_the_sim_is_paper_already():
    assert isinstance(create_connector("sim", paper=True), SimConnector)


async def test_paper_binance_usdm_reaches_only_public_endpoints(monkeypatch, tmp_path):
    from tests.fakes import binance_usdm_venue as venue_rules
    from tests.fakes.binance_usdm import FakeBinanceUsdm

    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05).start()
    monkeypatch.setenv(factory.key_file_env_var("binance-usdm"), str(fake.write_key_file(tmp_path / "bn.toml")))
    async with open_paper("binance-usdm", fake, "BTCUSDT", base_url=fake.base_url, ws_url=fake.ws_url) as h:
        await _trade_a_little(h)
    assert fake.requests
    assert {venue_rules.ENDPOINTS[(m, p)][0] for m, p, _ in fake.requests} == {"NONE"}
    assert fake.refused == [] and fake.listen_keys_made == 0


async def test_paper_lighter_reaches_only_public_endpoints(tmp_path):
    from tests.fakes.lighter import FakeLighter

    fake = await FakeLighter(step_s=0.02).start()
    async with open_paper("lighter", fake, "BTC", "BTC-PERP", base_url=fake.base_url, ws_url=fake.ws_url) as h:
        await _trade_a_little(h)
    public = {"/stream", "/api/v1/orderBooks", "/api/v1/orderBookDetails", "/api/v1/orderBookOrders"}
    assert fake.http_log and {path for _, path in fake.http_log} <= public
    assert fake.accepted == [] and fake.refused == []
    assert fake.subscribes and all(c.split("/")[0] in ("order_book", "trade", "market_stats") and not auth for c, auth in fake.subscribes)
