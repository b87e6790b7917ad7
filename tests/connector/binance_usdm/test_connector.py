"""The Binance USDⓈ-M connector end to end against the fake venue: book sync, reconnects, the
listenKey, clock drift, rate limits, amend, the dead-man switch and secrets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from connector.binance_usdm.codes import IpBanned
from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.binance_usdm.stream import LIVE
from connector.errors import AuthError, ConfigError, InvalidOrder, PostOnlyWouldCross, RateLimited
from connector.interface import EVENT_KINDS, ConnectionState, OrderStatus
from tests.fakes.binance_usdm import FakeBinanceUsdm
from tests.fakes.binance_usdm_wire import OrderMeta

FAST = {"reconnect_min_s": 0.02, "reconnect_max_s": 0.1, "account_refresh_s": 0.05, "stale_after_s": 2.0}


async def until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Wait on a condition the fake or the connector will make true (real sockets, so real time)."""
    async with asyncio.timeout(timeout):
        while not (result := predicate()):
            await asyncio.sleep(0.005)
    return result


class Recorder:
    def __init__(self, connector: BinanceUsdmConnector) -> None:
        self.events: dict[str, list[Any]] = {k: [] for k in EVENT_KINDS}
        for kind in EVENT_KINDS:
            connector.add_handler(kind, self.events[kind].append)

    def orders(self, coi: int) -> list[Any]:
        return [e for e in self.events["order"] if e.client_order_index == coi]

    def synced(self) -> list[Any]:
        return [b for b in self.events["book"] if b.info.get("synced")]

    def stale(self) -> list[Any]:
        return [b for b in self.events["book"] if "stale" in b.info]


async def _open(fake: FakeBinanceUsdm, keys: dict | None, **kwargs: Any) -> tuple[BinanceUsdmConnector, Recorder]:
    conn = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **{**FAST, **kwargs})
    rec = Recorder(conn)
    await conn.start()
    await conn.subscribe_market_data(["BTCUSDT"])
    await until(lambda: rec.synced())
    return conn, rec


@pytest.fixture
async def binance(fake, keys):
    conn, rec = await _open(fake, keys)
    yield conn, rec
    await conn.stop()


async def _bid(conn: BinanceUsdmConnector, pct: int = 1) -> int:
    bid, _, _ = await conn.get_top_of_book("BTCUSDT")
    return bid * (100 - pct) // 100


async def _rest(conn: BinanceUsdmConnector, coi: int, size_i: int = 2, symbol: str = "BTCUSDT", **kw: Any) -> int:
    if symbol == "BTCUSDT":
        price = await _bid(conn)
    else:
        bid, _, _ = await conn.get_top_of_book(symbol)
        price = bid * 99 // 100
    await conn.submit_limit_order(
        symbol=symbol, client_order_index=coi, base_amount=size_i, price=price, is_ask=False, **kw
    )
    return price


def posts(fake: FakeBinanceUsdm, path: str = "/fapi/v1/order", method: str = "POST") -> list[dict[str, str]]:
    return [p for m, pth, p in fake.requests if m == method and pth == path]


# -- the book ------------------------------------------------------------------------------


async def test_a_lost_diff_shows_the_book_stale_and_resyncs_from_a_snapshot(binance, fake):
    conn, rec = binance
    snapshots = len(rec.synced())
    await until(lambda: conn.feed.books["BTCUSDT"].state == LIVE)  # a diff lost before then is in the snapshot
    fake.skip_depth("BTCUSDT")
    stale = await until(lambda: rec.stale())
    assert stale[0].is_snapshot and stale[0].bids == () and "pu=" in stale[0].info["stale"]
    await until(lambda: len(rec.synced()) > snapshots)
    assert conn.feed.books["BTCUSDT"].gaps == 1
    bid, ask, _ = await conn.get_top_of_book("BTCUSDT")
    assert bid is not None and ask is not None and bid < ask


async def test_the_book_follows_the_venue_exactly_through_diffs_and_tickers(binance, fake):
    conn, _rec = binance
    fake.engine.set_mid("BTCUSDT", fake.engine.mid_i("BTCUSDT") + 50)
    await asyncio.sleep(0.3)
    d = fake.depth["BTCUSDT"]
    await until(lambda: conn.feed.books["BTCUSDT"].last_u == d.last_u and not d.dirty)
    sync = conn.feed.books["BTCUSDT"]
    assert sync.bids.levels == d.sent_bids and sync.asks.levels == d.sent_asks


async def test_reconnect_resubscribes_and_starts_a_new_sync(binance, fake):
    conn, rec = binance
    snapshots = len(rec.synced())
    await fake.drop_sockets("public")
    await until(lambda: conn.streams["public"].connects == 2 and len(rec.synced()) > snapshots)
    assert rec.stale() and any(
        e.stream == "public" and e.state is ConnectionState.DISCONNECTED for e in rec.events["connection"]
    )
    before = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > before + 3)  # diffs flow on the new socket


async def test_malformed_frames_are_counted_and_the_stream_goes_on(binance, fake):
    conn, rec = binance
    fake.send_malformed(4)
    await until(lambda: conn.malformed_frames >= 4)
    before = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > before + 2)
    assert conn.streams["public"].connects == 1


async def test_marks_and_trades_arrive_on_the_market_route(binance, fake):
    conn, rec = binance
    mark = await until(lambda: conn.feed.mark("BTCUSDT", 5000))
    assert abs(mark - fake.engine.mark_i("BTCUSDT")) < 1000
    trade = await until(lambda: rec.events["trade"])
    assert trade[0].symbol == "BTCUSDT" and trade[0].price_i > 0 and trade[0].size_i > 0
    market = [c for c in fake.clients if c.route == "market"]
    assert market and market[0].subs == {"btcusdt@markprice@1s", "btcusdt@aggtrade"}


async def test_market_data_works_without_keys_and_trading_says_a_key_is_needed(fake):
    conn, _rec = await _open(fake, None)
    try:
        assert "private" not in conn.streams
        with pytest.raises(AuthError, match="key file"):
            await _rest(conn, 1)
    finally:
        await conn.stop()


# -- the account stream --------------------------------------------------------------------


async def test_listen_key_expiry_mid_session_makes_a_new_key_and_orders_stream_again(binance, fake):
    conn, rec = binance
    await _rest(conn, 1)
    await until(lambda: rec.orders(1))
    first_key = fake.listen_key
    fake.expire_listen_key(notify=True)
    await until(lambda: conn.listen_key.renewals == 1 and conn.streams["private"].connects == 2)
    assert fake.listen_key != first_key and fake.listen_keys_made == 2
    await _rest(conn, 2)
    event = await until(lambda: rec.orders(2))
    assert event[0].status is OrderStatus.OPEN


async def test_a_silently_dropped_listen_key_is_found_by_the_keep_alive(fake, keys):
    conn, rec = await _open(fake, keys, listen_key_keepalive_s=0.1)
    try:
        fake.expire_listen_key(notify=False)
        await until(lambda: conn.listen_key.renewals == 1)
        await until(lambda: conn.streams["private"].connects == 2)
        await _rest(conn, 3)
        await until(lambda: rec.orders(3))
        assert any(code == -1125 for code, _ in fake.refused)
    finally:
        await conn.stop()


async def test_hedge_mode_is_refused_at_start_with_how_to_switch(fake, keys):
    fake.hedge_mode = True
    conn = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys)
    with pytest.raises(ConfigError, match="One-way"):
        await conn.start()
    assert not conn.started and conn.streams == {}


async def test_a_fill_is_passed_on_once_even_when_the_stream_repeats_it(binance, fake):
    conn, rec = binance
    price = await _rest(conn, 4)
    raw: list[dict] = []
    conn.streams["private"].on_message = lambda m, inner=conn.streams["private"].on_message: (raw.append(m), inner(m))[
        1
    ]
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=2)
    await until(lambda: rec.events["fill"])
    trade = next(m for m in raw if m.get("o", {}).get("x") == "TRADE")
    conn._on_private(trade)
    assert len(rec.events["fill"]) == 1 and conn.ledger.duplicate_fills == 1


async def test_a_fill_booked_while_the_private_stream_was_down_is_read_back_once_with_its_price_and_fee(binance, fake):
    """The venue does not replay its user-data stream: after the reconnect ``userTrades`` is read."""
    conn, rec = binance
    price = await _rest(conn, 5)
    await until(lambda: conn.ledger.orders[5].order_id is not None)
    key = fake.listen_key
    fake.listen_key = None  # the socket is as good as down: what the venue pushes now is lost
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=2)
    await asyncio.sleep(0.2)
    assert rec.events["fill"] == []
    fake.listen_key = key
    await fake.drop_sockets("private")
    (fill,) = await until(lambda: rec.events["fill"])
    (row,) = fake.user_trades["BTCUSDT"]
    assert (fill.client_order_index, fill.price_i, fill.size_i, fill.is_ask) == (5, price, 2, False)
    assert fill.trade_id == f"BTCUSDT:{row['id']}" and fill.fee_q > 0
    assert [p["symbol"] for p in fake_gets(fake, "/fapi/v1/userTrades")] == ["BTCUSDT"]
    await fake.drop_sockets("private")  # read again after the next drop: nothing new, nothing repeated
    await until(lambda: len(fake_gets(fake, "/fapi/v1/userTrades")) == 2)
    await asyncio.sleep(0.1)
    assert len(rec.events["fill"]) == 1


def fake_gets(fake: FakeBinanceUsdm, path: str) -> list[dict[str, str]]:
    return posts(fake, path, method="GET")


# -- signing, time and limits ----------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [10_000, -3_000])
async def test_a_drifting_clock_is_resynced_not_refused_forever(binance, fake, skew_ms):
    conn, _rec = binance
    fake.set_clock_skew(skew_ms)  # the server's clock moved away from ours after we measured it
    await _rest(conn, 5)
    assert conn.rest.clock_resyncs == 1 and any(code == -1021 for code, _ in fake.refused)
    await _rest(conn, 6)
    assert conn.rest.clock_resyncs == 1  # the new offset holds
    assert abs(conn.rest.server_time.offset_ms - skew_ms) < 500


async def test_429_raises_rate_limited_and_holds_the_budget(binance, fake):
    conn, _ = binance
    fake.rate_limit(2, retry_after_s=2)  # a read waits out one 429 and asks again (the shared HTTP helper)
    with pytest.raises(RateLimited) as err:
        await conn.get_open_orders("BTCUSDT")
    assert err.value.retry_after_s == 2 and "signature" not in str(err.value)
    assert conn.budget.weight.delay_for(1) > 1


async def test_418_stops_every_request_with_a_clear_message(binance, fake):
    conn, rec = binance
    fake.ban(120)
    with pytest.raises(IpBanned, match="banned"):
        await conn.get_open_orders("BTCUSDT")
    sent = len(fake.requests) + len(fake.refused)
    with pytest.raises(IpBanned, match="every request is stopped"):
        await _rest(conn, 7)
    assert len(fake.requests) + len(fake.refused) == sent  # nothing more left this machine
    event = next(e for e in rec.events["connection"] if e.stream == "rest")
    assert event.state is ConnectionState.DISCONNECTED and "418" in event.reason


async def test_the_venues_weight_counter_slows_requests_before_the_limit(binance, fake):
    conn, _ = binance
    fake.use_weight(2_000)  # another process on this IP spent most of the minute's 2400
    await conn.get_open_orders("BTCUSDT")
    assert conn.budget.used_weight >= 2_000 and conn.budget.slowdowns >= 1
    assert conn.budget.weight.delay_for(1) > 0


# -- orders ----------------------------------------------------------------------------------


async def test_orders_off_the_tick_or_outside_the_band_are_refused_before_sending(binance, fake):
    conn, _ = binance
    bid = await _bid(conn)
    sent = len(posts(fake))
    with pytest.raises(InvalidOrder, match="notional"):
        await conn.submit_limit_order(symbol="BTCUSDT", client_order_index=8, base_amount=1, price=1000, is_ask=False)
    with pytest.raises(InvalidOrder, match=r"band \d+\.\d\.\.\d+\.\d"):
        await conn.submit_limit_order(
            symbol="BTCUSDT", client_order_index=9, base_amount=2, price=bid * 11 // 10, is_ask=False
        )
    eth_bid, _, _ = await conn.get_top_of_book("ETHUSDT")
    with pytest.raises(InvalidOrder, match="band"):  # no mark stream for ETH: the mark comes from premiumIndex
        await conn.submit_limit_order(
            symbol="ETHUSDT", client_order_index=10, base_amount=100, price=eth_bid // 2, is_ask=False
        )
    assert len(posts(fake)) == sent


async def test_amend_sends_the_total_so_a_racing_fill_is_not_grown_back(binance, fake):
    conn, rec = binance
    price = await _rest(conn, 11, size_i=4)
    await until(lambda: rec.orders(11))
    fake.engine.trade_through("BTCUSDT", is_ask=True, price_i=price, size_i=1)  # fills while our amend travels
    # the caller still thinks nothing filled: 4 remaining at a tick lower
    await conn.modify_order(symbol="BTCUSDT", client_order_index=11, price=price - 1, base_amount=4)
    put = posts(fake, method="PUT")[-1]
    assert put["quantity"] == "0.004" and put["origClientOrderId"] == "pd-11"
    snap = fake.engine.order("BTCUSDT", client_order_index=11)
    assert (snap.size_i, snap.filled_i, snap.price_i) == (4, 1, price - 1)
    await until(lambda: any(e.info["o"]["x"] == "AMENDMENT" for e in rec.orders(11)))


async def test_a_post_only_amend_that_would_cross_is_refused_and_the_order_keeps_resting(binance, fake):
    conn, _ = binance
    price = await _rest(conn, 12, post_only=True)
    _, ask, _ = await conn.get_top_of_book("BTCUSDT")
    with pytest.raises(PostOnlyWouldCross):
        await conn.modify_order(symbol="BTCUSDT", client_order_index=12, price=ask + 10, base_amount=2)
    assert posts(fake, method="PUT") == []
    assert (await conn.get_order("BTCUSDT", 12)).price_i == price


async def test_dead_man_switch_is_armed_on_every_symbol_with_live_orders(binance, fake):
    conn, rec = binance
    await _rest(conn, 13)
    await conn.schedule_cancel_all(60)
    assert fake.countdown_calls == [("BTCUSDT", 60_000)]
    await _rest(conn, 14, size_i=100, symbol="ETHUSDT")  # a new symbol is armed as soon as it has an order
    await until(lambda: ("ETHUSDT", 60_000) in fake.countdown_calls)
    await conn.schedule_cancel_all(None)
    assert sorted(fake.countdown_calls[-2:]) == [("BTCUSDT", 0), ("ETHUSDT", 0)] and fake.countdowns == {}
    await conn.schedule_cancel_all(1)
    await until(lambda: rec.orders(13)[-1].status is OrderStatus.CANCELLED)
    await until(lambda: rec.orders(14)[-1].status is OrderStatus.CANCELLED)


async def test_cancel_all_without_a_symbol_cancels_everywhere(binance, fake):
    conn, _rec = binance
    await _rest(conn, 15)
    await _rest(conn, 16, size_i=100, symbol="ETHUSDT")
    await conn.cancel_all()
    assert fake.engine.open_orders() == []
    assert [p["symbol"] for p in posts(fake, "/fapi/v1/allOpenOrders", "DELETE")] == ["BTCUSDT", "ETHUSDT"]


async def test_an_order_placed_elsewhere_is_reported_and_cancelled_by_its_order_id(binance, fake):
    conn, _ = binance
    bid = await _bid(conn)
    snap = fake.engine.place("BTCUSDT", client_order_index=10**15 + 5, is_ask=False, price_i=bid, size_i=2, tif="GTC")
    fake.meta[str(snap.order_id)] = OrderMeta("web_abc", "LIMIT", "GTC", 0)
    listed = [o for o in await conn.get_open_orders("BTCUSDT") if o.order_id == snap.order_id]
    assert listed and listed[0].client_order_index == -int(snap.order_id)
    await conn.cancel_by_client_id("BTCUSDT", listed[0].client_order_index)
    assert fake.engine.order("BTCUSDT", order_id=snap.order_id).status is OrderStatus.CANCELLED


# -- secrets ---------------------------------------------------------------------------------


async def test_no_secret_reaches_a_log_a_repr_or_an_error(fake, keys, caplog):
    caplog.set_level(logging.DEBUG)
    conn, _rec = await _open(fake, keys)
    errors = []
    try:
        fake.rate_limit(2)  # the read's one retry after a 429 is refused too
        for call in (conn.get_open_orders("BTCUSDT"), conn.get_order("BTCUSDT", 999_999)):
            try:
                await call
            except Exception as exc:  # collected for inspection
                errors.append(exc)
        fake.expire_listen_key()
        await until(lambda: conn.listen_key.renewals == 1)
    finally:
        await conn.stop()
    assert len(errors) == 2
    canaries = [fake.api_secret, fake.api_key, fake.listen_key]
    texts = [caplog.text, repr(conn), repr(keys), *(str(e) for e in errors), *(repr(e.info) for e in errors)]
    for canary in canaries:
        assert canary and all(canary not in text for text in texts)


async def test_a_refused_order_is_not_remembered_as_live(binance, fake):
    conn, _ = binance
    _, ask, _ = await conn.get_top_of_book("BTCUSDT")
    with pytest.raises(PostOnlyWouldCross):
        await conn.submit_limit_order(
            symbol="BTCUSDT", client_order_index=17, base_amount=2, price=ask + 10, is_ask=False, post_only=True
        )
    assert 17 not in conn.ledger.orders
    await conn.schedule_cancel_all(60)
    assert fake.countdown_calls == []  # no live order anywhere: nothing to arm


async def test_symbols_are_spread_over_sockets_of_at_most_200_streams(fake, keys, monkeypatch):
    monkeypatch.setattr("connector.binance_usdm.feed.SYMBOLS_PER_SOCKET", 2)
    conn, rec = await _open(fake, keys)
    try:
        await conn.subscribe_market_data(["ETHUSDT", "SOLUSDT"])
        await until(lambda: {b.symbol for b in rec.synced()} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"})
        assert [len(s.symbols) for s in conn.feed.shards] == [2, 1]
        public = sorted((c.subs for c in fake.clients if c.route == "public"), key=len)
        assert public == [
            {"solusdt@depth@100ms", "solusdt@bookticker"},
            {"btcusdt@depth@100ms", "btcusdt@bookticker", "ethusdt@depth@100ms", "ethusdt@bookticker"},
        ]
        assert {"public", "public-2", "market", "market-2", "private"} == set(conn.streams)
    finally:
        await conn.stop()


async def test_book_snapshots_draw_on_their_own_budget(binance, fake):
    conn, _ = binance
    conn.budget.background.penalize(60)  # snapshots are held back...
    await conn.get_open_orders("BTCUSDT")  # ...and a trader's request still goes at once
    assert conn.budget.weight.delay_for(1) == 0


async def test_a_stopped_connector_starts_again_with_its_books(fake, keys):
    conn, rec = await _open(fake, keys)
    try:
        await conn.stop()
        synced = len(rec.synced())
        await conn.start()
        await until(lambda: len(rec.synced()) > synced)
        assert conn.streams["private"].connects == 1 and await conn.get_open_orders() == []
    finally:
        await conn.stop()
