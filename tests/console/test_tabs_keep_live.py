"""The Chases and Triggers tabs list the latest ``ENDED_SHOWN`` and every older one still live: an armed stop
or a working chase no longer drops off its tab because newer ones ended (the tabs listed the last 50)."""

from __future__ import annotations

from types import SimpleNamespace as NS

from console.screens import main
from console.screens.main import ENDED_SHOWN, _live_and_latest
from tests.console.test_screen_memory import _screen


def test_the_latest_are_listed_and_every_older_live_one_before_them_in_order():
    items = [NS(id=i, is_done=i not in (3, 7)) for i in range(ENDED_SHOWN + 20)]
    shown = _live_and_latest(items)
    assert [i.id for i in shown] == [3, 7, *range(20, ENDED_SHOWN + 20)]
    assert _live_and_latest(items[:5]) == items[:5]


def test_an_armed_stop_older_than_fifty_ended_triggers_stays_on_the_triggers_tab(monkeypatch):
    screen = _screen([])
    synced: dict[str, object] = {}
    screen._triggers_table = NS(sync=lambda rows: synced.update(rows) or False)  # type: ignore[assignment]
    monkeypatch.setattr(main, "trigger_row", lambda t, md, triggers, label: (label,))
    armed = NS(id="armed", is_done=False)
    ended = [NS(id=f"t{i}", is_done=True) for i in range(ENDED_SHOWN + 10)]
    screen.runtime.triggers = NS(triggers={t.id: t for t in [armed, *ended]})
    screen._paint_triggers()
    assert "armed" in synced, "the armed stop fell off the tab"
    assert len(synced) == ENDED_SHOWN + 1
