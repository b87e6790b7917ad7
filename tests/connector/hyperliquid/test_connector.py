"""The Hyperliquid connector end to end against the fake venue: signing, nonces, price rounding,
per-order errors, amend, dead-man switch, rate limits, reconnects and malformed frames."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.errors import (
    AuthError,
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    RateLimited,
    UnknownOrder,
)
from connector.factory import create_connector
from connector.hyperliquid import signing, wire
from connector.hyperliquid.connector import HyperliquidConnector
from connector.interface import EVENT_KINDS, ConnectionState, Fill, OrderStatus
from connector.keys import Secret, load_key_file
from connector.scaling import str_to_scaled
from tests.fakes.hyperliquid import NO_CLOID_BASE, FakeHyperliquid

FAST = {"reconnect_min_s": 0.02, "reconnect_max_s": 0.1, "request_timeout_s": 3.0}


class Venue:
    """A fake venue (market still unless a test moves it) and a started connector recording its events."""

    def __init__(self, fake: FakeHyperliquid, connector: HyperliquidConnector) -> None:
        self.fake, self.connector = fake, connector
        self.events: dict[str, list[Any]] = {k: [] for k in EVENT_KINDS}
        for kind in EVENT_KINDS:
            connector.add_handler(kind, self.events[kind].append)

    async def wait(self, kind: str, predicate: Callable[[Any], bool] = lambda e: True, timeout: float = 2.0) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events[kind]:
                if predicate(event):
                    return event
            if loop.time() > deadline:
                raise AssertionError(f"no matching {kind} event in {timeout}s; last: {self.events[kind][-3:]!r}")
            await asyncio.sleep(0.005)

    async def bid_below(self, pct: int = 2) -> int:
        bid, _, _ = await self.connector.get_top_of_book("BTC")
        return wire.round_price(bid * (100 - pct) // 100, 1, up=False)


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


def _orders(v: Venue) -> list[dict[str, Any]]:
    return [o for a in v.fake.actions if a["type"] == "order" for o in a["orders"]]


async def test_an_off_tick_buy_is_rounded_down_and_a_sell_up_before_signing(venue):
    bid, ask, _ = await venue.connector.get_top_of_book("BTC")
    buy_at = bid * 98 // 100 // 10 * 10 + 7  # 5 figures allow whole dollars only at this price
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=1, base_amount=100, price=buy_at, is_ask=False, post_only=True
    )
    sell_at = ask * 102 // 100 // 10 * 10 + 3
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=2, base_amount=100, price=sell_at, is_ask=True, post_only=True
    )
    sent = _orders(venue)
    assert [o["p"] for o in sent] == [wire.to_wire(buy_at - 7, 1), wire.to_wire(sell_at + 7, 1)]
    assert (await venue.connector.get_order("BTC", 1)).price_i == buy_at - 7
    assert (await venue.connector.get_order("BTC", 2)).price_i == sell_at + 7


async def test_orders_carry_the_cloid_and_time_in_force_asked_for(venue):
    price = await venue.bid_below()
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=77, base_amount=100, price=price, is_ask=False, post_only=True
    )
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=78, base_amount=100, price=price, is_ask=False, reduce_only=False
    )
    first, second = _orders(venue)
    assert first["c"] == wire.cloid_from_index(77) and first["t"] == {"limit": {"tif": "Alo"}}
    assert second["t"] == {"limit": {"tif": "Gtc"}} and second["r"] is False
    snap = await venue.connector.get_order("BTC", 77)
    assert snap.post_only and snap.client_order_index == 77


async def test_a_signature_from_an_unapproved_wallet_is_refused_as_an_auth_error(venue, tmp_path):
    stranger = FakeHyperliquid(step_s=None, master_address=venue.fake.master)
    keys = load_key_file(stranger.write_key_file(tmp_path / "other.toml"), venue="hyperliquid")
    connector = HyperliquidConnector(base_url=venue.fake.base_url, keys=keys, **FAST)
    await connector.start()
    try:
        with pytest.raises(AuthError, match="does not exist") as caught:
            await connector.submit_limit_order(
                symbol="BTC", client_order_index=5, base_amount=100, price=await venue.bid_below(), is_ask=False
            )
    finally:
        await connector.stop()
    assert stranger.agent.address.lower() in venue.fake.refused[-1]
    assert stranger.agent.key.hex().removeprefix("0x") not in str(caught.value)


async def test_mainnet_signing_against_a_testnet_venue_is_refused(venue):
    venue.connector.is_mainnet = True
    with pytest.raises(AuthError, match="network"):
        await venue.connector.schedule_cancel_all(None)
    assert venue.fake.actions == []


def test_only_the_mainnet_url_signs_as_mainnet():
    assert HyperliquidConnector().is_mainnet
    assert not HyperliquidConnector(testnet=True).is_mainnet
    assert not HyperliquidConnector(base_url="http://127.0.0.1:1").is_mainnet
    assert HyperliquidConnector(base_url="http://127.0.0.1:1").ws_url == "ws://127.0.0.1:1/ws"


async def test_concurrent_orders_get_distinct_nonces_and_all_rest(venue):
    price = await venue.bid_below()
    oids = await asyncio.gather(
        *(
            venue.connector.submit_limit_order(
                symbol="BTC", client_order_index=200 + i, base_amount=100, price=price, is_ask=False
            )
            for i in range(6)
        )
    )
    assert len(set(oids)) == 6
    assert len(venue.fake.nonces[venue.fake.agent.address.lower()]) == 6
    assert len(await venue.connector.get_open_orders("BTC")) == 6


async def test_a_replayed_nonce_is_refused(venue):
    action = {"type": "scheduleCancel"}
    nonce = venue.connector.nonces.next(venue.connector.clock.now_ms())
    sig = signing.sign_l1_action(venue.fake.agent, action, nonce, is_mainnet=False)
    body = {"action": action, "nonce": nonce, "signature": sig, "vaultAddress": None}
    async with httpx.AsyncClient(base_url=venue.fake.base_url) as http:
        first = (await http.post("/exchange", json=body)).json()
        second = (await http.post("/exchange", json=body)).json()
    assert first["status"] == "ok"
    assert second["status"] == "err" and "nonce" in second["response"]


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"base_amount": 1}, OrderRejected, "minimum value of $10"),
        ({"base_amount": 10**9}, InsufficientMargin, "Insufficient margin"),
        ({"base_amount": 100, "reduce_only": True}, OrderRejected, "Reduce only"),
    ],
)
async def test_per_order_errors_inside_an_ok_answer_raise_connector_errors(venue, kwargs, error, text):
    with pytest.raises(error, match=text.replace("$", r"\$")):
        await venue.connector.submit_limit_order(
            symbol="BTC", client_order_index=300, price=await venue.bid_below(), is_ask=False, **kwargs
        )
    assert await venue.connector.get_open_orders() == []


async def test_an_ioc_that_cannot_match_is_rejected(venue):
    with pytest.raises(OrderRejected, match="could not immediately match"):
        await venue.connector.submit_limit_order(
            symbol="BTC", client_order_index=301, base_amount=100, price=await venue.bid_below(), is_ask=False, ioc=True
        )


async def test_a_market_order_is_an_ioc_capped_by_the_slippage_limit(venue):
    _, ask, _ = await venue.connector.get_top_of_book("BTC")
    await venue.connector.submit_market_order(symbol="BTC", client_order_index=302, size_i=100, is_ask=False)
    (sent,) = _orders(venue)
    assert sent["t"] == {"limit": {"tif": "Ioc"}}
    cap = str_to_scaled(sent["p"], 1)
    assert ask < cap <= ask * 10_500 // 10_000
    await venue.wait("fill", lambda f: f.client_order_index == 302 and not f.is_maker)


async def test_modify_reprices_the_resting_order_in_place(venue):
    assert "amend" in venue.connector.capabilities
    price = await venue.bid_below(3)
    oid = await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=400, base_amount=100, price=price, is_ask=False, post_only=True
    )
    new_oid = await venue.connector.modify_order(
        symbol="BTC", client_order_index=400, price=price + 10, base_amount=150
    )
    assert new_oid == oid
    modify = next(a for a in venue.fake.actions if a["type"] == "batchModify")
    assert modify["modifies"][0]["oid"] == wire.cloid_from_index(400)
    assert modify["modifies"][0]["order"]["t"] == {"limit": {"tif": "Alo"}}
    await venue.wait("order", lambda o: o.client_order_index == 400 and o.price_i == price + 10 and o.size_i == 150)
    snap = await venue.connector.get_order("BTC", 400)
    assert (snap.price_i, snap.size_i, snap.status) == (price + 10, 150, OrderStatus.OPEN)


async def test_modify_of_a_cancelled_order_raises_unknown_order(venue):
    price = await venue.bid_below()
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=401, base_amount=100, price=price, is_ask=False
    )
    await venue.connector.cancel_by_client_id("BTC", 401)
    with pytest.raises(UnknownOrder):
        await venue.connector.modify_order(symbol="BTC", client_order_index=401, price=price, base_amount=100)


async def test_dead_man_switch_arms_at_least_five_seconds_ahead_and_disarms(venue):
    assert "dead_man_switch" in venue.connector.capabilities
    with pytest.raises(InvalidOrder):
        await venue.connector.schedule_cancel_all(2)
    before = venue.connector.clock.now_ms()
    await venue.connector.schedule_cancel_all(30)
    armed = venue.fake.actions[-1]
    assert armed["type"] == "scheduleCancel" and before + 30_000 <= armed["time"] < before + 31_000
    assert venue.fake._dms is not None
    await venue.connector.schedule_cancel_all(None)
    assert venue.fake.actions[-1] == {"type": "scheduleCancel"}
    assert venue.fake._dms is None


async def test_cancel_all_cancels_every_open_order_in_one_batch(venue):
    price = await venue.bid_below()
    for i in range(3):
        await venue.connector.submit_limit_order(
            symbol="BTC", client_order_index=500 + i, base_amount=100, price=price, is_ask=False
        )
    await venue.connector.cancel_all("BTC")
    cancels = [a for a in venue.fake.actions if a["type"] == "cancel"]
    assert len(cancels) == 1 and len(cancels[0]["cancels"]) == 3
    assert await venue.connector.get_open_orders() == []


async def test_reads_wait_out_a_rate_limit(venue):
    venue.fake.rate_limit(2, retry_after_s=0.01)
    margin = await venue.connector.get_margin()
    assert margin.equity_q > 0


async def test_an_action_answered_429_raises_rate_limited_and_places_nothing(venue):
    venue.fake.rate_limit(1, retry_after_s=0.01)
    with pytest.raises(RateLimited):
        await venue.connector.submit_limit_order(
            symbol="BTC", client_order_index=600, base_amount=100, price=await venue.bid_below(), is_ask=False
        )
    assert venue.fake.engine.open_orders() == [] and venue.fake.actions == []


def _states(v: Venue) -> list[ConnectionState]:
    return [e.state for e in v.events["connection"]]


async def test_a_dropped_socket_reconnects_and_resubscribes_everything(venue):
    books_before = len(venue.events["book"])
    await venue.fake.drop_sockets()
    await venue.wait("connection", lambda e: e.state is ConnectionState.DISCONNECTED)
    await venue.wait("book", lambda b: venue.events["book"].index(b) >= books_before)
    assert _states(venue)[-2:] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert venue.connector.reconnects == 1
    subs = {s["type"] for c in venue.fake._clients for s in c.subs}
    assert subs == {"l2Book", "bbo", "trades", "orderUpdates", "userFills", "clearinghouseState"}
    await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=700, base_amount=100, price=await venue.bid_below(), is_ask=False
    )
    await venue.wait("order", lambda o: o.client_order_index == 700 and o.status is OrderStatus.OPEN)


async def test_a_stalled_stream_is_replaced(venue, tmp_path):
    keys = load_key_file(venue.fake.write_key_file(tmp_path / "stall.toml"), venue="hyperliquid")
    watched = Venue(venue.fake, HyperliquidConnector(base_url=venue.fake.base_url, keys=keys, stale_after_s=0.3,
                                                     ping_interval_s=0.05, **FAST))  # fmt: skip
    await watched.connector.start()
    try:
        await watched.wait("connection", lambda e: e.state is ConnectionState.CONNECTED)
        await asyncio.sleep(0.4)  # pongs keep a quiet stream alive
        assert watched.connector.reconnects == 0
        venue.fake.stall(5.0)
        down = await watched.wait("connection", lambda e: e.state is ConnectionState.DISCONNECTED)
        await watched.wait("connection", lambda e: e.state is ConnectionState.CONNECTED and e.ts_ms >= down.ts_ms)
        assert watched.connector.reconnects == 1
    finally:
        await watched.connector.stop()


async def test_malformed_frames_are_counted_and_the_stream_goes_on(venue, caplog):
    caplog.set_level(logging.WARNING, logger="connector.transport.ws")
    venue.fake.send_malformed(4)
    books = len(venue.events["book"])
    venue.fake.engine.set_mid("BTC", venue.fake.engine.mid_i("BTC") + 500)
    await venue.wait("book", lambda b: venue.events["book"].index(b) >= books)
    # the junk l2Book is not parsed at all when a newer BTC snapshot was already queued behind it (conflated)
    malformed, conflated = venue.connector.malformed_frames, venue.connector.stream.ws.conflated
    assert malformed == 4 or (malformed == 3 and conflated >= 1)
    assert venue.connector.reconnects == 0
    assert "malformed frame" in caplog.text


async def test_bbo_moves_the_touch_between_book_snapshots(venue):
    engine = venue.fake.engine
    books = len(venue.events["book"])
    engine.set_mid("BTC", engine.mid_i("BTC") + 1000)
    book = await venue.wait("book", lambda b: venue.events["book"].index(b) >= books)
    bid, ask, _ = await venue.connector.get_top_of_book("BTC")
    assert (bid, ask) == engine.top("BTC") == (book.bids[0][0], book.asks[0][0])


async def test_secrets_never_reach_repr_errors_or_logs(venue, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    key = venue.fake.agent.key.hex().removeprefix("0x")
    venue.connector.is_mainnet = True  # forces a refused signature through the error path
    with pytest.raises(AuthError) as caught:
        await venue.connector.schedule_cancel_all(None)
    venue.fake.send_malformed(2)
    await asyncio.sleep(0.05)
    for text in (repr(venue.connector), str(caught.value), repr(caught.value.info), caplog.text):
        assert key not in text


async def test_the_factory_builds_the_connector_from_a_key_file(venue, tmp_path):
    path = venue.fake.write_key_file(tmp_path / "factory.toml")
    connector = create_connector("hyperliquid", base_url=venue.fake.base_url, key_file=path)
    assert isinstance(connector, HyperliquidConnector)
    assert connector.account_address == venue.fake.master != venue.fake.agent.address
    assert not connector.is_mainnet


async def test_an_order_placed_elsewhere_without_a_cloid_is_listed_and_cancellable_by_its_oid(venue):
    price = await venue.bid_below()
    placed = venue.fake.engine.place(
        "BTC", client_order_index=NO_CLOID_BASE + 5, is_ask=False, price_i=price, size_i=100, tif="GTC"
    )
    (snap,) = await venue.connector.get_open_orders("BTC")
    oid = int(placed.order_id or 0)
    assert (snap.order_id, snap.client_order_index) == (str(oid), -oid)
    assert (await venue.connector.get_order("BTC", -oid)).status is OrderStatus.OPEN
    await venue.connector.cancel_by_client_id("BTC", -oid)
    assert await venue.connector.get_open_orders() == []


def test_creating_the_venue_without_its_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "eth_keys.datatypes", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[hyperliquid\]'"):
        HyperliquidConnector(base_url="http://127.0.0.1:1")


def test_a_key_file_without_a_usable_private_key_is_refused_without_echoing_it():
    with pytest.raises(ConfigError, match="private_key"):
        HyperliquidConnector(keys={"account_address": "0x" + "1" * 40})
    with pytest.raises(ConfigError, match="not a valid") as caught:
        HyperliquidConnector(keys={"private_key": Secret("0xnot-a-key-at-all")})
    assert "not-a-key" not in str(caught.value)


async def test_a_price_signed_with_a_trailing_zero_is_refused_like_a_bad_signature(venue):
    """The venue hashes the number text it re-serializes ("65000"), not the one sent ("65000.0")."""
    price = wire.to_wire(await venue.bid_below(), 1) + ".0"
    order = wire.order_wire(0, True, price, "0.001", False, "Gtc", wire.cloid_from_index(9))
    action = wire.order_action([order])
    nonce = venue.connector.nonces.next(venue.connector.clock.now_ms())
    sig = signing.sign_l1_action(venue.fake.agent, action, nonce, is_mainnet=False)
    body = {"action": action, "nonce": nonce, "signature": sig, "vaultAddress": None}
    async with httpx.AsyncClient(base_url=venue.fake.base_url) as http:
        answer = (await http.post("/exchange", json=body)).json()
    assert answer["status"] == "err"
    assert answer["response"].startswith("User or API Wallet 0x")
    assert venue.fake.agent.address.lower() not in answer["response"]


async def test_old_fills_in_the_first_fills_snapshot_are_history_not_events(venue, tmp_path):
    recent = {**venue.fake._fill_payload(_fake_fill(venue.fake.clock.now_ms(), "901")), "cloid": None}
    old = {**recent, "tid": 900, "time": venue.fake.clock.now_ms() - 3_600_000}
    venue.fake.fills.extend([old, recent])
    keys = load_key_file(venue.fake.write_key_file(tmp_path / "late.toml"), venue="hyperliquid")
    late = Venue(venue.fake, HyperliquidConnector(base_url=venue.fake.base_url, keys=keys, **FAST))
    await late.connector.start()
    try:
        await late.wait("fill", lambda f: f.trade_id == "901")
        assert [f.trade_id for f in late.events["fill"]] == ["901"]
    finally:
        await late.connector.stop()


def _fake_fill(ts_ms: int, trade_id: str) -> Fill:
    return Fill("BTC", 1, "5", trade_id, False, 650_000, 100, 1, False, ts_ms)


async def test_a_nonce_is_taken_after_the_rate_budget_wait_so_it_never_arrives_stale(venue):
    from connector.transport.ratelimit import RateLimiter

    conn = venue.connector
    conn._actions.rate_limiter = RateLimiter(5, 1, clock=conn.clock)  # one action per 200 ms
    price = await venue.bid_below(5)
    await asyncio.gather(
        *(
            conn.submit_limit_order(
                symbol="BTC", client_order_index=700 + i, base_amount=20, price=price, is_ask=False, post_only=True
            )
            for i in range(3)
        )
    )
    (nonces,) = venue.fake.nonces.values()
    last = sorted(nonces)[-3:]
    # taken before the wait, all three would be consecutive milliseconds
    assert last[1] - last[0] >= 150 and last[2] - last[1] >= 150


async def test_an_action_refused_for_a_stale_nonce_is_signed_afresh_once(venue, monkeypatch):
    from tests.fakes.hyperliquid import ActionError

    fake = venue.fake
    real_check, refused = fake._check_nonce, []

    def stale_once(signer: str, nonce: int) -> None:
        if not refused:
            refused.append(nonce)
            raise ActionError(f"Invalid nonce: duplicate or too low ({nonce})")
        real_check(signer, nonce)

    monkeypatch.setattr(fake, "_check_nonce", stale_once)
    price = await venue.bid_below(5)
    oid = await venue.connector.submit_limit_order(
        symbol="BTC", client_order_index=801, base_amount=20, price=price, is_ask=False, post_only=True
    )
    assert oid and len(refused) == 1
    assert max(next(iter(fake.nonces.values()))) > refused[0]
