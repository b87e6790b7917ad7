"""A DataTable that is given the whole wanted content and changes only what differs.

DataTable repaints every visible cell when any cell changes, so it is kept for low-churn
views (orders, positions, fills) and fed diffs: rows added, rows removed, changed cells
updated one by one.  Unchanged rows cost nothing.

Column widths are the table's own: after every change, each column is exactly as wide as its widest
shown cell (or its label).  Textual's DataTable sets them on its idle pass, from the cells changed
since the last one, and never narrows a column when a row goes: a row added and removed again (or a
cell made wider and its row removed) left the column wider or not depending on whether an idle pass
ran in between, so the same updates could show a column one cell wider, or cut short.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import ColumnKey

from console import bindings

Cell = str | Text

CELL_CACHE = 600
"""Rendered cells a table keeps (Textual's default 10,000): a 60-row screen of ten columns.  Textual keys
each cell by the table's update count, so a cell rendered before the last change is never read again: what
is worth keeping is one screen's worth.  At 2,000 the orders table took the soak's typist ~8 minutes to fill
(649 bytes a cell, 1.3 MB a table), the heap growing all that while."""
LINE_CACHE = 100
"""Rendered rows and lines a table keeps (Textual's default 1,000 each): a 40-row screen's worth, twice
over.  300 took the soak's typist 25 minutes to fill (the orders, fills and log tables, each row a list
of rendered cells), the heap growing all that while."""
APPEND_KEEP = 100
"""Rows an appending table (fills, log) keeps, the oldest dropped (the journal keeps every fill): a few
screens' worth.  500 took the soak's typist half an hour of fills to fill, the heap growing all along."""


class DiffTable(DataTable):
    DEFAULT_CSS = """
    DiffTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._all_columns = list(columns)
        self._columns = list(columns)
        self._pick: list[int] | None = None
        """Indexes of the shown columns in the rows given (None: all of them, see ``show_only``)."""
        self._given: dict[str, tuple[Cell, ...]] = {}
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self.cell_updates = 0
        self._widths: dict[str, Counter[int]] = {}
        """Column key -> how many shown cells have each width: the column's width is the largest."""
        self._label_widths: dict[str, int] = {}
        # Textual 8.2.8 keys these caches by the table's update count, so each change leaves the entries
        # of the last one behind until the LRU pushes them out: over a long session every table filled
        # 10,000 rendered cells and 1,000 lines (each a Strip, with seven caches of its own until
        # ``console.strip_caches``), several MB a table.  What is on screen, with the cursor and hover
        # variants, fits in far less.
        self._cell_render_cache.maxsize = CELL_CACHE
        for cache in (self._row_render_cache, self._row_renderable_cache, self._line_cache):
            cache.maxsize = LINE_CACHE

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self._widths = {key: Counter() for key, _ in self._columns}
        for key, label in self._columns:
            self.add_column(label, key=key)
        self._label_widths = {key: self._cell_width(self.columns[ColumnKey(key)].label) for key, _ in self._columns}

    def _cell_width(self, cell: Cell) -> int:
        """The width DataTable measures for ``cell`` in a one-line row."""
        return measure(self.app.console, default_cell_formatter(cell, wrap=False, height=1), 1)

    def _count(self, cells: Sequence[Cell], step: int) -> None:
        for (key, _), cell in zip(self._columns, cells, strict=True):
            widths = self._widths[key]
            width = self._cell_width(cell)
            widths[width] += step
            if not widths[width]:
                del widths[width]

    def _fit_columns(self) -> None:
        """Each column exactly as wide as its widest shown cell or its label, now (not on Textual's idle pass)."""
        changed = False
        for key, widths in self._widths.items():
            column = self.columns.get(ColumnKey(key))
            if column is None:
                continue
            want = max(self._label_widths[key], max(widths, default=0))
            if column.content_width != want:
                column.content_width = want
                changed = True
        if changed:
            self._update_dimensions(())  # the virtual size, from the new widths
            self.refresh()

    def show_only(self, keys: Sequence[str] | None) -> None:
        """Fold the table to the columns ``keys`` (None: every column), keeping its rows: rows given
        to ``sync`` keep every column's cell, the table shows the picked ones (a narrow terminal)."""
        pick = None if keys is None else [i for i, (k, _) in enumerate(self._all_columns) if k in keys]
        if pick == self._pick:
            return
        self._pick = pick
        self._columns = [self._all_columns[i] for i in pick] if pick is not None else list(self._all_columns)
        if not self.is_mounted:
            return
        cursor = self.cursor_row
        self.clear(columns=True)
        self._shown.clear()
        self._add_columns()
        given, self._given = self._given, {}
        self.sync(given)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> list[str]:
        """Make the table show exactly ``rows`` (key -> cells), touching only what changed; returns new keys."""
        added: list[str] = []
        for key in [k for k in self._shown if k not in rows]:
            self.remove_row(key)
            self._count(self._shown.pop(key), -1)
            self._given.pop(key, None)
        for key, cells in rows.items():
            cells = self._given[key] = tuple(cells)
            if self._pick is not None:
                cells = tuple(cells[i] for i in self._pick)
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                added.append(key)
            elif old != cells:
                self._count(old, -1)
                for (col, _), a, b in zip(self._columns, old, cells, strict=True):
                    if a != b:
                        self.update_cell(key, col, b)
                        self.cell_updates += 1
            else:
                continue
            self._count(cells, 1)
            self._shown[key] = cells
        self._fit_columns()
        return added

    def append(self, key: str, cells: Sequence[Cell], *, keep: int = APPEND_KEEP) -> bool:
        """Add one row at the bottom (fills, log) and drop the oldest beyond ``keep``; False if ``key`` is shown."""
        if key in self._shown:
            return False
        self.add_row(*cells, key=key)
        self._shown[key] = cells = tuple(cells)
        self._count(cells, 1)
        while len(self._shown) > keep:
            oldest = next(iter(self._shown))
            self.remove_row(oldest)
            self._count(self._shown.pop(oldest), -1)
        self._fit_columns()
        return True

    @property
    def selected_key(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value


class ChasesTable(DiffTable):
    """The chases panel: its keys (``bindings.FOR_CHASES_TABLE``) act on the selected chase."""

    BINDINGS = bindings.FOR_CHASES_TABLE
