"""The Lighter connector end to end against the fake venue: nonces, the book chain, reconnects, faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from connector.clock import VirtualClock
from connector.errors import AuthError, ConfigError, InvalidOrder, PostOnlyWouldCross, RateLimited
from connector.interface import ConnectionState, OrderStatus
from connector.keys import load_key_file
from connector.lighter.connector import LighterConnector
from tests.fakes.lighter import FakeLighter, write_key_file


async def until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Wait on a condition the fake or the connector will make true (real sockets: no virtual time here).

    The bound only ends a test that would otherwise hang: generous, so a busy machine never fails it.
    """
    async with asyncio.timeout(timeout):
        while not (result := predicate()):
            await asyncio.sleep(0.005)
    return result


class Recorder:
    def __init__(self, connector: LighterConnector) -> None:
        self.events: dict[str, list[Any]] = {}
        for kind in ("book", "trade", "order", "fill", "position", "margin", "connection"):
            self.events[kind] = []
            connector.add_handler(kind, self.events[kind].append)

    def orders(self, coi: int) -> list[Any]:
        return [e for e in self.events["order"] if e.client_order_index == coi]


@pytest.fixture
async def fake():
    venue = await FakeLighter(step_s=0.02, ping_interval_s=0.05, pong_timeout_s=0.5).start()
    yield venue
    await venue.stop()


@pytest.fixture
def keys(tmp_path, fake):
    path = tmp_path / "lighter.toml"
    write_key_file(path, account_index=fake.account_index, api_key_index=fake.api_key_index)
    return load_key_file(path)


async def _open(fake: FakeLighter, keys: dict | None, **kwargs: Any) -> tuple[LighterConnector, Recorder]:
    conn = LighterConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, **kwargs)
    rec = Recorder(conn)
    await conn.start()
    await conn.subscribe_market_data(["BTC"])
    await until(lambda: any(b.is_snapshot and b.bids for b in rec.events["book"]))
    return conn, rec


@pytest.fixture
async def lighter(fake, keys):
    conn, rec = await _open(
        fake, keys, stale_after_s=1.0, reconnect_min_s=0.02, reconnect_max_s=0.1, requests_per_min=60_000
    )
    yield conn, rec
    await conn.stop()


async def _bid(conn: LighterConnector, pct: int = 2) -> int:
    bid, _, _ = await conn.get_top_of_book("BTC")
    return bid * (100 - pct) // 100


async def test_concurrent_submits_use_strictly_consecutive_nonces(lighter, fake):
    conn, _ = lighter
    price = await _bid(conn)
    start = fake.next_nonce[fake.api_key_index]
    await asyncio.gather(
        *(
            conn.submit_limit_order(
                symbol="BTC", client_order_index=500 + i, base_amount=10, price=price, is_ask=False, post_only=True
            )
            for i in range(25)
        )
    )
    nonces = [info["Nonce"] for _, info in fake.accepted]
    assert nonces == list(range(start, start + 25))
    assert fake.refused == []
    assert {o.client_order_index for o in await conn.get_open_orders("BTC")} >= set(range(500, 525))


async def test_invalid_nonce_is_recovered_from_next_nonce(lighter, fake):
    conn, _ = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=1, base_amount=10, price=price, is_ask=False)
    fake.set_next_nonce(77)  # another client used the key meanwhile
    await conn.submit_limit_order(symbol="BTC", client_order_index=2, base_amount=10, price=price, is_ask=False)
    assert fake.refused[-1][1] == "invalid nonce"
    assert fake.accepted[-1][1]["Nonce"] == 77
    assert conn.nonces.peek(fake.api_key_index) == 78


async def test_429_raises_rate_limited_and_keeps_the_nonce(lighter, fake):
    conn, _ = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=3, base_amount=10, price=price, is_ask=False)
    expected = fake.next_nonce[fake.api_key_index]
    fake.rate_limit(1, retry_after_s=1)
    with pytest.raises(RateLimited) as err:
        await conn.submit_limit_order(symbol="BTC", client_order_index=4, base_amount=10, price=price, is_ask=False)
    assert err.value.retry_after_s == 1
    await conn.submit_limit_order(symbol="BTC", client_order_index=4, base_amount=10, price=price, is_ask=False)
    assert fake.accepted[-1][1]["Nonce"] == expected
    assert fake.refused == []


async def test_book_gap_drops_the_book_and_resubscribes_for_a_fresh_snapshot(lighter, fake):
    conn, rec = lighter
    snapshots = sum(1 for b in rec.events["book"] if b.is_snapshot)
    fake.skip_book_nonce(1)
    await until(lambda: conn.stream.book_gaps == 1)
    cleared = [b for b in rec.events["book"] if b.is_snapshot and not b.bids and not b.asks]
    assert cleared and cleared[0].symbol == "BTC"
    await until(lambda: sum(1 for b in rec.events["book"] if b.is_snapshot and b.bids) > snapshots)
    assert [c for c, _ in fake.subscribes].count("order_book/1") == 2
    bid, ask, _ = await conn.get_top_of_book("BTC")
    assert bid is not None and ask is not None and bid < ask


async def test_server_pings_are_answered_and_the_link_stays_up(lighter, fake):
    conn, rec = lighter
    await until(lambda: fake.pongs >= 3)
    assert conn.reconnects == 0
    assert [e.state for e in rec.events["connection"]][-1] is ConnectionState.CONNECTED


async def test_malformed_frames_are_counted_and_the_stream_goes_on(lighter, fake):
    conn, rec = lighter
    fake.send_malformed(4)
    await until(lambda: conn.malformed_frames == 4)
    seen = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > seen)
    assert conn.reconnects == 0


async def test_dropped_socket_reconnects_resubscribes_and_reconciles(lighter, fake):
    conn, rec = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=42, base_amount=20, price=price, is_ask=False)
    await until(lambda: any(o.status is OrderStatus.OPEN for o in rec.orders(42)))
    account_subs = [c for c, _ in fake.subscribes].count(f"account_all_orders/{fake.account_index}")
    await fake.drop_sockets()
    fake.engine.trade_through("BTC-PERP", is_ask=True, price_i=price, size_i=20)  # fills in the gap, unseen
    await until(lambda: conn.reconnects == 1 and conn.connection_state["lighter"] is ConnectionState.CONNECTED)
    states = [e.state for e in rec.events["connection"]]
    assert ConnectionState.DISCONNECTED in states and states[-1] is ConnectionState.CONNECTED
    # the resubscriptions go out just after CONNECTED is announced: wait for them, then for no more
    channel = f"account_all_orders/{fake.account_index}"
    await until(lambda: [c for c, _ in fake.subscribes].count(channel) >= account_subs + 1)
    assert [c for c, _ in fake.subscribes].count(channel) == account_subs + 1
    snap = await conn.get_order("BTC", 42)
    assert (snap.status, snap.filled_i) == (OrderStatus.FILLED, 20)
    assert {p.symbol: p.size_i for p in await conn.get_positions()}["BTC"] == 20


async def test_the_trade_history_sent_on_resubscribe_is_not_replayed_as_fills(lighter, fake):
    conn, rec = lighter
    await conn.submit_market_order(symbol="BTC", client_order_index=21, size_i=10, is_ask=False)
    await until(lambda: [f for f in rec.events["fill"] if f.client_order_index == 21])
    await fake.drop_sockets()
    await until(lambda: conn.reconnects == 1 and conn.connection_state["lighter"] is ConnectionState.CONNECTED)
    await until(lambda: len([c for c, _ in fake.subscribes if c.startswith("account_all_trades")]) == 2)
    seen = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > seen + 2)  # the stream has moved on past the snapshots
    assert len([f for f in rec.events["fill"] if f.client_order_index == 21]) == 1


async def test_a_fill_made_while_the_socket_was_down_arrives_once_with_its_trade_id(lighter, fake):
    conn, rec = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=43, base_amount=20, price=price, is_ask=False)
    await until(lambda: any(o.status is OrderStatus.OPEN for o in rec.orders(43)))
    await fake.drop_sockets()
    fake.engine.trade_through("BTC-PERP", is_ask=True, price_i=price, size_i=20)  # fills in the gap
    trade_id = str(fake._own_trades[-1]["trade_id"])
    assert not [f for f in rec.events["fill"] if f.client_order_index == 43]
    await until(lambda: [f for f in rec.events["fill"] if f.client_order_index == 43])
    assert conn.reconnects == 1
    seen = len(rec.events["book"])
    await until(lambda: len(rec.events["book"]) > seen + 2)  # the stream has moved on past the snapshots
    fills = [f for f in rec.events["fill"] if f.client_order_index == 43]
    assert [(f.trade_id, f.size_i, f.price_i) for f in fills] == [(trade_id, 20, price)]


async def test_an_order_older_than_the_recent_history_is_still_found(lighter, fake):
    conn, _ = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=31, base_amount=10, price=price, is_ask=False)
    await conn.cancel_by_client_id("BTC", 31)
    for coi in range(32, 135):  # push it out of the 100 latest finished orders
        await conn.submit_limit_order(symbol="BTC", client_order_index=coi, base_amount=10, price=price, is_ask=False)
    await conn.cancel_all("BTC")
    snap = await conn.get_order("BTC", 31)
    assert (snap.client_order_index, snap.status) == (31, OrderStatus.CANCELLED)


async def test_a_stalled_stream_is_abandoned_and_reopened(lighter, fake, caplog):
    conn, _ = lighter
    fake.stall(1.5)
    await until(lambda: conn.reconnects >= 1)
    assert any("no message for" in r.getMessage() for r in caplog.records)  # our watchdog, not the venue, closed it


async def test_submit_returns_on_acceptance_and_the_fate_arrives_on_the_order_channel(fake, keys):
    fake.tx_delay_s = 0.2  # the sequencer acts after the API answered
    conn, rec = await _open(fake, keys)
    try:
        price = await _bid(conn)
        oid = await conn.submit_limit_order(
            symbol="BTC", client_order_index=7, base_amount=10, price=price, is_ask=False
        )
        assert oid == "7" and "async_ack" in conn.capabilities
        assert rec.orders(7) == []
        opened = await until(lambda: [o for o in rec.orders(7) if o.status is OrderStatus.OPEN])
        assert int(opened[0].order_id) >= 2**48
    finally:
        await conn.stop()


async def test_post_only_refused_by_the_matching_engine_arrives_rejected(lighter, fake):
    conn, rec = lighter
    _, ask, _ = await conn.get_top_of_book("BTC")
    conn.stream.chains[1].asks.clear()  # our book has no ask: the venue, not the guard, refuses it
    await conn.submit_limit_order(
        symbol="BTC", client_order_index=8, base_amount=10, price=ask + 50, is_ask=False, post_only=True
    )
    rejected = await until(lambda: [o for o in rec.orders(8) if o.status is OrderStatus.REJECTED])
    assert rejected[0].reason == "canceled-post-only"


async def test_post_only_crossing_our_book_is_refused_before_signing(lighter, fake):
    conn, _ = lighter
    _, ask, _ = await conn.get_top_of_book("BTC")
    sent = len(fake.accepted)
    with pytest.raises(PostOnlyWouldCross):
        await conn.submit_limit_order(
            symbol="BTC", client_order_index=9, base_amount=10, price=ask, is_ask=False, post_only=True
        )
    assert len(fake.accepted) == sent


async def test_ioc_reduce_only_and_market_orders_carry_their_flags(lighter, fake):
    conn, rec = lighter
    bid, ask, _ = await conn.get_top_of_book("BTC")
    await conn.submit_market_order(symbol="BTC", client_order_index=10, size_i=10, is_ask=False)
    market = fake.accepted[-1][1]
    assert (market["Type"], market["TimeInForce"], market["OrderExpiry"]) == (1, 0, 0)
    assert ask < market["Price"] <= ask * 105 // 100  # worst acceptable price: the touch + 5 %
    await until(lambda: [o for o in rec.orders(10) if o.status is OrderStatus.FILLED])
    bid, _, _ = await conn.get_top_of_book("BTC")  # the fake's market moves on: price the IOC off the touch now
    await conn.submit_limit_order(
        symbol="BTC", client_order_index=11, base_amount=10, price=bid * 95 // 100, is_ask=True, reduce_only=True,
        ioc=True,
    )
    ioc = fake.accepted[-1][1]
    assert (ioc["Type"], ioc["TimeInForce"], ioc["ReduceOnly"], ioc["OrderExpiry"], ioc["IsAsk"]) == (0, 0, 1, 0, 1)
    await until(lambda: [o for o in rec.orders(11) if o.status is OrderStatus.FILLED])
    assert await conn.get_positions() == []


async def test_amend_reprices_in_place(lighter, fake):
    conn, _rec = lighter
    price = await _bid(conn)
    await conn.submit_limit_order(symbol="BTC", client_order_index=12, base_amount=30, price=price, is_ask=False)
    await conn.modify_order(symbol="BTC", client_order_index=12, price=price - 10, base_amount=20)
    assert fake.accepted[-1][0] == 17 and fake.accepted[-1][1]["Index"] == 12
    snap = await conn.get_order("BTC", 12)
    assert (snap.price_i, snap.size_i - snap.filled_i, snap.status) == (price - 10, 20, OrderStatus.OPEN)


async def test_dead_man_switch_schedules_and_disarms_cancel_all(lighter, fake):
    conn, _ = lighter
    with pytest.raises(InvalidOrder, match="15 days"):
        await conn.schedule_cancel_all(16 * 86_400)
    await conn.schedule_cancel_all(600)
    tx_type, info = fake.accepted[-1]
    assert (tx_type, info["TimeInForce"]) == (16, 1)
    assert abs(info["Time"] - (conn.clock.now_ms() + 600_000)) < 5_000
    assert fake._dms_at_ms == info["Time"]
    await conn.schedule_cancel_all(60)  # shorter than the venue allows: armed at its 5-minute minimum
    assert abs(fake.accepted[-1][1]["Time"] - (conn.clock.now_ms() + 300_000)) < 5_000
    await conn.schedule_cancel_all(None)
    assert fake.accepted[-1][1]["TimeInForce"] == 2 and fake._dms_at_ms is None


async def test_client_order_index_outside_lighters_range_is_refused_before_sending(lighter, fake):
    conn, _ = lighter
    for coi in (0, 2**48):
        with pytest.raises(InvalidOrder, match="client_order_index"):
            await conn.submit_limit_order(
                symbol="BTC", client_order_index=coi, base_amount=10, price=1000, is_ask=False
            )
    assert fake.accepted == []
    assert conn.nonces.peek(fake.api_key_index) in (None, fake.next_nonce[fake.api_key_index])


async def test_auth_token_is_renewed_before_it_expires_and_account_channels_resubscribed(fake, keys):
    clock = VirtualClock(start_ms=fake.clock.now_ms())
    conn, _ = await _open(fake, keys, clock=clock, auth_ttl_s=600, auth_renew_before_s=60, stale_after_s=None)
    try:
        channel = f"account_all_orders/{fake.account_index}"
        await until(lambda: [t for c, t in fake.subscribes if c == channel])
        first = next(t for c, t in fake.subscribes if c == channel)
        assert first.split(":")[0] == str(clock.now_ms() // 1000 + 600)
        await clock.advance(541)
        tokens = await until(lambda: [t for c, t in fake.subscribes if c == channel and t != first])
        assert int(tokens[0].split(":")[0]) > int(first.split(":")[0])
    finally:
        await conn.stop()


async def test_without_keys_market_data_works_and_trading_says_what_is_missing(fake):
    conn, rec = await _open(fake, None)
    try:
        assert rec.events["book"]
        with pytest.raises(AuthError, match="key"):
            await conn.submit_limit_order(symbol="BTC", client_order_index=1, base_amount=10, price=1, is_ask=False)
    finally:
        await conn.stop()


def test_missing_sdk_with_keys_names_the_extra(monkeypatch, keys):
    import sys

    monkeypatch.setitem(sys.modules, "lighter", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[lighter\]'"):
        LighterConnector(base_url="http://127.0.0.1:9", keys=keys)


async def test_the_private_key_never_shows(lighter, keys, caplog):
    conn, _ = lighter
    secret = keys["api_private_key"].reveal()
    assert secret.removeprefix("0x") not in repr(conn)
    assert secret.removeprefix("0x") not in json.dumps([r.getMessage() for r in caplog.records])
