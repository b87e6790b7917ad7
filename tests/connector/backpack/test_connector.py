"""The Backpack connector end to end against the fake venue: book sync, reconnects, faults, errors, keys."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import httpx
import nacl.signing
import pytest

from connector.backpack.connector import BackpackConnector
from connector.backpack.signing import Signer
from connector.errors import (
    AuthError,
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
)
from connector.interface import ConnectionState, OrderStatus
from connector.keys import load_key_file
from tests.fakes.backpack import FakeBackpack

BTC = "BTC_USDC_PERP"


async def until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Wait on a condition the fake or the connector will make true (real sockets: generous bound)."""
    async with asyncio.timeout(timeout):
        while not (result := predicate()):
            await asyncio.sleep(0.005)
    return result


class Recorder:
    def __init__(self, connector: BackpackConnector) -> None:
        self.events: dict[str, list[Any]] = {}
        for kind in ("book", "trade", "order", "fill", "position", "margin", "connection"):
            self.events[kind] = []
            connector.add_handler(kind, self.events[kind].append)

    def orders(self, coi: int) -> list[Any]:
        return [e for e in self.events["order"] if e.client_order_index == coi]

    def snapshots(self) -> int:
        return sum(1 for b in self.events["book"] if b.is_snapshot and b.bids)


@pytest.fixture
async def fake():
    venue = await FakeBackpack(step_s=0.02).start()
    yield venue
    await venue.stop()


@pytest.fixture
def keys(tmp_path, fake):
    return load_key_file(fake.write_key_file(tmp_path / "backpack.toml"), venue="backpack")


async def _open(fake: FakeBackpack, keys: dict | None, **options: Any) -> tuple[BackpackConnector, Recorder]:
    options = {"reconnect_min_s": 0.02, "reconnect_max_s": 0.1, "requests_per_s": 1000, "burst": 1000, **options}
    conn = BackpackConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **options)
    rec = Recorder(conn)
    await conn.start()
    await conn.subscribe_market_data([BTC])
    await until(lambda: rec.snapshots())
    return conn, rec


@pytest.fixture
async def backpack(fake, keys):
    conn, rec = await _open(fake, keys)
    yield conn, rec
    await conn.stop()


async def _bid(conn: BackpackConnector, pct: int = 2) -> int:
    bid, _, _ = await conn.get_top_of_book(BTC)
    return bid * (100 - pct) // 100


def _fake_top(fake: FakeBackpack, symbol: str = BTC) -> tuple[int, int]:
    book = fake._books[symbol]
    return max(book.bids), min(book.asks)


async def test_the_book_follows_the_depth_chain_and_matches_the_venue(backpack, fake):
    conn, rec = backpack
    fake.engine.step_ms = 10  # the sim steps ten times as often: the 20 books come sooner
    seen = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > seen + 20)  # deltas, padded decimals among them
    assert any(not b.is_snapshot for b in rec.events["book"])
    await until(lambda: conn.stream.books[BTC].top() == _fake_top(fake))
    assert conn.book_gaps == 0


async def test_a_skipped_sequence_number_clears_the_book_and_resyncs_from_a_snapshot(backpack, fake):
    conn, rec = backpack
    snapshots = rec.snapshots()
    fake.skip_depth_seq(BTC)
    await until(lambda: conn.book_gaps == 1)
    assert any(b.is_snapshot and not b.bids and not b.asks for b in rec.events["book"])
    await until(lambda: rec.snapshots() > snapshots)
    await until(lambda: conn.stream.books[BTC].top() == _fake_top(fake))
    assert conn.reconnects == 0  # the stream goes on; only the book was re-seeded


async def test_a_snapshot_that_lags_the_stream_is_fetched_again_until_the_buffer_covers_it(fake, keys):
    fake.depth_lag = 3  # the REST book is three events behind the stream
    conn, rec = await _open(fake, keys)
    try:
        await until(lambda: conn.stream.books[BTC].top() == _fake_top(fake))
        assert rec.events["book"][0].info["replayed"] >= 1
    finally:
        await conn.stop()


async def test_malformed_frames_are_counted_and_the_stream_goes_on(backpack, fake):
    conn, rec = backpack
    fake.send_malformed(4)
    await until(lambda: conn.malformed_frames == 4)
    seen = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > seen)
    assert conn.reconnects == 0


async def test_a_dropped_socket_reconnects_resubscribes_and_recovers_missed_fills(backpack, fake):
    conn, rec = backpack
    price = await _bid(conn)
    await conn.submit_limit_order(symbol=BTC, client_order_index=42, base_amount=20, price=price, is_ask=False)
    await until(lambda: any(o.status is OrderStatus.OPEN for o in rec.orders(42)))
    private = fake.subscribes.count("account.orderUpdate")
    await fake.drop_sockets()
    fake.engine.trade_through(BTC, is_ask=True, price_i=price, size_i=20)  # fills while nobody listens
    await until(lambda: conn.reconnects == 1 and conn.connection_state["backpack"] is ConnectionState.CONNECTED)
    states = [e.state for e in rec.events["connection"]]
    assert ConnectionState.DISCONNECTED in states
    await until(lambda: fake.subscribes.count("account.orderUpdate") == private + 1)
    fill = await until(lambda: [f for f in rec.events["fill"] if f.client_order_index == 42])
    assert (fill[0].size_i, fill[0].price_i) == (20, price) and fill[0].info["tradeId"]  # from the fill history
    snap = await conn.get_order(BTC, 42)
    assert (snap.status, snap.filled_i) == (OrderStatus.FILLED, 20)
    await until(lambda: rec.snapshots() >= 2)  # the book was seeded again


async def test_a_fill_seen_on_the_stream_is_not_passed_on_again_after_a_reconnect(backpack, fake):
    conn, rec = backpack
    await conn.submit_market_order(symbol=BTC, client_order_index=21, size_i=10, is_ask=False)
    await until(lambda: [f for f in rec.events["fill"] if f.client_order_index == 21])
    await fake.drop_sockets()
    await until(lambda: conn.reconnects == 1 and conn.connection_state["backpack"] is ConnectionState.CONNECTED)
    await until(lambda: any(path == "/wapi/v1/history/fills" for _, path, _ in fake.requests))
    await until(lambda: conn.stream.recovery is not None and conn.stream.recovery.done())  # it has run to its end
    assert len([f for f in rec.events["fill"] if f.client_order_index == 21]) == 1


async def test_429_raises_rate_limited_with_the_venues_wait(backpack, fake):
    conn, _ = backpack
    price = await _bid(conn)
    fake.rate_limit(1, retry_after_s=2)
    with pytest.raises(RateLimited) as err:
        await conn.submit_limit_order(symbol=BTC, client_order_index=3, base_amount=10, price=price, is_ask=False)
    assert err.value.retry_after_s == 2 and err.value.info["status"] == 429
    await conn.submit_limit_order(symbol=BTC, client_order_index=3, base_amount=10, price=price, is_ask=False)


async def test_a_wrong_signature_is_refused_as_an_auth_error_with_the_venues_answer(fake, tmp_path):
    stranger = FakeBackpack(step_s=0)  # a key this venue never issued
    keys = load_key_file(stranger.write_key_file(tmp_path / "other.toml"), venue="backpack")
    conn, _ = await _open(fake, keys)
    try:
        with pytest.raises(AuthError) as err:
            await conn.get_open_orders()
        assert err.value.info["body"]["code"] == "UNAUTHORIZED"
        secret = keys["api_secret"].reveal()
        assert secret not in str(err.value) and secret not in json.dumps(err.value.info)
    finally:
        await conn.stop()


async def test_a_venue_clock_ahead_of_ours_is_measured_and_a_drift_later_is_recovered(fake, keys):
    fake.clock_skew_ms = 30_000
    conn, _ = await _open(fake, keys)
    try:
        assert abs(conn.offset_ms - 30_000) < 1000
        await conn.get_open_orders()
        fake.clock_skew_ms = -20_000  # the venue's clock moves: the next request is stale
        assert await conn.get_positions() == []
        assert conn.clock_syncs == 2 and abs(conn.offset_ms + 20_000) < 1000
        assert ("/api/v1/position", "INVALID_CLIENT_REQUEST") in fake.refused
    finally:
        await conn.stop()


async def test_a_book_that_is_not_open_refuses_new_orders_before_sending(backpack, fake):
    conn, _ = backpack
    price = await _bid(conn)
    fake.set_book_state(BTC, "PostOnly")
    await conn.list_markets()
    sent = len(fake.requests)
    with pytest.raises(OrderRejected, match="PostOnly"):
        await conn.submit_limit_order(symbol=BTC, client_order_index=5, base_amount=10, price=price, is_ask=False)
    with pytest.raises(OrderRejected, match="PostOnly"):
        await conn.submit_market_order(symbol=BTC, client_order_index=6, size_i=10, is_ask=False)
    assert len(fake.requests) == sent
    await conn.submit_limit_order(
        symbol=BTC, client_order_index=7, base_amount=10, price=price, is_ask=False, post_only=True
    )


async def test_a_post_only_the_venue_expires_is_raised_and_arrives_rejected(backpack, fake):
    conn, rec = backpack
    fake.post_only_mode = "expire"
    _, ask, _ = await conn.get_top_of_book(BTC)
    with pytest.raises(PostOnlyWouldCross):
        await conn.submit_limit_order(
            symbol=BTC, client_order_index=8, base_amount=10, price=ask + 10, is_ask=False, post_only=True
        )
    rejected = await until(lambda: [o for o in rec.orders(8) if o.status is OrderStatus.REJECTED])
    assert rejected[0].reason == "PostOnlyTaker"
    assert (await conn.get_order(BTC, 8)).status is OrderStatus.REJECTED


async def test_ioc_reduce_only_and_market_orders_carry_their_flags(backpack, fake):
    conn, rec = backpack
    bid, _, _ = await conn.get_top_of_book(BTC)
    await conn.submit_market_order(symbol=BTC, client_order_index=10, size_i=10, is_ask=False)
    assert fake.requests[-1][2] == {"symbol": BTC, "side": "Bid", "orderType": "Market", "quantity": "0.00010",
                                    "clientId": 10}  # fmt: skip
    await until(lambda: [o for o in rec.orders(10) if o.status is OrderStatus.FILLED])
    await conn.submit_limit_order(
        symbol=BTC, client_order_index=11, base_amount=10, price=bid - 10, is_ask=True, reduce_only=True, ioc=True
    )
    body = fake.requests[-1][2]
    assert (body["timeInForce"], body["reduceOnly"], body["side"]) == ("IOC", True, "Ask")
    await until(lambda: [o for o in rec.orders(11) if o.status is OrderStatus.FILLED])
    assert await conn.get_positions() == []


async def test_a_wide_client_index_travels_as_its_low_32_bits_and_comes_back_after_a_restart(backpack, fake, keys):
    conn, rec = backpack
    coi = conn.clock.now_ms() + 12_345  # what the order service allocates: a millisecond clock, counting up
    price = await _bid(conn)
    oid = await conn.submit_limit_order(symbol=BTC, client_order_index=coi, base_amount=10, price=price, is_ask=False)
    assert fake.requests[-1][2]["clientId"] == coi % 2**32
    await until(lambda: [o for o in rec.orders(coi) if o.status is OrderStatus.OPEN])
    restarted, _ = await _open(fake, keys)  # a new process: nothing remembered
    try:
        (snap,) = await restarted.get_open_orders(BTC)
        assert (snap.client_order_index, snap.order_id) == (coi, oid)
        await restarted.cancel_by_client_id(BTC, coi)
        assert (await restarted.get_order(BTC, coi)).status is OrderStatus.CANCELLED
    finally:
        await restarted.stop()


async def test_a_tick_that_is_not_a_power_of_ten_is_kept_and_enforced_before_sending(backpack, fake):
    conn, _ = backpack
    eth = {m.symbol: m for m in await conn.list_markets()}["ETH_USDC_PERP"]
    assert (eth.price_decimals, eth.tick_i) == (2, 5)
    bid, _, _ = await conn.get_top_of_book("ETH_USDC_PERP")
    price = bid * 98 // 100 // 5 * 5
    sent = len(fake.requests)
    with pytest.raises(InvalidOrder, match=r"tick 0\.05"):
        await conn.submit_limit_order(
            symbol="ETH_USDC_PERP", client_order_index=12, base_amount=10, price=price + 1, is_ask=False
        )
    assert len(fake.requests) == sent
    await conn.submit_limit_order(
        symbol="ETH_USDC_PERP", client_order_index=12, base_amount=10, price=price, is_ask=False
    )
    assert fake.requests[-1][2]["price"] == f"{price // 100}.{price % 100:02d}"


async def test_a_price_outside_the_venues_band_is_refused_by_the_venue_with_its_reason(backpack, fake):
    conn, _ = backpack
    price = await _bid(conn, pct=30)
    with pytest.raises(InvalidOrder, match="band") as err:
        await conn.submit_limit_order(symbol=BTC, client_order_index=13, base_amount=10, price=price, is_ask=False)
    assert err.value.info["body"]["code"] == "INVALID_PRICE"


async def test_a_batch_signed_by_our_signer_is_accepted_by_the_venue(fake, keys):
    signer = Signer(keys["api_key"], keys["api_secret"])
    bid, _ = _fake_top(fake) if BTC in fake._books else fake.engine.top(BTC)
    orders = [
        {"symbol": BTC, "side": "Bid", "orderType": "Limit", "price": f"{(bid - 100 * i) / 10:.1f}",
         "quantity": "0.00010", "postOnly": True, "clientId": 900 + i}
        for i in (1, 2)
    ]  # fmt: skip
    headers = signer.batch_headers("orderExecute", orders, fake.server_ms())
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        resp = await client.post("/api/v1/orders", json=orders, headers=headers)
    assert resp.status_code == 200, resp.text
    assert [r["operation"] for r in resp.json()] == ["Ok", "Ok"]


async def test_without_keys_market_data_works_and_trading_says_what_is_missing(fake):
    conn, rec = await _open(fake, None)
    try:
        assert rec.events["book"]
        with pytest.raises(AuthError, match="key file"):
            await conn.submit_limit_order(symbol=BTC, client_order_index=1, base_amount=10, price=1, is_ask=False)
    finally:
        await conn.stop()


def test_there_is_no_testnet_and_the_factory_builds_the_venue(tmp_path, fake, keys):
    with pytest.raises(ConfigError, match="no testnet"):
        BackpackConnector(testnet=True)
    from connector.factory import create_connector

    key_file = fake.write_key_file(tmp_path / "k.toml")
    conn = create_connector("backpack", base_url=fake.base_url, key_file=key_file)
    assert isinstance(conn, BackpackConnector) and conn.base_url == fake.base_url


async def test_the_secret_never_shows(backpack, keys, caplog):
    conn, _ = backpack
    secret = keys["api_secret"].reveal()
    await conn.get_margin()
    assert secret not in repr(conn) and secret not in repr(keys)
    assert secret not in json.dumps([r.getMessage() for r in caplog.records])


async def test_the_fake_runs_as_its_own_process_and_takes_faults_over_http(tmp_path):
    """What the chaos suite needs: the venue outlives our runtime and is steered from outside."""
    key_file = tmp_path / "backpack.toml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-u", "-m", "tests.fakes.backpack", "--port", "0", "--key-file", str(key_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        base_url = ""
        async with asyncio.timeout(30):
            while not base_url:
                line = (await proc.stdout.readline()).decode()  # type: ignore[union-attr]
                assert line, "the fake exited before it listened"
                if line.startswith("fake Backpack on "):
                    base_url = line.split()[3]
        ws_url = base_url.replace("http", "ws", 1) + "/"
        conn = BackpackConnector(base_url=base_url, ws_url=ws_url, keys=load_key_file(key_file), reconnect_min_s=0.02)
        rec = Recorder(conn)
        await conn.start()
        try:
            await conn.subscribe_market_data([BTC])
            await until(lambda: rec.snapshots(), timeout=15)
            price = await _bid(conn)
            await conn.submit_limit_order(symbol=BTC, client_order_index=77, base_amount=10, price=price, is_ask=False)
            async with httpx.AsyncClient(base_url=base_url) as client:
                state = (await client.post("/_fake/drop_sockets")).json()
                assert [o["clientId"] for o in state["open_orders"]] == [77]
                await until(lambda: conn.reconnects == 1, timeout=15)
                await client.post("/_fake/send_malformed", json={"n": 2})
                await until(lambda: conn.malformed_frames == 2, timeout=15)
        finally:
            await conn.stop()
    finally:
        proc.terminate()
        await proc.wait()


async def test_the_venue_refuses_a_bad_signature_and_a_stale_window_and_the_connector_says_so(backpack, fake, keys):
    conn, _ = backpack
    signer = Signer(keys["api_key"], keys["api_secret"])
    stale = signer.headers("orderQueryAll", {}, fake.server_ms() - 10_000, 5000)
    forged = {**signer.headers("orderQueryAll", {}, fake.server_ms(), 5000), "X-Signature": stale["X-Signature"]}
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        too_old = await client.get("/api/v1/orders", headers=stale)
        wrong = await client.get("/api/v1/orders", headers=forged)
    assert (too_old.status_code, too_old.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert "Invalid timestamp" in too_old.json()["message"]
    assert (wrong.status_code, wrong.json()) == (401, {"code": "INVALID_SIGNATURE", "message": "Invalid signature"})
    conn._signer._key = nacl.signing.SigningKey.generate()  # the key file's secret no longer matches the venue's key
    with pytest.raises(AuthError, match="Invalid signature") as err:
        await conn.get_positions()
    assert err.value.info["body"]["code"] == "INVALID_SIGNATURE"


async def test_an_order_beyond_the_margin_is_refused_as_insufficient_margin(backpack, fake):
    conn, _ = backpack
    price = await _bid(conn)
    with pytest.raises(InsufficientMargin) as err:  # 200 BTC: far beyond 100,000 USDC of collateral
        await conn.submit_limit_order(
            symbol=BTC, client_order_index=14, base_amount=20_000_000, price=price, is_ask=False, post_only=True
        )
    assert err.value.info["body"] == {"code": "INSUFFICIENT_MARGIN", "message": "Insufficient margin"}
