"""``perpdesk serve`` as a user starts it: its own process on a free port, the consoles it spawns
importing this tree, their config and data in a temporary directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIND_TRIES = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status ``url`` answers with; 0 when nothing listens there."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError:
        return 0  # not listening (yet)


class Served:
    """A running ``perpdesk serve``; ``url`` is the tokened address it printed."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.out_path, self.err_path = tmp / "serve.out", tmp / "serve.err"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_DATA_HOME": str(tmp / "data"),
            "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache"),
        }
        # The port is found free, released, then bound by the server: anything else on the machine (a
        # test beside this one under xdist) may take it in between. The server then says it cannot
        # listen and exits 2: try another port.
        for attempt in range(BIND_TRIES):
            self.port = free_port()
            with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "console", "serve", "--port", str(self.port), *args],
                    stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=tmp,
                )
            if self._started():
                return
            if "cannot listen" not in self.stderr() or attempt == BIND_TRIES - 1:
                raise RuntimeError(f"perpdesk serve did not start:\n{self.stdout()}\n{self.stderr()}")

    def _started(self) -> bool:
        """Wait for the address it prints and for it to answer; False if it exited first."""
        deadline = time.monotonic() + 60
        match = None
        while match is None:
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"perpdesk serve did not start:\n{self.stdout()}\n{self.stderr()}")
            match = re.search(r"open (http://\S+/\?token=(\S+))", self.stdout())
            time.sleep(0.05)
        self.url, self.token = match.group(1), match.group(2)
        self.base = f"http://127.0.0.1:{self.port}"
        # the URL is printed before the server binds; it answers once it listens. Only this server
        # knows the token: another one that holds the port would answer 403.
        while status_of(self.url) != 200:
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("perpdesk serve printed its address but does not answer")
            time.sleep(0.05)
        return True

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def consoles(self) -> set[int]:
        """The console processes running now (the server's children)."""
        children = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis
            fields = stat.rpartition(")")[2].split()
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                children.add(int(entry.name))
        return children

    def wait_consoles(self, check, what: str, timeout: float = 60) -> set[int]:
        deadline = time.monotonic() + timeout
        while not check(found := self.consoles()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: consoles running are {found}\n{self.stderr()[-3000:]}")
            time.sleep(0.1)
        return found

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C or a service manager would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
