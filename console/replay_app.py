"""The console on a replay (``perpdesk replay``): the desk plus keys that steer the playback, and a
Replay tab that tells the recorded chases' decisions and our orders' transitions step by step."""

from __future__ import annotations

from typing import Any

from textual.widgets import TabbedContent, TabPane

from console import bindings
from console.app import PerpdeskApp
from console.story import StoryLog
from console.widgets.replay_story import ReplayStoryTable


class ReplayApp(PerpdeskApp):
    """``replay`` is the ``connector.record.replay.ReplayConnector`` the runtime watches (directly or
    behind a paper account)."""

    BINDINGS = bindings.FOR_REPLAY  # beside the desk's (Textual merges a class's bindings with its bases')

    def __init__(self, runtime: Any, *, replay: Any, **options: Any) -> None:
        super().__init__(runtime, **options)
        self.replay = replay
        self.story = StoryLog(runtime.market_data)
        """The Replay tab's rows: the recording's ``chase`` and ``order`` lines as the replay passes them."""
        replay.add_story_listener(self.story.tell)

    def on_mount(self) -> None:  # PerpdeskApp.on_mount runs too (Textual calls each class's handler)
        self.main_screen.call_later(self._add_story_tab)

    async def _add_story_tab(self) -> None:
        tabs = self.main_screen.query_one("#tabs", TabbedContent)
        await tabs.add_pane(TabPane("Replay 8", ReplayStoryTable(self.story, id="replay-table"), id="replay"))

    def _say(self, what: str) -> None:
        speed = f"×{self.replay.speed:g}" if self.replay.speed else "as fast as it goes"
        self.notify(f"replay {what} ({self.replay.played}/{len(self.replay.frames)} frames, {speed})", timeout=2)

    def action_replay_pause(self) -> None:
        if self.replay.paused:
            self.replay.resume()
            self._say("playing")
        else:
            self.replay.pause()
            self._say("paused")

    def action_replay_step(self) -> None:
        if not self.replay.paused:
            self.replay.pause()
        self.replay.step()
        self._say("stepped one frame")

    def action_replay_speed(self, factor: float) -> None:
        if factor > 1:
            self.replay.faster()
        else:
            self.replay.slower()
        self._say("speed")
