"""A long session's memory: the console streaming the sim while a trader types orders.

A child process runs the full console (``PerpdeskApp`` headless at 120×40, the heap settled once the
first market is painted, as ``perpdesk`` runs) on the embedded sim venue on the real clock, its books
stepping every 20 ms, its journal a file in a temporary directory (as a console's is).  Every
``ORDER_EVERY_S`` seconds it types an order as a trader does (Escape,
``b`` for the buy form, Tab to the size, clear it, type ``0.001``, Enter) and cancels it once it
rests.  Every ``SAMPLE_EVERY_S`` seconds it collects (``gc.collect()``) and samples the resident set
(``VmRSS``) and the live objects (tracked + frozen); the first sample is taken after a warm-up minute
(Textual's bounded caches fill while the first orders are typed) and growth is measured from it.

Bounded: ``--minutes N`` (``python -m bench soak`` runs ``MINUTES``); the child is given N minutes
plus a minute and is killed by PID if it overruns.  Sanity: every order typed must have reached the
venue (an order form that stopped sending would also stop growing the heap), and the book must keep
streaming.  "Flat" is what the figure measures: the resident set's growth over the second half of the
run (the least-squares line through the second half's samples, times its span: the first half is the
console's bounded caches and histories filling, the second what is left once they are full).  The note
has the growth from the first sample to the last, the live objects per order typed over the whole run
and the second half, and the load average (the machine may be shared: absolute RSS does not move with
load, the order count does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
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
    return {
        "t": round(time.monotonic() - t0, 1),
        "rss_mb": round(_rss_mb(), 2),
        "objects": len(gc.get_objects()) + gc.get_freeze_count(),
        "orders": orders,
        "books": books,
    }


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


async def _soak(minutes: float, out: Any) -> None:
    from connector.clock import RealClock
    from connector.sim.connector import SimConnector
    from connector.sim.engine import SimEngine
    from console.app import PerpdeskApp
    from execution.runtime import Runtime

    clock = RealClock()
    connector = SimConnector(engine=SimEngine(seed=7, clock=clock, step_ms=STEP_MS), clock=clock)
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
            await asyncio.sleep(max(0.0, ORDER_EVERY_S - (time.monotonic() - now) - 0.5))
        print(json.dumps(_sample(t0, typed, books) | {"submitted": submitted, "last": True}), file=out, flush=True)
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
        f"and in flight when the sample is taken); load average at the end {_loadavg()}"
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


def run(minutes: float = MINUTES) -> list[Figure]:
    return [figure(soak(minutes), minutes)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=MINUTES)
    parser.add_argument("--child", action="store_true", help="run the console and print samples (internal)")
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(_soak(args.minutes, sys.stdout))
        return
    f = run(args.minutes)[0]
    print(f"{f.name}: {f.value:+.2f} {f.unit} — {f.note}")
    for s in f.extra["samples"]:
        print(json.dumps(s))


if __name__ == "__main__":
    main(sys.argv[1:])
