"""A table's render caches stay a screen's worth however often its rows change (issue 18's soak).

Textual 8.2.8 keys a DataTable's cell, row and line caches by the table's update count, so every change
leaves the last one's entries behind until the LRU pushes them out: 10,000 cells and 1,000 lines (Strips
with caches of their own) a table, several MB each over a long session.  ``DiffTable`` keeps fewer."""

from __future__ import annotations

from textual.app import App, ComposeResult

from console.widgets.diff_table import CELL_CACHE, LINE_CACHE, DiffTable

COLUMNS = [(f"c{i}", f"C{i}") for i in range(8)]
ROWS = 30
SYNCS = 60


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffTable(COLUMNS, id="t")


async def test_a_table_changed_every_frame_keeps_its_caches_bounded():
    app = _TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DiffTable)
        for n in range(SYNCS):  # every cell changes every time: ~240 new cells on screen a frame
            table.sync({f"r{r}": [f"{n}.{r}.{c}" for c in range(len(COLUMNS))] for r in range(ROWS)})
            await pilot.pause()
        # full: the frames rendered more cells than it keeps (Textual's own kept up to 10,000)
        assert len(table._cell_render_cache) == CELL_CACHE
        assert len(table._line_cache) <= LINE_CACHE and len(table._row_render_cache) <= LINE_CACHE
        assert len(table._row_renderable_cache) <= 100  # 300 took a typist 25 minutes to fill (issue 18's soak)


async def test_an_appending_table_keeps_its_last_hundred_rows():
    """Fills and log lines: a few screens' worth (500 took the soak's typist half an hour to fill)."""
    app = _TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DiffTable)
        for n in range(150):
            table.append(f"k{n}", [f"{n}.{c}" for c in range(len(COLUMNS))])
        await pilot.pause()
        assert table.row_count == 100
        assert table.selected_key is None or table.selected_key.startswith("k")
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == "k50"
