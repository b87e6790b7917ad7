"""Rehearsing without risk, from the command line: paper trading (``--paper``, ``paper = true``) and
recording (``--record FILE``).

Plain Python (no Textual): ``cli.prepare`` calls ``apply_paper`` on the loaded settings and
``start_recording`` before the connectors are built and ``record_story`` once the runtime is;
``cli.main`` calls ``stop_recording`` at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from execution.journal import default_journal_path

if TYPE_CHECKING:
    from console.settings import Settings
    from console.settings_defaults import PlainSettings

PAPER_JOURNAL_NAME = "journal-paper.sqlite3"


def default_paper_journal_path() -> Path:
    """The paper journal's default: beside the live one, never the live one."""
    return default_journal_path().with_name(PAPER_JOURNAL_NAME)


def paper_venues(settings: Settings | PlainSettings) -> list[str]:
    return [v for v in settings.venues if v != "sim" and settings.venue_settings(v).paper]


def apply_paper(settings: Settings | PlainSettings, *, paper: bool, read_only: bool) -> list[str]:
    """Mark every listed venue paper when ``paper`` (``--paper``); then, if any venue is paper, point the
    journal at the paper journal (``paper_journal_path`` or its default) unless a watch-only console
    keeps its own in memory.  Returns the paper venues; raises ``ValueError`` when paper and live venues
    are mixed in one console (one journal, one risk state: they would share both)."""
    if paper:
        for venue in settings.venues:
            settings.venue[venue] = settings.venue_settings(venue).model_copy(update={"paper": True})
    venues = paper_venues(settings)
    if not venues:
        return []
    live = [v for v in settings.venues if v not in venues and v != "sim"]  # the sim is paper already
    if live:
        raise ValueError(
            f"paper ({', '.join(venues)}) and live ({', '.join(live)}) venues in one console: "
            "run them in two consoles (or give --paper for all)"
        )
    if not read_only:
        settings.journal_path = settings.paper_journal_path or default_paper_journal_path()
    return venues


_recorder: Any = None
_story: Any = None


def start_recording(path: Path, settings: Settings | PlainSettings, *, max_mb: float, max_minutes: float) -> Any:
    """Record every frame and REST answer of the connectors built from now on (docs/RECORDING.md)."""
    global _recorder
    from connector.record.recorder import Recorder

    venues = {
        v: {k: (str(x) if x is not None and k != "testnet" else x) for k, x in (
            ("base_url", vs.base_url), ("ws_url", vs.ws_url), ("testnet", vs.testnet))}
        for v in settings.venues or ["sim"]
        for vs in [settings.venue_settings(v)]
    }  # fmt: skip
    stop_recording()
    _recorder = Recorder(
        path, max_bytes=int(max_mb * 2**20), max_s=max_minutes * 60,
        meta={"venues": venues, "paper": bool(paper_venues(settings))},
    ).install()  # fmt: skip
    return _recorder


def record_story(runtime: Any) -> Any:
    """While recording: write the runtime's chase decisions and our order transitions too (the
    ``chase`` and ``order`` lines, docs/RECORDING.md); None when nothing is being recorded."""
    global _story
    if _recorder is None:
        return None
    from console.story import StoryRecorder

    if _story is not None:
        _story.detach()
    _story = StoryRecorder(_recorder, runtime)
    return _story


def stop_recording() -> None:
    global _recorder, _story
    if _story is not None:
        _story.detach()
        _story = None
    if _recorder is not None:
        _recorder.uninstall()
        _recorder = None


def build_replay(
    path: Path, settings: Settings, *, speed: float | None, paper: bool, venue: str | None = None
) -> tuple[Any, Any, Any]:
    """``perpdesk replay``: (runtime, clock, the replay connector) on the recording's virtual clock.  The journal lives in
    memory (a replay leaves nothing behind); with ``paper`` the trader trades against the replay."""
    from connector.paper import PaperConnector
    from connector.record.replay import ReplayConnector
    from execution.runtime import Runtime

    replay = ReplayConnector(path, venue=venue, speed=speed)
    conn: Any = PaperConnector(replay, clock=replay.clock) if paper else replay
    settings.journal_path = Path(":memory:")
    settings.dead_man_switch = False
    return Runtime({replay.venue: conn}, clock=replay.clock, settings=settings), replay.clock, replay
