"""``bench/screen_profile.py``'s reading of py-spy's raw stacks (no console started, no timings)."""

from __future__ import annotations

from bench.screen_profile import RATE_HZ, categorise, report

IN_TURN = (
    "_run (asyncio/events.py:80);Flusher._run (console/flush.py:90);compose_now (console/flush.py:110);"
    "Screen._compositor_refresh (textual/screen.py:1210);Compositor.render_update (textual/_compositor.py:1117) 6"
)
ON_TIMER = (
    "_run (asyncio/events.py:80);Screen._on_timer_update (textual/screen.py:1255);"
    "Screen._compositor_refresh (textual/screen.py:1210);Compositor.render_update (textual/_compositor.py:1117) 4"
)


def test_a_frame_composed_in_the_flush_s_turn_counts_as_composing_and_as_ours_inclusive() -> None:
    exclusive, inclusive, total = categorise("\n".join((IN_TURN, ON_TIMER)))
    assert total == 10
    assert exclusive == {"Textual compose (compositor, lines)": 10}
    assert inclusive["a frame composed in the flush's own turn (console.flush.compose_now)"] == 6
    assert inclusive["Textual's screen update timer (dirty widgets, layout, compose)"] == 4
    assert inclusive["Textual compose: every frame (Screen._compositor_refresh, either way)"] == 10


def test_the_report_divides_the_composing_by_the_frames_composed() -> None:
    text = report("\n".join((IN_TURN, ON_TIMER)), frames=100, seconds=1.0, composed=5)
    per_frame = 1e3 / RATE_HZ * 10 / 5
    assert f"5 screen frames composed (5/s): {per_frame:.2f} ms of CPU composing each" in text
