"""``perpdesk serve``: a token at the door, a page that loads nothing from elsewhere, loopback
unless --allow-remote, one console process per connection that is gone when it closes, and
``--read-only`` consoles that refuse every trading action.  In a real browser:
test_serve_browser.py."""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import sys
import time

import pytest
from aiohttp import WSServerHandshakeError, test_utils
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

import console.serve as serve_module
from console.cli import main, prepare
from console.screens.dialogs import KillSwitchScreen
from console.serve import PerpdeskServer, RedactingFormatter, console_command, is_loopback, serve
from tests.console.harness import make_desk, ready, settle
from tests.console.served import Served

TOKEN = "t0ken-for-the-tests_0123456789abcdefghijklmno"
FILES = [
    "/static/js/textual.js",
    "/static/css/xterm.css",
    "/static/fonts/RobotoMono-VariableFont_wght.ttf",
    "/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf",
]


@pytest.fixture
async def client():
    server = PerpdeskServer("exec true", host="127.0.0.1", port=8000, token=TOKEN)
    async with test_utils.TestClient(test_utils.TestServer(await server._make_app())) as c:
        yield c


# -- the door ---------------------------------------------------------------------------------


async def test_without_the_token_the_page_its_files_and_the_websocket_answer_403(client):
    for path in ["/", "/?token=wrong", f"/?token={TOKEN[:-1]}", "/nothing-here", *FILES]:
        response = await client.get(path)
        assert response.status == 403, path
        assert "token" in await response.text()
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws")
    assert refused.value.status == 403


async def test_the_tokened_page_sets_a_same_site_cookie_that_opens_its_files(client):
    page = await client.get(f"/?token={TOKEN}")
    assert page.status == 200
    cookie = page.headers["Set-Cookie"]
    assert "perpdesk-8000=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    for path in FILES:
        assert (await client.get(path)).status == 200, path


async def test_the_page_loads_nothing_from_anywhere_else(client):
    page = await client.get(f"/?token={TOKEN}")
    body = await page.text()
    assert "fonts.googleapis" not in body and "://" not in body
    urls = [a or b for a, b in re.findall(r'(?:src|href)="([^"]*)"|url\("([^"]*)"\)', body)]
    assert "static/fonts/RobotoMono-VariableFont_wght.ttf" in urls
    for url in urls:
        assert url == "" or url.startswith(("static/", "data:")), url  # relative: works through any tunnel
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    [nonce] = re.findall(r'<script nonce="([^"]+)">', body)
    assert f"'nonce-{nonce}'" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_a_websocket_opened_by_another_origin_is_refused_even_with_the_cookie(client):
    assert (await client.get(f"/?token={TOKEN}")).status == 200
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "http://127.0.0.1:9999"})
    assert refused.value.status == 403
    host = f"{client.server.host}:{client.server.port}"
    ws = await client.ws_connect("/ws", headers={"Origin": f"http://{host}"})
    await ws.close()


async def test_the_token_is_compared_in_constant_time(client, monkeypatch):
    compared = []
    real = serve_module.hmac.compare_digest
    monkeypatch.setattr(serve_module.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert (await client.get("/?token=guess")).status == 403
    assert compared == [(b"guess", TOKEN.encode())]


def test_no_log_line_carries_the_token():
    formatter = RedactingFormatter(TOKEN, "%(message)s")
    try:
        raise ValueError(f"bad request /?token={TOKEN}")
    except ValueError:
        record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, '"GET /?token=%s" 200', (TOKEN,),
                                   sys.exc_info())
    text = formatter.format(record)
    assert TOKEN not in text
    assert text.count("token=***") == 2


# -- where it listens, what it runs ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "desk.example.com"])
def test_addresses_other_machines_reach(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_an_address_beyond_loopback_needs_allow_remote_and_names_the_ssh_tunnel(host, capsys):
    assert serve(host, 8000, []) == 2
    err = capsys.readouterr().err
    assert "--allow-remote" in err and "ssh -L 8000:127.0.0.1:8000" in err and "TLS" in err


def test_allow_remote_serves_with_a_warning_to_put_tls_in_front(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(PerpdeskServer, "serve", lambda self: ran.append(self))
    assert serve("0.0.0.0", 8000, [], allow_remote=True) == 0
    assert ran
    err = capsys.readouterr().err
    assert "TLS" in err and "SSH tunnel" in err


def test_each_console_is_this_interpreter_exec_ed_with_the_arguments():
    argv = shlex.split(console_command(["--venue", "sim", "--symbol", "ETH"]))
    assert argv[:4] == ["exec", sys.executable, "-m", "console"]
    assert argv[4:] == ["--venue", "sim", "--symbol", "ETH"]


def test_read_only_serve_runs_every_console_read_only(monkeypatch):
    ran: list[PerpdeskServer] = []
    monkeypatch.setattr(PerpdeskServer, "serve", lambda self: ran.append(self))
    assert serve("127.0.0.1", 8000, ["--symbol", "ETH"], read_only=True) == 0
    assert shlex.split(ran[0].command)[4:] == ["--read-only", "--symbol", "ETH"]
    assert "read-only" in ran[0].title


def test_a_typo_in_the_console_options_is_reported_before_serving(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--symbl", "ETH"])
    assert exited.value.code == 2
    assert "--symbl" in capsys.readouterr().err


# -- one console per connection, gone when it closes -------------------------------------------


def painted(ws: ClientConnection, timeout: float = 60) -> bytes:
    """What the console sent until its book was on screen."""
    seen = b""
    deadline = time.monotonic() + timeout
    while b"spread" not in seen:
        frame = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        seen += frame if isinstance(frame, bytes) else b""
    return seen


def test_each_connection_gets_its_own_console_and_a_closed_one_leaves_nothing_running(tmp_path):
    served = Served(tmp_path)
    ws_url = f"ws://127.0.0.1:{served.port}/ws?width=120&height=40"
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=30)
        assert refused.value.response.status_code == 403
        token_url = f"{ws_url}&token={served.token}"
        with connect(token_url, open_timeout=30, max_size=None) as first:
            painted(first)
            [one] = served.wait_consoles(lambda pids: len(pids) == 1, "the first console")
            with connect(token_url, open_timeout=30, max_size=None) as second:
                painted(second)
                both = served.wait_consoles(lambda pids: len(pids) == 2, "a second console beside the first")
                [two] = both - {one}
                first.close()
                served.wait_consoles(lambda pids: pids == {two}, "only the second console after the first closed")
        served.wait_consoles(lambda pids: not pids, "no console after both closed")
    finally:
        assert served.stop() == 0
    out, err = served.stdout(), served.stderr()
    assert out.count(served.token) == 1  # the printed address, nowhere else
    assert served.token not in err and "token=***" in err  # the access log saw it, redacted


def test_stopping_the_server_stops_every_console(tmp_path):
    served = Served(tmp_path)
    with connect(f"ws://127.0.0.1:{served.port}/ws?token={served.token}", open_timeout=30, max_size=None) as ws:
        painted(ws)
        [pid] = served.wait_consoles(lambda pids: len(pids) == 1, "the console")
        assert served.stop() == 0
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


async def test_a_console_that_ignores_quit_is_terminated_then_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(serve_module, "STOP_GRACE_S", 0.5)
    pid_file = tmp_path / "pid"
    stubborn = (
        "import os, signal, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('__GANGLION__', flush=True)\n"
        "time.sleep(600)\n"
    )
    server = PerpdeskServer("exec " + shlex.join([sys.executable, "-c", stubborn]), host="127.0.0.1", port=8000,
                            token=TOKEN)
    async with test_utils.TestClient(test_utils.TestServer(await server._make_app())) as c:
        ws = await c.ws_connect(f"/ws?token={TOKEN}")
        await _until(lambda: pid_file.exists() and pid_file.read_text(), "the console started")
        pid = int(pid_file.read_text())
        await ws.close()
        await _until(lambda: not _alive(pid), "the stubborn console gone")


async def _until(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


# -- read-only consoles ------------------------------------------------------------------------


def capture_notify(app) -> list[str]:
    seen: list[str] = []
    app.notify = lambda message, **kwargs: seen.append(str(message))
    return seen


async def test_a_read_only_console_refuses_every_trading_key_with_a_message():
    desk = make_desk(read_only=True)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bid, _ = desk.runtime.market_data.top_of_book("sim", "BTC")
        await desk.runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=100, price_i=bid - 5)
        await settle(desk, pilot)
        sent = list(desk.venue.requests)
        seen = capture_notify(desk.app)
        for key in ["b", "s", "B", "t", "C", "x", "A", "ctrl+k"]:
            await pilot.press(key)
            await settle(desk, pilot)
        await pilot.press("1", "c")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, KillSwitchScreen)
        assert desk.venue.requests == sent
        assert [o.state for o in desk.runtime.orders.open_orders()] == ["OPEN"]
        refused = [m for m in seen if m.startswith("read-only console:")]
        for what in ["the order form", "starting a chase", "cancel all", "the kill switch", "cancelling an order",
                     "sending an order", "closing a position", "re-arming trading"]:
            assert any(what in m for m in refused), (what, seen)


async def test_a_read_only_command_bar_refuses_trading_lines_but_still_moves_around():
    desk = make_desk(read_only=True)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        bar = desk.app.query_one("#command-bar")
        for line, what in [("buy 0.01 BTC @ 64940.5", "sending an order"), ("cancel all", "cancel all"),
                           ("chase buy 0.01 BTC to 64950", "starting a chase"), ("kill", "the kill switch"),
                           ("close all", "closing a position")]:
            await pilot.press("colon")
            await pilot.pause()
            desk.app.focused.value = line
            await pilot.press("enter")
            await settle(desk, pilot)
            assert what in str(bar.query_one("#command-error").render()), line
            await pilot.press("escape")
            await pilot.pause()
        assert desk.venue.requests == []
        await pilot.press("colon")
        await pilot.pause()
        desk.app.focused.value = "go ETH"
        await pilot.press("enter")
        await settle(desk, pilot)
        assert desk.main.selected == ("sim", "ETH")


def test_perpdesk_read_only_keeps_the_viewer_off_the_traders_journal_and_config():
    runtime, options = prepare(["--read-only"])
    try:
        assert options["read_only"] is True
        assert options["persist_theme"] is None
        assert str(runtime.journal.path) == ":memory:"
        assert runtime.reconciler.dead_man_after_s is None  # the venue's timer is the trader's, account-wide
    finally:
        runtime.journal.close()
