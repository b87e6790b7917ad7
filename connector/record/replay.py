"""``perpdesk replay FILE``: a recording played back through the venue's own connector and parser.

``ReplayConnector`` builds the recorded venue's connector without keys, with the recording's REST
answers in place of the network (``ReplayTap``) and its streams never opened: each recorded frame is
handed, at its receive time on a ``VirtualClock``, to the same parse function and handler the live
websocket used, and a recorded (re)connect runs the venue's connect hook (its sends go nowhere).  So a
recording replays into the same books, trades and connection story every time.

Pacing: ``speed`` recorded seconds per real second (None: as fast as the loop runs); ``pause``,
``resume``, ``step`` (one frame while paused), ``faster`` and ``slower`` steer it.  A replay is a
market, not an account: orders are refused (wrap it in ``PaperConnector`` to trade against it).

Our own story (the recording's ``chase`` and ``order`` lines for this venue) is told to the story
listeners as the playback passes it: each line right after the frame before it in the file, on the
recording's clock, without a step of its own (so one step shows a frame and the decisions it led to).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from connector.base import BaseConnector
from connector.clock import VirtualClock
from connector.errors import AuthError, ConfigError
from connector.factory import public_connector
from connector.interface import EVENT_KINDS, ConnectionState, IConnector, Margin, MarketInfo, OrderSnapshot, Position
from connector.record.recorder import STORY_KINDS, read_recording, scrub_text, scrub_url
from connector.transport import tap

log = logging.getLogger(__name__)

STREAM = "replay"


def _raw(record: dict[str, Any]) -> str | bytes:
    return base64.b64decode(record["d64"]) if "d64" in record else record.get("d", "")


class ReplayTap:
    """The tap a replay installs while it builds the venue's connector: REST from the recording."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.http = [r for r in records if r.get("k") == "http" and "st" in r]
        self.used: set[int] = set()
        self.misses: list[str] = []

    def wrap_ws(self, name: str, url: str, parse: Any, on_connect: Any) -> tuple[Any, Any]:
        return parse, on_connect

    def ws_sent(self, name: str, data: str | bytes) -> None:
        return None

    def wrap_http(self, name: str, base_url: str, transport: Any) -> Any:
        return ReplayTransport(self, name)

    def answer(self, name: str, method: str, url: str, body: str) -> dict[str, Any] | None:
        """The recorded answer to the same request (the first not given yet, else the last), else to the
        same method and path."""
        path = url.split("?", 1)[0]
        exact = [i for i, r in enumerate(self.http) if r["s"] == name and r["m"] == method and r["u"] == url
                 and r.get("b", "") == body]  # fmt: skip
        loose = [i for i, r in enumerate(self.http) if r["s"] == name and r["m"] == method
                 and r["u"].split("?", 1)[0] == path]  # fmt: skip
        for candidates in (exact, loose):
            fresh = [i for i in candidates if i not in self.used]
            if fresh or candidates:
                i = fresh[0] if fresh else candidates[-1]
                self.used.add(i)
                return self.http[i]
        self.misses.append(f"{method} {url}")
        return None


class ReplayTransport(httpx.AsyncBaseTransport):
    def __init__(self, replay: ReplayTap, name: str) -> None:
        self.replay = replay
        self.name = name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = scrub_text(request.content.decode("utf-8", "replace")) if request.content else ""
        record = self.replay.answer(self.name, request.method, scrub_url(request.url), body)
        if record is None:
            return httpx.Response(404, json={"error": "not in the recording"}, request=request)
        return httpx.Response(record["st"], content=_raw(record), request=request)


async def _discard(message: Any) -> None:
    """A replay's websocket sends go nowhere (the venue's connect hook subscribes as it would live)."""


async def _no_streams() -> None:
    """A replay never opens a venue's websocket: the recording is the stream."""


class ReplayConnector(BaseConnector):
    """The recorded venue's market, replayed; ``venue`` is the recorded venue's slug."""

    def __init__(
        self,
        path: str | Path,
        *,
        venue: str | None = None,
        clock: VirtualClock | None = None,
        speed: float | None = 1.0,
    ) -> None:
        self.header, records = read_recording(path)
        venues = self.header.get("venues") or {}
        if not venues:
            raise ConfigError(f"{path} names no venue in its header")
        self.venue = venue or next(iter(venues))
        if self.venue not in venues:
            raise ConfigError(f"{path} recorded {', '.join(venues)}, not {self.venue}")
        super().__init__(clock=clock or VirtualClock(start_ms=int(self.header["t"])))
        self.virtual: VirtualClock = self.clock  # type: ignore[assignment]
        prefix = f"{self.venue}."
        self._timeline = [
            r for r in records
            if (r.get("k") in ("ws_in", "ws_open") and str(r.get("s")).startswith(prefix))
            or (r.get("k") in STORY_KINDS and r.get("venue") == self.venue)
        ]  # fmt: skip
        self.frames = [r for r in self._timeline if r["k"] not in STORY_KINDS]
        self.story = [r for r in self._timeline if r["k"] in STORY_KINDS]
        """Our own story on this venue (chase decisions, order transitions), told as the replay passes it."""
        self.told: list[dict[str, Any]] = []
        """Story lines told so far, in the recording's order."""
        self._story_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.tap = ReplayTap(records)
        self.speed = speed
        self.played = 0
        """Frames delivered so far."""
        self.malformed = 0
        self.finished = asyncio.Event()
        self._running = asyncio.Event()
        self._running.set()
        self._steps = 0
        self._task: asyncio.Task[None] | None = None
        settings = venues[self.venue] or {}
        previous = tap.install(self.tap)
        try:
            self.inner: IConnector = public_connector(
                self.venue, base_url=settings.get("base_url"), ws_url=settings.get("ws_url"),
                testnet=settings.get("testnet"), clock=self.clock,
            )  # fmt: skip
        finally:
            tap.install(previous)
        for kind in EVENT_KINDS:
            self.inner.add_handler(kind, lambda event, kind=kind: self.emit(kind, event))

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        self.inner.start_streams = _no_streams  # type: ignore[attr-defined]  # an instance's own, for the replay
        previous = tap.install(self.tap)
        try:
            await self.inner.start()
        finally:
            tap.install(previous)
        await super().start()
        self.set_connection(STREAM, ConnectionState.CONNECTED)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.inner.stop()
        await super().stop()
        self.set_connection(STREAM, ConnectionState.STOPPED)

    # -- steering ---------------------------------------------------------------------------------

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def step(self, frames: int = 1) -> None:
        """While paused: let ``frames`` more frames through."""
        self._steps += frames

    def faster(self) -> None:
        if self.speed is not None:
            self.speed = min(self.speed * 2, 1024.0)

    def slower(self) -> None:
        if self.speed is not None:
            self.speed = max(self.speed / 2, 1 / 64)

    # -- playing ----------------------------------------------------------------------------------

    async def _gate(self) -> None:
        while not self._running.is_set():
            if self._steps > 0:
                self._steps -= 1
                return
            await asyncio.sleep(0.02)

    async def _play(self) -> None:
        supervisors = {s.name: s for s in getattr(self.inner, "streams", {}).values()}
        for supervisor in supervisors.values():
            supervisor.send = _discard  # an instance's own: the recording is the venue
        for record in self._timeline:
            story = record["k"] in STORY_KINDS
            if not story:
                await self._gate()  # a story line is told with the frame before it: a step shows both
            wait_ms = int(record["t"]) - self.clock.now_ms()
            if wait_ms > 0:
                if self.speed:
                    await asyncio.sleep(wait_ms / 1000 / self.speed)
                await self.virtual.advance(wait_ms / 1000)
            if story:
                self._tell(record)
                continue
            supervisor = supervisors.get(record["s"])
            if supervisor is None:
                continue
            try:
                if record["k"] == "ws_open":
                    result = supervisor.on_connect(supervisor) if supervisor.on_connect else None
                else:
                    result = supervisor.on_message(supervisor.parse(_raw(record)))
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.malformed += 1
                log.warning("replay %s: frame %d dropped (%s: %s)", self.venue, self.played, type(exc).__name__, exc)
            self.played += 1
        self.finished.set()
        self.set_connection(STREAM, ConnectionState.DISCONNECTED, "end of the recording")

    def add_story_listener(self, fn: Callable[[dict[str, Any]], None]) -> None:
        """``fn(line)`` for each story line (``STORY_KINDS``) as the replay passes it (sync; keep it cheap)."""
        if fn not in self._story_listeners:
            self._story_listeners.append(fn)

    def remove_story_listener(self, fn: Callable[[dict[str, Any]], None]) -> None:
        if fn in self._story_listeners:
            self._story_listeners.remove(fn)

    def _tell(self, record: dict[str, Any]) -> None:
        self.told.append(record)
        for fn in tuple(self._story_listeners):
            try:
                fn(record)
            except Exception:
                log.exception("replay %s: story listener %r failed", self.venue, fn)

    # -- the market: the venue's own connector ----------------------------------------------------

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        """The venue's connector keeps what it keeps of the stream (its subscriptions); the first
        subscription starts the playback."""
        await self.inner.subscribe_market_data(symbols)
        self.play()

    def play(self) -> None:
        """Start the playback (the first ``subscribe_market_data`` does, once started)."""
        if self._task is None and self.started:
            self._task = asyncio.create_task(self._play(), name=f"replay-{self.venue}")

    async def list_markets(self) -> list[MarketInfo]:
        return await self.inner.list_markets()

    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]:
        return await self.inner.get_price_size_decimals(symbol)

    async def get_min_size_i(self, symbol: str) -> int:
        return await self.inner.get_min_size_i(symbol)

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        return await self.inner.get_top_of_book(symbol)

    # -- no account: a replay is watched (or traded on paper) ---------------------------------------

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AuthError(f"replay of {self.venue}: trading needs --paper (a recording has no account)")

    async def submit_limit_order(self, **kwargs: Any) -> str:
        return self._refuse()

    async def submit_market_order(self, **kwargs: Any) -> str:
        return self._refuse()

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        self._refuse()

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        self._refuse()

    async def cancel_all(self, symbol: str | None = None) -> None:
        return None

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        return self._refuse()

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        return []

    async def get_positions(self) -> list[Position]:
        return []

    async def get_margin(self) -> Margin:
        return Margin(0, 0, 0, 0, 0, self.clock.now_ms(), info={"replay": True})
