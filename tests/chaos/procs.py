"""Processes for the chaos suite: a fake venue in its own process, and a runtime in a child we can kill.

Every process started here is ended by its own PID (SIGTERM, then SIGKILL after a generous wait);
the caller never needs a name to find it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
"""Only ends a hang: a process that prints its line is never waited on for longer than it takes."""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout_s: float = START_TIMEOUT_S) -> str:
    """The first stdout line starting with ``prefix`` (lines before it are skipped)."""
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr is not None else "(see its log file)"
            raise RuntimeError(f"process {proc.pid} ended before {prefix!r}: rc={proc.wait()} {err[-2000:]}")
        if line.startswith(prefix):
            return line.strip()
    raise TimeoutError(f"no {prefix!r} line from process {proc.pid} in {timeout_s:.0f} s")


def end(proc: subprocess.Popen[str], grace_s: float = 10.0) -> None:
    """SIGTERM by PID, then SIGKILL if it is still there after ``grace_s``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@dataclass
class FakeProcess:
    venue: str
    base_url: str
    ws_url: str
    key_file: Path
    proc: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def unleash(self) -> None:
        """Start the faults of a fake started ``held`` (SIGUSR2)."""
        self.proc.send_signal(signal.SIGUSR2)

    def calm(self) -> None:
        """Stop the fake's faults (SIGUSR1); it keeps serving, and prints ``CALM`` once none is running."""
        self.proc.send_signal(signal.SIGUSR1)

    async def calmed(self) -> None:
        """``calm`` and wait for the fake's ``CALM``: no fault left running at the venue."""
        self.calm()
        await asyncio.to_thread(wait_for_line, self.proc, "CALM")

    def stop(self) -> dict[str, int]:
        """End it by its PID; the ``STATS`` it printed at exit (empty if it printed none)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        stats = [line for line in out.splitlines() if line.startswith("STATS ")]
        return json.loads(stats[-1][6:]) if stats else {}


def start_fake(venue: str, workdir: Path, *, seed: int = 7, **faults: float | bool | str) -> FakeProcess:
    """``python -m tests.fakes.launch VENUE`` and wait for its READY line; faults: drop_every,
    malformed_every, rate_limit_every (seconds)."""
    key_file = workdir / f"{venue}-keys.toml"
    cmd = [sys.executable, "-m", "tests.fakes.launch", venue, "--key-file", str(key_file), "--seed", str(seed)]
    for name, value in faults.items():
        flag = f"--{name.replace('_', '-')}"
        cmd += [flag] if value is True else [flag, str(value)]
    with open(workdir / f"{venue}-fake.log", "w", encoding="utf-8") as log:  # a pipe could fill and block it
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        _, _, base_url, ws_url, _ = wait_for_line(proc, "READY ").split()
    except BaseException:
        end(proc)
        raise
    return FakeProcess(venue, base_url, ws_url, key_file, proc)
