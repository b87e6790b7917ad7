"""The Replay tab of ``perpdesk replay``: each chase's decision and reason, and our orders'
transitions, as the recording passes them (``console.story.StoryLog``), beside the replayed book of
that moment.  Stepping with ``.`` adds the rows the recording wrote after that frame."""

from __future__ import annotations

from console.story import STORY_COLUMNS, StoryLog
from console.widgets.diff_table import DiffTable


class ReplayStoryTable(DiffTable):
    def __init__(self, story: StoryLog, *, id: str | None = None) -> None:
        super().__init__(STORY_COLUMNS, id=id)
        self.story = story

    def on_mount(self) -> None:  # after DiffTable's own on_mount (Textual calls each class's handler)
        for key, cells in self.story.rows:
            self.append(key, cells, keep=self.story.keep)
        self.story.on_row = self._add
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def on_unmount(self) -> None:
        if self.story.on_row == self._add:
            self.story.on_row = None

    def _add(self, key: str, cells: tuple[str, ...]) -> None:
        self.append(key, cells, keep=self.story.keep)
        self.move_cursor(row=self.row_count - 1)
