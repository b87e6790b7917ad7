"""The touch line above the ladder (``#top``): a new text repaints one line, laid out once per text, never
a layout pass (issue 18: as a ``Static`` it laid its text out on every frame it was drawn)."""

from __future__ import annotations

import collections

from textual.app import App, ComposeResult
from textual.widget import Widget

from console.widgets.one_line import OneLine
from tests.console.harness import make_desk, ready, settle

TICKS = 40


class _LineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OneLine("64950.7 │ 64950.9", id="top")


def _count_layouts(monkeypatch, widget: Widget) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    refresh = Widget.refresh

    def counting(self, *regions, layout=False, recompose=False, **kwargs):
        if self is widget:
            counts["repaint"] += 1
            counts["layout"] += bool(layout or recompose)
        return refresh(self, *regions, layout=layout, recompose=recompose, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counting)
    return counts


async def test_a_line_redrawn_without_a_new_text_is_not_laid_out_again(monkeypatch):
    app = _LineApp()
    async with app.run_test(size=(40, 3)) as pilot:
        line = app.query_one(OneLine)
        await pilot.pause()
        built = line.strips_built
        counts = _count_layouts(monkeypatch, line)
        for _ in range(20):
            line.update("64950.7 │ 64950.9")  # the same text: nothing at all
        assert counts["repaint"] == 0
        for _ in range(20):
            line.refresh()  # drawn again (another widget's change in the same region, a theme …)
            await pilot.pause()
        assert line.strips_built == built
        for n in range(20):
            line.update(f"64950.{n} │ 64950.9")
            await pilot.pause()
        assert line.strips_built == built + 20
        assert counts["layout"] == 0
        assert line.render_line(0).text.startswith("64950.19 │ 64950.9")
        assert line.render_line(0).cell_length == line.size.width


async def test_book_ticks_lay_the_top_line_out_once_per_text_and_never_request_a_layout(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        top = desk.main.query_one("#top", OneLine)
        counts = _count_layouts(monkeypatch, top)
        built = top.strips_built
        texts = set()
        for _ in range(TICKS):
            desk.venue.tick(1)
            await settle(desk, pilot)
            texts.add(top.text)
        assert len(texts) > 1  # the touch moved
        assert counts["layout"] == 0
        assert top.strips_built - built <= counts["repaint"] <= TICKS
