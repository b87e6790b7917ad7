"""``perpdesk`` in a real pseudo-terminal at 80x24: the keys a trader types arrive as bytes, the
command bar (``:``) and the command palette (ctrl+p) work, and ctrl+c quits cleanly."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from pathlib import Path


class Terminal:
    def __init__(self, fd: int, deadline: float) -> None:
        self.fd = fd
        self.deadline = deadline
        self.output = b""

    def read_until(self, needle: bytes) -> bool:
        start = len(self.output)
        while needle not in self.output[start:] and time.monotonic() < self.deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                self.output += chunk
        return needle in self.output[start:]

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def drain(self) -> None:
        while time.monotonic() < self.deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk


def test_command_bar_and_palette_over_a_real_80x24_terminal_then_ctrl_c_quits(tmp_path):
    perpdesk = str(Path(sys.executable).parent / "perpdesk")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(perpdesk, [perpdesk], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    term = Terminal(fd, time.monotonic() + 30)
    try:
        assert term.read_until(b"spread"), "no book painted"
        term.send(b":")
        assert term.read_until(b"chase buy"), "the command bar did not open"
        term.send(b"go ETH\r")
        assert term.read_until(b"ETH@sim"), "the command bar did not switch the market"
        term.send(b"\x10")  # ctrl+p
        assert term.read_until(b"Search for commands"), "the palette did not open"
        term.send(b"Market SOL")
        assert term.read_until(b"switch to SOL"), "the palette did not list the market"
        term.send(b"\x1b[B\r")
        assert term.read_until(b"SOL@sim"), "the palette did not switch the market"
        term.send(b"\x03")  # ctrl+c
        term.drain()
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"Traceback" not in term.output
