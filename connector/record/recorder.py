"""``perpdesk --record FILE``: every frame and REST answer the connectors receive, with receive
timestamps, plus our own requests, secrets redacted; gzip-compressed JSON lines (docs/RECORDING.md).

``Recorder`` is the ``connector.transport.tap.Tap`` a recording installs: websockets hand it each
frame as it is parsed (and each frame we send), HTTP clients route through its transport.  A file
that reaches ``max_bytes`` (uncompressed) or ``max_s`` is closed and the next part opened beside it
(``FILE``, ``FILE.1``, ``FILE.2`` ... each one a complete recording with its own header).
"""

from __future__ import annotations

import base64
import gzip
import inspect
import json
import logging
import re
from pathlib import Path
from typing import IO, Any

import httpx

from connector.clock import Clock, RealClock
from connector.errors import ConfigError
from connector.keys import MASK, redact
from connector.transport import tap

log = logging.getLogger(__name__)

FORMAT = "perpdesk-recording"
VERSION = 1
DEFAULT_MAX_BYTES = 512 * 2**20
DEFAULT_MAX_S = 3_600.0
FLUSH_EVERY_MS = 2_000
"""The file is flushed this often, so a crash loses at most this much."""

SECRET_NAME = re.compile(r"sign|secret|private|passw|passphrase|token|auth|api[-_]?key|^key$|listen[-_]?key|cookie",
                         re.IGNORECASE)  # fmt: skip
"""Field, parameter and header names whose values never reach a recording."""

STORY_KINDS = ("chase", "order")
"""Line kinds that tell our own story (a chase's decisions, our orders' transitions), not the wire's."""


def scrub(value: Any) -> Any:
    """``value`` with every field named like a secret masked, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_NAME.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def scrub_story(value: Any) -> Any:
    """``scrub`` that also masks every registered secret inside each string (a venue's error text)."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_NAME.search(str(k)) else scrub_story(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_story(v) for v in value]
    return redact(value) if isinstance(value, str) else value


def scrub_text(text: str) -> str:
    """A JSON text scrubbed field by field (else as is), then every registered secret masked."""
    try:
        value = json.loads(text)
    except ValueError:
        return redact(text)
    if isinstance(value, dict | list):
        text = json.dumps(scrub(value), separators=(",", ":"))
    return redact(text)


def scrub_url(url: httpx.URL) -> str:
    """Path and query; secret-named parameters masked (and path segments that are registered secrets)."""
    query = [(k, MASK if SECRET_NAME.search(k) else v) for k, v in url.params.multi_items()]
    path = url.path
    return redact(path + ("?" + str(httpx.QueryParams(query)) if query else ""))


def _payload(raw: str | bytes) -> dict[str, str]:
    if isinstance(raw, bytes):
        try:
            return {"d": raw.decode("utf-8")}
        except UnicodeDecodeError:
            return {"d64": base64.b64encode(raw).decode("ascii")}
    return {"d": raw}


class Recorder:
    """Writes one recording (in parts); ``close`` ends it.  ``meta`` goes into every part's header."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_s: float = DEFAULT_MAX_S,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.clock: Clock = clock or RealClock()
        self.max_bytes = max_bytes
        self.max_ms = int(max_s * 1000)
        self.meta = dict(meta or {})
        self.parts: list[Path] = []
        self.records = 0
        self._file: IO[str] | None = None
        self._bytes = 0
        self._opened_ms = 0
        self._flushed_ms = 0
        self._open()

    # -- the file --------------------------------------------------------------------------------

    def _part_path(self, n: int) -> Path:
        return self.path if n == 0 else self.path.with_name(f"{self.path.name}.{n}")

    def _open(self) -> None:
        path = self._part_path(len(self.parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = gzip.open(path, "wt", encoding="utf-8")
        self.parts.append(path)
        self._bytes = 0
        self._opened_ms = self._flushed_ms = self.clock.now_ms()
        header = {"k": "header", "t": self._opened_ms, "format": FORMAT, "version": VERSION,
                  "part": len(self.parts) - 1, **self.meta}  # fmt: skip
        self._line(header)

    def _line(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        self._file.write(line)
        self._bytes += len(line)

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        now = self.clock.now_ms()
        if self._bytes >= self.max_bytes or now - self._opened_ms >= self.max_ms:
            self._file.close()
            self._open()
        self._line({"t": now, **record})
        self.records += 1
        if now - self._flushed_ms >= FLUSH_EVERY_MS:
            self._file.flush()
            self._flushed_ms = now

    def story(self, kind: str, fields: dict[str, Any]) -> None:
        """One line of our own story (``STORY_KINDS``), secrets masked, stamped with the recording clock."""
        if kind not in STORY_KINDS:
            raise ValueError(f"{kind!r} is not a story line kind ({', '.join(STORY_KINDS)})")
        self.write({"k": kind, **scrub_story(fields)})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def install(self) -> Recorder:
        """Become the transports' tap (for every connector built from now on)."""
        tap.install(self)
        return self

    def uninstall(self) -> None:
        if tap.current() is self:
            tap.install(None)
        self.close()

    # -- the tap -------------------------------------------------------------------------------

    def wrap_ws(self, name: str, url: str, parse: Any, on_connect: Any) -> tuple[Any, Any]:
        def recording_parse(raw: str | bytes) -> Any:
            self.write({"k": "ws_in", "s": name, **_payload(raw)})
            return parse(raw)

        async def recording_connect(ws: Any) -> None:
            self.write({"k": "ws_open", "s": name, "url": scrub_url(httpx.URL(url))})
            if on_connect is not None:
                result = on_connect(ws)
                if inspect.isawaitable(result):
                    await result

        return recording_parse, recording_connect

    def ws_sent(self, name: str, data: str | bytes) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        self.write({"k": "ws_out", "s": name, "d": scrub_text(text)})

    def wrap_http(self, name: str, base_url: str, transport: httpx.AsyncBaseTransport | None) -> Any:
        return RecordingTransport(self, name, transport or httpx.AsyncHTTPTransport())


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes every request on and records it with its answer (body read in full, then handed back)."""

    def __init__(self, recorder: Recorder, name: str, inner: httpx.AsyncBaseTransport) -> None:
        self.recorder = recorder
        self.name = name
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent_ms = self.recorder.clock.now_ms()
        body = request.content.decode("utf-8", "replace") if request.content else ""
        headers = {k: MASK if SECRET_NAME.search(k) else redact(v) for k, v in request.headers.items()}
        record: dict[str, Any] = {"k": "http", "s": self.name, "sent": sent_ms, "m": request.method,
                                  "u": scrub_url(request.url), "h": headers, "b": scrub_text(body)}  # fmt: skip
        try:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()  # decoded: the answer we hand back carries no content-encoding
        except Exception as exc:
            self.recorder.write({**record, "err": f"{type(exc).__name__}: {redact(str(exc))}"})
            raise
        self.recorder.write({**record, "st": response.status_code, **_payload(content)})
        kept = [(k, v) for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]  # fmt: skip
        return httpx.Response(response.status_code, headers=kept, content=content, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def read_recording(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the records of one recording file (one part)."""
    lines: list[dict[str, Any]] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    lines.append(json.loads(line))
    except EOFError:
        pass  # cut short (the recording process died): what was flushed before
    except ValueError as exc:
        if not lines:
            raise ConfigError(f"{path} is not a perpdesk recording ({type(exc).__name__}: {exc})") from None
        # a last line cut in half: keep the whole ones
    except OSError as exc:
        raise ConfigError(f"{path} is not a perpdesk recording ({type(exc).__name__}: {exc})") from None
    if not lines or lines[0].get("k") != "header" or lines[0].get("format") != FORMAT:
        raise ConfigError(f"{path} is not a perpdesk recording (no {FORMAT} header)")
    return lines[0], lines[1:]
