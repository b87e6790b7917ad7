"""Backpack's account-wide leverage limit through the fake, over real HTTP: ``PATCH /api/v1/account``
(``accountUpdate``) sets it for every market, ``GET /api/v1/account`` reads it at start; isolated
margin does not exist there and is refused before anything is sent."""

from __future__ import annotations

import pytest

from connector.backpack.connector import BackpackConnector
from connector.errors import InvalidOrder, VenueError
from connector.interface import SupportsLeverage
from connector.keys import load_key_file
from execution.runtime import Runtime
from tests.connector.backpack.test_connector import until
from tests.fakes.backpack import FakeBackpack

VENUE = "backpack"


@pytest.fixture
async def live(tmp_path):
    fake = await FakeBackpack(step_s=0.02).start()
    fake.update_account({"leverageLimit": "30"})  # set on the venue's site before perpdesk starts
    keys = load_key_file(fake.write_key_file(tmp_path / "backpack.toml"), venue=VENUE)
    conn = BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, reconnect_min_s=0.02, reconnect_max_s=0.1,
        requests_per_s=1000, burst=1000,
    )  # fmt: skip
    runtime = Runtime([conn], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    await until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
    try:
        yield fake, runtime
    finally:
        await runtime.stop()
        await fake.stop()


def patches(fake: FakeBackpack) -> list[dict]:
    return [body for method, path, body in fake.requests if (method, path) == ("PATCH", "/api/v1/account")]


async def test_the_account_limit_is_read_at_start_and_set_for_every_market_at_once(live):
    fake, runtime = live
    lev = runtime.leverage
    assert isinstance(runtime.connectors[VENUE], SupportsLeverage) and lev.account_wide(VENUE)
    # 30 on the account: BTC and ETH (50x markets) at 30, SOL capped at its own 20
    assert [lev.get(VENUE, s).short for s in ("BTC", "ETH", "SOL")] == ["30x cross", "30x cross", "20x cross"]
    await lev.set_leverage(VENUE, "ETH", 5)
    assert patches(fake) == [{"leverageLimit": "5"}] and fake.leverage_limit == 5
    assert [lev.get(VENUE, s).short for s in ("BTC", "ETH", "SOL")] == ["5x cross"] * 3
    assert fake.engine.account.leverage["BTC_USDC_PERP"] == 5  # the venue margins every market at it
    await lev.set_leverage(VENUE, "BTC", 40)
    assert [lev.get(VENUE, s).short for s in ("BTC", "ETH", "SOL")] == ["40x cross", "40x cross", "20x cross"]
    got = {i.symbol: i.leverage for i in await runtime.connectors[VENUE].get_leverage()}
    assert got == {"BTC_USDC_PERP": 40, "ETH_USDC_PERP": 40, "SOL_USDC_PERP": 20}


async def test_isolated_margin_is_refused_before_sending_and_the_fake_checks_the_limit(live):
    fake, runtime = live
    with pytest.raises(InvalidOrder, match="backpack has no isolated margin"):
        await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=False)
    with pytest.raises(InvalidOrder, match="leverage is 1 to 20, not 25"):
        await runtime.leverage.set_leverage(VENUE, "SOL", 25)
    assert patches(fake) == []
    conn = runtime.connectors[VENUE]
    assert isinstance(conn, BackpackConnector)
    with pytest.raises(VenueError, match="Invalid leverage limit"):
        await conn._signed("PATCH", "/api/v1/account", "accountUpdate", {"leverageLimit": "500"})
    assert fake.leverage_limit == 30 and runtime.leverage.get(VENUE, "BTC").short == "30x cross"
