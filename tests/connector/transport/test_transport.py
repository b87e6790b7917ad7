"""Shared transport mechanics against real sockets on 127.0.0.1: websocket supervision,
HTTP retries and 429s, and the token bucket on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from connector.base import BaseConnector
from connector.clock import RealClock, VirtualClock
from connector.errors import RateLimited, VenueError
from connector.interface import ConnectionState
from connector.keys import register_secret
from connector.transport.http import HttpClient
from connector.transport.ratelimit import Backoff, RateLimiter
from connector.transport.ws import WsSupervisor

TIMEOUT = 30.0


class RecordingClock(RealClock):
    """Real timestamps, but sleeps are recorded and return at once (no real waiting in tests)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


_HELD_PORTS: list[socket.socket] = []


def closed_port() -> int:
    """A port nothing listens on: bound and held, never listening, until the process ends, so nothing
    else (a test beside this one under xdist) can take it; a connect there is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(sock)
    return sock.getsockname()[1]


async def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


# -- websocket -----------------------------------------------------------------------------------

WsHandler = Callable[[ServerConnection, int], Awaitable[None]]


@pytest.fixture
async def ws_server() -> AsyncIterator[Callable[[WsHandler], Awaitable[str]]]:
    """Start a websocket server whose per-connection behaviour the test gives (with a connection number)."""
    servers = []

    async def start(behaviour: WsHandler) -> str:
        count = 0

        async def handler(conn: ServerConnection) -> None:
            nonlocal count
            count += 1
            await behaviour(conn, count)

        server = await serve(handler, "127.0.0.1", 0)
        servers.append(server)
        port = next(iter(server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_resubscribes_on_every_reconnect_after_the_server_drops_the_socket(ws_server):
    subscriptions: list[tuple[int, Any]] = []

    async def behaviour(conn: ServerConnection, number: int) -> None:
        subscriptions.append((number, json.loads(await conn.recv())))
        await conn.send(json.dumps({"conn": number}))
        if number == 1:
            conn.transport.abort()  # no close frame: the socket just dies
            return
        await conn.wait_closed()

    url = await ws_server(behaviour)
    received: list[Any] = []
    states: list[ConnectionState] = []

    async def resubscribe(ws: WsSupervisor) -> None:
        await ws.send({"op": "subscribe", "channel": "book"})

    supervisor = WsSupervisor(
        url,
        on_message=received.append,
        on_connect=resubscribe,
        on_state=lambda state, reason: states.append(state),
        clock=RecordingClock(),
        rng=random.Random(1),
    )
    await supervisor.start()
    try:
        await wait_until(lambda: len(received) == 2)
    finally:
        await supervisor.stop()
    assert received == [{"conn": 1}, {"conn": 2}]
    assert subscriptions == [(1, {"op": "subscribe", "channel": "book"}), (2, {"op": "subscribe", "channel": "book"})]
    assert supervisor.connects == 2
    assert len(supervisor.delays) == 1
    assert states == [
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.STOPPED,
    ]


async def test_malformed_frames_are_counted_and_logged_and_the_stream_goes_on(ws_server, caplog):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        for frame in [
            "not json {",
            json.dumps({"px": "1"}),
            b"\xff\xfe",
            json.dumps({"nopx": 1}),
            json.dumps({"px": "2"}),
        ]:
            await conn.send(frame)
        await conn.wait_closed()

    url = await ws_server(behaviour)
    prices: list[str] = []
    supervisor = WsSupervisor(url, on_message=lambda msg: prices.append(msg["px"]), clock=RecordingClock())
    with caplog.at_level(logging.WARNING, logger="connector.transport.ws"):
        await supervisor.start()
        try:
            await wait_until(lambda: len(prices) == 2)
        finally:
            await supervisor.stop()
    assert prices == ["1", "2"]
    assert supervisor.malformed_frames == 3  # bad JSON, bad bytes, and a frame the handler could not read
    assert supervisor.messages == 2
    assert supervisor.connects == 1
    assert caplog.text.count("malformed frame") == 3


async def test_malformed_frame_log_masks_a_registered_secret(ws_server, caplog):
    register_secret("CANARY-9f8e7d")

    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.send("garbage CANARY-9f8e7d")
        await conn.send("{}")
        await conn.wait_closed()

    url = await ws_server(behaviour)
    got: list[Any] = []
    supervisor = WsSupervisor(url, on_message=got.append, clock=RecordingClock())
    with caplog.at_level(logging.WARNING):
        await supervisor.start()
        try:
            await wait_until(lambda: got == [{}])
        finally:
            await supervisor.stop()
    assert "malformed frame" in caplog.text
    assert "CANARY-9f8e7d" not in caplog.text


async def test_backoff_grows_with_jitter_while_the_venue_is_unreachable():
    clock = RecordingClock()
    url = f"ws://127.0.0.1:{closed_port()}"
    supervisor = WsSupervisor(
        url, on_message=lambda m: None, clock=clock, rng=random.Random(42), backoff_base_s=0.5, backoff_max_s=4
    )
    await supervisor.start()
    try:
        await wait_until(lambda: len(clock.sleeps) >= 6)
    finally:
        await supervisor.stop()
    expected_backoff = Backoff(0.5, 4, rng=random.Random(42))
    expected = [expected_backoff.next_delay() for _ in range(6)]
    assert clock.sleeps[:6] == expected
    growing = expected[:4]  # raw 0.5, 1, 2, 4: below the cap each delay is at least the one before
    assert all(later >= earlier for earlier, later in itertools.pairwise(growing))
    assert expected[0] <= 0.5 and expected[5] <= 4 and expected[5] >= 2  # capped at max, halved at worst
    assert len(set(expected[3:])) == 3  # jitter: capped delays still differ
    assert supervisor.connects == 0
    assert supervisor.state is ConnectionState.STOPPED


async def test_backoff_resets_only_after_a_connection_that_stayed_up(ws_server):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        conn.transport.abort()

    url = await ws_server(behaviour)

    async def delays_with(stable_after_s: float) -> list[float]:
        clock = RecordingClock()
        supervisor = WsSupervisor(
            url, on_message=lambda m: None, clock=clock, stable_after_s=stable_after_s, rng=random.Random(3)
        )
        await supervisor.start()
        try:
            await wait_until(lambda: len(clock.sleeps) >= 4)
        finally:
            await supervisor.stop()
        return clock.sleeps[:4]

    flapping = await delays_with(stable_after_s=60)
    assert flapping[3] > 2 * 0.5  # the 4th delay of an accept-then-drop venue has grown past the base
    stable = await delays_with(stable_after_s=0)
    assert max(stable) <= 0.5  # every connection counted as stable: always the base delay


async def test_stale_stream_is_closed_and_reopened_on_the_clock(ws_server):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.wait_closed()  # connected but silent

    url = await ws_server(behaviour)
    clock = VirtualClock()
    states: list[ConnectionState] = []
    disconnected = asyncio.Event()

    def on_state(state: ConnectionState, reason: str) -> None:
        states.append(state)
        if state is ConnectionState.DISCONNECTED:
            disconnected.set()

    supervisor = WsSupervisor(
        url, on_message=lambda m: None, on_state=on_state, clock=clock, stale_after_s=10, backoff_base_s=1
    )
    await supervisor.start()
    try:
        await supervisor.wait_connected(TIMEOUT)
        await clock.advance(5)
        assert supervisor.connects == 1 and not disconnected.is_set()
        await clock.advance(6)
        await asyncio.wait_for(disconnected.wait(), TIMEOUT)
        await clock.advance(1)
        await supervisor.wait_connected(TIMEOUT)
    finally:
        await supervisor.stop()
    assert supervisor.connects == 2


async def test_stop_ends_the_loop_without_reconnecting(ws_server):
    closed = asyncio.Event()

    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.wait_closed()
        closed.set()

    url = await ws_server(behaviour)
    supervisor = WsSupervisor(url, on_message=lambda m: None, clock=RecordingClock())
    await supervisor.start()
    await supervisor.wait_connected(TIMEOUT)
    await supervisor.stop()
    await asyncio.wait_for(closed.wait(), TIMEOUT)
    assert not supervisor.running
    assert supervisor.connects == 1
    assert supervisor.state is ConnectionState.STOPPED
    with pytest.raises(VenueError, match="not connected"):
        await supervisor.send({"op": "ping"})


async def test_failing_resubscribe_is_retried_on_a_fresh_connection(ws_server):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.send(json.dumps({"conn": number}))
        await conn.wait_closed()

    url = await ws_server(behaviour)
    attempts = 0
    received: list[Any] = []

    async def flaky_subscribe(ws: WsSupervisor) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise VenueError("subscribe refused")

    supervisor = WsSupervisor(url, on_message=received.append, on_connect=flaky_subscribe, clock=RecordingClock())
    await supervisor.start()
    try:
        await wait_until(lambda: received != [])
    finally:
        await supervisor.stop()
    assert attempts == 2
    assert received == [{"conn": 2}]


class StreamingConnector(BaseConnector):
    venue = "testvenue"


async def test_base_connector_reports_stream_state_as_connection_events_and_stop_closes_it(ws_server):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.send("{}")
        await conn.wait_closed()

    url = await ws_server(behaviour)
    connector = StreamingConnector(clock=RecordingClock())
    events = []
    connector.add_handler("connection", events.append)
    got: list[Any] = []
    connector.supervise_ws("public", url, on_message=got.append)
    client = connector.http_client("http://127.0.0.1:1")
    await connector.start()
    await connector.start_streams()
    task = connector.spawn(asyncio.Event().wait(), "keep-alive")
    await wait_until(lambda: got == [{}])
    assert connector.connection_state["public"] is ConnectionState.CONNECTED
    with pytest.raises(ValueError, match="already supervised"):
        connector.supervise_ws("public", url, on_message=got.append)
    await connector.stop()
    assert [e.state for e in events] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.STOPPED]
    assert {e.stream for e in events} == {"public"} and {e.venue for e in events} == {"testvenue"}
    assert client._client.is_closed
    assert task.cancelled() and task.get_name() == "testvenue-keep-alive"
    assert connector.malformed_frames == 0 and connector.reconnects == 0
    # stopped, it can be set up and started again with fresh transports
    assert connector.streams == {}
    connector.supervise_ws("public", url, on_message=got.append)


# -- http -----------------------------------------------------------------------------------------


class Venue:
    """A tiny REST venue whose routes misbehave on purpose; counts calls per route."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.app = web.Application()
        self.app.router.add_route("*", "/{name}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        n = self.calls[name] = self.calls.get(name, 0) + 1
        if name == "flaky":
            return web.json_response({"n": n}) if n >= 3 else web.Response(status=503, text="busy")
        if name == "down":
            return web.Response(status=500, text="internal error CANARY-9f8e7d")
        if name == "limited":
            return web.Response(status=429, headers={"Retry-After": "2"}, text="slow down")
        if name == "limited_once":
            return (
                web.json_response({"ok": True}) if n > 1 else web.Response(status=429, headers={"Retry-After": "0.5"})
            )
        if name == "limited_long":
            return web.Response(status=429, headers={"Retry-After": "120"})
        if name == "bad_request":
            return web.json_response({"error": "bad size", "echo": "CANARY-9f8e7d"}, status=400)
        if name == "not_json":
            return web.Response(text="<html>oops</html>")
        if name == "slow":
            await asyncio.sleep(0.25)
            return web.json_response({"late": True})
        return web.json_response({"n": n, "method": request.method})


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Venue, str]]:
    server = Venue()
    runner = web.AppRunner(server.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def client_for(url: str, **options: Any) -> HttpClient:
    options.setdefault("clock", RecordingClock())
    options.setdefault("rng", random.Random(5))
    return HttpClient(url, venue="testvenue", **options)


async def test_5xx_is_retried_with_growing_backoff_then_succeeds(venue):
    server, url = venue
    async with client_for(url, backoff_base_s=0.25) as client:
        assert await client.get_json("/flaky") == {"n": 3}
        sleeps = client.clock.sleeps
    assert server.calls["flaky"] == 3
    assert client.retries == 2
    assert len(sleeps) == 2 and sleeps[1] >= sleeps[0] and sleeps[0] <= 0.25


async def test_5xx_retries_are_bounded(venue):
    server, url = venue
    register_secret("CANARY-9f8e7d")
    async with client_for(url, max_retries=2) as client:
        with pytest.raises(VenueError, match=r"GET /down failed: HTTP 500 after 3 attempts") as caught:
            await client.get_json("/down")
    assert server.calls["down"] == 3
    assert caught.value.info["status"] == 500
    assert "CANARY-9f8e7d" not in str(caught.value.info)


async def test_post_is_not_repeated_after_a_5xx_unless_idempotent(venue):
    server, url = venue
    async with client_for(url) as client:
        with pytest.raises(VenueError, match="HTTP 500"):
            await client.post_json("/down", {"order": 1})
        assert server.calls["down"] == 1
        assert await client.post_json("/flaky", {"query": "book"}, idempotent=True) == {"n": 3}


async def test_read_timeout_retries_a_get_but_not_a_post(venue):
    server, url = venue
    async with client_for(url, timeout_s=0.05, max_retries=1) as client:
        # only the read is timed short: on a busy machine a connect can take longer than 50 ms (ConnectTimeout)
        client._client.timeout = httpx.Timeout(0.05, connect=30.0)
        with pytest.raises(VenueError, match=r"no answer from the venue \(ReadTimeout\) after 2 attempts"):
            await client.get_json("/slow")
        assert server.calls["slow"] == 2
        with pytest.raises(VenueError, match=r"POST /slow failed: no answer from the venue \(ReadTimeout\)$"):
            await client.post_json("/slow", {"order": 1})
        assert server.calls["slow"] == 3


async def test_connection_refused_is_retried_even_for_a_post():
    async with client_for(f"http://127.0.0.1:{closed_port()}", max_retries=2) as client:
        with pytest.raises(VenueError, match=r"could not reach the venue \(ConnectError\) after 3 attempts"):
            await client.post_json("/order", {"order": 1})
        assert client.retries == 2


async def test_429_maps_to_rate_limited_with_retry_after(venue):
    server, url = venue
    async with client_for(url, read_429_retries=0) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_json("/limited")
    assert caught.value.retry_after_s == 2.0
    assert caught.value.info["status"] == 429
    assert server.calls["limited"] == 1


async def test_a_read_waits_out_one_429_by_default_and_a_write_is_never_resent(venue):
    server, url = venue
    async with client_for(url) as client:
        assert await client.get_json("/limited_once") == {"ok": True}
        assert client.clock.sleeps == [0.5]
        with pytest.raises(RateLimited):
            await client.get_json("/limited")  # once, not forever
        assert server.calls["limited"] == 2
        with pytest.raises(RateLimited):
            await client.post_json("/limited", {"order": 1})
        assert server.calls["limited"] == 3  # the write went out once
        with pytest.raises(RateLimited):
            await client.request("DELETE", "/limited")  # a cancel is a write too
        assert server.calls["limited"] == 4
        server.calls.pop("limited_once")
        assert await client.post_json("/limited_once", {"type": "l2Book"}, idempotent=True) == {"ok": True}
        assert server.calls["limited_once"] == 2


async def test_429_is_retried_after_the_wait_when_allowed(venue):
    server, url = venue
    async with client_for(url, max_429_retries=1) as client:
        assert await client.post_json("/limited_once", {"order": 1}) == {"ok": True}
        assert client.clock.sleeps == [0.5]
        with pytest.raises(RateLimited):
            await client.get_json("/limited_long")  # longer than max_retry_after_s: not waited out
    assert server.calls["limited_long"] == 1


async def test_429_empties_the_rate_limiter_for_everyone(venue):
    _server, url = venue
    limiter = RateLimiter(10, 10, clock=VirtualClock())
    async with client_for(url, rate_limiter=limiter, read_429_retries=0) as client:
        assert limiter.available == 10
        with pytest.raises(RateLimited):
            await client.get_json("/limited")
    assert limiter.available == 0
    assert limiter.delay_for(1) == pytest.approx(2.1)


async def test_4xx_is_returned_by_request_and_raised_by_get_json_with_secrets_masked(venue):
    server, url = venue
    register_secret("CANARY-9f8e7d")
    async with client_for(url) as client:
        response = await client.request("GET", "/bad_request")
        assert response.status_code == 400
        with pytest.raises(VenueError, match="HTTP 400") as caught:
            await client.get_json("/bad_request")
        with pytest.raises(VenueError, match="malformed JSON"):
            await client.get_json("/not_json")
    assert server.calls["bad_request"] == 2
    assert "bad size" in str(caught.value)
    assert "CANARY-9f8e7d" not in str(caught.value) and "CANARY-9f8e7d" not in str(caught.value.info)


async def test_requests_spend_rate_limiter_tokens(venue):
    _server, url = venue
    limiter = RateLimiter(1, 3, clock=VirtualClock())
    async with client_for(url, rate_limiter=limiter) as client:
        await client.get_json("/ok", cost=2)
        assert limiter.available == 1
        assert not limiter.try_acquire(2)


# -- rate limiter and backoff ---------------------------------------------------------------------


async def test_token_bucket_allows_a_burst_then_refills_at_the_rate(clock):
    limiter = RateLimiter(10, 5, clock=clock)
    assert [limiter.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    assert limiter.delay_for(1) == pytest.approx(0.1)
    await clock.advance(0.1)
    assert limiter.try_acquire()
    assert not limiter.try_acquire()
    await clock.advance(10)
    assert limiter.available == 5  # never more than the burst


async def test_acquire_waits_on_the_clock_first_come_first_served(clock):
    limiter = RateLimiter(2, 1, clock=clock)
    done: list[tuple[str, int]] = []

    async def take(name: str) -> None:
        await limiter.acquire()
        done.append((name, clock.now_ms()))

    start = clock.now_ms()
    tasks = [asyncio.create_task(take(n)) for n in "abc"]
    await clock.advance(0)
    assert [n for n, _ in done] == ["a"]
    await clock.advance(0.5)
    assert [n for n, _ in done] == ["a", "b"]
    await clock.advance(0.5)
    await asyncio.gather(*tasks)
    assert [(n, t - start) for n, t in done] == [("a", 0), ("b", 500), ("c", 1000)]
    assert limiter.waits == 2


async def test_penalize_holds_the_bucket_empty_for_the_venues_wait(clock):
    limiter = RateLimiter(10, 10, clock=clock)
    limiter.penalize(3)
    await clock.advance(2.9)
    assert not limiter.try_acquire()
    await clock.advance(0.2)
    assert limiter.try_acquire()  # 0.1 s of refill after the block: one token


def test_cost_above_the_burst_is_refused(clock):
    limiter = RateLimiter(10, 5, clock=clock)
    with pytest.raises(ValueError, match="at most the burst"):
        limiter.try_acquire(6)


@settings(max_examples=100, deadline=None)
@given(
    rate=st.integers(1, 50),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 500)), min_size=1, max_size=40),
)
def test_token_bucket_never_exceeds_burst_plus_rate_times_elapsed(rate, burst, steps):
    clock = VirtualClock()
    limiter = RateLimiter(rate, burst, clock=clock)
    start = clock.now_ns()
    granted = 0
    for tries, advance_ms in steps:
        granted += sum(limiter.try_acquire() for _ in range(tries))
        clock._now_ns += advance_ms * 1_000_000  # the sync path needs no sleepers woken
        elapsed_s = (clock.now_ns() - start) / 1e9
        assert granted <= burst + rate * elapsed_s + 1e-9


def test_backoff_is_replayable_from_its_seed_and_capped():
    first = Backoff(0.5, 8, rng=random.Random(9))
    second = Backoff(0.5, 8, rng=random.Random(9))
    delays = [first.next_delay() for _ in range(10)]
    assert delays == [second.next_delay() for _ in range(10)]
    assert all(0.25 <= d <= 0.5 for d in delays[:1]) and all(4 <= d <= 8 for d in delays[5:])
    first.reset()
    assert first.next_delay() <= 0.5


async def test_acquire_at_an_awkward_rate_always_completes_on_a_virtual_clock(clock):
    limiter = RateLimiter(3, 1, clock=clock)
    assert limiter.try_acquire()
    done = asyncio.create_task(limiter.acquire())
    for _ in range(400):
        if done.done():
            break
        await asyncio.wait_for(clock.advance(0.001), TIMEOUT)  # a zero-length wait would spin here forever
    assert done.done()
    assert 330 <= clock.now_ms() - 1_700_000_000_000 <= 340


async def test_stop_from_inside_a_message_handler_ends_the_stream(ws_server):
    async def behaviour(conn: ServerConnection, number: int) -> None:
        await conn.send("{}")
        await conn.wait_closed()

    url = await ws_server(behaviour)
    supervisor: WsSupervisor

    async def on_message(message: Any) -> None:
        await supervisor.stop()

    supervisor = WsSupervisor(url, on_message=on_message, clock=RecordingClock())
    await supervisor.start()
    await wait_until(lambda: supervisor.state is ConnectionState.STOPPED)
    await wait_until(lambda: not supervisor.running)
    assert supervisor.connects == 1


async def test_the_reader_lets_other_tasks_run_while_it_drains_a_backlog(ws_server):
    """A backlog of frames already received is delivered with the loop's other work (timers, paints)
    in between, not as one long stretch in which nothing else runs."""
    frames = 200

    async def behaviour(conn: ServerConnection, number: int) -> None:
        for k in range(frames):
            await conn.send(json.dumps({"k": k}))
        await conn.wait_closed()

    ticks = 0
    seen: list[int] = []  # the ticker's count at each delivery

    def on_message(message: Any) -> None:
        if message["k"] == 0:
            time.sleep(0.05)  # the rest of the frames pile up meanwhile
        else:
            time.sleep(0.0005)  # each frame costs a little, as a book apply does
        seen.append(ticks)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    url = await ws_server(behaviour)
    supervisor = WsSupervisor(url, on_message=on_message, clock=RecordingClock(), rng=random.Random(1))
    task = asyncio.create_task(ticker())
    await supervisor.start()
    try:
        await wait_until(lambda: len(seen) == frames)
    finally:
        await supervisor.stop()
        task.cancel()
    runs = sum(1 for a, b in itertools.pairwise(seen[1:]) if b > a)
    assert runs >= 10, f"other tasks ran {runs} times while {frames - 1} frames were delivered"


def test_websockets_is_imported_only_when_a_socket_is_opened():
    """Start-up (a console on the sim, or any console before its venues start) does not pay for it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    code = "import sys, connector.base, connector.transport.ws; print('websockets' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout.strip() == "False"
