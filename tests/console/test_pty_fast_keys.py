"""Fast typing through a real pseudo-terminal: the bytes a terminal sends when a trader types quickly
(Escape then a digit within the escape delay, command lines back to back at 30 ms a key) fire
nothing that was not typed."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.console.test_pty import Terminal


def start(tmp_path) -> tuple[int, Terminal]:
    perpdesk = str(Path(sys.executable).parent / "perpdesk")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(perpdesk, [perpdesk], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    return pid, Terminal(fd, time.monotonic() + 60)


@contextmanager
def console(tmp_path) -> Iterator[Terminal]:
    """The console on a pseudo-terminal, for the body to type into; then ctrl+c, and it must end cleanly
    (exit 0, no traceback).  Killed by its PID whatever happens."""
    pid, term = start(tmp_path)
    try:
        yield term
        code = stop(pid, term)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.close(term.fd)
    assert code == 0
    assert b"Traceback" not in term.output


def shows(term: Terminal, text: bytes, since: int) -> bool:
    """``text`` painted since byte ``since`` of the output, colours and cursor moves left out (they split
    a line's words); reads each next paint until then, up to the terminal's deadline."""
    while text not in re.sub(rb"\x1b\[[0-9;?<>=$]*[A-Za-z]", b"", term.output[since:]):
        if not term.read_until(b"\x1b["):
            return False
    return True


def stop(pid: int, term: Terminal) -> int:
    term.send(b"\x03")  # ctrl+c
    term.drain()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_escape_then_a_digit_in_one_write_leaves_the_field_and_switches_tab(tmp_path):
    with console(tmp_path) as term:
        assert term.read_until(b"spread"), "no book painted"
        term.send(b"s")
        assert term.read_until(b"SELL BTC"), "the order form did not open"
        term.send(b"0.1\x1b2")  # Esc and 2 in one write: the parser reports alt+2
        assert term.read_until(b"uPnL"), "Esc 2 did not reach the desk as Esc then 2 (the positions tab)"


def test_command_lines_typed_at_30ms_a_key_fire_no_hotkey(tmp_path):
    with console(tmp_path) as term:
        assert term.read_until(b"spread"), "no book painted"
        for _ in range(3):
            for ch in b":buy 0.01 BTC mkt\r":
                term.send(bytes([ch]))
                time.sleep(0.03)
        term.send(b"3")  # the fills tab, once every line has been taken
        assert term.read_until(b"Role"), "the fills tab did not open"
    for question in (b"Cancel all orders?", b"Close position?", b"KILL SWITCH", b"Re-arm trading?"):
        assert question not in term.output, f"a hotkey fired: {question!r}"
    assert b"expected" not in term.output, "a command line was garbled"


def test_closing_the_terminal_ends_the_console_through_the_quit_path(tmp_path):
    pid, term = start(tmp_path)
    try:
        assert term.read_until(b"spread"), "no book painted"
        os.close(term.fd)  # the terminal goes away: the kernel hangs up the session (SIGHUP)
        deadline = time.monotonic() + 20  # only ends a hang; the app's own budget is 2 s
        status = None
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            else:
                time.sleep(0.05)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    assert status is not None, "the console outlived its terminal"
    assert os.waitstatus_to_exitcode(status) == 0, "it did not end through the quit path"


def test_a_desk_key_in_the_same_write_as_the_chase_forms_enter_acts_after_the_chase_started(tmp_path):
    with console(tmp_path) as term:
        assert term.read_until(b"spread"), "no book painted"
        term.send(b"t")
        assert term.read_until(b"TRACKING LIMIT"), "the chase form did not open"
        sent_at = len(term.output)
        term.send(b"\x150.01\rs")  # ctrl+u, the size, Enter and the sell key in one write
        assert term.read_until(b"SELL BTC"), "the s after Enter did not open the sell ticket"
        assert shows(term, b"started: BUY 0.0100 BTC", sent_at), "no notice of the BUY chase typed"
