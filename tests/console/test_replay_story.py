"""Issue 19: a recording carries our own story (each chase's decisions with their reasons, our
orders' transitions) as ``chase`` and ``order`` lines, and a replay tells it again, step by step,
the same way every time."""

from __future__ import annotations

import pytest

from connector.keys import MASK, register_secret
from connector.record.recorder import STORY_KINDS, Recorder, read_recording
from tests.console.story_session import record_chase_session


@pytest.fixture
async def chase_recording(tmp_path):
    path = tmp_path / "chase.jsonl.gz"
    session = await record_chase_session(path)
    return path, session


def _ints(value):
    """Every number in a line, at any depth."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _ints(v)]
    if isinstance(value, list):
        return [n for v in value for n in _ints(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


async def test_a_recording_holds_each_chase_decision_and_order_transition(chase_recording):
    path, session = chase_recording
    header, records = read_recording(path)
    story = [r for r in records if r["k"] in STORY_KINDS]
    chase = [r for r in story if r["k"] == "chase" and r["chase"] == session["chase"]]
    # the chase's whole story, in the order the runtime told it, with the recording clock's stamps
    assert [r["what"] for r in chase] == [e.kind for e in session["events"]]
    assert [r["msg"] for r in chase] == [e.message for e in session["events"]]
    assert all(header["t"] <= r["t"] for r in story)
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    for r in chase:
        assert set(r) == {"k", "t", "venue", "symbol", "chase", "side", "what", "msg", "data", "state",
                          "filled_i", "size_i", "top", "ts"}  # fmt: skip
        assert (r["venue"], r["symbol"], r["side"]) == ("hyperliquid", "BTC", "buy")
    kinds = [r["what"] for r in chase]
    assert kinds[0] == "started" and kinds[-1] == "ended"
    reprices = [r for r in chase if r["what"] == "repriced"]
    assert len(reprices) >= 2
    for r in reprices:
        assert r["data"]["why"] in ("touch moved", "limit moved")
        assert type(r["data"]["old"]) is int and type(r["data"]["new"]) is int and r["data"]["old"] != r["data"]["new"]
        assert all(type(p) is int for p in r["top"])
    assert chase[-1]["data"]["reason"] == "cancelled" and chase[-1]["state"] == "DONE"
    assert all(type(n) is int for r in story for n in _ints(r))  # scaled ints, never a float
    orders = [r for r in story if r["k"] == "order" and r["parent"] == session["chase"]]
    assert orders and {"OPEN", "CANCELLED"} <= {r["state"] for r in orders}
    assert {r["coi"] for r in orders} == {r["coi"] for r in orders if r["state"] == "CANCELLED"}  # each child ended
    assert set(orders[0]) == {"k", "t", "venue", "symbol", "coi", "oid", "parent", "side", "type", "price_i",
                              "size_i", "filled_i", "state", "reason", "ts"}  # fmt: skip


def test_story_lines_never_carry_a_secret(tmp_path):
    secret = register_secret("st0ry-s3cret-98765")
    path = tmp_path / "story.jsonl.gz"
    recorder = Recorder(path, meta={"venues": {}})
    recorder.story("order", {"venue": "x", "reason": f"venue said: bad key {secret.reveal()}",
                             "data": {"api_key": "abc", "nested": [{"signature": "0xdead"}]}})  # fmt: skip
    with pytest.raises(ValueError):
        recorder.story("ws_in", {"d": "not a story line"})
    recorder.close()
    _, records = read_recording(path)
    assert records == [{"k": "order", "t": records[0]["t"], "venue": "x", "reason": f"venue said: bad key {MASK}",
                        "data": {"api_key": MASK, "nested": [{"signature": MASK}]}}]  # fmt: skip


def test_record_writes_the_consoles_chases_and_orders_too(tmp_path):
    from console import rehearse
    from console.cli import prepare

    path = tmp_path / "rec.jsonl.gz"
    runtime, _ = prepare(["--venue", "hyperliquid", "--paper", "--record", str(path)])
    try:
        story = rehearse._story
        assert story is not None and story.runtime is runtime and story.recorder is rehearse._recorder
        assert story._on_chase in runtime.tracking._listeners._fns and story._on_order in runtime.orders._listeners._fns
    finally:
        runtime.journal.close()
        rehearse.stop_recording()
    assert rehearse._story is None and not runtime.tracking._listeners and not runtime.orders._listeners
