"""The real console in a pseudo-terminal, its screen read through a terminal emulator (pyte): command
lines typed back to back at 30 ms a key and Escape then a digit within 50 ms fire nothing that was
not typed.  Every wait is on what the screen shows; the deadlines only end a hang."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pyte = pytest.importorskip("pyte")

COLS, ROWS = 120, 40
QUESTIONS = ("Cancel all orders?", "Close position?", "Close 25%", "Close 50%", "Reverse position?",
             "KILL SWITCH", "Re-arm trading?", "Quit with live orders?",
             "no default size", "no position selected", "no open order selected")
"""Dialogs a hotkey opens, and what the one-key orders and moves say when they cannot act."""


class Screen:
    """The console's terminal: bytes from the pty fed to an emulated 120×40 screen."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.seen_questions: set[str] = set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, wait_s: float = 0.05) -> None:
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if not ready:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return
        self.raw += chunk
        self.stream.feed(chunk)
        shown = self.text()
        self.seen_questions |= {q for q in QUESTIONS if q in shown}

    def wait_for(self, check: Callable[[str], bool], what: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check(self.text()):
                return
            self.pump(0.1)
        raise AssertionError(f"the screen never showed {what}:\n{self.text()}")

    def type(self, text: str, per_key_s: float = 0.03) -> None:
        for ch in text.encode():
            os.write(self.fd, bytes([ch]))
            end = time.monotonic() + per_key_s
            while time.monotonic() < end:
                self.pump(max(0.0, end - time.monotonic()))


def _start(tmp_path) -> tuple[int, Screen]:
    perpdesk = str(Path(sys.executable).parent / "perpdesk")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(perpdesk, [perpdesk], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, Screen(fd)


def _stop(pid: int, screen: Screen) -> None:
    try:
        os.write(screen.fd, b"\x03")  # ctrl+c
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            screen.pump(0.1)
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(screen.fd)


def test_command_lines_back_to_back_at_30ms_a_key_fire_only_what_they_say(tmp_path):
    pid, screen = _start(tmp_path)
    try:
        screen.wait_for(lambda s: "spread" in s, "a painted book")
        screen.type(":buy 0.01 BTC @ 64000\r")  # a resting order the C of BTC or a y must not cancel
        screen.wait_for(lambda s: "64000.0" in s and "OPEN" in s, "the resting order in the Orders tab")
        screen.type(":DRUVX[]=+-\r")  # every one-key order, move, close and reverse key, typed into the bar
        screen.wait_for(lambda s: "unknown command" in s, "the bar's error for the typed line")
        screen.type("\x1b", 0.1)
        for _ in range(3):
            screen.type(":sell 0.01 BTC mkt\r")
        screen.type("3", 0)
        screen.wait_for(lambda s: "Role" in s and s.count("SELL") >= 3, "three sells in the Fills tab")
        screen.type("1", 0)
        screen.wait_for(lambda s: "64000.0" in s and "OPEN" in s, "the resting order still open")
        shown = screen.text()
    finally:
        _stop(pid, screen)
    assert screen.seen_questions == set(), f"a hotkey fired: {screen.seen_questions}"
    assert "expected" not in shown.replace("unknown command", ""), "a command line was garbled"
    assert b"Traceback" not in screen.raw


def test_escape_then_a_digit_within_50ms_leaves_the_field_then_switches_tab(tmp_path):
    pid, screen = _start(tmp_path)
    try:
        screen.wait_for(lambda s: "spread" in s, "a painted book")
        screen.type("s", 0)
        screen.wait_for(lambda s: "SELL BTC" in s, "the order form")
        screen.type("\t0.1", 0.03)
        screen.wait_for(lambda s: "0.1" in s and "SELL 0.1000 BTC" in s, "the size typed")
        screen.type("\x1b", 0.02)  # Escape, then the digit 20 ms later: within any escape delay
        screen.type("2", 0)
        screen.wait_for(lambda s: "uPnL" in s, "the Positions tab (Esc then 2 taken as two keys)")
        shown = screen.text()
    finally:
        _stop(pid, screen)
    assert "0.12" not in shown and "™" not in shown and "£" not in shown, "the 2 was typed into the field"
    assert screen.seen_questions == set(), f"something fired: {screen.seen_questions}"
