"""Where the console's CPU goes per book frame at 5k frames/s: a sampling profile of ``bench/screen.py``.

``python -m bench.screen_profile [RATE]`` (about a minute) runs one console process as the CLI runs
it against the Hyperliquid fake (``bench/screen_venue.py``), blasts ``RATE`` frames a second (5,000
by default) for two windows, and, during them, has ``py-spy`` (when it is installed) sample the
console process at 250 Hz.  Each sample is charged to the innermost part of the stack it is in
(``CATEGORIES``, checked from the leaf up), and the total is divided by the frames that reached the
connector in the sampled time: µs of CPU per frame, the event loop's wait for the socket included as
"idle"; the composing CPU is also divided by the screen frames composed (ms per frame composed), whether
Textual's update timer composed them or the flusher in its own turn (``console/flush.py``).  A bench of the
method, not of the machine: compare the parts with each other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

RATE_HZ = 250
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("idle (waiting for the socket)", ("selectors.py", "EpollSelector.select")),
    ("bench probe", ("bench/screen.py",)),
    ("websockets library", ("websockets/",)),
    ("decode (wire, msgspec/orjson)", ("connector/hyperliquid/wire.py", "parse_frame", "msgspec", "orjson")),
    ("reader (ws supervisor)", ("connector/transport/ws.py",)),
    ("stream handling", ("connector/hyperliquid/stream.py", "connector/base.py")),
    ("book apply", ("execution/market/book.py",)),
    ("console dirty marking (bridge, flusher poke)", ("console/bridge.py", "Flusher.poke")),
    ("MarketDataService fan-out", ("execution/market/market_data.py", "execution/listeners.py")),
    ("other listeners (execution)", ("execution/",)),
    ("Textual layout pass", ("_refresh_layout", "textual/_arrange.py", "textual/layouts/", "textual/_layout")),
    ("ladder rows (ours)", ("console/widgets/ladder.py",)),
    (
        "Textual compose (compositor, lines)",
        (
            "textual/_compositor.py",
            "_compositor_refresh",
            "textual/strip.py",
            "textual/_styles_cache.py",
            "textual/_segment_tools.py",
        ),
    ),
    ("console flush and paint (ours)", ("console/",)),
    ("Textual other (messages, timers, styles)", ("textual/", "rich/")),
    ("asyncio loop", ("asyncio/",)),
)
INCLUSIVE = (
    ("ws reader: receive → deliver", "WsSupervisor._read"),
    ("market_data.on_book (apply + fan-out)", "MarketDataService.on_book"),
    ("screen flush (ours, with the widget calls it makes)", "MainScreen.flush"),
    ("Textual layout pass", "_refresh_layout"),
    ("Textual's screen update timer (dirty widgets, layout, compose)", "Screen._on_timer_update"),
    ("a frame composed in the flush's own turn (console.flush.compose_now)", "compose_now"),
    ("Textual compose: every frame (Screen._compositor_refresh, either way)", "Screen._compositor_refresh"),
)
"""Inclusive: every sample with this frame anywhere on its stack."""


def categorise(raw: str) -> tuple[Counter[str], Counter[str], int]:
    """py-spy's raw output (``stack count`` lines) → samples per category, inclusive samples, total."""
    exclusive: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or "_do_waitpid" in stack:  # the child watcher's thread, asleep in waitpid
            continue
        n = int(count)
        total += n
        exclusive[_innermost(stack.split(";"))] += n
        for name, needle in INCLUSIVE:
            if needle in stack:
                inclusive[name] += n
    return exclusive, inclusive, total


def _innermost(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                if name.startswith("Textual other"):  # Textual's own frames count for the pass they serve
                    return _textual_pass(frames) or name
                return name
    return "other"


def _textual_pass(frames: list[str]) -> str | None:
    for frame in reversed(frames):
        if "_refresh_layout" in frame:
            return "Textual layout pass"
        if "Screen._on_timer_update" in frame or "_compositor_refresh" in frame:
            return "Textual compose (compositor, lines)"
    return None


def report(raw: str, frames: int, seconds: float, handled: int | None = None, composed: int | None = None) -> str:
    exclusive, inclusive, total = categorise(raw)
    per = 1e6 / RATE_HZ / max(frames, 1)
    parsed = f" ({handled:,} parsed and handled, the rest conflated)" if handled is not None else ""
    lines = [f"{frames:,} frames reached the connector{parsed} in {seconds:.1f} s sampled; {total:,} samples; "
             "µs per frame reached:"]  # fmt: skip
    lines += [f"  {per * n:8.1f}  {name}" for name, n in exclusive.most_common()]
    lines.append("inclusive:")
    lines += [f"  {per * inclusive[name]:8.1f}  {name}" for name, _ in INCLUSIVE]
    if composed:
        every = inclusive["Textual compose: every frame (Screen._compositor_refresh, either way)"]
        lines.append(f"{composed:,} screen frames composed ({composed / seconds:.0f}/s): "
                     f"{1e3 / RATE_HZ * every / composed:.2f} ms of CPU composing each")  # fmt: skip
    return "\n".join(lines)


def main(rate: int = 5_000) -> None:
    if shutil.which("py-spy") is None:
        sys.exit("py-spy is not installed")
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="perpdesk-profile-") as tmp:
        out, prof = Path(tmp) / "out.json", Path(tmp) / "profile.txt"
        subprocess.run(
            [sys.executable, "-m", "bench.screen", "--side", "ours", "--out", str(out), "--rates", str(rate),
             "--windows", "2", "--presses", "0", "--profile", str(prof)],
            check=True, cwd=root, timeout=600, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        result = json.loads(out.read_text())
        p = result["profile"]
        composed = result[str(rate)][0].get("composed")
        print(report(prof.read_text(), p["frames"], p["seconds"], p.get("handled"), composed))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
