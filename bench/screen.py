"""Tick-to-screen and keypress-to-request, with the full console on screen.

The venue is the fake Hyperliquid in its own process (``bench/screen_venue.py``), blasting
``l2Book`` frames for BTC at 1k, 5k and 20k frames a second over a real loopback websocket.  The
console is ``PerpdeskApp`` on a ``Runtime`` with the real Hyperliquid connector, headless in
``run_test`` at 120×40 (Textual still composes every frame; only the terminal write is skipped).

Instrumented from outside, in this process only (no hook in the console or the connector):

- arrival: the connector's ``_on_book`` (and ``_on_book_frame``, for typed frames) is wrapped; the time a frame enters it is its arrival,
  and the sequence number the venue put in the best bid's ``n`` field identifies it; a frame the
  websocket reader conflated (skipped unparsed: a newer snapshot of the book was already queued behind
  it) arrives when the reader skips it, and is shown by the paint of that newer book;
- painted: ``DepthLadder.update_book`` notes the newest sequence the ladder was handed, its
  ``render_line`` notes that the compositor drew ladder rows, and the screen's
  ``_compositor_refresh`` (the frame) records the time once the frame is composed.

A frame's tick-to-screen is the time from its arrival to the first painted frame that shows
it or a newer book, split at the moment the console's flush hands the ladder that book; each
rate is blasted ``WINDOWS[rate]`` times (3 s each) and the samples pooled (≥ 20,000 at 5k).  A frame's cost is
the layout pass Textual ran before it plus composing it.  Keypress-to-request: under the 5k
load, type an order (``b``, ``tab``, a size) ``PRESSES`` times and time ``enter`` to the
connector's ``submit_limit_order`` call and to the fake's receipt of the ``/exchange`` request
(the fake reports its own monotonic clock); the heap (live objects after a collection, resident
MB) is read before and after.  Every row is measured twice in one run: the console as it was
before issue 18 (Textual's footer, heap not settled, the flush on a fixed timer) and as the CLI
runs it now, each in ``PROCESSES`` console processes of its own (with a venue process each),
interleaved (before, ours, …) so that load elsewhere on the machine falls on both; the figure is
ours, the ratio is against that baseline.  The notes say how many frames reached the connector and
how many of them the reader conflated (the baseline conflates nothing).  One console process a side;
the 200 presses are most of the time: about 8 minutes estimated on a quiet 2-core machine (not timed
quiet; a box loaded 8–10 deep takes ~30); every wait is bounded (``SIDE_LIMIT_S`` a side).

The hand-over → paint split is split again: the wait from the hand-over until the frame that shows it starts
being composed (Textual's screen update timer, 60 Hz, on a beat of its own), and the composing (its layout
pass, if any, included).  ``python -m bench.screen --only ticks 5000`` runs the tick phase alone, before and
ours interleaved as in the full run (about 30 s on a quiet machine); ``--baseline timer`` (tick phase only)
compares ours with itself composing each flush's frame on Textual's update timer instead of in the flush's
turn (``console/flush.py``); the full run is unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from bench.stats import Figure, median, percentile

RATES = (1_000, 5_000, 20_000)
BLAST_S = 3.0
WARMUP_S = 0.5
WINDOWS = {1_000: 1, 5_000: 2, 20_000: 1}
"""Blast windows pooled per rate: at 5k two, ≥ 20,000 samples, so one window's GC passes do not decide the p99."""
DRAIN_S = 1.0
MAX_DRAIN_S = 20.0
PRESSES = 200
PROCESSES = 1
"""Console processes a side; the windows and presses are shared out among them."""
SIDE_LIMIT_S = 2700
"""A console process that has not finished by then fails the run (its 200 presses take a few minutes on a
quiet machine, ~15 on one loaded 8–10 deep)."""
SEQ_BASE = 1_000_000
"""The venue's sequence numbers start here (``bench/screen_venue.py``); the fake's own frames carry n=1."""
_SEQ = re.compile(r'"n":(\d{7,})')
"""In a raw blasted frame: the best bid's sequence, then the best ask's time made."""
PROFILE: Path | None = None
"""``--profile PATH``: py-spy samples the first rate's windows into PATH (``bench/screen_profile.py``)."""


class Probe:
    """Arrival and paint records, filled by the wrappers."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int, int]] = []
        """(arrival time, sequence, when the venue made the frame, µs)"""
        self.paints: list[tuple[float, int]] = []
        """(frame composed, newest sequence shown)"""
        self.paint_starts: list[float] = []
        """When the composing of each of ``paints`` began (so a hand-over → paint splits into the wait for it and
        the composing itself)."""
        self.handoffs: list[tuple[float, int]] = []
        """(the console's flush handed the ladder a book, newest sequence in it)"""
        self.latest = 0
        self.handed = 0
        self.drawn: int | None = None
        self.submits: list[float] = []
        self.compose_ms: list[float] = []
        """A frame: the layout pass Textual ran before it (if any) and composing it."""
        self.layouts = 0
        self.layout_ms = 0.0
        """Layout time not yet counted in a frame."""
        self.gc_ms: list[float] = []
        self._gc_start = 0.0
        self.ws: Any = None
        """The connector's websocket reader (its ``received`` and ``conflated`` counters)."""
        self.flusher: Any = None
        """The main screen's ``Flusher`` (its ``flushes`` and ``composed`` counters)."""

    def reset(self) -> None:
        self.arrivals.clear()
        self.paints.clear()
        self.paint_starts.clear()
        self.handoffs.clear()
        self.submits.clear()
        self.compose_ms.clear()
        self.layouts = 0
        self.gc_ms.clear()

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif info.get("generation") == 2 or time.perf_counter() - self._gc_start > 0.005:
            self.gc_ms.append((time.perf_counter() - self._gc_start) * 1000)

    def where_time_went(self) -> str:
        """The stalls behind a long tail: frame composition and garbage collection."""
        compose = sorted(self.compose_ms)
        parts = [
            f"a frame (layout pass + compose) p50 {median(compose):.3g} ms, p99 {percentile(compose, 99):.3g} ms, "
            f"max {compose[-1]:.3g} ms; {self.layouts} layout passes"
            if compose
            else ""
        ]
        if self.gc_ms:
            parts.append(
                f"{len(self.gc_ms)} slow/full GC pauses up to {max(self.gc_ms):.3g} ms "
                f"({len(gc.get_objects()):,} objects tracked, {gc.get_freeze_count():,} frozen)"
            )
        flusher = self.flusher
        if flusher is not None and getattr(flusher, "composed", None) is not None:
            parts.append(
                f"of {flusher.flushes:,} flushes so far {flusher.composed:,} composed their frame in their own turn, "
                f"{getattr(flusher, 'left_to_timer', 0):,} left it to Textual's timer (the rest changed nothing shown)"
            )
        return "; ".join(p for p in parts if p)


def instrument(app: Any, connector: Any, probe: Probe) -> None:
    on_book = connector.stream._on_book

    def timed_on_book(data: dict[str, Any]) -> None:
        t = time.perf_counter()
        on_book(data)
        try:
            bid, ask = data["levels"][0][0], data["levels"][1][0]
        except (KeyError, IndexError, TypeError):
            return
        seq = bid.get("n", 0)
        if seq >= SEQ_BASE:
            probe.arrivals.append((t, seq, ask.get("n", 0)))
            probe.latest = seq

    connector.stream._on_book = timed_on_book
    on_book_frame = connector.stream._on_book_frame

    def timed_on_book_frame(data: Any) -> None:  # the same, for a frame decoded into wire.BookFrame
        t = time.perf_counter()
        on_book_frame(data)
        try:
            bid, ask = data.levels[0][0], data.levels[1][0]
        except (AttributeError, IndexError):
            return
        if bid.n >= SEQ_BASE:
            probe.arrivals.append((t, bid.n, ask.n))
            probe.latest = bid.n

    connector.stream._on_book_frame = timed_on_book_frame
    ws = probe.ws = connector.stream.ws
    probe.flusher = getattr(app.main_screen, "flusher", None)
    conflated_frame = ws._conflated_frame

    def noted_conflated_frame(raw: str | bytes) -> None:  # skipped by the reader: arrived, never parsed
        t = time.perf_counter()
        conflated_frame(raw)
        text = raw if isinstance(raw, str) else raw.decode()
        seq, made = _SEQ.search(text, 0, 200), _SEQ.search(text, text.find("],[", 0))
        if seq is not None and made is not None:
            probe.arrivals.append((t, int(seq.group(1)), int(made.group(1))))
            probe.latest = max(probe.latest, int(seq.group(1)))

    ws._conflated_frame = noted_conflated_frame

    submit = connector.submit_limit_order

    async def timed_submit(**kwargs: Any) -> str:
        probe.submits.append(time.perf_counter())
        return await submit(**kwargs)

    connector.submit_limit_order = timed_submit

    from console.widgets.ladder import DepthLadder

    ladder = app.main_screen.query_one("#ladder", DepthLadder)
    update_book, render_line = ladder.update_book, ladder.render_line

    def noted_update_book(data: Any) -> None:
        probe.handed = probe.latest
        probe.handoffs.append((time.perf_counter(), probe.latest))
        update_book(data)

    def noted_render_line(y: int) -> Any:
        probe.drawn = probe.handed
        return render_line(y)

    ladder.update_book = noted_update_book
    ladder.render_line = noted_render_line

    screen = app.main_screen
    compositor_refresh, refresh_layout = screen._compositor_refresh, screen._refresh_layout

    def timed_layout(*args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        refresh_layout(*args, **kwargs)
        probe.layout_ms += (time.perf_counter() - t0) * 1000
        probe.layouts += 1

    def timed_refresh() -> None:
        t0 = time.perf_counter()
        compositor_refresh()
        t1 = time.perf_counter()
        probe.compose_ms.append((t1 - t0) * 1000 + probe.layout_ms)
        if probe.drawn is not None:
            probe.paints.append((t1, probe.drawn))
            probe.paint_starts.append(t0 - probe.layout_ms / 1000)  # the layout pass before it is its work too
            probe.drawn = None
        probe.layout_ms = 0.0

    screen._compositor_refresh = timed_refresh
    screen._refresh_layout = timed_layout
    gc.callbacks.append(probe.on_gc)


def _first_showing(events: list[tuple[float, int]], t: float, seq: int, best_after: list[int]) -> int | None:
    """Index of the first event at or after ``t`` whose sequence is at least ``seq``."""
    i = bisect.bisect_left(events, (t, -1))
    if i >= len(events) or best_after[i] < seq:
        return None
    while events[i][1] < seq:
        i += 1
    return i


def _newest_after(events: list[tuple[float, int]]) -> list[int]:
    """For each index, the newest sequence any event at or after it shows."""
    best = [0] * (len(events) + 1)
    for i in range(len(events) - 1, -1, -1):
        best[i] = max(best[i + 1], events[i][1])
    return best


def tick_to_screen(probe: Probe, since: float, first_seq: int = 0) -> dict[str, list[float] | int]:
    """Per arrival after ``since`` of a frame from ``first_seq`` on (not one still queued from an earlier
    phase): ms to the first paint showing it, split at the hand-over to the ladder."""
    paints, handoffs = probe.paints, probe.handoffs
    paint_best, handoff_best = _newest_after(paints), _newest_after(handoffs)
    out: dict[str, Any] = {key: [] for key in SPLITS}
    out["missed"] = 0
    starts = probe.paint_starts if len(probe.paint_starts) == len(paints) else None
    for t, seq, sent_us in probe.arrivals:
        if t < since or seq < first_seq:
            continue
        i = _first_showing(paints, t, seq, paint_best)
        if i is None:
            out["missed"] += 1
            continue
        painted = paints[i][0]
        out["latency"].append((painted - t) * 1000)
        out["from_send"].append((painted - sent_us / 1_000_000) * 1000)
        h = _first_showing(handoffs, t, seq, handoff_best)
        if h is not None and handoffs[h][0] <= painted:
            out["to_ladder"].append((handoffs[h][0] - t) * 1000)
            out["ladder_to_paint"].append((painted - handoffs[h][0]) * 1000)
            if starts is not None and starts[i] >= handoffs[h][0]:
                out["to_compose"].append((starts[i] - handoffs[h][0]) * 1000)
                out["composing"].append((painted - starts[i]) * 1000)
    return out


class Venue:
    """The venue subprocess and its command pipe."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, key_file: Path) -> tuple[Venue, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.screen_venue", str(key_file),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parent.parent),
        )  # fmt: skip
        venue = cls(proc)
        hello = await venue.read()
        return venue, hello["base_url"]

    async def read(self, timeout: float = 30) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("the venue process ended")
        return json.loads(line)

    async def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


Tick = dict[str, Any]
"""One rate's pooled windows: latencies and the counts behind them."""


BASELINES = {
    "before": "the console before issue 18: Textual's footer, heap not settled, fixed-rate flush, no conflation, "
    "frames composed on Textual's update timer",
    "timer": "the console as it runs now but for one thing: the flush's frame composed on Textual's own update "
    "timer, not in the flush's turn",
}
"""What a side is compared with: ``before`` in the full run; ``timer`` (``--baseline timer``, the tick phase only)
isolates composing the frame in the flush's own turn."""

SPLITS = ("latency", "from_send", "to_ladder", "ladder_to_paint", "to_compose", "composing")
"""Per sample: arrival → painted, venue emit → painted, arrival → the flush hands the ladder the book, hand-over →
painted, and that last split again: hand-over → the frame's composing (its layout pass, if any) begins, and the
composing itself."""

COUNTS = ("arrived", "conflated_in_time", "sent", "paints", "conflated", "composed")
"""Per window: frames the reader received while the venue sent and those of them it conflated, frames sent,
ladder paints while the venue sent, frames conflated in the whole window (its backlog drained), screen frames
composed in the whole window (``bench/screen_profile.py`` divides the composing CPU by them)."""


def _pool(results: list[dict[str, Any]], counts: list[tuple[int, ...]]) -> Tick:
    pooled: Tick = {key: [] for key in SPLITS}
    pooled["missed"] = 0
    for r in results:
        for key in SPLITS:
            pooled[key].extend(r[key])
        pooled["missed"] += r["missed"]
    for i, name in enumerate(COUNTS):
        pooled[name] = sum(c[i] for c in counts if i < len(c))
    pooled["windows"] = len(counts)
    return pooled


def _tick_figure(
    rate: int, r: Tick, base: Tick | None, why: str, *, alternative: str = "", baseline: str = "before"
) -> Figure:
    lat, from_send = r["latency"], r["from_send"]
    to_ladder, ladder_to_paint = r["to_ladder"], r["ladder_to_paint"]
    windows = r["windows"]
    seconds = windows * BLAST_S
    note = (
        f"{r['arrived']:,} of {r['sent']:,} frames sent reached the connector while the venue sent "
        f"({r['arrived'] / seconds:,.0f}/s of {r['sent'] / seconds:,.0f}/s), {r['conflated_in_time']:,} of them "
        f"conflated (skipped unparsed: a newer snapshot was queued behind them); frames conflated in all "
        f"{r['conflated']:,}; "
        f"{r['paints'] / seconds:.0f} ladder paints/s; {len(lat):,} samples pooled over {windows} windows; "
        f"arrival → the flush hands the ladder the book p50 {median(to_ladder):.3g} ms, "
        f"p99 {percentile(to_ladder, 99):.3g} ms; → frame composed p50 {median(ladder_to_paint):.3g} ms, "
        f"p99 {percentile(ladder_to_paint, 99):.3g} ms (of which waiting for the frame to start p50 "
        f"{median(r['to_compose']):.3g} ms, p99 {percentile(r['to_compose'], 99):.3g} ms, composing it p50 "
        f"{median(r['composing']):.3g} ms, p99 {percentile(r['composing'], 99):.3g} ms); "
        f"venue emit → paint p50 {median(from_send):.3g} ms, p99 {percentile(from_send, 99):.3g} ms"
    )
    if base is not None:
        note += (
            f"; baseline ({BASELINES[baseline]}) "
            f"p50 {median(base['latency']):.3g} ms, p99 {percentile(base['latency'], 99):.3g} ms, "
            f"{base['arrived']:,} frames reached it"
        )
    if r["missed"]:
        note += f"; {r['missed']} frames never painted"
    note += f"; {why}"
    sent_name = " sent" if rate == 20_000 else ""
    return Figure(
        "screen",
        f"tick-to-screen at {rate // 1000}k frames/s{sent_name}" + (f", {alternative}" if alternative else ""),
        median(lat),
        "ms",
        p99=percentile(lat, 99),
        baseline=median(base["latency"]) if base is not None else None,
        baseline_name=baseline if base is not None else "",
        target="alternative" if alternative else "p99 ≤ 25 ms, p50 ≤ 12 ms at 5k" if rate == 5_000 else "",
        note=note,
        extra={
            "samples": len(lat),
            "windows": windows,
            "measured_s": windows * (BLAST_S - WARMUP_S),
            "arrived": r["arrived"],
            "conflated": r["conflated"],
            "sent": r["sent"],
            "paints": r["paints"],
            "baseline_p99_ms": percentile(base["latency"], 99) if base is not None else None,
            "baseline_samples": len(base["latency"]) if base is not None else None,
            "baseline_arrived": base["arrived"] if base is not None else None,
            "to_ladder_p50_ms": median(to_ladder),
            "to_ladder_p99_ms": percentile(to_ladder, 99),
            "ladder_to_paint_p50_ms": median(ladder_to_paint),
            "ladder_to_paint_p99_ms": percentile(ladder_to_paint, 99),
            "to_compose_p50_ms": median(r["to_compose"]),
            "to_compose_p99_ms": percentile(r["to_compose"], 99),
            "composing_p50_ms": median(r["composing"]),
            "composing_p99_ms": percentile(r["composing"], 99),
            "send_to_paint_p50_ms": median(from_send),
            "send_to_paint_p99_ms": percentile(from_send, 99),
        },
    )


def _key(app: Any, key: str) -> None:
    """Deliver one key the way a terminal does (through the driver), as ``Pilot.press`` does,
    without waiting for anything after it: the measured key press."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _app_settled(app: Any) -> None:
    """Until the app has run what the last key queued on it (a focus change is a callback there)."""
    done = asyncio.Event()
    app.call_later(done.set)
    await asyncio.wait_for(done.wait(), 5)


@contextlib.contextmanager
def _no_idle_wait() -> Iterator[None]:
    """``Pilot.press`` without its wait for an idle process (up to a second a key, and under a
    steady book stream the process is never idle); its wait for every widget to have handled the
    key stays, so keys still land in order and after the focus changes they cause."""
    import textual.app

    async def just_yield(*_args: Any, **_kwargs: Any) -> None:
        await asyncio.sleep(0)

    saved = textual.app.wait_for_idle
    textual.app.wait_for_idle = just_yield
    try:
        yield
    finally:
        textual.app.wait_for_idle = saved


async def _keypresses(
    pilot: Any, probe: Probe, venue: Venue, runtime: Any
) -> tuple[list[float], list[float], dict[str, int]]:
    """Type an order, time ``enter`` to the connector's submit and to the fake's receipt."""
    app = pilot.app
    to_submit, pressed = [], []
    entry = app.main_screen.query_one("#entry")
    shown: list[dict[str, str]] = []
    show_errors = entry.show_errors

    def noted_errors(errors: dict[str, str]) -> None:
        shown.append(errors)
        show_errors(errors)

    entry.show_errors = noted_errors
    refusals: dict[str, int] = {}
    await venue.send({"exchange_times": True})
    before = len((await venue.read())["exchange_times"])
    await venue.send({"blast": 5_000, "seconds": SIDE_LIMIT_S})  # stopped once the presses are done
    await asyncio.sleep(WARMUP_S)
    for _ in range(PRESSES):
        with _no_idle_wait():
            for key in ("escape", "b", "tab", "ctrl+u", *"0.001"):
                await pilot.press(key)  # one at a time: each lands after the focus the one before moved
                await _app_settled(app)
        probe.submits.clear()
        shown.clear()
        t0 = time.perf_counter()
        _key(app, "enter")
        deadline = time.perf_counter() + 2
        while not probe.submits and time.perf_counter() < deadline:
            await asyncio.sleep(0.0005)
        if probe.submits:
            pressed.append(t0)
            to_submit.append((probe.submits[0] - t0) * 1000)
        else:
            said = "; ".join(v for e in shown for v in e.values() if v) or "nothing shown"
            refusals[said[:80]] = refusals.get(said[:80], 0) + 1
        await asyncio.sleep(0.1)
        for order in runtime.orders.open_orders():  # one by one: a cancel-all costs far more request budget
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runtime.orders.cancel(order), 2)
    await venue.send({"stop": True})
    await venue.read(timeout=30)  # the blast's end
    await venue.send({"exchange_times": True})
    times = (await venue.read())["exchange_times"][before:]
    to_venue = []
    for t0 in pressed:
        after = [t for t in times if t >= t0]
        if after:
            to_venue.append((after[0] - t0) * 1000)
    return to_submit, to_venue, refusals


async def _drained(probe: Probe) -> None:
    """Wait until frames stop arriving (a backlog from a rate the console cannot keep up with drains)."""
    await asyncio.sleep(DRAIN_S)
    deadline = time.perf_counter() + MAX_DRAIN_S
    seen = -1
    while len(probe.arrivals) != seen and time.perf_counter() < deadline:
        seen = len(probe.arrivals)
        await asyncio.sleep(0.3)


async def _tick_phase(venue: Venue, probe: Probe, rate: int) -> tuple[Tick, str]:
    """``WINDOWS`` blasts at ``rate``, each drained before the next; their samples pooled."""
    results, counts, why = [], [], []
    for _ in range(WINDOWS[rate]):
        probe.reset()
        conflated = probe.ws.conflated
        started = time.perf_counter()
        await venue.send({"blast": rate, "seconds": BLAST_S})
        reply = await venue.read(timeout=BLAST_S * 10)
        sent, first = reply["sent"], reply["first"]
        conflated_in_time = probe.ws.conflated - conflated
        await _drained(probe)
        results.append(tick_to_screen(probe, started + WARMUP_S, first))
        paints = sum(1 for t, _ in probe.paints if t <= started + BLAST_S)
        # this blast's frames (parsed or conflated) in time; frames left over from an earlier phase do not count
        arrived = sum(1 for t, seq, _ in probe.arrivals if t <= started + BLAST_S and seq >= first)
        in_time = (arrived, conflated_in_time)
        counts.append((*in_time, sent, paints, probe.ws.conflated - conflated, len(probe.compose_ms)))
        why.append(probe.where_time_went())
    return _pool(results, counts), why[-1]


def _heap() -> tuple[int, float]:
    """Live objects after a collection (frozen ones included), and the resident set in MB."""
    gc.collect()
    try:
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20
    except (OSError, IndexError, ValueError):
        rss = float("nan")
    return len(gc.get_objects()) + gc.get_freeze_count(), rss


async def _keypress_phase(pilot: Any, probe: Probe, venue: Venue, runtime: Any) -> dict[str, Any]:
    before = _heap()
    probe.reset()  # the collection _heap ran is not the console's
    to_submit, to_venue, refusals = await _keypresses(pilot, probe, venue, runtime)
    why = probe.where_time_went()
    return {
        "to_submit": to_submit, "to_venue": to_venue, "refusals": refusals, "heap_before": before,
        "heap_after": _heap(), "why": why,
    }  # fmt: skip


def _keypress_figure(r: dict[str, Any], base: dict[str, Any]) -> Figure:
    to_submit, to_venue = r["to_submit"], r["to_venue"]
    (objects0, rss0), (objects1, rss1) = r["heap_before"], r["heap_after"]
    (b_objects0, b_rss0), (b_objects1, b_rss1) = base["heap_before"], base["heap_after"]
    note = (
        f"{len(to_submit)} orders typed while 5k book frames/s streamed; "
        f"heap over the presses {objects0:,} → {objects1:,} objects, {rss0:.0f} → {rss1:.0f} MB resident "
        f"(baseline {b_objects0:,} → {b_objects1:,} objects, {b_rss0:.0f} → {b_rss1:.0f} MB); "
        f"baseline p50 {median(base['to_submit']):.3g} ms, p99 {percentile(base['to_submit'], 99):.3g} ms; "
        f"enter → the fake receives /exchange: p50 {median(to_venue):.3g} ms, p99 {percentile(to_venue, 99):.3g} ms"
        f" (that part includes any wait for the connector's request budget); {r['why']}"
    )
    for said, n in r["refusals"].items():
        note += f"; {n} of {PRESSES} presses sent nothing within 2 s (the entry said: {said})"
    return Figure(
        "screen",
        "keypress-to-request under 5k frames/s",
        median(to_submit),
        "ms",
        p99=percentile(to_submit, 99),
        baseline=median(base["to_submit"]),
        baseline_name="before",
        target=f"p99 ≤ 10 ms over ≥ {PRESSES} presses",
        note=note,
        extra={
            "presses": PRESSES,
            "baseline_p99_ms": percentile(base["to_submit"], 99),
            "objects": [objects0, objects1],
            "rss_mb": [rss0, rss1],
            "baseline_objects": [b_objects0, b_objects1],
            "baseline_rss_mb": [b_rss0, b_rss1],
            "to_submit_ms": to_submit,
            "to_venue_ms": to_venue,
            "baseline_to_submit_ms": base["to_submit"],
        },
    )


@contextlib.contextmanager
def _before_issue_18() -> Iterator[None]:
    """The console as it was: Textual's own footer, the heap not settled, the flush on a fixed timer
    (the one-line ``#top`` update without its layout pass stays: that one is not switchable)."""
    from textual.widgets import Footer

    import console.screens.main as main
    from console.flush import Flusher

    saved = main.DeskFooter
    main.DeskFooter = Footer
    Flusher.leading_edge = False
    Flusher.compose_in_turn = False
    try:
        yield
    finally:
        main.DeskFooter = saved
        Flusher.leading_edge = True
        Flusher.compose_in_turn = True


@contextlib.asynccontextmanager
async def _console(
    tmp: Path, base_url: str, key_file: Path, *, before: bool, **options: Any
) -> AsyncIterator[tuple[Any, ...]]:
    """The full console on a runtime with the real Hyperliquid connector, instrumented; as the CLI runs
    it (heap settled once the first market is painted), or as it was before issue 18."""
    from connector.hyperliquid.connector import HyperliquidConnector
    from connector.keys import load_key_file
    from console import heap
    from console.app import PerpdeskApp
    from execution.runtime import Runtime

    connector = HyperliquidConnector(base_url=base_url, keys=load_key_file(key_file, venue="hyperliquid"))
    runtime = Runtime([connector], journal_path=tmp / f"journal-{time.monotonic_ns()}.sqlite")
    saved = gc.get_threshold()
    with _before_issue_18() if before else contextlib.nullcontext():
        app = PerpdeskApp(runtime, venue="hyperliquid", symbol="BTC", long_lived_heap=not before, **options)
        probe = Probe()
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await asyncio.wait_for(app.ready.wait(), 30)
                instrument(app, connector, probe)
                if before:
                    connector.stream.ws.conflate = None  # every frame parsed and applied, as before
                await pilot.pause()
                try:
                    yield pilot, probe, runtime
                finally:
                    gc.callbacks.remove(probe.on_gc)
                    await app.action_quit()
        finally:
            heap.unsettle(saved)
            gc.collect()


async def _phases(tmp: Path, base_url: str, key_file: Path, venue: Venue, *, before: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with _console(tmp, base_url, key_file, before=before) as (pilot, probe, runtime):
        for rate in RATES:
            if PROFILE is not None and rate == RATES[0]:
                out[rate], out["profile"] = await _profiled(_tick_phase(venue, probe, rate), runtime, PROFILE)
            else:
                out[rate] = await _tick_phase(venue, probe, rate)
            if rate == 5_000 and PRESSES:
                probe.reset()
                out["keys"] = await _keypress_phase(pilot, probe, venue, runtime)
                await _drained(probe)
    return out


async def _profiled(phase: Any, runtime: Any, path: Path) -> tuple[Any, dict[str, Any]]:
    """Run ``phase`` with py-spy sampling this process (``bench/screen_profile.py`` reads the result)."""
    ws = runtime.connectors["hyperliquid"].stream.ws
    reached, handled = ws.received, ws.messages
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw", "--output", str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # py-spy attached
    t0 = time.perf_counter()
    try:
        result = await phase
    finally:
        seconds = time.perf_counter() - t0
        spy.send_signal(signal.SIGINT)
        await asyncio.wait_for(spy.wait(), 60)
    return result, {"frames": ws.received - reached, "handled": ws.messages - handled, "seconds": seconds}


async def _side(tmp: Path, *, before: bool) -> dict[str, Any]:
    key_file = tmp / "hyperliquid.toml"
    venue, base_url = await Venue.start(key_file)
    try:
        return await _phases(tmp, base_url, key_file, venue, before=before)
    finally:
        await venue.stop()


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Console processes of one side, pooled: samples joined, counts added, the last one's heap and notes."""
    out: dict[str, Any] = {}
    for rate in RATES:
        ticks = [r[str(rate)][0] for r in runs]
        pooled = {k: [x for t in ticks for x in t.get(k, ())] for k in SPLITS}
        for k in ("missed", "windows", *COUNTS):
            pooled[k] = sum(t.get(k, 0) for t in ticks)
        out[rate] = (pooled, runs[-1][str(rate)][1])
    if all("keys" in r for r in runs):
        keys = dict(runs[-1]["keys"])
        for k in ("to_submit", "to_venue"):
            keys[k] = [x for r in runs for x in r["keys"][k]]
        refusals: dict[str, int] = {}
        for r in runs:
            for said, n in r["keys"]["refusals"].items():
                refusals[said] = refusals.get(said, 0) + n
        keys["refusals"] = refusals
        out["keys"] = keys
    return out


def run(*, only_ticks: bool = False, baseline: str = "before") -> list[Figure]:
    """``PROCESSES`` console processes a side, interleaved (before, ours, before, ours), each with its
    own venue process: consoles sharing one process would share one heap and its collections.
    ``only_ticks``: the tick phase only (no key presses; a 5k-only run takes about a minute);
    ``baseline``: one of ``BASELINES`` (the full run's is ``before``)."""
    presses = 0 if only_ticks or baseline != "before" else PRESSES
    runs: dict[str, list[dict[str, Any]]] = {baseline: [], "ours": []}
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        for i in range(PROCESSES):
            for side in (baseline, "ours"):
                out = Path(tmp) / f"{side}-{i}.json"
                subprocess.run(
                    [sys.executable, "-m", "bench.screen", "--side", side, "--out", str(out),
                     "--rates", ",".join(str(r) for r in RATES),
                     "--windows", ",".join(f"{r}:{max(1, WINDOWS[r] // PROCESSES)}" for r in RATES),
                     "--presses", str(presses // PROCESSES)],
                    check=True, cwd=root, timeout=SIDE_LIMIT_S + 300, stdout=subprocess.DEVNULL,
                )  # fmt: skip
                runs[side].append(json.loads(out.read_text()))
    base, ours = _merge(runs[baseline]), _merge(runs["ours"])
    figures = []
    for rate in RATES:
        (tick, why), (base_tick, _) = ours[rate], base[rate]
        figures.append(_tick_figure(rate, tick, base_tick, why, baseline=baseline))
        if rate == 5_000 and "keys" in ours:
            figures.append(_keypress_figure(ours["keys"], base["keys"]))
    return figures


def _one_side(argv: list[str]) -> None:
    """A child: one console process (``--side before|timer|ours``), its results as JSON in ``--out``."""
    global RATES, PRESSES, PROFILE
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", choices=(*BASELINES, "ours"), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--windows", default="", help="RATE:N,... (or one N for every rate)")
    parser.add_argument("--presses", type=int, default=PRESSES)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    PROFILE = args.profile
    RATES = tuple(int(r) for r in args.rates.split(","))
    PRESSES = args.presses
    for part in filter(None, args.windows.split(",")):
        rate, _, n = part.rpartition(":")
        WINDOWS.update({int(rate): int(n)} if rate else dict.fromkeys(RATES, int(n)))
    if args.side == "timer":
        from console.flush import Flusher

        Flusher.compose_in_turn = False
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        result = asyncio.run(asyncio.wait_for(_side(Path(tmp), before=args.side == "before"), SIDE_LIMIT_S))
    Path(args.out).write_text(json.dumps({str(k): v for k, v in result.items()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--side"]:
        _one_side(sys.argv[1:])
    else:  # python -m bench.screen [--only ticks] [RATE ...]: some rates only, or the tick phase only
        cli = argparse.ArgumentParser(prog="python -m bench.screen")
        cli.add_argument("--only", choices=("ticks",), default=None, help="ticks: the tick phase only, no key presses")
        cli.add_argument("--baseline", choices=tuple(BASELINES), default="before", help="timer: the tick phase only")
        cli.add_argument("rates", nargs="*", type=int)
        cli_args = cli.parse_args()
        if cli_args.rates:
            RATES = tuple(cli_args.rates)
        for f in run(only_ticks=cli_args.only == "ticks", baseline=cli_args.baseline):
            print(f"{f.name}: p50 {f.value:.3g} {f.unit}, p99 {f.p99:.3g} — {f.note}")
