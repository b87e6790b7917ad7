"""Cold start to the first painted book, and peak memory with 4 venues × 10 symbols streaming.

Cold start: ``python -m console`` (the ``perpdesk`` command, sim venue) is spawned in a real
pseudo-terminal of 120×40 and timed until its output contains the ladder's spread line, which is
only drawn once the book has arrived; then ``q`` is sent and the process must exit.  The floor is
``python -c "import textual.app"``, the least any Textual console can cost (in the note).  The
baseline, "today's" console, is measured in the same run, interleaved with ours, ``RUNS`` starts each
(p50 and p99): the same console with what issue 18 took off the start path put back on it (httpx,
websockets, pydantic-settings, importlib.metadata imported before ``cli.main``, the settings loaded
through the pydantic models rather than taken as plain defaults (``cli.PLAIN_DEFAULTS``), the sim's
throwaway journal fsynced like a kept one (``Journal(durable=True)``; its tables written in one
transaction stays on both sides), Textual's version read through ``importlib.metadata`` on the first
flush (``console.flush._textual_is``), the heap settled
on the first refresh after the market opens, the garbage collector on through the start, the runtime
started only after the screen's first layout pass instead of while Textual composes it, the sim's first
book sent on its first step (100 ms after its start) rather than as the answer to the subscription, the starting
theme set through Textual's watcher, which reparses every stylesheet, and every node restyled on the
screen's first resume).  About 2 × ``RUNS`` × (start + quit) plus the floor and
an ``-X importtime`` run: a minute or two on a loaded machine; every child is killed by PID if it
does not paint within 20 s or quit within 10 s.  Each child gets its
own empty config/data directories, so no user settings or journal are read or written.

Byte-compiled: an editable install (``pip install -e .``) leaves the project's modules uncompiled, and
a start compiles whatever has no up-to-date ``__pycache__`` entry: once per change where Python may
write the caches, on every start where it may not (``PYTHONDONTWRITEBYTECODE``, set on this machine's
shells, which the old warm-up run could not undo).  The bench measures warm bytecode: it runs
``compileall`` on the project's packages first and checks the caches are there.

Memory: a child process builds a ``Runtime`` with four ``SimConnector`` venues of ten markets
each on the real clock, lets them stream, and reports its peak RSS (``VmHWM``); once as the
runtime alone and once with the full console on top (``PerpdeskApp`` headless at 120×40).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

from bench.stats import Figure, median, percentile

RUNS = 12
"""Starts per side (ours, today's), interleaved."""
SIZE = (120, 40)
BOOK_PAINTED = re.compile(rb"spread \d")
START_TIMEOUT_S = 20.0
STREAM_S = 5.0
STEP_MS = 20
"""The sims step every 20 ms (their default is 100 ms), so the books move about as often as busy real ones."""
ROOT = Path(__file__).resolve().parent.parent


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPDESK_")}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
    env.pop("TEXTUAL", None)
    return env


DEFERRED = ("httpx", "websockets.asyncio.client", "websockets.exceptions", "pydantic_settings", "importlib.metadata")
"""What the console imported before its first frame until issue 18 and no longer does."""
BASELINE_PRELUDE = """
import importlib
imported = []
for name in {deferred!r}:
    try:
        importlib.import_module(name)
        imported.append(name)
    except ImportError:
        pass
import console.app as app
import console.screens.styles_once as styles_once
import console.cli as cli
cli.QUIET_COLLECTOR_AT_START = False  # the collector on through the start, as before
cli.PLAIN_DEFAULTS = False  # the settings loaded and validated by the pydantic models, as before
for owner, name in ((cli, "QUIET_COLLECTOR_AT_START"), (cli, "PLAIN_DEFAULTS"), (app.PerpdeskApp, "_settle_heap"), (app.PerpdeskApp, "_boot"), (app.PerpdeskApp, "_first_theme"), (styles_once.StylesOnce, "_on_screen_resume")):
    assert name in vars(owner), f"the baseline patches {{owner.__name__}}.{{name}}, which is gone: it would measure ours"
settle_timer = app.PerpdeskApp.set_timer
def set_timer(self, delay, callback=None, **kwargs):  # the heap settled on the next refresh, as before
    if getattr(callback, "__func__", None) is app.PerpdeskApp._settle_heap:
        return self.call_after_refresh(callback)
    return settle_timer(self, delay, callback, **kwargs)
app.PerpdeskApp.set_timer = set_timer
boot = app.PerpdeskApp._boot
def late_boot(self):  # the runtime started once the screen had mounted and laid out its empty frame, as before
    self.main_screen.call_later(boot.__get__(self))
app.PerpdeskApp._boot = late_boot
def first_theme(self, name):  # the theme set through Textual's watcher: a reparse and restyle queued, as before
    self.theme = name
app.PerpdeskApp._first_theme = first_theme
styles_once.StylesOnce._on_screen_resume = lambda self, event: None  # every node restyled on the first resume
import execution.journal as journal
assert "durable" in journal.Journal.__init__.__code__.co_varnames, "the baseline patches Journal(durable=), which is gone"
open_journal = journal.Journal.__init__
def durable_journal(self, path=None, *, durable=True):  # the sim's journal fsynced like any other, as before
    open_journal(self, path, durable=True)
journal.Journal.__init__ = durable_journal
import console.flush as flush
assert "_textual_is" in vars(flush), "the baseline patches console.flush._textual_is, which is gone"
def textual_is(version):  # Textual's version read through importlib.metadata on the first flush, as before
    import textual
    return getattr(textual, "__version__", None) == version
flush._textual_is = textual_is
import connector.sim.engine as sim_engine
assert "send_books" in vars(sim_engine.SimEngine), "the baseline patches SimEngine.send_books, which is gone"
sim_engine.SimEngine.send_books = lambda self, symbols: None  # the first book on the sim's first step, as before
"""
BASELINE = BASELINE_PRELUDE.format(deferred=DEFERRED) + "from console.cli import main\nraise SystemExit(main([]))\n"
"""Today's console in the same run: ours with what issue 18 deferred imported eagerly first, the
heap settled on the first refresh after the market opens, the collector on through the start, the
settings validated by the pydantic models (``cli.PLAIN_DEFAULTS`` off), the sim's journal fsynced
(``Journal(durable=True)``), Textual's version read through importlib.metadata on the first flush, the
sim's first book sent on its first step, not when subscribed (``SimEngine.send_books`` a no-op), the
runtime started only once the
screen had mounted (on its queue, after its first layout pass), the starting theme set through Textual's
watcher (a full reparse and restyle) and every node restyled on the screen's first resume, as it was."""
OURS = ("-m", "console")


def _baseline_imports(home: Path) -> list[str]:
    """Which of ``DEFERRED`` the baseline's prelude really imports (sanity: not none)."""
    code = BASELINE_PRELUDE.format(deferred=DEFERRED) + "print(','.join(imported))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_child_env(home), capture_output=True,
                         text=True, check=True)  # fmt: skip
    return [m for m in out.stdout.strip().split(",") if m]


def _cold_start(home: Path, args: tuple[str, ...] = OURS) -> tuple[float, float | None]:
    """Seconds from spawn to the painted book, and seconds from ``q`` to exit (None: had to be killed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=_child_env(home), start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    painted = None
    try:
        while time.perf_counter() - start < START_TIMEOUT_S:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen = seen[-4096:] + chunk
                if BOOK_PAINTED.search(seen):
                    painted = time.perf_counter() - start
                    break
            if proc.poll() is not None:
                break
        if painted is None:
            raise RuntimeError(f"no book on screen within {START_TIMEOUT_S:g} s; last output: {seen[-300:]!r}")
        os.write(master, b"q")
        asked = time.perf_counter()
        deadline = asked + 10
        while proc.poll() is None and time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)  # keep the terminal drained so the app can finish writing
                except OSError:
                    pass
        exited = time.perf_counter() - asked if proc.poll() is not None else None
        return painted, exited
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


PACKAGES = ("connector", "execution", "console")


def compile_project() -> None:
    """Byte-compile the project's packages into their ``__pycache__`` (what a start then only reads);
    RuntimeError if a module's cache is still missing afterwards (the bench would time the compiler)."""
    import importlib.util

    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    missing = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not Path(importlib.util.cache_from_source(str(path))).is_file()
    ]
    if missing:
        raise RuntimeError(f"compileall left {len(missing)} modules uncompiled, e.g. {missing[0]}")


def _floor(home: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True, cwd=ROOT, env=_child_env(home))
    return time.perf_counter() - start


START_PATH = "from console import cli; cli.prepare([]); import console.app"
"""What ``perpdesk`` imports before its first frame: the command line checked, settings loaded, the
runtime built (the sim's connector), the app's module."""
WATCHED = ("textual.app", "pydantic", "connector.config", "pydantic_settings", "importlib.metadata", "httpx", "websockets")
"""Named in the note whether or not they are imported (``-`` when the start path does not import them)."""


def import_costs(env: dict[str, str], top: int = 6) -> tuple[float, list[tuple[str, float]], dict[str, float]]:
    """Where the start path's import time goes (``python -X importtime``): the total (s), the ``top``
    largest top-level imports (ms, cumulative) and the ``WATCHED`` modules' cumulative ms (0 = not imported)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", START_PATH], cwd=ROOT, env=env, capture_output=True, text=True
    )
    cumulative: dict[str, int] = {}
    tops: dict[str, int] = {}
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name, us = parts[2].strip(), int(parts[1])
        cumulative[name] = max(cumulative.get(name, 0), us)
        if not parts[2].startswith("  "):  # a top-level import: its cumulative time counts once
            tops[name] = tops.get(name, 0) + us
    ranked = sorted(tops.items(), key=lambda kv: -kv[1])[:top]
    return (
        sum(tops.values()) / 1e6,
        [(name, us / 1000) for name, us in ranked],
        {m: cumulative.get(m, 0) / 1000 for m in WATCHED},
    )


def _import_costs(home: Path) -> str:
    total, ranked, watched = import_costs(_child_env(home))
    biggest = ", ".join(f"{m} {ms:.0f}" for m, ms in ranked)
    shown = ", ".join(f"{m} {ms:.0f}" if ms else f"{m} -" for m, ms in watched.items())
    return (
        f"the start path imports in {total:.2f} s (-X importtime, cumulative ms; the largest top-level: {biggest}; "
        f"named: {shown})"
    )


def _cold_start_figure() -> Figure:
    runs: dict[str, list[float]] = {"ours": [], "today": []}
    exits, floors, killed = [], [], 0
    sides = {"ours": OURS, "today": ("-c", BASELINE)}
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        home = Path(tmp)
        compile_project()
        eager = _baseline_imports(home)
        if not eager:
            raise RuntimeError("the baseline imports none of the deferred modules: it would measure ours twice")
        for args in sides.values():
            _cold_start(home, args)  # the first runs warm the page cache: not cold starts we report
        for i in range(RUNS):
            for side in sorted(sides, reverse=i % 2 == 1):  # interleaved, each side first every other round
                painted, exited = _cold_start(home, sides[side])
                runs[side].append(painted)
                if exited is None:
                    killed += 1
                else:
                    exits.append(exited)
            floors.append(_floor(home))
        imports = _import_costs(home)
    ours, today = runs["ours"], runs["today"]
    ratio = median(ours) / median(today)
    note = (
        f"{RUNS} starts a side, interleaved; ours / today's p50 {ratio:.2f}× (target ≤ 0.6×), p99 "
        f"{percentile(ours, 99):.3g} vs {percentile(today, 99):.3g} s; today's = the same console with "
        f"{', '.join(eager)} imported first, the settings through the pydantic models, the sim's journal "
        f"fsynced, Textual's version through importlib.metadata on the first flush, the heap settled on the "
        f"first refresh, the collector on through the start, the sim's first book on its first step, the runtime started after "
        f"the screen's first layout, the theme set through Textual's watcher (a reparse) and every node restyled "
        f"on the first resume; warm bytecode "
        f"(compileall first); {imports}; floor `python -c 'import textual.app'` p50 {median(floors):.3g} s; "
        f"`q` to exit p50 {median(exits):.3g} s"
    )
    if killed:
        note += f"; {killed} of {2 * RUNS} runs did not exit on `q` within 10 s and were killed"
    return Figure(
        "startup",
        "cold start to painted book (sim, pty 120×40)",
        median(ours),
        "s",
        p99=percentile(ours, 99),
        baseline=median(today),
        baseline_name="today's console (deferred work eager)",
        target="≤ 0.6× today's",
        note=note,
        extra={"runs": ours, "baseline_runs": today, "baseline_p99": percentile(today, 99), "floor_runs": floors,
               "exit_runs": exits, "eager": eager},
    )


# -- memory ---------------------------------------------------------------------------------


def _ten_markets() -> list[Any]:
    from dataclasses import replace

    from connector.sim.market import DEFAULT_MARKETS

    base = list(DEFAULT_MARKETS)
    names = ("BTC", "ETH", "SOL", "XRP", "DOGE", "AVAX", "LINK", "SUI", "APT", "ARB")
    return [replace(base[i % len(base)], symbol=f"{n}-PERP", base=n) for i, n in enumerate(names)]


async def _memory_child(with_console: bool, seconds: float) -> dict[str, Any]:
    import asyncio
    import resource

    from connector.clock import RealClock
    from connector.sim.connector import SimConnector
    from connector.sim.engine import SimEngine
    from execution.runtime import Runtime

    clock = RealClock()
    venues = {
        f"sim{i}": SimConnector(
            engine=SimEngine(seed=7 + i, clock=clock, markets=_ten_markets(), step_ms=STEP_MS), clock=clock
        )
        for i in range(4)
    }
    books = 0

    def count(_event: Any) -> None:
        nonlocal books
        books += 1

    for connector in venues.values():
        connector.add_handler("book", count)
    runtime = Runtime(venues, clock=clock, journal_path=Path(os.environ["XDG_DATA_HOME"]) / "journal.sqlite")
    if with_console:
        from console.app import PerpdeskApp

        app = PerpdeskApp(runtime)
        async with app.run_test(size=SIZE):
            await asyncio.wait_for(app.ready.wait(), 30)
            await asyncio.sleep(seconds)
            symbols = sum(len(runtime.market_data.symbols(v)) for v in runtime.market_data.venues())
            await app.action_quit()
    else:
        await runtime.start()
        await asyncio.sleep(seconds)
        symbols = sum(len(runtime.market_data.symbols(v)) for v in runtime.market_data.venues())
        await runtime.stop()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm_kb = _vm_hwm_kb()
    return {
        "peak_rss_mb": (hwm_kb or maxrss_kb) / 1024,
        "ru_maxrss_mb": maxrss_kb / 1024,
        "book_events": books,
        "venues": len(venues),
        "symbols": symbols,
    }


def _vm_hwm_kb() -> int | None:
    """This process image's own peak RSS.

    ``ru_maxrss`` survives ``exec`` on Linux: a child started from a big parent reports at least
    the parent's peak.  ``VmHWM`` belongs to the new image only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _memory(with_console: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "bench.startup", "--memory-child", "console" if with_console else "runtime"],
            cwd=ROOT, env=_child_env(Path(tmp)), capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_note(m: dict[str, Any]) -> str:
    note = (
        f"{m['symbols']} symbols on {m['venues']} in-process sim venues streaming for {STREAM_S:g} s "
        f"({m['book_events'] / STREAM_S:,.0f} book events/s); the child's VmHWM"
    )
    if m["ru_maxrss_mb"] > m["peak_rss_mb"] + 1:
        note += f" (its ru_maxrss said {m['ru_maxrss_mb']:.0f} MB: on Linux that keeps the parent's peak across exec)"
    return note


def _memory_figures() -> list[Figure]:
    figures = []
    for with_console in (True, False):
        m = _memory(with_console)
        what = "console + runtime" if with_console else "runtime alone (headless)"
        figures.append(
            Figure(
                "startup",
                f"peak RSS, {what}, 4 sim venues × 10 symbols",
                m["peak_rss_mb"],
                "MB",
                target="≤ 120 MB" if with_console else "",
                note=_memory_note(m),
                extra=m,
            )
        )
    return figures


def run() -> list[Figure]:
    return [_cold_start_figure(), *_memory_figures()]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory-child"]:
        import asyncio

        print(json.dumps(asyncio.run(_memory_child(sys.argv[2] == "console", STREAM_S))))
    else:
        for f in run():
            print(f"{f.name}: {f.value:.3g} {f.unit} (p99 {f.p99}) vs {f.baseline_name} {f.baseline} — {f.note}")
