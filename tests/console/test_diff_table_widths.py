"""A DiffTable's columns are as wide as their widest shown cell after every change, whenever Textual's
idle pass runs (issue 18: the snapshot tests saw a column one cell wider or narrower from run to run)."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult

from console.widgets.diff_table import DiffTable

COLUMNS = [("id", "Id"), ("status", "Status"), ("note", "N")]


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffTable(COLUMNS, id="t")


def _widths(table: DiffTable) -> list[int]:
    return [column.content_width for column in table.ordered_columns]


def _widest(rows: dict[str, tuple[str, ...]]) -> list[int]:
    return [max([len(label)] + [len(cells[i]) for cells in rows.values()]) for i, (_, label) in enumerate(COLUMNS)]


async def test_a_column_narrows_again_when_its_widest_row_goes():
    app = _TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DiffTable)
        rows = {"a": ("1", "open", "x"), "b": ("2", "partially filled", "y")}
        table.sync(rows)
        await pilot.pause()  # Textual's idle pass measures the wide row
        del rows["b"]
        table.sync(rows)
        await pilot.pause()
        assert _widths(table) == _widest(rows) == [2, 6, 1]


async def test_a_cell_made_wider_then_narrower_between_idle_passes():
    app = _TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DiffTable)
        table.sync({"a": ("1", "open", "x")})
        await pilot.pause()
        table.sync({"a": ("1", "cancel requested", "x")})
        await pilot.pause()
        assert _widths(table) == [2, 16, 1]
        table.sync({"a": ("1", "open", "x")})
        assert _widths(table) == [2, 6, 1]  # at once, not on the next idle pass
        await pilot.pause()
        assert _widths(table) == [2, 6, 1]


async def test_widths_follow_the_widest_cell_through_random_updates():
    rng = random.Random(18)
    app = _TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(DiffTable)
        rows: dict[str, tuple[str, ...]] = {}
        for step in range(200):
            key = f"r{rng.randrange(12)}"
            if key in rows and rng.random() < 0.4:
                del rows[key]
            else:
                rows[key] = tuple("w" * rng.randrange(1, 20) for _ in COLUMNS)
            table.sync(dict(rows))
            if rng.random() < 0.5:  # an idle pass between some updates and not others
                await pilot.pause()
            assert _widths(table) == _widest(rows), f"step {step}"
        await pilot.pause()
        assert _widths(table) == _widest(rows)
        assert table.virtual_size.width == sum(w + 2 * table.cell_padding for w in _widest(rows))


async def test_appended_rows_dropped_past_keep_narrow_their_columns():
    app = _TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DiffTable)
        table.append("0", ("0", "a very long message", "x"), keep=2)
        await pilot.pause()
        table.append("1", ("1", "short", "x"), keep=2)
        table.append("2", ("2", "short", "x"), keep=2)
        await pilot.pause()
        assert _widths(table) == [2, 6, 1]
