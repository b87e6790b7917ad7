"""The main screen's flush: a fixed beat plus a leading edge (``console.flush.Flusher``), on a fake clock."""

from __future__ import annotations

import time

from textual import messages
from textual.geometry import Region

from console.flush import FRAME_S, Flusher
from tests.console.harness import make_desk, ready
from tests.console.settle import until


class Node:
    """What the flusher needs of a screen: its queue and its timers, run by hand."""

    def __init__(self) -> None:
        self.next: list = []
        self.timers: list = []
        self.interval = None

    def set_interval(self, period, callback):
        self.interval = (period, callback)
        return self.interval

    def call_next(self, callback) -> None:
        self.next.append(callback)

    def set_timer(self, delay, callback, name=""):
        node = self

        class Timer:
            def stop(self) -> None:
                if self in node.timers:
                    node.timers.remove(self)

        timer = Timer()
        timer.delay, timer.callback = delay, callback
        self.timers.append(timer)
        return timer


def _flusher():
    clock = [100.0]
    node, flushed = Node(), []
    flusher = Flusher(node, lambda: flushed.append(clock[0]), hz=25, now=lambda: clock[0])
    return flusher, node, flushed, clock


def test_a_change_after_a_quiet_frame_is_flushed_as_the_next_thing_the_screen_does():
    flusher, node, flushed, _clock = _flusher()
    flusher.poke()
    flusher.poke()  # already queued: one flush
    assert len(node.next) == 1 and node.timers == []
    node.next.pop()()
    assert flushed == [100.0]


def test_changes_within_a_frame_of_the_last_flush_wait_for_its_end_once():
    flusher, node, flushed, clock = _flusher()
    flusher.poke()
    node.next.pop()()
    clock[0] += FRAME_S / 4
    for _ in range(50):
        flusher.poke()
    assert node.next == [] and len(node.timers) == 1
    assert abs(node.timers[0].delay - FRAME_S * 3 / 4) < 1e-9
    clock[0] += FRAME_S * 3 / 4
    node.timers[0].callback()
    assert len(flushed) == 2 and node.timers == []
    flusher.poke()  # the frame that flush began has not ended: wait again
    assert len(node.timers) == 1


def test_the_fixed_beat_paints_on_time_and_skips_a_beat_right_after_a_flush():
    _, node, flushed, clock = _flusher()
    period, beat = node.interval
    assert period == 1 / 25
    beat()
    assert len(flushed) == 1
    clock[0] += FRAME_S / 2
    beat()
    assert len(flushed) == 1
    clock[0] += FRAME_S
    beat()
    assert len(flushed) == 2


def test_without_the_leading_edge_only_the_beat_flushes(monkeypatch):
    monkeypatch.setattr(Flusher, "leading_edge", False)
    flusher, node, flushed, _clock = _flusher()
    flusher.poke()
    assert node.next == [] and node.timers == []
    _, beat = node.interval
    beat()
    beat()
    assert len(flushed) == 2


async def test_a_book_tick_reaches_the_ladder_without_waiting_for_the_beat():
    desk = make_desk(flush_hz=0.5)  # a beat every 2 s: only the leading edge can paint sooner
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        flusher = desk.main.flusher
        before = flusher.flushes
        desk.venue.tick(1)
        for _ in range(20):
            await pilot.pause()
            if flusher.flushes > before:
                break
        assert flusher.flushes > before


async def test_book_ticks_and_the_account_beat_run_no_layout_pass():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen = desk.main
        await pilot.pause()
        layouts: list[object] = []
        refresh_layout = screen._refresh_layout
        screen._refresh_layout = lambda *a, **k: (layouts.append(a), refresh_layout(*a, **k))[1]
        ladder = screen._ladder
        rows = ladder.repainted_rows
        for _ in range(30):  # the book moves; the beat repaints the account every flush_hz frames
            desk.venue.tick(5)
            screen.flush()
            await pilot.pause()
        assert ladder.repainted_rows > rows  # the ladder did repaint
        assert layouts == []


async def test_the_ladder_redraws_its_rows_when_its_style_changes():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        ladder = desk.main._ladder
        await pilot.pause()
        level = next(y for y, row in enumerate(ladder._rows) if row[0] == "bid")
        before = ladder.render_line(level)
        desk.app.theme = next(t for t in desk.app.available_themes if t != desk.app.theme and "light" in t)
        await pilot.pause()
        after = ladder.render_line(level)
        assert before.text == after.text and list(before) != list(after)


async def test_a_following_price_repainted_by_book_ticks_causes_no_layout_pass():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        entry = desk.main._entry
        entry.prefill_price("100.5")
        await pilot.pause()
        assert entry.following
        layouts: list[object] = []
        refresh_layout = desk.main._refresh_layout
        desk.main._refresh_layout = lambda *a, **k: (layouts.append(a), refresh_layout(*a, **k))[1]
        for _ in range(3):  # book ticks that leave the touch where it was (sizes move): the form stays as it is
            entry.prefill_price("100.5", only_if_untouched=True)
            await pilot.pause()
        assert entry.following and layouts == []


def _count_frames(screen, ladder, drawn=None):
    """Wrap the screen's frame composition: each frame as (in the flusher's own turn, ladder lines it drew);
    the text of every ladder line drawn goes to ``drawn``."""
    frames: list[tuple[bool, int]] = []
    inside = [False]
    refresh = screen._compositor_refresh
    drawn = [] if drawn is None else drawn
    render_line = ladder.render_line

    def noted_line(y):
        strip = render_line(y)
        drawn.append(strip.text)
        return strip

    ladder.render_line = noted_line

    def counted() -> None:
        lines = len(drawn)
        refresh()
        frames.append((inside[0], len(drawn) - lines))

    screen._compositor_refresh = counted
    flusher = screen.flusher
    run = flusher._run

    def in_turn() -> None:
        inside[0] = True
        try:
            run()
        finally:
            inside[0] = False

    flusher._run = in_turn  # what poke queues and the beat calls
    return frames


async def test_one_book_change_on_a_quiet_screen_is_one_frame_composed_in_the_flush_s_own_turn():
    desk = make_desk(flush_hz=0.5)  # the beat every 2 s: the book change's poke flushes
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen, ladder = desk.main, desk.main._ladder
        md = desk.runtime.market_data
        symbol = desk.main.selected[1]
        # A change the clock makes elsewhere on the screen (the header's ages) can leave a layout pending
        # when the flush comes, and then the frame is rightly Textual's: try a few book changes until one
        # meets a screen with nothing else pending (on a quiet machine, the first).
        for _ in range(5):
            await until(lambda: not (screen._layout_required or screen._repaint_required), pilot, what="quiet")
            drawn: list[str] = []
            frames = _count_frames(screen, ladder, drawn)
            flushes, left = screen.flusher.flushes, screen.flusher.left_to_timer
            before = md.book("sim", symbol).bids(40)
            while md.book("sim", symbol).bids(40) == before:
                desk.venue.tick(1)
            # the poke flushes at once, or at the end of the frame of the last flush (a timer: wall time)
            await until(lambda n=flushes: screen.flusher.flushes > n, pilot, what="the book change flushed")
            for _ in range(3):
                await pilot.pause()
            assert screen.flusher.flushes == flushes + 1
            del screen._compositor_refresh, ladder.render_line, screen.flusher._run  # _count_frames' wrappers
            if screen.flusher.left_to_timer == left:
                break
        assert screen.flusher.left_to_timer == left
        with_rows = [f for f in frames if f[1]]
        assert with_rows == [(True, with_rows[0][1])]  # one frame drew the ladder, in the flush's turn
        bid, _ask = md.top_of_book("sim", symbol)
        assert any(md.format_price("sim", symbol, bid) in text for text in drawn)


async def test_a_burst_of_book_changes_composes_at_most_one_frame_per_flush_and_frame_period():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen, ladder = desk.main, desk.main._ladder
        await pilot.pause()
        frames = _count_frames(screen, ladder)
        flushes = screen.flusher.flushes
        t0 = time.perf_counter()
        for i in range(600):
            desk.venue.tick(1)
            if i % 20 == 0:
                await pilot.pause()
        for _ in range(3):
            await pilot.pause()
        elapsed = time.perf_counter() - t0
        flushed = screen.flusher.flushes - flushes
        ladder_frames = [f for f in frames if f[1]]
        assert 1 <= len(ladder_frames) <= flushed <= elapsed / FRAME_S + 1
        assert all(in_turn for in_turn, _ in ladder_frames)  # none waited for Textual's own timer
        assert len(frames) < 600


async def test_without_composing_in_turn_textual_s_timer_composes_the_flush_s_frame(monkeypatch):
    monkeypatch.setattr(Flusher, "compose_in_turn", False)
    desk = make_desk(flush_hz=0.5)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen, ladder = desk.main, desk.main._ladder
        for _ in range(3):
            await pilot.pause()
        frames = _count_frames(screen, ladder)
        md = desk.runtime.market_data
        before = md.book("sim", desk.main.selected[1]).bids(40)
        while md.book("sim", desk.main.selected[1]).bids(40) == before:
            desk.venue.tick(1)
        for _ in range(10):
            await pilot.pause()
        assert [in_turn for in_turn, rows in frames if rows] == [False]
        assert screen.flusher.composed == 0


async def test_a_widget_already_waiting_for_textual_s_timer_is_left_to_it_not_boxed_into_the_book_s_frame():
    desk = make_desk(flush_hz=0.5)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen, ladder, status = desk.main, desk.main._ladder, desk.main._status_bar
        for _ in range(3):
            await pilot.pause()
        frames = _count_frames(screen, ladder)
        boxes: list[Region] = []  # per frame: the box Textual composes (around every dirty region)
        render_update = screen._compositor.render_update

        def boxed(*args, **kwargs):
            dirty = screen._compositor._dirty_regions
            boxes.append(Region.from_union(list(dirty)) if dirty else Region())
            return render_update(*args, **kwargs)

        screen._compositor.render_update = boxed
        status.refresh()  # the header changed, and the screen has heard: its update timer is due
        status._check_refresh()
        await screen._on_update(messages.Update(status))
        assert status in screen._dirty_widgets
        md, symbol = desk.runtime.market_data, desk.main.selected[1]
        before = md.book("sim", symbol).bids(40)
        while md.book("sim", symbol).bids(40) == before:
            desk.venue.tick(1)
        screen.flusher._run()  # the book's flush, in this turn
        assert [(in_turn, bool(lines)) for in_turn, lines in frames] == [(True, True)]
        assert boxes[0].overlaps(ladder.region) and not boxes[0].overlaps(status.region)
        for _ in range(5):
            await pilot.pause()
        assert [in_turn for in_turn, _ in frames[1:]] == [False] * (len(frames) - 1)
        assert any(box.overlaps(status.region) for box in boxes[1:])  # Textual's timer composed the header


async def test_under_a_dialog_the_book_s_frame_is_left_to_textual():
    from textual.screen import ModalScreen

    desk = make_desk(flush_hz=0.5)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen, flusher = desk.main, desk.main.flusher
        await desk.app.push_screen(ModalScreen())
        await pilot.pause()
        composed, left = flusher.composed, flusher.left_to_timer
        md, symbol = desk.runtime.market_data, desk.main.selected[1]
        before = md.book("sim", symbol).bids(40)
        while md.book("sim", symbol).bids(40) == before:
            desk.venue.tick(1)
        flusher._run()
        assert (flusher.composed, flusher.left_to_timer) == (composed, left + 1)
        desk.app.pop_screen()
        await pilot.pause()
        assert screen.is_current


async def test_a_failing_private_call_leaves_the_frame_to_textual_and_the_console_running(monkeypatch, caplog):
    """``compose_now`` calls into Textual's private screen update: if one of those calls raises (a Textual
    that differs after all), the console keeps running, Textual's timer composes from then on, and the
    widgets whose repaint flag was cleared before the failure are still repainted."""
    from textual._compositor import Compositor

    from console import flush

    monkeypatch.setattr(flush, "_unfit", [])
    flush._textual_fits.cache_clear()
    desk = make_desk(flush_hz=0.5)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        flusher, ladder = desk.main.flusher, desk.main.query_one("#ladder")

        def broken(self, widgets):
            raise RuntimeError("not the Textual compose_now was written for")

        monkeypatch.setattr(Compositor, "update_widgets", broken)
        left = flusher.left_to_timer
        md, symbol = desk.runtime.market_data, desk.main.selected[1]
        before = md.book("sim", symbol).bids(40)
        while md.book("sim", symbol).bids(40) == before:
            desk.venue.tick(1)
        flusher._run()
        assert flusher.left_to_timer == left + 1
        assert ladder._repaint_required, "the ladder's repaint was lost with the failed frame"
        assert "Textual's own timer composes from now on" in caplog.text
        monkeypatch.undo()  # Textual's own timer uses update_widgets too
        await pilot.pause()
        assert desk.app.is_running and desk.app.screen is desk.main
    flush._textual_fits.cache_clear()
