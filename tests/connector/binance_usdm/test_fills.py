"""Fills booked while the Binance USDⓈ-M private stream was down, read back from ``userTrades`` after
the reconnect (``connector.binance_usdm.fills``), against the fake venue on 127.0.0.1: whose order a
row is when the ledger does not know its id, which symbols are read, retries, paging, the fee's sign
and a bad row."""

from __future__ import annotations

import asyncio
import logging

import pytest

from connector.clock import RealClock
from connector.errors import VenueError
from connector.keys import load_key_file
from connector.sim.engine import SimEngine
from tests.connector.binance_usdm.test_connector import _open, fake_gets, until
from tests.fakes import binance_usdm_wire as bw
from tests.fakes.binance_usdm import FakeBinanceUsdm


def _stream_down(fake: FakeBinanceUsdm) -> str:
    """What the venue pushes on the user-data stream from now on is lost (the socket is as good as down)."""
    key = fake.listen_key
    assert key is not None
    fake.listen_key = None
    return key


async def _reconnect(fake: FakeBinanceUsdm, key: str) -> None:
    fake.listen_key = key
    await fake.drop_sockets("private")


async def test_an_order_whose_post_timed_out_in_the_outage_gets_its_fill_under_our_client_index(fake, keys):
    conn, rec = await _open(fake, keys, request_timeout_s=0.5)
    try:
        bid, _, _ = await conn.get_top_of_book("BTCUSDT")
        await conn.submit_limit_order(
            symbol="BTCUSDT", client_order_index=1, base_amount=2, price=bid * 97 // 100, is_ask=False
        )
        await until(lambda: rec.orders(1))
        key = _stream_down(fake)
        fake.hold_answers("/fapi/v1/order", 2.0)  # acted on, answered after our timeout
        price = bid * 99 // 100
        with pytest.raises(VenueError):
            await conn.submit_limit_order(symbol="BTCUSDT", client_order_index=2, base_amount=2, price=price, is_ask=False)
        assert conn.ledger.orders[2].order_id is None  # the outcome is unknown: the id never came back
        fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=2)
        await until(lambda: fake.user_trades.get("BTCUSDT"))
        await _reconnect(fake, key)
        (fill,) = await until(lambda: rec.events["fill"])
        assert (fill.client_order_index, fill.price_i, fill.size_i) == (2, price, 2)
        assert conn.ledger.orders[2].order_id == fill.order_id  # learnt from GET /fapi/v1/order
    finally:
        await conn.stop()


async def test_a_stop_that_fires_in_the_outage_on_a_symbol_not_traded_here_gets_its_fill(fake, keys):
    before, rec_before = await _open(fake, keys)  # another session opens the position and arms the stop
    try:
        await before.submit_market_order(symbol="ETHUSDT", client_order_index=1, size_i=100, is_ask=False)
        await until(lambda: rec_before.events["fill"])
        mark = fake.engine.mark_i("ETHUSDT")
        await before.submit_trigger_order(symbol="ETHUSDT", client_order_index=12, kind="stop_market", is_ask=True,
                                          trigger_price=mark * 97 // 100, size_i=None)  # fmt: skip
    finally:
        await before.stop()
    conn, rec = await _open(fake, keys)
    try:
        assert [p.symbol for p in await conn.get_positions()] == ["ETHUSDT"]  # what a start reads
        assert not any(ref.symbol == "ETHUSDT" for ref in conn.ledger.orders.values())
        key = _stream_down(fake)
        fake.engine.set_mid("ETHUSDT", mark * 95 // 100)
        fake.engine.advance_to(fake.clock.now_ms() + 100)
        await until(lambda: len(fake.user_trades.get("ETHUSDT", [])) == 2)
        await _reconnect(fake, key)
        (fill,) = await until(lambda: rec.events["fill"])
        assert (fill.symbol, fill.client_order_index, fill.size_i, fill.is_ask) == ("ETHUSDT", 12, 100, True)
        await asyncio.sleep(0.1)
        assert len(rec.events["fill"]) == 1  # the other session's fill, before this one began, is not ours to pass
        assert "ETHUSDT" in [p["symbol"] for p in fake_gets(fake, "/fapi/v1/userTrades")]
        assert fake.engine.account.positions["ETHUSDT"].size_i == 0
    finally:
        await conn.stop()


async def _resting_then_traded_while_down(conn, rec, fake: FakeBinanceUsdm, coi: int = 5) -> tuple[int, str]:
    """An order of ours rests, the stream goes down, the order trades: (its price, the listenKey to restore)."""
    bid, _, _ = await conn.get_top_of_book("BTCUSDT")
    price = bid * 99 // 100
    await conn.submit_limit_order(symbol="BTCUSDT", client_order_index=coi, base_amount=2, price=price, is_ask=False)
    await until(lambda: rec.orders(coi))
    key = _stream_down(fake)
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=2)
    await until(lambda: fake.user_trades.get("BTCUSDT"))
    return price, key


async def test_a_failed_read_after_the_reconnect_is_tried_again_and_the_fill_still_comes(fake, keys):
    conn, rec = await _open(fake, keys)
    try:
        price, key = await _resting_then_traded_while_down(conn, rec, fake)
        fake.fail_requests("/fapi/v1/userTrades", 3)  # the whole first call, the transport's own retries included
        await _reconnect(fake, key)
        (fill,) = await until(lambda: rec.events["fill"])
        assert (fill.client_order_index, fill.price_i) == (5, price)
        assert conn.fills.pending_since is None  # all read: the next outage starts its own window
    finally:
        await conn.stop()


async def test_a_later_reconnect_reads_from_the_start_of_the_first_outage_not_yet_recovered(fake, keys):
    conn, rec = await _open(fake, keys)
    conn.fills.session_start_ms = 0  # as if the session began long ago: the windows start a minute before
    try:
        _price, key = await _resting_then_traded_while_down(conn, rec, fake)
        fake.fail_requests("/fapi/v1/userTrades", 10_000)  # the venue keeps refusing for a while
        await _reconnect(fake, key)
        await until(lambda: fake.failed)
        first_start = int(fake.failed[0][2]["startTime"])
        await until(lambda: conn.streams["private"].state.name == "CONNECTED")
        await asyncio.sleep(0.05)  # the stream lives on after the reconnect: its last message is later now
        await fake.drop_sockets("private")
        await until(lambda: conn.streams["private"].connects == 3)
        fake._failing.clear()
        (fill,) = await until(lambda: rec.events["fill"])
        assert fill.client_order_index == 5
        tried = [p for _m, path, p in fake.failed if path == "/fapi/v1/userTrades"]
        starts = {int(p["startTime"]) for p in [*tried, *fake_gets(fake, "/fapi/v1/userTrades")]}
        assert starts == {first_start}  # the second reconnect's window did not start at its own last message
    finally:
        await conn.stop()


async def test_a_window_with_more_trades_than_a_page_is_read_to_its_last_trade(fake, keys):
    conn, rec = await _open(fake, keys)
    try:
        bid, _, _ = await conn.get_top_of_book("BTCUSDT")
        await conn.submit_limit_order(symbol="BTCUSDT", client_order_index=5, base_amount=2, price=bid * 99 // 100,
                                      is_ask=False)  # fmt: skip
        await until(lambda: conn.ledger.orders[5].order_id is not None)
        order_id, now = int(conn.ledger.orders[5].order_id), fake.server_ms()
        fake.user_trades["BTCUSDT"] = [
            {"buyer": True, "commission": "0.00100000", "commissionAsset": "USDT", "id": 7_000_000 + i, "maker": True,
             "orderId": order_id, "price": "64000.0", "qty": "0.001", "quoteQty": "64.0", "realizedPnl": "0",
             "side": "BUY", "positionSide": "BOTH", "symbol": "BTCUSDT", "time": now}
            for i in range(1001)
        ]  # fmt: skip
        await fake.drop_sockets("private")
        await until(lambda: len(rec.events["fill"]) == 1001)
        assert rec.events["fill"][-1].trade_id == "BTCUSDT:7001000"
        pages = fake_gets(fake, "/fapi/v1/userTrades")
        assert [p.get("fromId") for p in pages] == [None, "7001000"] and "startTime" not in pages[1]
    finally:
        await conn.stop()


async def test_a_trade_read_back_has_the_fee_the_stream_gave_it_a_maker_rebate_included(tmp_path):
    clock = RealClock()
    engine = SimEngine(7, clock=clock, markets=[lst.spec for lst in bw.MARKETS], maker_fee_ppm=-100, taker_fee_ppm=500)
    fake = await FakeBinanceUsdm(engine, clock=clock, step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue="binance-usdm")
    conn, rec = await _open(fake, keys)
    try:
        bid, _, _ = await conn.get_top_of_book("BTCUSDT")
        price = bid * 99 // 100
        await conn.submit_limit_order(symbol="BTCUSDT", client_order_index=5, base_amount=2, price=price, is_ask=False)
        await until(lambda: rec.orders(5))
        fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=2)  # ours as the maker: a rebate
        await conn.submit_market_order(symbol="BTCUSDT", client_order_index=6, size_i=2, is_ask=False)  # a fee
        streamed = await until(lambda: len(rec.events["fill"]) >= 2 and list(rec.events["fill"]))
        by_stream = {f.trade_id: f.fee_q for f in streamed}
        assert min(by_stream.values()) < 0 < max(by_stream.values())
        conn.ledger._fills.clear()  # as if the stream had not delivered them: read back after the drop
        await fake.drop_sockets("private")
        await until(lambda: len(rec.events["fill"]) == 2 * len(streamed))
        by_rest = {f.trade_id: f.fee_q for f in rec.events["fill"][len(streamed) :]}
        assert by_rest == by_stream
    finally:
        await conn.stop()
        await fake.stop()


async def test_a_row_we_cannot_read_is_logged_and_skipped_and_the_other_symbols_still_come(fake, keys, caplog):
    conn, rec = await _open(fake, keys)
    try:
        prices = {}
        for coi, symbol, size in ((5, "BTCUSDT", 2), (6, "ETHUSDT", 10)):
            bid, _, _ = await conn.get_top_of_book(symbol)
            prices[symbol] = bid * 99 // 100
            await conn.submit_limit_order(symbol=symbol, client_order_index=coi, base_amount=size,
                                          price=prices[symbol], is_ask=False)  # fmt: skip
            await until(lambda coi=coi: rec.orders(coi))
        key = _stream_down(fake)
        for symbol, price in prices.items():
            fake.engine.trade_through(symbol, is_ask=True, price_i=price, size_i=10)
        await until(lambda: fake.user_trades.get("BTCUSDT") and fake.user_trades.get("ETHUSDT"))
        bad = {k: v for k, v in fake.user_trades["BTCUSDT"][0].items() if k != "orderId"}
        fake.user_trades["BTCUSDT"].insert(0, {**bad, "id": 999_999_999, "time": bad["time"] - 1})  # read first
        with caplog.at_level(logging.WARNING, logger="connector.binance_usdm.fills"):
            await _reconnect(fake, key)
            await until(lambda: {f.symbol for f in rec.events["fill"]} == {"BTCUSDT", "ETHUSDT"})
        assert sorted(f.client_order_index for f in rec.events["fill"]) == [5, 6]
        assert conn.fills.bad_rows == 1
        assert any("cannot read" in r.getMessage() and "orderId" in r.getMessage() for r in caplog.records)
    finally:
        await conn.stop()


async def test_a_row_of_an_order_the_venue_no_longer_shows_is_passed_on_as_placed_elsewhere(fake, keys):
    conn, rec = await _open(fake, keys)
    try:
        _price, key = await _resting_then_traded_while_down(conn, rec, fake)
        row = fake.user_trades["BTCUSDT"][0]
        fake.user_trades["BTCUSDT"].insert(0, {**row, "id": 999_999_999, "orderId": 999, "time": row["time"] - 1})
        await _reconnect(fake, key)
        await until(lambda: len(rec.events["fill"]) == 2)
        assert sorted(f.client_order_index for f in rec.events["fill"]) == [-999, 5]
        await until(lambda: conn.fills.pending_since is None)  # read to its end, not retried forever
    finally:
        await conn.stop()
