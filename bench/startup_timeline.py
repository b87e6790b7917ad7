"""Where a cold start's time goes, up to the first painted book: a timeline and the imports.

``python -m bench.startup_timeline [STARTS]`` (about 30 s; 5 starts by default) is a tool, not a row of
the table.  It spawns ``perpdesk`` (the sim, no config) in a 120×40 pty as ``bench.startup`` does, with
warm bytecode, and the child stamps each phase of its start on the machine's monotonic clock (the one
``time.perf_counter`` reads in every process, so the parent's spawn and paint are on the same line):
imports, settings, the runtime built (journal opened, orders loaded), the app, Textual's stylesheet
parsed, the main screen composed, the runtime started (the sim's start and subscriptions, the journal's
run, restores), the first market opened, the first frame written, and the book painted (the parent sees
``spread`` on the terminal).  Each phase is the median over the starts, in ms since the spawn, beside
the child's CPU time so far (``time.process_time``, user + system: what a loaded machine inflates less
than wall time); a span is printed as start → end.  Then ``-X importtime`` of the same start, headless, until its first market
is painted, summed by top-level package (cumulative µs of each top-level import, the first importer
charged): what the first paint's imports cost and who pulls them in.  A start that does not paint within
20 s is killed by PID (``bench.startup``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.startup import ROOT, _child_env, _cold_start, compile_project
from bench.stats import median

STAMPS_ENV = "BENCH_STARTUP_STAMPS"
CHILD = r"""
import time
T0, C0 = time.perf_counter(), time.process_time()
import atexit, functools, json, os, sys
stamps = []
totals = {}
def stamp(name, at=None, cpu=None):
    applied = totals.get("CSS apply (Stylesheet.apply)", (0, 0.0))[0]
    stamps.append((name, time.perf_counter() if at is None else at, f"{len(sys.modules)} / {applied}",
                   time.process_time() if cpu is None else cpu))
stamp("python up (site, encodings)", T0, C0)

def span(name, fn):
    @functools.wraps(fn)
    def wrapped(*a, **k):
        stamp(name + " >")
        try:
            return fn(*a, **k)
        finally:
            stamp(name + " <")
    return wrapped

def aspan(name, fn):
    @functools.wraps(fn)
    async def wrapped(*a, **k):
        stamp(name + " >")
        try:
            return await fn(*a, **k)
        finally:
            stamp(name + " <")
    return wrapped

def each(name, fn, first=8):
    calls = [0]
    @functools.wraps(fn)
    def wrapped(*a, **k):
        calls[0] += 1
        if calls[0] > first:
            return fn(*a, **k)
        label = f"{name} {calls[0]}"
        stamp(label + " >")
        try:
            return fn(*a, **k)
        finally:
            stamp(label + " <")
    return wrapped

def total(name, fn):
    @functools.wraps(fn)
    def wrapped(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            n, s = totals.get(name, (0, 0.0))
            totals[name] = (n + 1, s + time.perf_counter() - t)
    return wrapped

def hook(module):
    name = module.__name__
    if name == "console.settings":
        module.Settings.load = classmethod(span("settings loaded (Settings.load)", module.Settings.load.__func__))
    elif name == "execution.journal":
        module.Journal.__init__ = span("journal opened", module.Journal.__init__)
    elif name == "execution.runtime":
        module.Runtime.__init__ = span("runtime built (journal, orders loaded)", module.Runtime.__init__)
        module.Runtime.start = aspan("runtime.start", module.Runtime.start)
        module.Runtime._start_services = aspan("runtime services (run, reconcile, restores)", module.Runtime._start_services)
    elif name == "connector.factory":
        module.create_connector = span("create_connector", module.create_connector)
    elif name == "console.rehearse":
        module.apply_paper = span("apply_paper", module.apply_paper)
    elif name == "connector.sim.connector":
        module.SimConnector.start = aspan("sim connector start", module.SimConnector.start)
        module.SimConnector.subscribe_market_data = aspan("sim subscribe", module.SimConnector.subscribe_market_data)
        module.SimConnector._on_engine_event = each("sim event", module.SimConnector._on_engine_event, first=1)
    elif name == "console.app":
        module.PerpdeskApp.__init__ = span("PerpdeskApp()", module.PerpdeskApp.__init__)
        module.PerpdeskApp.on_mount = span("app on_mount", module.PerpdeskApp.on_mount)
    elif name == "console.screens.main":
        module.MainScreen.open = span("first market opened (MainScreen.open)", module.MainScreen.open)
        module.MainScreen.on_mount = span("main screen on_mount", module.MainScreen.on_mount)
    elif name == "textual.css.stylesheet":
        module.Stylesheet.parse = total("CSS parse (Stylesheet.parse)", module.Stylesheet.parse)
        module.Stylesheet.apply = total("CSS apply (Stylesheet.apply)", module.Stylesheet.apply)
    elif name == "textual.screen":
        module.Screen._refresh_layout = each("layout pass", module.Screen._refresh_layout)
        module.Screen._compositor_refresh = each("compositor refresh", module.Screen._compositor_refresh)
    elif name == "textual.drivers.linux_driver":
        write = module.LinuxDriver.write
        seen = set()
        def first_write(self, data):
            if "first frame written" not in seen:
                seen.add("first frame written")
                stamp("first frame written")
            if "spread" not in seen and "spread " in data:
                seen.add("spread")
                stamp("book written (spread on a frame)")
            return write(self, data)
        module.LinuxDriver.write = first_write

import importlib.abc, importlib.machinery
WATCH = {"textual.screen", "connector.factory", "console.rehearse", "console.settings", "execution.journal", "execution.runtime", "connector.sim.connector", "console.app",
         "console.screens.main", "textual.css.stylesheet", "textual.drivers.linux_driver"}
class After(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in WATCH:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module
        def exec_module(module):
            execute(module)
            hook(module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, After())

def dump():
    with open(os.environ["BENCH_STARTUP_STAMPS"], "w") as out:
        json.dump({"stamps": stamps, "totals": totals}, out)
atexit.register(dump)
from console import cli
stamp("console.cli imported")
prepare = cli.prepare
cli.prepare = span("cli.prepare (arguments, settings, runtime)", prepare)
cli._available_venues = span("venues listed (connector.factory)", cli._available_venues)
cli._theme_names = span("theme names (console.themes)", cli._theme_names)
cli.build_runtime = span("cli.build_runtime", cli.build_runtime)
cli.load_settings = span("cli.load_settings", cli.load_settings)
cli._plain_defaults = span("plain default settings (cli._plain_defaults)", cli._plain_defaults)
main = cli.main
stamp("cli.main >")
raise SystemExit(main([]))
"""

FIRST_PAINT = """
import asyncio, sys
from console import cli

runtime, options = cli.prepare([])
from console.app import PerpdeskApp

app = PerpdeskApp(runtime, **options)


async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 60)
        await pilot.pause()
        await app.action_quit()


asyncio.run(main())
"""
"""A start headless until its first market is painted (what ``-X importtime`` reads)."""


def timeline(
    home: Path, starts: int
) -> tuple[dict[str, float], dict[str, float], dict[str, str], dict[str, tuple[int, float]]]:
    """Median ms since the spawn of every stamp, the child's CPU ms (user + system) at it, the modules
    loaded at it, and the totals (calls, ms)."""
    at: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    modules: dict[str, str] = {}
    totals: dict[str, list[tuple[int, float]]] = defaultdict(list)
    out = home / "stamps.json"
    os.environ[STAMPS_ENV] = str(out)
    try:
        for _ in range(starts):
            spawned = time.perf_counter()
            painted, _exited = _cold_start(home, ("-c", CHILD))
            at["book painted (seen on the pty)"].append(painted * 1000)
            data = json.loads(out.read_text())
            for name, when, loaded, used in data["stamps"]:
                at[name].append((when - spawned) * 1000)
                cpu[name].append(used * 1000)
                modules[name] = loaded
            for name, (calls, seconds) in data["totals"].items():
                totals[name].append((calls, seconds * 1000))
    finally:
        os.environ.pop(STAMPS_ENV, None)
    return (
        {name: median(ms) for name, ms in at.items()},
        {name: median(ms) for name, ms in cpu.items()},
        modules,
        {name: (runs[0][0], median([ms for _, ms in runs])) for name, runs in totals.items()},
    )


def import_costs(home: Path) -> tuple[float, dict[str, float], list[tuple[str, float]]]:
    """``-X importtime`` of a headless start to the first painted market: the total (ms), the cumulative ms
    by top-level package (each import charged to the top-level import that first pulled it in) and the
    largest single imports below the top level that are ours or a dependency's (not the stdlib's)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", FIRST_PAINT], cwd=ROOT, env=_child_env(home),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    by_package: dict[str, float] = defaultdict(float)
    nested: dict[str, float] = {}
    stdlib = set(sys.stdlib_module_names)
    for line in run.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name, us = parts[2].strip(), int(parts[1])
        top = name.partition(".")[0]
        if not parts[2].startswith("  "):
            by_package[top] += us / 1000
        elif top not in stdlib and not top.startswith("_"):
            nested[name] = max(nested.get(name, 0.0), us / 1000)
    biggest = sorted(nested.items(), key=lambda kv: -kv[1])[:15]
    return sum(by_package.values()), dict(by_package), biggest


def main(starts: int = 5) -> None:
    compile_project()
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        home = Path(tmp)
        _cold_start(home, ("-m", "console"))  # the page cache warm
        stamps, cpu, modules, totals = timeline(home, starts)
        total_ms, packages, biggest = import_costs(home)
    print(
        f"timeline of a cold start, median of {starts} (ms since the spawn; the child's CPU ms so far; modules "
        f"loaded / CSS applied to a node so far)"
    )
    for name, ms in sorted(stamps.items(), key=lambda kv: kv[1]):
        used = f"{cpu[name]:7.1f}" if name in cpu else " " * 7
        print(f"  {ms:8.1f} {used}  {name:<55} {modules.get(name, '')}")
    for name, (calls, ms) in totals.items():
        print(f"  total {ms:6.1f}  {name} ({calls} calls)")
    print(f"imports to the first paint (-X importtime, headless): {total_ms:.0f} ms; by top-level package:")
    for name, ms in sorted(packages.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {ms:8.1f}  {name}")
    print("largest imports below the top level (cumulative ms, not stdlib):")
    for name, ms in biggest:
        print(f"  {ms:8.1f}  {name}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if sys.argv[1:] else 5)
