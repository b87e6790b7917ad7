"""The tick-to-screen matching in ``bench/screen.py``: which painted frame shows which arrival."""

from __future__ import annotations

import pytest

from bench.screen import SEQ_BASE, Probe, tick_to_screen


def _probe(arrivals, handoffs, paints) -> Probe:
    probe = Probe()
    probe.arrivals = [(t, SEQ_BASE + k, 0) for t, k in arrivals]
    probe.handoffs = [(t, SEQ_BASE + k) for t, k in handoffs]
    probe.paints = [(t, SEQ_BASE + k) for t, k in paints]
    return probe


def test_an_arrival_is_shown_by_the_first_paint_of_it_or_a_newer_book() -> None:
    probe = _probe(
        arrivals=[(1.0, 1), (1.5, 2), (4.5, 3)],
        handoffs=[(2.0, 1), (3.5, 2), (4.8, 4)],
        paints=[(3.0, 1), (4.0, 2), (5.0, 4)],
    )
    result = tick_to_screen(probe, since=0.0)
    assert result["latency"] == pytest.approx([2000.0, 2500.0, 500.0])
    assert result["to_ladder"] == pytest.approx([1000.0, 2000.0, 300.0])
    assert result["ladder_to_paint"] == pytest.approx([1000.0, 500.0, 200.0])
    assert result["missed"] == 0


def test_a_paint_before_the_arrival_or_of_an_older_book_does_not_count() -> None:
    probe = _probe(arrivals=[(2.0, 5), (3.0, 6)], handoffs=[], paints=[(1.0, 9), (2.5, 4), (4.0, 5)])
    result = tick_to_screen(probe, since=0.0)
    assert result["latency"] == [2000.0]
    assert result["missed"] == 1  # seq 6 was never painted


def test_arrivals_before_the_warm_up_ends_are_left_out() -> None:
    probe = _probe(arrivals=[(1.0, 1), (2.0, 2)], handoffs=[], paints=[(3.0, 2)])
    assert tick_to_screen(probe, since=1.5)["latency"] == [1000.0]


def test_a_conflated_frame_is_read_for_its_sequence_and_time_made() -> None:
    from bench.screen import _SEQ

    frame = (
        '{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"1","sz":"1.00042","n":1000042},'
        '{"px":"0.9","sz":"2","n":1}],[{"px":"1.1","sz":"3","n":123456789012},{"px":"1.2","sz":"2","n":1}]]}}'
    )
    assert [int(n) for n in _SEQ.findall(frame)] == [1000042, 123456789012]
    assert _SEQ.search(frame, 0, 200).group(1) == "1000042"
    assert _SEQ.search(frame, frame.find("],[")).group(1) == "123456789012"


def test_frames_left_over_from_an_earlier_phase_are_no_samples() -> None:
    probe = _probe(arrivals=[(1.0, 1), (1.5, 7), (2.0, 8)], handoffs=[], paints=[(3.0, 8)])
    assert tick_to_screen(probe, since=0.0, first_seq=SEQ_BASE + 7)["latency"] == [1500.0, 1000.0]


def test_a_hand_over_to_paint_splits_into_the_wait_for_the_frame_and_its_composing() -> None:
    probe = _probe(arrivals=[(1.0, 1)], handoffs=[(2.0, 1)], paints=[(3.0, 1)])
    probe.paint_starts = [2.75]
    result = tick_to_screen(probe, since=0.0)
    assert result["ladder_to_paint"] == pytest.approx([1000.0])
    assert result["to_compose"] == pytest.approx([750.0])
    assert result["composing"] == pytest.approx([250.0])
