"""The footer at 80 columns draws only whole hints, and a focus change repaints it without a layout pass
(issue 18: the last hint was cut mid-word; every focus change recomposed the footer's key widgets)."""

from __future__ import annotations

import collections

from textual.screen import Screen
from textual.widget import Widget

from console.bindings import FOOTER_FIRST, footer_rank
from console.widgets.footer import DeskFooter, Hint, fit
from tests.console.harness import make_desk, ready, settle

SMALL = (80, 24)
FOCUS_CHANGES = 30


def _footer_line(app) -> str:
    return app.screen._compositor.render_strips()[-1].text


def _hint_texts(app) -> list[str]:
    """Every hint the focused screen's bindings could show, as the footer writes it."""
    return [
        f"{app.get_key_display(binding)} {binding.description}"
        for _, binding, _, _ in app.screen.active_bindings.values()
        if binding.show
    ]


async def test_no_footer_hint_is_cut_at_80_columns_wherever_focus_is():
    desk = make_desk()
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        for keys in ((), ("4",), ("b",), ("escape", "2"), ("escape", "colon")):
            if keys:
                await pilot.press(*keys)
                await settle(desk, pilot)
            line = _footer_line(desk.app).rstrip()
            hints = _hint_texts(desk.app)
            assert line, keys
            assert any(line.endswith(text) for text in hints), f"{keys}: the footer ends mid-hint: {line!r}"
            assert len(line) <= SMALL[0]


async def test_focus_changes_repaint_the_footer_without_layout_or_recompose(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=SMALL) as pilot:
        await ready(desk, pilot)
        screen = desk.main
        footer = screen.query_one(DeskFooter)
        fields = [screen.query_one("#markets"), screen.query_one("#price"), screen.query_one("#size")]
        counts: collections.Counter[str] = collections.Counter()
        refresh, layout, recompose = Widget.refresh, Screen._refresh_layout, Widget.recompose

        def counting_refresh(self, *regions, layout=False, recompose=False, **kwargs):
            if (layout or recompose) and (self is footer or footer in self.ancestors):
                counts["footer layout or recompose"] += 1
            return refresh(self, *regions, layout=layout, recompose=recompose, **kwargs)

        def counting_layout(self, *args, **kwargs):
            counts["screen layout pass"] += 1
            return layout(self, *args, **kwargs)

        async def counting_recompose(self):
            if self is footer:
                counts["footer recompose"] += 1
            return await recompose(self)

        monkeypatch.setattr(Widget, "refresh", counting_refresh)
        monkeypatch.setattr(Screen, "_refresh_layout", counting_layout)
        monkeypatch.setattr(Widget, "recompose", counting_recompose)
        repaints = footer.repaints
        for i in range(1, FOCUS_CHANGES + 1):
            screen.set_focus(fields[i % len(fields)])
            await pilot.pause()
        changed = footer.repaints - repaints
        assert changed >= FOCUS_CHANGES // 2  # markets <-> order form: the hints did change
        assert counts["footer layout or recompose"] == 0
        assert counts["footer recompose"] == 0
        # Textual's footer: ~1 screen layout pass per focus change that changed the keys (38 over 30 here)
        assert counts["screen layout pass"] < changed // 2, counts


def test_fit_keeps_the_most_important_hints_whole_in_display_order():
    hints = [
        Hint("p", "p", "Pause/resume", True, footer_rank("chases.pause_resume")),
        Hint("ctrl+k", "^k", "Kill", True, footer_rank("risk.kill_switch")),
        Hint("q", "q", "Quit", True, footer_rank("app.quit")),
        Hint("f8", "f8", "Cancel all", True, footer_rank("order.cancel_all")),
        Hint("f1", "f1", "Help", True, footer_rank("app.help")),
    ]
    assert fit(hints, 200) == hints
    # "p Pause/resume ^k Kill q Quit f8 Cancel all f1 Help" is 51 cells: at 40 the least important go first
    kept = fit(hints, 40)
    assert [h.description for h in kept] == ["Pause/resume", "Kill", "Quit", "Help"]
    assert sum(h.width for h in kept) + len(kept) - 1 <= 40
    assert [h.description for h in fit(hints, 8)] == ["Kill"]
    assert footer_rank(FOOTER_FIRST[0]) == 0


async def test_a_click_on_a_hint_presses_its_key():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        footer = desk.main.query_one(DeskFooter)
        x = next(start for start, _, hint in footer._spans if hint.description == "Chase")
        await pilot.click(DeskFooter, offset=(x + 1, 0))
        await settle(desk, pilot)
        assert desk.app.screen is not desk.main  # t: the chase form opened
