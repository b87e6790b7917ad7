"""Run the test suite with every core busy: ``python -m tests.under_load [--runs 3] [PYTEST ARGS...]``.

Starts one busy-loop process per core, each pinned to its core (``os.sched_setaffinity``), runs
``pytest`` (with the given arguments; the whole suite when none) ``--runs`` times in a row, and stops
the busy loops by their PIDs at the end, whatever happened.  Exit status 0 only when every run passed.
The suite is meant to pass like this: waits on real sockets are event-driven, and their bounds only
end hangs.

    python -m tests.under_load --runs 3                     # the whole suite, three times
    python -m tests.under_load --runs 3 tests/connector     # some of it
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUSY = "while True: pass"


def start_busy_loops() -> list[subprocess.Popen[bytes]]:
    """One ``while True: pass`` per core, each pinned to its own core where the OS allows it."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    loops = []
    for core in cores:
        pin = f"import os; os.sched_setaffinity(0, {{{core}}})\n" if hasattr(os, "sched_setaffinity") else ""
        loops.append(subprocess.Popen([sys.executable, "-c", pin + BUSY]))
    return loops


def stop(loops: list[subprocess.Popen[bytes]]) -> None:
    for proc in loops:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in loops:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.under_load", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args, pytest_args = parser.parse_known_args(argv)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    loops = start_busy_loops()
    print(f"busy loops on {len(loops)} core(s): pids {' '.join(str(p.pid) for p in loops)}", flush=True)
    results = []
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            rc = subprocess.call(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args], cwd=ROOT, env=env
            )
            results.append(rc)
            print(f"run {run}/{args.runs}: exit {rc} after {time.monotonic() - started:.0f} s", flush=True)
            if rc != 0:
                break
    finally:
        stop(loops)
    return 0 if len(results) == args.runs and not any(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
