"""Leverage and margin mode on Lighter through the fake, over real HTTP: the update-leverage tx (type 20)
signed by the installed lighter-sdk with the per-key nonce, read back from the account at start."""

from __future__ import annotations

import pytest

from connector.errors import InvalidOrder, OrderRejected, VenueError
from connector.interface import SupportsLeverage
from connector.keys import load_key_file
from connector.lighter import leverage as lighter_leverage
from connector.lighter.connector import LighterConnector
from connector.lighter.leverage import leverage_of
from execution import leverage as leverage_service
from execution.runtime import Runtime
from tests.connector.lighter.test_connector import until
from tests.fakes.lighter import FakeLighter, write_key_file

VENUE = "lighter"


@pytest.fixture
async def live(tmp_path):
    fake = await FakeLighter(step_s=0.02).start()
    fake.apply_leverage("ETH-PERP", {"InitialMarginFraction": 1428, "MarginMode": 1})  # 7x isolated, set elsewhere
    path = tmp_path / "lighter.toml"
    write_key_file(path, account_index=fake.account_index, api_key_index=fake.api_key_index)
    conn = LighterConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(path), reconnect_min_s=0.02,
        reconnect_max_s=0.1, requests_per_min=60_000,
    )  # fmt: skip
    runtime = Runtime([conn], journal_path=tmp_path / "journal.sqlite")
    await runtime.start()
    await until(lambda: runtime.market_data.top_of_book(VENUE, "BTC")[0] is not None)
    try:
        yield fake, runtime
    finally:
        await runtime.stop()
        await fake.stop()


async def test_the_leverage_tx_is_signed_with_the_next_nonce_and_read_back_from_the_account(live):
    fake, runtime = live
    conn = runtime.connectors[VENUE]
    assert isinstance(conn, SupportsLeverage) and "leverage" in conn.capabilities
    assert runtime.leverage.get(VENUE, "ETH").short == "7x iso"  # read at start
    assert runtime.leverage.get(VENUE, "BTC").short == "20x cross"  # the market's default fraction
    nonce = fake.next_nonce[fake.api_key_index]
    s = await runtime.leverage.set_leverage(VENUE, "BTC", 5, cross=False)
    tx_type, info = fake.accepted[-1]
    assert tx_type == 20 and info["Nonce"] == nonce and info["MarketIndex"] == fake.ids["BTC-PERP"]
    assert (info["InitialMarginFraction"], info["MarginMode"]) == (2000, 1)
    assert s.short == "5x iso" and fake.engine.account.leverage["BTC-PERP"] == 5
    await runtime.leverage.set_leverage(VENUE, "BTC", 3, cross=True)
    assert fake.accepted[-1][1]["InitialMarginFraction"] == 3333 and fake.accepted[-1][1]["Nonce"] == nonce + 1
    got = {i.symbol: (i.leverage, i.cross) for i in await conn.get_leverage()}
    assert got["BTC"] == (3, True) and got["ETH"] == (7, False)


async def test_a_fraction_beyond_the_markets_maximum_is_refused_and_the_nonce_is_kept(live):
    fake, runtime = live
    conn = runtime.connectors[VENUE]
    assert isinstance(conn, LighterConnector) and conn._signer is not None
    with pytest.raises(InvalidOrder, match="leverage is 1 to 20, not 21"):  # refused before signing
        await conn.set_leverage("BTC", 21, True)
    nonce = fake.next_nonce[fake.api_key_index]
    signer, market_id = conn._signer, fake.ids["BTC-PERP"]
    with pytest.raises(OrderRejected, match="invalid initial margin fraction"):  # 50x on a 20x market
        await conn._send_tx(lambda n: signer.update_leverage(market_id=market_id, fraction=200, margin_mode=0, nonce=n))
    assert fake.next_nonce[fake.api_key_index] == nonce  # refused at the API: the nonce is not used
    await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=False)
    assert fake.accepted[-1][1]["Nonce"] == nonce and fake.leverage_settings["BTC-PERP"] == (500, 1)


async def test_a_change_the_sequencer_refuses_after_queueing_it_is_reported_not_recorded(live, monkeypatch):
    """The API answers 200 (queued); the sequencer refuses a margin-mode change with a position open,
    silently: the connector reads the account back and says so (once its window is over: shortened here)."""
    monkeypatch.setattr(lighter_leverage, "CONFIRM_WINDOW_S", 1.0)
    fake, runtime = live
    order = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=fake_size(runtime))
    await order.wait_final(timeout=30)
    with pytest.raises(VenueError, match="account still shows 20x cross: its sequencer refused it"):
        await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=False)
    assert fake.refused[-1][1] == "margin mode cannot change while the market has a position"
    assert runtime.leverage.get(VENUE, "BTC").short == "20x cross"  # unchanged: the venue did not apply it
    await runtime.leverage.set_leverage(VENUE, "BTC", 10)  # the leverage alone may change: confirmed by the read
    assert runtime.leverage.get(VENUE, "BTC").short == "10x cross"


async def test_a_slow_sequencer_applying_the_change_after_1_5_s_is_confirmed_not_reported_refused(live):
    fake, runtime = live
    fake.tx_delay_s = 1.5  # the venue answers 200 at once and applies the tx 1.5 s later
    s = await runtime.leverage.set_leverage(VENUE, "BTC", 5)
    assert s.confirmed and s.short == "5x cross" and runtime.leverage.get(VENUE, "BTC") == s
    assert fake.engine.account.leverage["BTC-PERP"] == 5 and runtime.leverage.leverage_of(VENUE, "BTC") == 5


async def test_a_change_whose_read_back_fails_is_unconfirmed_then_recorded_as_the_venue_answers(live, monkeypatch):
    """Reading the account back fails all through the window: not "refused" but unconfirmed; perpdesk keeps
    asking and records what the venue then shows (windows shortened: the test waits on the answers)."""
    monkeypatch.setattr(lighter_leverage, "CONFIRM_WINDOW_S", 0.5)
    monkeypatch.setattr(leverage_service, "ASK_FIRST_WAIT_S", 0.05)
    fake, runtime = live
    conn = runtime.connectors[VENUE]
    await runtime.leverage.set_leverage(VENUE, "BTC", 5)
    read = conn.get_leverage
    down = True

    async def flaky():
        if down:
            raise VenueError("lighter: account read timed out")
        return await read()

    monkeypatch.setattr(conn, "get_leverage", flaky)
    s = await runtime.leverage.set_leverage(VENUE, "BTC", 10)  # does not raise
    assert not s.confirmed and s.short == "10x cross?" and "not confirmed by the venue yet" in s.describe()
    assert runtime.leverage.get(VENUE, "BTC") == s
    assert runtime.leverage.leverage_of(VENUE, "BTC") == 5  # the margin check assumes the lower meanwhile
    assert fake.engine.account.leverage["BTC-PERP"] == 10  # the venue did apply it
    down = False
    await until(lambda: runtime.leverage.get(VENUE, "BTC").confirmed)
    assert runtime.leverage.get(VENUE, "BTC").short == "10x cross" and runtime.leverage.leverage_of(VENUE, "BTC") == 10
    # one the sequencer refuses while the reads fail: recorded as the venue shows it once it answers
    order = await runtime.orders.submit_market(VENUE, "BTC", is_ask=False, size_i=fake_size(runtime))
    await order.wait_final(timeout=30)
    down = True
    s = await runtime.leverage.set_margin_mode(VENUE, "BTC", cross=False)
    assert s.short == "10x iso?"
    down = False
    await until(lambda: runtime.leverage.get(VENUE, "BTC").confirmed)
    assert runtime.leverage.get(VENUE, "BTC").short == "10x cross"


def fake_size(runtime: Runtime) -> int:
    return runtime.market_data.market(VENUE, "BTC").min_size_i * 10


def test_a_position_rows_fraction_reads_as_whole_leverage():
    assert [leverage_of(t) for t in ("5.00", "20.00", "33.33", "14.28", "100.00", "0", "", None)] == [
        20, 5, 3, 7, 1, None, None, None
    ]  # fmt: skip
