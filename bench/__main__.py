"""Run the benchmarks, print a table, write ``bench/results.json``.

``python -m bench`` runs all; ``python -m bench book wire`` runs some.  Each bench module
exposes ``run() -> list[Figure]``.  No timing is asserted: targets are reported beside figures; a bench
whose sanity check fails (a book the stream could not have built, say) is reported and the run exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from bench.stats import Figure

BENCHES = ("book", "wire", "sim", "tracking", "tracking_fakes", "orders", "acks", "signing", "screen", "startup", "soak")
RESULTS = Path(__file__).with_name("results.json")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x != x:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def table(figures: list[Figure]) -> str:
    head = ("bench", "figure", "ours", "p99", "baseline", "vs", "unit", "target")
    rows = [head]
    for f in figures:
        ratio = f.ratio
        rows.append(
            (
                f.bench,
                f.name,
                _fmt(f.value),
                _fmt(f.p99),
                f"{_fmt(f.baseline)} {f.baseline_name}".strip() if f.baseline is not None else "-",
                f"{ratio:.2f}×" if ratio else "-",
                f.unit,
                f.target or "-",
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="one or more of: " + ", ".join(BENCHES))
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    names = args.names or list(BENCHES)
    figures: list[Figure] = []
    notes: list[str] = []
    for name in names:
        started = time.perf_counter()
        print(f"# {name} …", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            figures.extend(module.run())
        except Exception as exc:  # a broken bench is reported, the others still run
            notes.append(f"{name}: failed: {type(exc).__name__}: {exc}")
        print(f"# {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(f"Machine: {machine()}\n")
    print(table(figures))
    for note in notes:
        print(f"\n{note}")
    for f in figures:
        if f.note:
            print(f"- {f.bench}/{f.name}: {f.note}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = previous.get("figures", {}) if args.names else {}
    for f in figures:
        results[f"{f.bench}/{f.name}"] = f.as_dict()
    RESULTS.write_text(
        json.dumps({**previous, "machine": machine(), "taken": time.strftime("%Y-%m-%d"), "figures": results}, indent=2)
        + "\n"
    )
    return 1 if notes else 0  # a bench that failed (its sanity check, say) fails the run


if __name__ == "__main__":
    raise SystemExit(main())
