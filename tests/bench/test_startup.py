"""The startup bench's baseline is today's console: its patches still find what they put back (no console is run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.startup import BASELINE_PRELUDE, DEFERRED, ROOT


def test_the_baseline_prelude_imports_the_deferred_modules_and_puts_back_the_late_start(tmp_path: Path):
    code = BASELINE_PRELUDE.format(deferred=DEFERRED) + (
        "import json\n"
        "print(json.dumps({'imported': imported, 'patched': [app.PerpdeskApp._boot.__name__,\n"
        "    app.PerpdeskApp._first_theme.__name__, styles_once.StylesOnce._on_screen_resume.__name__],\n"
        "    'plain_defaults': cli.PLAIN_DEFAULTS, 'journal': journal.Journal.__init__.__name__,\n"
        "    'textual_is': flush._textual_is.__name__}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPDESK_")}
    env |= {"PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "d")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"httpx", "websockets.asyncio.client"} <= set(seen["imported"])
    assert seen["patched"] == ["late_boot", "first_theme", "<lambda>"]
    assert seen["plain_defaults"] is False  # the settings through the pydantic models, as before
    assert seen["journal"] == "durable_journal"  # the sim's journal fsynced, as before
    assert seen["textual_is"] == "textual_is"  # Textual's version through importlib.metadata, as before
