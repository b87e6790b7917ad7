"""Keys: every binding has an id, the config's keymap rebinds them, and the help screen tells the truth."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time

from console.screens.help import HelpScreen, current_bindings
from tests.console.harness import make_desk, ready, settle


def test_every_binding_is_in_the_registry_with_an_id_of_its_own():
    import importlib
    import inspect
    import pkgutil

    import console
    from console.bindings import REGISTRY

    registered = [b for owned in REGISTRY.values() for b in owned]
    assert all(b.id for b in registered)
    assert len({b.id for b in registered}) == len(registered)
    lists = [id(owned) for owned in REGISTRY.values()]
    stray = []
    for info in pkgutil.walk_packages(console.__path__, "console."):
        if info.name.rpartition(".")[2] in ("__main__", "serve", "cli"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "BINDINGS" in cls.__dict__ and id(cls.BINDINGS) not in lists:
                stray.append(cls.__name__)
    assert stray == []  # a class declares its keys in console/bindings.py, so the keymap check knows them


async def test_keymap_from_settings_rebinds_buy_and_the_help_shows_the_new_key():
    desk = make_desk(keymap={"order.buy": "f10"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b")  # no longer bound
        assert desk.app.focused.id == "markets"
        await pilot.press("f10")
        assert desk.app.focused.id == "price"
        rows = {bid: keys for keys, _, bid in current_bindings(desk.app)}
        assert rows["order.buy"] == "f10"
        await pilot.press("escape", "f1")
        await pilot.pause()
        assert isinstance(desk.app.screen, HelpScreen)
        text = str(desk.app.screen.query_one("#help-keys").render())
        assert "order.buy" in text and "f10" in text and "risk.kill_switch" in text
        await pilot.press("escape")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, HelpScreen)


async def test_question_mark_opens_help_when_no_field_has_focus():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(desk.app.screen, HelpScreen)


def _run_in_a_terminal(tmp_path, stop) -> tuple[int, bytes]:
    """Start perpdesk in a pseudo-terminal, wait for a painted book, ``stop(pid, fd)``, return (exit code, output)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "console"], env)
    output = b""
    deadline = time.monotonic() + 20
    status = None
    try:
        while b"spread" not in output and time.monotonic() < deadline:
            ready_fds, _, _ = select.select([fd], [], [], 0.5)
            if ready_fds:
                output += os.read(fd, 65536)
        assert b"spread" in output, "no book painted"
        stop(pid, fd)
        while time.monotonic() < deadline:
            ready_fds, _, _ = select.select([fd], [], [], 0.5)
            if ready_fds:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output


def test_perpdesk_in_a_real_terminal_paints_a_book_and_quits_on_q(tmp_path):
    code, output = _run_in_a_terminal(tmp_path, lambda pid, fd: os.write(fd, b"q"))
    assert code == 0
    assert b"Traceback" not in output


def test_sigterm_quits_as_cleanly_as_q(tmp_path):
    code, output = _run_in_a_terminal(tmp_path, lambda pid, fd: os.kill(pid, signal.SIGTERM))
    assert code == 0
    assert b"Traceback" not in output


def test_python_dash_m_console_help_works():
    result = subprocess.run([sys.executable, "-m", "console", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--venue" in result.stdout
