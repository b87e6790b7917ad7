"""What ``perpdesk`` imports before its first painted book (issue 18: cold start).

The console on the sim needs no network: the venue transports' libraries (httpx, websockets) are
imported when a real venue first builds a client or opens a socket, never for the sim.  Checked in a
fresh interpreter (``sys.modules`` there), the way ``perpdesk`` starts: ``cli.prepare`` with no
arguments, then the app until its first market is painted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, json, sys
from console import cli

runtime, options = cli.prepare([])
from console.app import PerpdeskApp

app = PerpdeskApp(runtime, **options)


async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 60)
        await pilot.pause()
        await pilot.pause()
        painted = app.main_screen.selected
        loaded = sorted({m.partition(".")[0] for m in sys.modules} & set(sys.argv[1:]))
        print(json.dumps({"painted": list(painted) if painted else None, "loaded": loaded}))
        await app.action_quit()


asyncio.run(main())
"""


def _first_paint_modules(tmp_path: Path, watched: tuple[str, ...]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPDESK_")}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD, *watched], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_sim_console_paints_its_first_book_without_the_network_libraries_or_pydantic_settings(tmp_path):
    seen = _first_paint_modules(tmp_path, ("httpx", "httpcore", "websockets", "pydantic_settings", "dotenv"))
    assert seen["painted"] == ["sim", "BTC"]
    assert seen["loaded"] == []
