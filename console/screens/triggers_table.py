"""The Triggers tab's table: its keys (``bindings.FOR_TRIGGERS_TABLE``) act on the selected trigger."""

from __future__ import annotations

from console import bindings
from console.widgets.diff_table import DiffTable


class TriggersTable(DiffTable):
    """Cancel the selected trigger, or move it a tick up or down."""

    BINDINGS = bindings.FOR_TRIGGERS_TABLE
