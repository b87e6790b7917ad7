"""The chaos suite's figures: ``python -m bench.chaos [--runs 10]`` writes them under ``"chaos"`` in
``bench/results.json`` and prints the README's Reliability table.

The same scenarios as ``tests/chaos`` (fake venues in their own processes on 127.0.0.1): kill -9 and
restart, a disconnect storm and a flood of malformed frames and 429s, each on every venue's fake, and
an hour of virtual time with faults on the sim.  Nothing here asserts; the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.__main__ import RESULTS, machine
from tests.chaos.soak import run_soak
from tests.chaos.test_kill_restart import VENUES, Fakes, kill_child_at_random, restart_and_check
from tests.chaos.test_storm import VENUES as STORM_VENUES
from tests.chaos.test_storm import run_flood, run_storm


def kill_runs(venue: str, runs: int, workdir: Path) -> dict[str, object]:
    (workdir / venue).mkdir()
    fakes = Fakes(venue, workdir / venue)
    outcomes = []
    try:
        for seed in range(runs):
            fake = fakes.get()
            journal = workdir / venue / f"journal-{seed}.sqlite3"
            kill_child_at_random(fake, journal, seed)
            outcomes.append(asyncio.run(restart_and_check(fake, journal, "resume" if seed % 2 else "cancel")))
    finally:
        fakes.stop()
    times = [o.consistent_s for o in outcomes]
    return {
        "runs": runs,
        "venue_orders_after_restart": sum(o.venue_orders for o in outcomes),
        "unknown_to_journal": sum(len(o.unknown_to_journal) for o in outcomes),
        "orphans": sum(len(o.orphans) for o in outcomes),
        "overfills": sum(len(o.overfills) for o in outcomes),
        "reused_indices": sum(len(o.reused) for o in outcomes),
        "integrity_ok": sum(o.integrity == "ok" for o in outcomes),
        "restart_to_consistent_s_median": round(statistics.median(times), 3),
        "restart_to_consistent_s_max": round(max(times), 3),
    }


def table(chaos: dict[str, dict[str, object]]) -> str:
    rows = [("scenario", "runs", "orphans", "overfills", "missed fills", "dup ids", "to consistent book")]
    for venue in VENUES:
        k = chaos[f"kill_restart/{venue}"]
        rows.append((f"kill -9 + restart, {venue}", k["runs"], k["orphans"], k["overfills"], "-",
                     k["reused_indices"], f"{k['restart_to_consistent_s_median']} s median after restart"))  # fmt: skip
    for venue in STORM_VENUES:
        s = chaos[f"disconnect_storm/{venue}"]
        rows.append((f"disconnect storm ({s['drops']} drops), {venue}", 1, "-", "-", s["missed_fills"],
                     s["duplicate_ids"], f"{s['consistent_after_s']} s after reconnect"))  # fmt: skip
    for venue in STORM_VENUES:
        f = chaos[f"malformed_and_429/{venue}"]
        rows.append((f"{f['malformed_counted']} malformed frames + {f['rate_limited_made']} 429s, {venue}", 1,
                     "-", "-", "-", f["duplicate_ids"], "-"))  # fmt: skip
    k = chaos["soak/sim"]
    rows.append((f"soak: 1 h virtual, 20 chases, {k['faults']} faults, sim", 1, "-", k["overfills"],
                 k["missed_fills"], k["duplicate_ids"], f"{k['wall_s']} s wall"))  # fmt: skip
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="kill -9 runs per venue")
    args = parser.parse_args(argv)
    chaos: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="perpdesk-chaos-") as tmp:
        work = Path(tmp)
        for venue in VENUES:
            chaos[f"kill_restart/{venue}"] = kill_runs(venue, args.runs, work)
        for venue in STORM_VENUES:
            (work / f"storm-{venue}").mkdir()
            storm = asyncio.run(run_storm(venue, work / f"storm-{venue}"))
            chaos[f"disconnect_storm/{venue}"] = {
                "drops": storm.drops, "reconnects": storm.reconnects, "fills": storm.fills_venue,
                "missed_fills": len(storm.missed_fills), "extra_fills": len(storm.extra_fills),
                "filled_venue_i": storm.filled_venue_i, "filled_ours_i": storm.filled_ours_i,
                "duplicate_ids": storm.duplicate_ids, "book_mismatches": len(storm.book_mismatch),
                "consistent_after_s": round(storm.consistent_after_s, 3),
            }  # fmt: skip
            (work / f"flood-{venue}").mkdir()
            flood = asyncio.run(run_flood(venue, work / f"flood-{venue}"))
            chaos[f"malformed_and_429/{venue}"] = {
                "malformed_counted": flood.malformed_counted, "rate_limited_made": flood.rate_limited_made,
                "rate_limited_seen": flood.rate_limited_seen, "orders": flood.orders,
                "duplicate_ids": flood.duplicate_ids, "crashed": flood.crashed or "no",
            }  # fmt: skip
    started = time.perf_counter()
    soak = asyncio.run(run_soak(1))
    chaos["soak/sim"] = {
        "virtual_s": soak.virtual_s, "steps": soak.steps, "chases": soak.chases, "filled_chases": soak.filled_chases,
        "faults": sum(soak.faults.values()), "fault_kinds": soak.faults, "violations": len(soak.violations),
        "overfills": soak.overfills, "missed_fills": soak.missed_fills, "duplicate_ids": soak.duplicate_ids,
        "wall_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous["chaos"] = {"machine": machine(), "taken": time.strftime("%Y-%m-%d"), **chaos}
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"Machine: {machine()}, taken {time.strftime('%Y-%m-%d')}\n")
    print(table(chaos))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
