"""The soak bench's arithmetic and sanity checks (no console is run here)."""

from __future__ import annotations

import pytest

from bench.soak import figure


def _samples(objects: list[int], *, submitted: int | None = None) -> list[dict]:
    rows = [
        {"t": 60.0 + 30 * i, "rss_mb": 80.0 + i * 0.5, "objects": n, "orders": 20 + 10 * i, "books": 4000 * (i + 1)}
        for i, n in enumerate(objects)
    ]
    rows[-1] |= {"submitted": rows[-1]["orders"] if submitted is None else submitted, "last": True}
    return rows


def test_growth_is_measured_from_the_first_sample_to_the_last():
    f = figure(_samples([100_000, 101_000, 101_500, 101_500, 101_500]), minutes=3)
    assert f.value == pytest.approx(2.0)  # MB, 80 -> 82
    assert "+38 per order typed" in f.note  # 1,500 objects over 40 orders
    assert "+0 objects/min" in f.note  # levelled off in the second half


def test_an_order_typed_that_never_reached_the_venue_fails_the_run():
    with pytest.raises(RuntimeError, match="orders typed but"):
        figure(_samples([1, 2, 3], submitted=5), minutes=2)


def test_a_book_that_stopped_streaming_fails_the_run():
    rows = _samples([1, 2, 3])
    rows[-1]["books"] = 10
    with pytest.raises(RuntimeError, match="stopped streaming"):
        figure(rows, minutes=2)


def test_the_note_says_where_the_resident_set_sits():
    rows = _samples([100_000, 100_000, 100_000])
    for i, row in enumerate(rows):
        row |= {"pymalloc_arenas_mb": 50.0 + i, "pymalloc_used_mb": 35.0, "malloc_used_mb": 10.0, "malloc_free_mb": 2.0}
    rows[-1]["rss_trimmed_mb"] = 79.5
    note = figure(rows, minutes=2).note
    assert "CPython's arenas 50 → 52 MB" in note and "after one malloc_trim at the end RSS 79.5 MB" in note


def test_the_tracer_reports_growth_by_type(tmp_path):
    from types import SimpleNamespace

    from bench.soak import _Tracer

    tracer = _Tracer(tmp_path, SimpleNamespace(journal=None), frames=0)
    tracer.maybe(60.0)
    kept = [_Marker() for _ in range(500)]
    tracer.maybe(125.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minute-1.txt", "minute-2.txt"]
    assert "+500 _Marker (now 500)" in (tmp_path / "minute-2.txt").read_text()
    del kept


class _Marker:
    pass
