"""What ``perpdesk`` imports before its first painted book (issue 18: cold start).

The console on the sim needs no network: the venue transports' libraries (httpx, websockets) are
imported when a real venue first builds a client or opens a socket, never for the sim.  Checked in a
fresh interpreter (``sys.modules`` there), the way ``perpdesk`` starts: ``cli.prepare`` with no
arguments, then the app until its first market is painted.
"""

from __future__ import annotations

import asyncio
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
        loaded = sorted(({m.partition(".")[0] for m in sys.modules} | set(sys.modules)) & set(sys.argv[1:]))
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


SETTINGS_MODELS = ("pydantic", "pydantic_core", "annotated_types", "console.settings", "execution.config",
                   "connector.config", "console.alert_settings")
"""Validation and the settings models: a start with nothing to read takes plain defaults
(``console.settings_defaults``); the models load with a config file or a ``PERPDESK_*`` setting."""


def test_the_first_book_is_painted_without_importlib_metadata(tmp_path):
    """``console.flush`` checks the Textual it was written for by its ``dist-info`` (one stat), not by
    ``textual.__version__``, which imports ``importlib.metadata`` and scans every distribution on the
    first flush, before the first book is painted."""
    from console.flush import _textual_fits

    assert _textual_fits()  # the check still passes, so the frames are still composed on the flush
    seen = _first_paint_modules(tmp_path, ("importlib.metadata",))
    assert seen["painted"] == ["sim", "BTC"]
    assert seen["loaded"] == []


def test_the_textual_check_refuses_another_version():
    from console.flush import TEXTUAL, _textual_is

    assert _textual_is(TEXTUAL)
    assert not _textual_is("0.0.1")


def test_with_nothing_to_read_the_first_book_is_painted_without_pydantic_or_the_settings_models(tmp_path):
    seen = _first_paint_modules(tmp_path, SETTINGS_MODELS)
    assert seen["painted"] == ["sim", "BTC"]
    assert seen["loaded"] == []


def test_a_config_file_still_loads_the_settings_models_before_the_first_paint(tmp_path):
    config = tmp_path / "config" / "perpdesk" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('theme = "perpdesk-light"\n')
    seen = _first_paint_modules(tmp_path, SETTINGS_MODELS)
    assert seen["painted"] == ["sim", "BTC"]
    assert {"pydantic", "console.settings", "execution.config"} <= set(seen["loaded"])


async def test_the_runtime_starts_while_the_screen_composes_and_the_market_opens_before_the_first_layout():
    """The start no longer waits for the screen: the runtime starts while Textual composes the screen,
    and the first market opens on the mounted widgets before their first layout pass (so the first
    frame has it), never before the runtime's start has finished (the journal's run recorded, the
    restores done: nothing trades on a market the journal has not restored)."""
    from tests.console.harness import make_desk

    desk = make_desk()
    seen: dict[str, object] = {}
    layouts = 0
    start, open_market, lay_out = desk.runtime.start, desk.main.open, desk.main._refresh_layout

    async def start_runtime():
        seen["screen mounted when the runtime started"] = desk.main.is_mounted
        await start()

    def open_first(markets, selected):
        seen["run recorded when the market opened"] = desk.runtime.run_id is not None
        seen["layout passes before the market opened"] = layouts
        open_market(markets, selected)

    def refresh_layout(*args, **kwargs):
        nonlocal layouts
        layouts += 1
        return lay_out(*args, **kwargs)

    desk.runtime.start = start_runtime
    desk.main.open = open_first
    desk.main._refresh_layout = refresh_layout
    async with desk.app.run_test(size=(120, 40)):
        await asyncio.wait_for(desk.app.ready.wait(), 30)
        assert desk.main.selected == ("sim", "BTC")
        await desk.app.action_quit()
    assert seen == {
        "screen mounted when the runtime started": False,
        "run recorded when the market opened": True,
        "layout passes before the market opened": 0,
    }


async def test_the_first_resume_keeps_the_styles_the_mount_applied_and_a_later_resume_refreshes_them():
    """Textual resumes the default screen right after its mount and would apply every node's styles a
    second time (``console.screens.styles_once``); a later resume refreshes them as before."""
    from textual import events

    from tests.console.harness import make_desk, settle

    desk = make_desk()
    refreshed = 0
    update_node_styles = desk.main.update_node_styles

    def counting(*args, **kwargs):
        nonlocal refreshed
        refreshed += 1
        return update_node_styles(*args, **kwargs)

    desk.main.update_node_styles = counting
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(desk.app.ready.wait(), 30)
        await settle(desk, pilot)
        at_start = refreshed
        desk.main.post_message(events.ScreenResume())  # as a switch back to the screen sends it
        await settle(desk, pilot)
        later = refreshed
        await desk.app.action_quit()
    assert at_start == 0
    assert later >= 1


async def test_the_theme_is_set_before_the_first_parse_so_the_stylesheet_is_never_reparsed_at_start(monkeypatch):
    """``PerpdeskApp._first_theme``: the chosen theme's classes and variables are in place before Textual
    parses any CSS, so its theme watcher's full reparse and restyle is not queued at start; the screen
    is drawn in the chosen theme (its colours, its light/dark class)."""
    from textual.css.stylesheet import Stylesheet

    from tests.console.harness import make_desk, settle

    reparsed = 0
    reparse = Stylesheet.reparse

    def counting(self, *args, **kwargs):
        nonlocal reparsed
        reparsed += 1
        return reparse(self, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "reparse", counting)
    desk = make_desk(theme="perpdesk-light")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(desk.app.ready.wait(), 30)
        await settle(desk, pilot)
        theme = desk.app.current_theme
        assert theme.name == "perpdesk-light"
        assert {"-theme-perpdesk-light", "-light-mode"} <= desk.app.classes
        assert "-dark-mode" not in desk.app.classes
        assert desk.app.stylesheet._variables["price-up"] == theme.variables["price-up"]
        started = reparsed
        desk.app.theme = "perpdesk-dark"  # a theme chosen live still restyles everything
        await settle(desk, pilot)
        assert reparsed == started + 1
        assert "-dark-mode" in desk.app.classes
        await desk.app.action_quit()
    assert started == 0


def test_perpdesk_starts_with_the_collector_off_and_a_bad_input_turns_it_back_on(monkeypatch, capsys):
    """``cli.QUIET_COLLECTOR_AT_START``: no collection while the start builds its long-lived heap; a start
    that stops at a bad input leaves the collector as it found it."""
    import gc

    from console import cli

    seen = []

    def prepare(argv):
        seen.append(gc.isenabled())
        raise cli.BadInput("no such thing")

    monkeypatch.setattr(cli, "prepare", prepare)
    assert gc.isenabled()
    try:
        assert cli.main([]) == cli.EXIT_BAD_INPUT
        assert seen == [False]
        assert gc.isenabled()
    finally:
        gc.enable()
    assert "no such thing" in capsys.readouterr().err


async def test_the_collector_is_on_again_once_the_heap_has_settled(monkeypatch):
    """``PerpdeskApp._settle_heap``: the collector ``perpdesk`` turned off for the start is on again after
    the heap settles (a second after the first market opens)."""
    import gc

    from console import heap
    from tests.console.harness import make_desk, ready

    settled = asyncio.Event()
    monkeypatch.setattr(heap, "settle", settled.set)
    desk = make_desk(long_lived_heap=True)
    gc.disable()
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            await ready(desk, pilot)
            await asyncio.wait_for(settled.wait(), 10)
            assert gc.isenabled()
            await desk.app.action_quit()
    finally:
        gc.enable()


async def test_the_collector_is_on_again_even_if_no_market_ever_opens(monkeypatch):
    """A venue that never answers keeps the first market from opening: the backstop turns the collector on."""
    import gc

    from console import app as app_module
    from tests.console.harness import make_desk

    monkeypatch.setattr(app_module, "COLLECTOR_BACKSTOP_S", 0.05)
    monkeypatch.setattr(app_module.PerpdeskApp, "_open_first_market", lambda self: None)
    desk = make_desk(long_lived_heap=True)
    gc.disable()
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            for _ in range(200):
                if gc.isenabled():
                    break
                await pilot.pause(0.05)
            assert gc.isenabled()
            await desk.app.action_quit()
    finally:
        gc.enable()
