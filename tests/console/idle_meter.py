"""Opt-in pytest plugin: how much of the console tests' wall time is spent in Textual's idle wait.

    PYTHONPATH=$PWD pytest tests/console -p tests.console.idle_meter -q -p no:cacheprovider

Textual's Pilot (``press``, ``pause``, ``exit``, ``wait_for_scheduled_animations``, and the snapshot
plugin's run) waits through ``wait_for_idle``, imported by name into ``textual.pilot`` and
``textual.app``.  Around each test's call phase (after its fixtures are set up, so whatever function is
in place then is the one measured) this plugin wraps both names, counts the calls and sums the wall time
spent inside them, and the CPU time of this process in each call; the terminal summary gives the
totals, the idle wait's share of the tests' call time, and the tests that waited longest.  It changes no behaviour and asserts nothing; it is not loaded by default.
"""

from __future__ import annotations

import time

import pytest
import textual.app
import textual.pilot

_NAMES = ((textual.pilot, "wait_for_idle"), (textual.app, "wait_for_idle"))
_per_test: dict[str, tuple[int, float, float, float]] = {}
"""nodeid -> (idle calls, seconds inside the idle wait, seconds in the call phase, CPU seconds in it)"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    calls = 0
    spent = 0.0
    saved = [(module, name, getattr(module, name)) for module, name in _NAMES]

    def wrap(inner):
        async def metered(*args, **kwargs):
            nonlocal calls, spent
            calls += 1
            started = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                spent += time.perf_counter() - started

        return metered

    for module, name, inner in saved:
        setattr(module, name, wrap(inner))
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        for module, name, inner in saved:
            setattr(module, name, inner)
        _per_test[item.nodeid] = (calls, spent, time.perf_counter() - started, time.process_time() - cpu)


def pytest_terminal_summary(terminalreporter):
    if not _per_test:
        return
    calls = sum(v[0] for v in _per_test.values())
    idle = sum(v[1] for v in _per_test.values())
    wall = sum(v[2] for v in _per_test.values())
    cpu = sum(v[3] for v in _per_test.values())
    tr = terminalreporter
    tr.section("idle wait (tests.console.idle_meter)")
    share = 100 * idle / wall if wall else 0.0
    tr.write_line(f"{calls} idle waits, {idle:.1f} s inside them, of {wall:.1f} s in test calls ({share:.0f} %);"
                  f" this process's CPU in test calls {cpu:.1f} s")
    for nodeid, (c, s, w, u) in sorted(_per_test.items(), key=lambda kv: -kv[1][1])[:15]:
        tr.write_line(f"{s:7.2f} s in {c:4d} waits of {w:7.2f} s (CPU {u:6.2f} s)  {nodeid}")
