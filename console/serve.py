"""``perpdesk serve``: the same console in a browser, one console process per tab.

textual-serve runs the console once per websocket and has no door of its own.  This module
adds one, as a subclass of its ``Server``: a random token in the printed URL (the page, its
files and the websocket all answer 403 without it; the page then keeps it in a same-site
cookie), the page and its font served from this machine (it loads nothing from anywhere
else), loopback only unless ``--allow-remote``, no token in any log line, and a console
process that is gone when its tab closes.  The safe way to reach it from another machine
is an SSH tunnel (``ssh -L 8000:127.0.0.1:8000 host``).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import logging
import secrets
import shlex
import socket
import string
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("perpdesk.serve")

PAGE = Path(__file__).with_name("serve.html")
FORBIDDEN = "perpdesk serve: open the address printed when serve started; it carries the ?token=.\n"
STOP_GRACE_S = 10.0
"""How long a console whose tab closed gets to stop its runtime before it is terminated."""

# The page's scripts and styles come from this server only; its one inline script carries a
# per-page nonce.  textual.js injects its own <style> elements, hence 'unsafe-inline' for styles.
CSP = (
    "default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
REMOTE_REFUSED = (
    "perpdesk serve: {host} is reachable from other machines, and anyone with the printed address "
    "could trade with your keys: keep the default 127.0.0.1 and use an SSH tunnel "
    "(ssh -L {port}:127.0.0.1:{port} this-host), or pass --allow-remote behind a TLS proxy"
)
REMOTE_WARNING = (
    "warning: serving on {host} beyond this machine. The address and its token travel in clear "
    "over plain HTTP: put TLS in front (a reverse proxy) or, better, bind 127.0.0.1 and use an SSH tunnel."
)


def console_command(console_args: list[str]) -> str:
    """The shell command textual-serve runs per connection: ``exec`` this interpreter by absolute
    path, so the process it watches (and stops) is the console itself, not a shell around it."""
    return "exec " + shlex.join([sys.executable, "-m", "console", *console_args])


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page_url(host: str, port: int, token: str) -> str:
    """The address to open: a wildcard bind is shown under this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/?token={token}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class RedactingFormatter(logging.Formatter):
    """Every log line, tracebacks included, with the token blanked (the access log would
    otherwise print it in the page's request line)."""

    def __init__(self, secret: str, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(self._secret, "***")


class ConsoleProcess(AppService):
    """One tab's console.  textual-serve asks it to quit when the tab closes and waits for its
    output to end, but never for the process itself: here it is reaped, and terminated (then
    killed) if it has not stopped its runtime within ``STOP_GRACE_S``."""

    async def stop(self) -> None:
        process = self._process
        # quit, then wait for the console's output to end (textual-serve's own stop)
        stopping = asyncio.ensure_future(super().stop())
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE_S)
            except TimeoutError:
                log.warning("a console did not stop within %g s of its tab closing: terminating it", STOP_GRACE_S)
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), STOP_GRACE_S)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        await stopping


class PerpdeskServer(Server):
    """textual-serve's server with a token at the door and a page of our own."""

    def __init__(self, command: str, *, host: str, port: int, token: str, title: str = "perpdesk") -> None:
        super().__init__(command, host=host, port=port, title=title)
        self._token = token.encode()
        self.cookie_name = f"perpdesk-{port}"
        """Cookies are shared between ports of one host: the name keeps two servers apart."""
        self.url = page_url(host, port, token)
        self._page = string.Template(PAGE.read_text(encoding="utf-8"))
        self._sockets: set[web.WebSocketResponse] = set()
        self._stopping: set[asyncio.Future[None]] = set()

    def initialize_logging(self) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(RedactingFormatter(self._token.decode(), "%(asctime)s %(name)s %(message)s"))
        logging.basicConfig(level=logging.DEBUG if self.debug else logging.INFO, handlers=[handler], force=True)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._door)
        app.on_cleanup.append(self._consoles_stopped)
        return app

    async def on_startup(self, app: web.Application) -> None:
        print(f"perpdesk serve: one console per browser tab ({self.title}).", flush=True)
        print(f"  open {self.url}", flush=True)
        print("  Anyone with this address can use the console: keep it to yourself. Ctrl+C stops the server "
              "and every console.", flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C: close every tab's websocket, so each console stops now rather than at aiohttp's
        shutdown timeout."""
        for websocket in list(self._sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"perpdesk serve is stopping")

    async def _consoles_stopped(self, app: web.Application) -> None:
        """The server exits only after every console it started has stopped."""
        if self._stopping:
            await asyncio.wait(list(self._stopping))

    def admits(self, request: web.Request) -> bool:
        """The token from the query (the printed URL) or, after that, from the page's cookie."""
        offered = request.query.get("token") or request.cookies.get(self.cookie_name) or ""
        return hmac.compare_digest(offered.encode(), self._token)

    @web.middleware
    async def _door(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self.admits(request) or not _same_origin(request):
            return web.Response(status=403, text=FORBIDDEN)
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        nonce = secrets.token_urlsafe(16)
        font_size = min(max(to_int(request.query.get("fontsize", "16"), 16), 8), 40)
        body = self._page.substitute(title=html.escape(self.title), nonce=nonce, font_size=font_size)
        response = web.Response(text=body, content_type="text/html")
        response.headers.update(PAGE_HEADERS)
        response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
        # the files and the websocket the page asks for next carry the token in this cookie
        response.set_cookie(
            self.cookie_name, self._token.decode(), httponly=True, samesite="Strict", path="/",
            secure=request.secure,
        )
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One console process per websocket, stopped (and reaped) when the websocket ends."""
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        self._sockets.add(websocket)
        console = ConsoleProcess(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        try:
            width, height = to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24)
            await console.start(width, height)
            await self._process_messages(websocket, console)
        except Exception:
            log.exception("a console connection failed")
        finally:
            self._sockets.discard(websocket)
            # aiohttp cancels this handler when the browser's connection drops: the stop runs on
            # in its own task, so a closed tab's console is always stopped and reaped
            stopping = asyncio.ensure_future(console.stop())
            self._stopping.add(stopping)
            stopping.add_done_callback(self._stopping.discard)
            await asyncio.shield(stopping)
        return websocket


def _same_origin(request: web.Request) -> bool:
    """A websocket opened by a page from another origin (another port on this host counts) is
    refused even when the browser attaches our cookie to it."""
    origin = request.headers.get("Origin")
    if origin is None or request.headers.get("Upgrade", "").lower() != "websocket":
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def serve(host: str, port: int, console_args: list[str], *, allow_remote: bool = False, read_only: bool = False) -> int:
    """Run the server until Ctrl+C; 2 when the address may not or cannot be used."""
    if not is_loopback(host):
        if not allow_remote:
            print(REMOTE_REFUSED.format(host=host, port=port), file=sys.stderr)
            return 2
        print(REMOTE_WARNING.format(host=host), file=sys.stderr)
    if read_only:
        console_args = ["--read-only", *console_args]
    title = "perpdesk (read-only)" if read_only else "perpdesk"
    server = PerpdeskServer(console_command(console_args), host=host, port=port, token=new_token(), title=title)
    try:
        server.serve()
    except OSError as exc:
        print(f"perpdesk serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
