"""A supervised websocket: connect, resubscribe, read, and reconnect with backoff, until stopped.

Every (re)connect calls ``on_connect`` before the stream is reported connected, so a venue
module writes its subscriptions once and gets them back after every drop.  A frame that cannot
be parsed or handled is counted in ``malformed_frames`` and logged, and the stream goes on.  A
stream that goes quiet for ``stale_after_s`` is closed and reopened, because a half-open TCP
connection can look alive for minutes.

Backlog conflation (``conflate``): when frames arrive faster than they are handled, the ones already
received wait in the websocket library's queue.  The reader then takes them as one batch, and of
several full snapshots of the same thing in it only the newest is parsed and handled: a venue module
names each frame's snapshot key (``Conflation``); frames without one (trades, the account, deltas)
are always handled, in order.  The skipped ones are counted in ``conflated``; a recorder still sees
every frame, in order, the skipped ones under the stream name plus ``CONFLATED_SUFFIX`` (so a replay,
which hands its stream only the frames recorded under the stream's own name, makes the same books).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

import orjson

from connector.clock import Clock, RealClock
from connector.errors import VenueError
from connector.interface import ConnectionState
from connector.keys import redact
from connector.transport import tap
from connector.transport.ratelimit import Backoff

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

# websockets is imported when a socket is first opened, not with this module: a console on the sim
# (or before its venues start) never pays for it

log = logging.getLogger(__name__)

YIELD_AFTER_S = 0.002
"""Time (the loop's monotonic clock, not the trading clock) the reader spends delivering frames
before it lets the loop run other tasks."""

CONFLATED_SUFFIX = "~conflated"
"""A recording keeps the frames conflation skipped under the stream's name with this suffix."""
MAX_BATCH = 256
"""Frames taken from the backlog at once for conflation."""

MessageHandler = Callable[[Any], Awaitable[None] | None]
Conflation = Callable[[str | bytes], tuple[Hashable, bool] | None]
"""A raw frame's ``(key, replaces)``: ``replaces`` when it is a full snapshot of ``key`` (every earlier frame of
``key`` in the same batch is then superseded and skipped); ``(key, False)`` for a frame a later snapshot of
``key`` supersedes but that replaces nothing itself (a top-of-book update); None: always handled."""
ConnectHook = Callable[["WsSupervisor"], Awaitable[None] | None]
StateHook = Callable[[ConnectionState, str], None]


class WsSupervisor:
    """Keeps one websocket alive; parse with ``parse`` (JSON by default), deliver to ``on_message``."""

    def __init__(
        self,
        url: str,
        *,
        on_message: MessageHandler,
        on_connect: ConnectHook | None = None,
        on_state: StateHook | None = None,
        parse: Callable[[str | bytes], Any] = orjson.loads,
        conflate: Conflation | None = None,
        name: str = "ws",
        clock: Clock | None = None,
        rng: random.Random | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stable_after_s: float = 10.0,
        stale_after_s: float | None = None,
        open_timeout_s: float = 10.0,
        ping_interval_s: float | None = 20.0,
        max_frame_bytes: int = 8 * 2**20,
        headers: dict[str, str] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._tap = tap.current()
        self._seen: Callable[[str | bytes], Any] | None = None
        """A conflated frame goes here instead of to ``parse``: a recorder sees it, nothing parses it."""
        if self._tap is not None:  # a recorder sees every frame and (re)connect
            parse, on_connect = self._tap.wrap_ws(name, url, parse, on_connect)
            # filed under a stream of their own: a replay hands the connector what it handled live, in order
            self._seen, _ = self._tap.wrap_ws(f"{name}{CONFLATED_SUFFIX}", url, _unparsed, None)
        self.url = url
        self.name = name
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_state = on_state
        self.parse = parse
        self.conflate = conflate
        self.clock: Clock = clock or RealClock()
        self.backoff = Backoff(backoff_base_s, backoff_max_s, rng=rng)
        self.stable_after_s = stable_after_s
        self.stale_after_s = stale_after_s
        self._connect_kwargs = {
            "open_timeout": open_timeout_s,
            "ping_interval": ping_interval_s,
            "ping_timeout": ping_interval_s,
            "max_size": max_frame_bytes,
            "additional_headers": headers,
            **(connect_kwargs or {}),
        }
        self.state = ConnectionState.DISCONNECTED
        self.connects = 0
        """Successful connections so far (the first one included)."""
        self.messages = 0
        self.received = 0
        """Frames read from the socket (handled, malformed or conflated)."""
        self.conflated = 0
        """Frames skipped because a newer snapshot of the same thing was already queued behind them."""
        self.malformed_frames = 0
        self.delays: deque[float] = deque(maxlen=50)
        """Recent reconnect delays, newest last."""
        self.last_message_ms: int | None = None
        self.connected = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Begin connecting in the background (returns at once; watch ``connected`` or ``on_state``)."""
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"ws-{self.name}")

    async def stop(self) -> None:
        """Close the socket and end the loop; no reconnect follows."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.connected.clear()
        self._set_state(ConnectionState.STOPPED, "")

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def send(self, message: Any) -> None:
        """Send a frame now (dicts and lists as JSON); ``VenueError`` when not connected."""
        ws = self._ws
        if ws is None:
            raise VenueError(f"{self.name}: websocket not connected")
        from websockets.exceptions import WebSocketException

        data = message if isinstance(message, str | bytes) else json.dumps(message, separators=(",", ":"))
        if self._tap is not None:
            self._tap.ws_sent(self.name, data)
        try:
            await ws.send(data)
        except WebSocketException as exc:
            raise VenueError(f"{self.name}: send failed ({type(exc).__name__})") from None

    async def reconnect(self, reason: str = "reconnect requested") -> None:
        """Drop the current socket; the loop reconnects (used when a venue's stream looks wrong)."""
        ws = self._ws
        if ws is not None:
            log.info("%s: %s", self.name, reason)
            with contextlib.suppress(Exception):
                await ws.close(code=1000, reason=reason[:100])

    async def _run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        reason = ""
        while not self._stopping:
            self._set_state(ConnectionState.CONNECTING, reason)
            connected_at: int | None = None
            try:
                async with connect(self.url, **self._connect_kwargs) as ws:
                    self._ws = ws
                    self.connects += 1
                    if self.on_connect is not None:
                        await _maybe_await(self.on_connect(self))
                    connected_at = self.clock.now_ms()
                    self.last_message_ms = connected_at
                    self.connected.set()
                    self._set_state(ConnectionState.CONNECTED, "")
                    await self._read(ws)
                    reason = _close_reason(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, WebSocketException, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {redact(str(exc))}"[:200]
            except Exception as exc:
                reason = f"{type(exc).__name__}: {redact(str(exc))}"[:200]
                log.exception("%s: stream failed", self.name)
            finally:
                self._ws = None
                self.connected.clear()
            if self._stopping:
                break
            if connected_at is not None and self.clock.now_ms() - connected_at >= self.stable_after_s * 1000:
                self.backoff.reset()
            self._set_state(ConnectionState.DISCONNECTED, reason)
            delay = self.backoff.next_delay()
            self.delays.append(delay)
            log.info("%s: disconnected (%s); reconnecting in %.2fs", self.name, reason, delay)
            await self.clock.sleep(delay)

    async def _read(self, ws: ClientConnection) -> None:
        watchdog = asyncio.create_task(self._watch_stale(ws)) if self.stale_after_s else None
        loop = asyncio.get_running_loop()
        yield_at = loop.time() + YIELD_AFTER_S
        backlog = _backlog(ws)
        try:
            async for raw in ws:
                self.last_message_ms = self.clock.now_ms()
                if backlog is not None and self.conflate is not None and len(backlog):
                    await self._deliver_batch(await _take(ws, raw, len(backlog)))
                else:
                    self.received += 1
                    await self._deliver(raw)
                # frames already received come without a suspension: a backlog would keep timers,
                # paints and key presses waiting until it is drained, so hand the loop over now and then
                if loop.time() >= yield_at:
                    await asyncio.sleep(0)
                    yield_at = loop.time() + YIELD_AFTER_S
        finally:
            if watchdog is not None:
                watchdog.cancel()

    async def _deliver_batch(self, batch: list[str | bytes]) -> None:
        """Frames already received, oldest first: each snapshot that a newer one of the same key follows is
        skipped, the rest handled in order."""
        assert self.conflate is not None
        self.received += len(batch)
        keys = [_key(self.conflate, raw) for raw in batch]
        superseded: set[Hashable] = set()
        skip = [False] * len(batch)
        for i in range(len(batch) - 1, -1, -1):
            entry = keys[i]
            if entry is None:
                continue
            key, replaces = entry
            if key in superseded:
                skip[i] = True
            elif replaces:
                superseded.add(key)
        for raw, skipped in zip(batch, skip, strict=True):
            if skipped:
                self._conflated_frame(raw)
            else:
                await self._deliver(raw)

    def _conflated_frame(self, raw: str | bytes) -> None:
        self.conflated += 1
        if self._seen is not None:
            self._seen(raw)

    async def _deliver(self, raw: str | bytes) -> None:
        try:
            message = self.parse(raw)
            await _maybe_await(self.on_message(message))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.malformed_frames += 1
            log.warning(
                "%s: malformed frame #%d dropped (%s: %s): %s",
                self.name,
                self.malformed_frames,
                type(exc).__name__,
                redact(str(exc))[:120],
                _excerpt(raw),
            )
        else:
            self.messages += 1

    async def _watch_stale(self, ws: ClientConnection) -> None:
        assert self.stale_after_s is not None
        while True:
            await self.clock.sleep(self.stale_after_s / 4)
            idle_ms = self.clock.now_ms() - (self.last_message_ms or 0)
            if idle_ms >= self.stale_after_s * 1000:
                log.warning("%s: no message for %.1fs; reconnecting", self.name, idle_ms / 1000)
                with contextlib.suppress(Exception):
                    await ws.close(code=1001, reason="stale")
                return

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        if state == self.state and not reason:
            return
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state, reason)
            except Exception:
                log.exception("%s: connection-state handler failed", self.name)

    def __repr__(self) -> str:
        return f"<WsSupervisor {self.name} {self.state} connects={self.connects} malformed={self.malformed_frames}>"


def _unparsed(raw: str | bytes) -> None:
    return None


def _backlog(ws: ClientConnection) -> Any:
    """The library's queue of frames received and not yet read (None when this version has none we know)."""
    frames = getattr(getattr(ws, "recv_messages", None), "frames", None)
    return frames if frames is not None and hasattr(frames, "__len__") else None


async def _take(ws: ClientConnection, first: str | bytes, queued: int) -> list[str | bytes]:
    """``first`` and up to ``queued`` frames already received behind it (a close ends the batch early;
    the next read sees it)."""
    from websockets.exceptions import ConnectionClosed

    batch = [first]
    for _ in range(min(queued, MAX_BATCH - 1)):
        try:
            batch.append(await ws.recv())
        except ConnectionClosed:
            break
    return batch


def _key(conflate: Conflation, raw: str | bytes) -> tuple[Hashable, bool] | None:
    try:
        return conflate(raw)
    except Exception:  # a frame whose key cannot be read is handled (and reports itself if malformed)
        return None


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


def _close_reason(ws: ClientConnection) -> str:
    code = ws.close_code
    text = ws.close_reason or ""
    if code is None:
        return "closed"
    return f"closed by venue ({code}{' ' + text if text else ''})"


def _excerpt(raw: str | bytes, limit: int = 200) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + "..."
