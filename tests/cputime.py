"""CPU against wall time per test directory: ``pytest -p tests.cputime`` (with or without xdist).

Per test (setup, call and teardown) it records the wall time, the CPU time of the pytest process
(or xdist worker) that ran it, and the CPU time of the child processes that ended during it (fake
venues, consoles, servers the test started and reaped: a module-scoped fake counts in the test whose
teardown stopped it). ``idle`` is wall minus both: time the test waited (sleeps, sockets, timers,
other processes still running) or, on a loaded machine, waited for a CPU. At the end it prints one
line per directory (per module in tests/console and tests/chaos), slowest first, and the totals.
Under xdist each worker sends its rows to the controller, which prints the table.
"""

from __future__ import annotations

import collections
import os
import time

import pytest

_rows: list[tuple[str, float, float, float]] = []
_started: dict[str, tuple[float, float, float]] = {}
_controller = False
"""An xdist controller: the workers' own rows count, not the events it relays."""


def pytest_sessionstart(session) -> None:
    global _controller
    _controller = session.config.pluginmanager.has_plugin("dsession")


def _cpu() -> tuple[float, float]:
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def pytest_runtest_logstart(nodeid, location) -> None:
    if _controller:
        return
    _started[nodeid] = (time.perf_counter(), *_cpu())


def pytest_runtest_logfinish(nodeid, location) -> None:
    if nodeid in _started:
        wall0, own0, kids0 = _started.pop(nodeid)
        own1, kids1 = _cpu()
        _rows.append((nodeid, time.perf_counter() - wall0, own1 - own0, kids1 - kids0))


def pytest_sessionfinish(session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: the controller prints
        output["cputime_rows"] = _rows


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    _rows.extend(tuple(row) for row in getattr(node, "workeroutput", {}).get("cputime_rows", []))


def _group(nodeid: str) -> str:
    parts = nodeid.split("::")[0].split("/")
    folder = "/".join(parts[1:-1]) or "."
    return f"{folder}/{parts[-1]}" if folder in ("console", "chaos", ".") else folder


def pytest_terminal_summary(terminalreporter, config) -> None:
    if hasattr(config, "workerinput") or not _rows:
        return
    groups: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for nodeid, wall, own, kids in _rows:
        g = groups[_group(nodeid)]
        g[0] += 1
        g[1] += wall
        g[2] += own
        g[3] += kids
    write = terminalreporter.write_line
    write(f"{'directory':44} {'tests':>5} {'wall s':>7} {'cpu s':>6} {'kids s':>6} {'idle s':>6}")
    for name, (n, wall, own, kids) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        write(f"{name:44} {n:5d} {wall:7.1f} {own:6.1f} {kids:6.1f} {wall - own - kids:6.1f}")
    n, wall, own, kids = (sum(g[i] for g in groups.values()) for i in range(4))
    write(f"{'all':44} {n:5d} {wall:7.1f} {own:6.1f} {kids:6.1f} {wall - own - kids:6.1f}")
