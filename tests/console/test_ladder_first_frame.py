"""The ladder's first frame shows the book it was given before it was laid out (issue 18: its rows were
built only when its Resize arrived, after Textual had composed that frame, so the book showed a frame late)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.strip import Strip

from console.themes import THEME_VARIABLE_DEFAULTS
from console.widgets.ladder import DepthLadder, LadderData
from tests.console.settle import until

BOOK = LadderData(bids=[(649507, 2150), (649506, 1020)], asks=[(649509, 1490), (649510, 2130)],
                  price_decimals=1, size_decimals=4)


class _LadderApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[list[str]] = []
        """The ladder's lines, one list per pass over its rows (y 0 starts a pass)."""

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield _RecordingLadder(id="ladder")

    def on_mount(self) -> None:
        self.query_one(DepthLadder).update_book(BOOK)  # the book is there before the first layout


class _RecordingLadder(DepthLadder):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        frames = self.app.frames
        if y == 0 or not frames:
            frames.append([])
        frames[-1].append(strip.text)
        return strip


async def test_the_first_frame_after_the_first_book_shows_its_levels():
    app = _LadderApp()
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        first = app.frames[0]
        assert len(first) == app.query_one(DepthLadder).size.height
        text = "\n".join(first)
        assert "64950.7" in text and "64950.9" in text and "spread 0.2" in text, text


async def test_a_resize_rebuilds_the_rows_for_the_new_width():
    app = _LadderApp()
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        ladder = app.query_one(DepthLadder)
        await pilot.resize_terminal(30, 10)
        await until(lambda: ladder.size.width == 30, pilot, what="the ladder laid out at the new width")
        lines = [ladder.render_line(y).text for y in range(ladder.size.height)]
        assert all(len(line) == 30 for line in lines), lines
        assert any("64950.7" in line for line in lines)
