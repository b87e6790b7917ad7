"""A long session's memory: the console streaming the sim while a trader types orders.

A child process runs the full console (``PerpdeskApp`` headless at 120×40, the heap settled once the
first market is painted, as ``perpdesk`` runs) on the embedded sim venue on the real clock, its books
stepping every 20 ms, its journal a file in a temporary directory (as a console's is).  Every
``ORDER_EVERY_S`` seconds it types an order as a trader does (Escape,
``b`` for the buy form, Tab to the size, clear it, type ``0.001``, Enter) and cancels it once it
rests.  Every ``SAMPLE_EVERY_S`` seconds it collects (``gc.collect()``) and samples the resident set
(``VmRSS``) and the live objects (tracked + frozen); the first sample is taken after a warm-up minute
(Textual's bounded caches fill while the first orders are typed) and growth is measured from it.

Each sample also says where the resident set sits: glibc's heap (``mallinfo2``: bytes in use, free
inside it, mmapped) and CPython's small-object allocator (``sys._debugmallocstats``: its 1 MiB arenas
held, bytes in live blocks).  Objects of 512 bytes or less live in those arenas, which go back to the
system only once empty: a few long-lived objects scattered over many arenas keep them all resident
(fragmentation), so the resident set follows the highest heap the session ever had.  glibc's heap shrinks
only from its top; ``malloc_trim(0)`` also gives back free pages inside it, and the console runs it every
``heap.TRIM_EVERY_S`` as ``perpdesk`` does; the final sample also has the resident set after one more trim
(``rss_trimmed_mb``, measured after the last sample).

Bounded: ``--minutes N`` (``python -m bench soak`` runs ``MINUTES``); the child is given N minutes
plus a minute and is killed by PID if it overruns.  Sanity: every order typed must have reached the
venue (an order form that stopped sending would also stop growing the heap), and the book must keep
streaming.  The figure is the resident set's growth from the first sample to the last (the target:
flat within 5 MB over an hour).  The note has the second half's slope (the least-squares line through
the second half's samples, times its span: what is left once the bounded caches and histories are
full), the live objects per order typed over the whole run and the second half, the allocators' share,
and the load average (the machine may be shared: absolute RSS does not move with load, the order
count does).  ``--child --trace DIR [--trace-frames N]`` is the diagnosis (``_Tracer``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.stats import Figure

MINUTES = 10.0
SAMPLE_EVERY_S = 30.0
ORDER_EVERY_S = 3.0
WARMUP_S = 60.0
STEP_MS = 20
MAY_NOT_SEND = 0.05
"""Orders typed that may fail to reach the venue (the form refusing one as the market moves, one still in
flight at the end) before the run fails: an order form that stopped sending would also stop growing the heap."""
SIZE = (120, 40)
TRACE_FRAMES = 25
TRACE_STEP_MS = 250
TRACE_AT_MIN = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
TRACE_TOP = 25
ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _sample(t0: float, orders: int, books: int) -> dict[str, Any]:
    gc.collect()
    row = {
        "t": round(time.monotonic() - t0, 1),
        "rss_mb": round(_rss_mb(), 2),
        "objects": len(gc.get_objects()) + gc.get_freeze_count(),
        "orders": orders,
        "books": books,
    }
    if tracemalloc.is_tracing():
        row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
    return row | _allocators()


def _trimmed_rss() -> float | None:
    """The resident set after ``malloc_trim(0)`` (glibc gives back the free pages of its heap), measured
    once at the end, after the last sample: what trimming would save, without trimming during the run."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return round(_rss_mb(), 2)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
    )]  # fmt: skip


def _allocators() -> dict[str, float]:
    """Where the resident set sits: glibc's heap (``mallinfo2``: in use, free inside it, mmapped) and
    CPython's small-object allocator (arenas held, bytes in live blocks), in MB; {} where not glibc."""
    out: dict[str, float] = {}
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        mi = libc.mallinfo2()
        out |= {"malloc_used_mb": mi.uordblks / 2**20, "malloc_free_mb": mi.fordblks / 2**20,
                "malloc_mmap_mb": mi.hblkhd / 2**20}  # fmt: skip
    except (OSError, AttributeError):
        pass
    stats = _pymalloc_stats()
    if stats:
        out |= stats
    return {k: round(v, 2) for k, v in out.items()}


def _pymalloc_stats() -> dict[str, float]:
    """``sys._debugmallocstats`` (written to fd 2) parsed: arenas allocated now and bytes in used blocks."""
    import re

    with tempfile.TemporaryFile("w+") as tmp:
        saved = os.dup(2)
        try:
            sys.stderr.flush()
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read()
    arenas = re.search(r"([\d,]+) arenas \* ([\d,]+) bytes/arena", text)
    used = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    if not arenas or not used:
        return {}
    return {
        "pymalloc_arenas_mb": int(arenas.group(1).replace(",", "")) * int(arenas.group(2).replace(",", "")) / 2**20,
        "pymalloc_used_mb": int(used.group(1).replace(",", "")) / 2**20,
    }


class _Tracer:
    """``--trace DIR``: where the bytes go (a diagnosis, not the figure).  At each of ``TRACE_AT_MIN``
    minutes after the warm-up: the gc's live objects by type, their growth since the first point and the
    previous one; SQLite's memory (``sqlite3_memory_used``), the journal's page cache setting and file
    sizes; with ``--trace-frames N`` (> 0) tracemalloc with N frames from the warm-up's end, its snapshot
    compared to the first point's, grouped by traceback, the top ``TRACE_TOP``.  Traced, the console is
    several times slower: the sim steps every ``TRACE_STEP_MS`` so it keeps up.  Written to DIR."""

    def __init__(self, out_dir: Path, runtime: Any, frames: int) -> None:
        self.dir = out_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.runtime = runtime
        self.frames = frames
        self.first: Any = None
        self.first_types: dict[str, int] | None = None
        self.last_types: dict[str, int] = {}
        self.pending = list(TRACE_AT_MIN)

    @staticmethod
    def _types() -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in gc.get_objects():
            name = type(o).__qualname__
            counts[name] = counts.get(name, 0) + 1
        return counts

    def start(self) -> None:
        if self.frames:
            tracemalloc.start(self.frames)

    @staticmethod
    def _grown(now: dict[str, int], then: dict[str, int], top: int = 30) -> list[str]:
        grown = sorted(((n - then.get(k, 0), k) for k, n in now.items()), reverse=True)
        return [f"{d:+d} {k} (now {now[k]})" for d, k in grown[:top] if d > 0]

    def maybe(self, elapsed_s: float) -> None:
        if not self.pending or elapsed_s < self.pending[0] * 60:
            return
        minute = self.pending.pop(0)
        gc.collect()
        types = self._types()
        lines = [f"# minute {minute:g} ({elapsed_s:.0f} s): rss {_rss_mb():.2f} MB, {sum(types.values())} gc objects"]
        lines.append(json.dumps(_allocators()))
        lines += self._sqlite()
        snap = None
        if tracemalloc.is_tracing():
            lines.append(f"traced {tracemalloc.get_traced_memory()[0] / 2**20:.2f} MB")
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        lines.append("## live objects by type, the most numerous")
        lines += [f"{n} {k}" for k, n in sorted(types.items(), key=lambda kv: -kv[1])[:25]]
        if self.first_types is None:
            self.first, self.first_types = snap, types
        else:
            lines.append("## live objects by type, growth since the first point")
            lines += self._grown(types, self.first_types)
            lines.append("## live objects by type, growth since the previous point")
            lines += self._grown(types, self.last_types)
            if snap is not None and self.first is not None:
                lines.append(f"## top {TRACE_TOP} growths since the first point (by traceback)")
                for stat in snap.compare_to(self.first, "traceback")[:TRACE_TOP]:
                    lines.append(
                        f"{stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks (now {stat.size / 1024:.1f} KiB)"
                    )
                    lines += ["    " + ln for ln in stat.traceback.format(limit=self.frames)]
        self.last_types = types
        (self.dir / f"minute-{minute:g}.txt").write_text("\n".join(lines) + "\n")

    def _sqlite(self) -> list[str]:
        out = []
        with contextlib.suppress(OSError, AttributeError):
            used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
            used.restype = ctypes.c_int64
            out.append(f"sqlite memory used {used() / 2**20:.2f} MB")
        journal = getattr(self.runtime, "journal", None)
        path = getattr(journal, "path", None)
        db = getattr(journal, "_db", None)
        if db is not None:
            with contextlib.suppress(Exception):
                (cache,) = db.execute("PRAGMA cache_size").fetchone()
                (page,) = db.execute("PRAGMA page_size").fetchone()
                (pages,) = db.execute("PRAGMA page_count").fetchone()
                out.append(f"sqlite cache_size {cache} page_size {page} page_count {pages}")
        if path:
            for suffix in ("", "-wal", "-shm"):
                f = Path(str(path) + suffix)
                if f.exists():
                    out.append(f"{f.name} {f.stat().st_size / 1024:.0f} KiB")
        return out


@contextlib.contextmanager
def _no_idle_wait() -> Iterator[None]:
    """``Pilot.press`` without its wait for an idle app (never idle while the book streams: up to a
    second a key); its wait for the key to be handled stays, so keys land in order."""
    import textual.app

    async def just_yield(*_args: Any, **_kwargs: Any) -> None:
        await asyncio.sleep(0)

    saved = textual.app.wait_for_idle
    textual.app.wait_for_idle = just_yield
    try:
        yield
    finally:
        textual.app.wait_for_idle = saved


async def type_order(pilot: Any) -> None:
    """One order typed into the buy form and sent, as a trader does."""
    with _no_idle_wait():
        for key in ("escape", "b", "tab", "ctrl+u", *"0.001", "enter"):
            await pilot.press(key)
            done = asyncio.Event()
            pilot.app.call_later(done.set)  # what the key queued (a focus change) has run
            await asyncio.wait_for(done.wait(), 10)


async def cancel_all_orders(runtime: Any) -> None:
    for order in runtime.orders.open_orders():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runtime.orders.cancel(order), 5)


async def _soak(minutes: float, out: Any, trace: Path | None = None, frames: int = 0) -> None:
    from connector.clock import RealClock
    from connector.sim.connector import SimConnector
    from connector.sim.engine import SimEngine
    from console.app import PerpdeskApp
    from execution.runtime import Runtime

    clock = RealClock()
    # traced, the console is several times slower: the book steps slower so it keeps up (no backlog counted)
    step_ms = TRACE_STEP_MS if trace and frames else STEP_MS
    connector = SimConnector(engine=SimEngine(seed=7, clock=clock, step_ms=step_ms), clock=clock)
    books = 0

    def count(_event: Any) -> None:
        nonlocal books
        books += 1

    connector.add_handler("book", count)
    # a journal file, as a console keeps: one in memory would grow the resident set with every order
    runtime = Runtime(
        {"sim": connector}, clock=clock, journal_path=Path(os.environ["XDG_DATA_HOME"]) / "journal.sqlite3"
    )
    submitted = 0
    submit = connector.submit_limit_order

    async def counted_submit(**kwargs: Any) -> str:
        nonlocal submitted
        submitted += 1
        return await submit(**kwargs)

    connector.submit_limit_order = counted_submit  # type: ignore[method-assign]
    app = PerpdeskApp(runtime, clock=clock, symbol="BTC", long_lived_heap=True)
    typed = 0
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(app.ready.wait(), 60)
        tracer = _Tracer(trace, runtime, frames) if trace else None
        if tracer:
            tracer.start()
        t0 = time.monotonic()
        end = t0 + minutes * 60
        next_sample = t0 + min(WARMUP_S, minutes * 30)
        while time.monotonic() < end:
            await type_order(pilot)
            typed += 1
            await asyncio.sleep(0.5)
            await cancel_all_orders(runtime)
            now = time.monotonic()
            if now >= next_sample:
                print(json.dumps(_sample(t0, typed, books)), file=out, flush=True)
                next_sample += SAMPLE_EVERY_S
            if tracer:
                tracer.maybe(time.monotonic() - t0)
            await asyncio.sleep(max(0.0, ORDER_EVERY_S - (time.monotonic() - now) - 0.5))
        final = _sample(t0, typed, books) | {"submitted": submitted, "last": True}
        final["rss_trimmed_mb"] = _trimmed_rss()
        print(json.dumps(final), file=out, flush=True)
        await app.action_quit()


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPDESK_")}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def soak(minutes: float) -> list[dict[str, Any]]:
    """Run the child for ``minutes``; its samples (killed by PID if it overruns by a minute)."""
    with tempfile.TemporaryDirectory(prefix="perpdesk-soak-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.soak", "--child", "--minutes", str(minutes)],
            cwd=ROOT, env=_child_env(Path(tmp)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            stdout, stderr = proc.communicate(timeout=minutes * 60 + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RuntimeError(f"the soak child overran {minutes:g} minutes by a minute and was killed") from None
    if proc.returncode != 0:
        raise RuntimeError(f"the soak child failed ({proc.returncode}): {stderr.strip()[-500:]}")
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (per unit of x)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def figure(samples: list[dict[str, Any]], minutes: float) -> Figure:
    last = samples[-1]
    if not last.get("last") or len(samples) < 2:
        raise RuntimeError(f"the soak produced {len(samples)} samples and no final one")
    if last["submitted"] < last["orders"] * (1 - MAY_NOT_SEND):
        raise RuntimeError(f"{last['orders']} orders typed but {last['submitted']} reached the venue")
    if last["books"] < minutes * 60:
        raise RuntimeError(f"only {last['books']} book updates in {minutes:g} minutes: the sim stopped streaming")
    first = samples[0]
    orders = last["orders"] - first["orders"]
    grown_mb = last["rss_mb"] - first["rss_mb"]
    grown_objects = last["objects"] - first["objects"]
    half = [s for s in samples if s["t"] >= (first["t"] + last["t"]) / 2]
    per_min = _slope([(s["t"] / 60, s["objects"]) for s in half])
    rss_per_min = _slope([(s["t"] / 60, s["rss_mb"]) for s in half])
    half_min = (half[-1]["t"] - half[0]["t"]) / 60
    half_mb = rss_per_min * half_min
    half_orders = half[-1]["orders"] - half[0]["orders"]
    half_objects = per_min * half_min
    note = (
        f"{minutes:g} min of the sim streaming ({last['books'] / last['t']:,.0f} book updates/s) and an order "
        f"typed, sent and cancelled every {ORDER_EVERY_S:g} s at most ({last['orders']} orders, one every "
        f"{last['t'] / max(last['orders'], 1):.1f} s; {last['submitted']} sent); from the first sample "
        f"(after {first['t']:g} s) to the last: RSS {first['rss_mb']:.1f} → {last['rss_mb']:.1f} MB ({grown_mb:+.1f}), live objects "
        f"{first['objects']:,} → {last['objects']:,} ({grown_objects / max(orders, 1):+,.0f} per order typed; RSS the "
        f"figure); second half ({half[0]['t'] / 60:.1f}–{half[-1]['t'] / 60:.1f} min, {half_orders} orders): RSS "
        f"{rss_per_min:+.3f} MB/min ({half_mb:+.2f} MB), {per_min:+,.0f} objects/min "
        f"({half_objects / max(half_orders, 1):+,.1f} per order typed); live objects between "
        f"samples {min(s['objects'] for s in samples):,}–{max(s['objects'] for s in samples):,} (what is on screen "
        f"and in flight when the sample is taken){_allocator_note(first, last)}; load average at the end "
        f"{_loadavg()}"
    )
    return Figure(
        "soak",
        f"RSS growth from the first sample to the last of a {minutes:g}-minute session (sim, typing)",
        round(grown_mb, 2),
        "MB",
        target="≤ 5 MB over an hour",
        note=note,
        extra={"samples": samples},
    )


def _allocator_note(first: dict[str, Any], last: dict[str, Any]) -> str:
    """Where the resident set's growth sits, first sample → last (samples without the fields: "")."""
    keys = ("pymalloc_arenas_mb", "pymalloc_used_mb", "malloc_used_mb", "malloc_free_mb")
    if not all(k in first and k in last for k in keys):
        return ""
    note = (
        f"; CPython's arenas {first['pymalloc_arenas_mb']:.0f} → {last['pymalloc_arenas_mb']:.0f} MB (in live "
        f"blocks {first['pymalloc_used_mb']:.1f} → {last['pymalloc_used_mb']:.1f}), glibc's heap in use "
        f"{first['malloc_used_mb']:.1f} → {last['malloc_used_mb']:.1f} MB (free inside it {first['malloc_free_mb']:.1f} "
        f"→ {last['malloc_free_mb']:.1f})"
    )
    if last.get("rss_trimmed_mb") is not None:
        note += f"; after one malloc_trim at the end RSS {last['rss_trimmed_mb']:.1f} MB"
    return note


def run(minutes: float = MINUTES) -> list[Figure]:
    return [figure(soak(minutes), minutes)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=MINUTES)
    parser.add_argument("--child", action="store_true", help="run the console and print samples (internal)")
    parser.add_argument("--trace", type=Path, help="with --child: tracemalloc/gc/SQLite reports into this directory")
    parser.add_argument("--trace-frames", type=int, default=0, help="with --trace: tracemalloc with this many frames")
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(_soak(args.minutes, sys.stdout, args.trace, args.trace_frames))
        return
    f = run(args.minutes)[0]
    print(f"{f.name}: {f.value:+.2f} {f.unit} — {f.note}")
    for s in f.extra["samples"]:
        print(json.dumps(s))


if __name__ == "__main__":
    main(sys.argv[1:])
