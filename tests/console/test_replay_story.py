"""Issue 19: a recording carries our own story (each chase's decisions with their reasons, our
orders' transitions) as ``chase`` and ``order`` lines, and a replay tells it again, step by step,
the same way every time."""

from __future__ import annotations

import asyncio

import pytest

from connector.keys import MASK, register_secret
from connector.record.recorder import STORY_KINDS, Recorder, read_recording
from connector.record.replay import ReplayConnector
from tests.console.settle import until
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
    assert kinds[-2] == "timeout" and chase[-1]["data"]["reason"] == "timeout" and chase[-1]["state"] == "DONE"
    assert all(type(n) is int for r in story for n in _ints(r))  # scaled ints, never a float
    orders = [r for r in story if r["k"] == "order" and r["parent"] == session["chase"]]
    assert orders and {"OPEN", "CANCELLED"} <= {r["state"] for r in orders}
    assert {r["coi"] for r in orders} == {r["coi"] for r in orders if r["state"] == "CANCELLED"}  # each child ended
    assert set(orders[0]) == {"k", "t", "venue", "symbol", "coi", "oid", "parent", "side", "type", "price_i",
                              "size_i", "filled_i", "state", "reason", "ts"}  # fmt: skip


async def test_replaying_twice_tells_the_same_story_at_the_same_frames(chase_recording):
    path, _ = chase_recording

    async def tell() -> list[tuple[int, dict]]:
        conn = ReplayConnector(path, speed=None)
        told: list[tuple[int, dict]] = []
        conn.add_story_listener(lambda line: told.append((conn.played, line)))
        await conn.start()
        await conn.subscribe_market_data(["BTC"])
        try:
            await asyncio.wait_for(conn.finished.wait(), 30)
        finally:
            await conn.stop()
        assert [line for _, line in told] == conn.story == conn.told
        return told

    first, second = await tell(), await tell()
    assert first == second
    assert [line["what"] for _, line in first if line["k"] == "chase"].count("repriced") >= 2
    _, records = read_recording(path)
    assert [line for _, line in first] == [r for r in records if r["k"] in STORY_KINDS]


async def test_a_paused_replay_tells_a_line_with_the_frame_before_it(chase_recording):
    path, _ = chase_recording
    conn = ReplayConnector(path, speed=None)
    _, records = read_recording(path)
    timeline = [r for r in records if r["k"] in ("ws_in", "ws_open", *STORY_KINDS)]
    first = next(i for i, r in enumerate(timeline) if r["k"] in STORY_KINDS)
    frames_before = sum(1 for r in timeline[:first] if r["k"] in ("ws_in", "ws_open"))
    conn.pause()
    await conn.start()
    await conn.subscribe_market_data(["BTC"])
    try:
        conn.step(frames_before - 1)
        for _ in range(500):
            if conn.played == frames_before - 1:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert conn.told == []
        conn.step()
        for _ in range(500):
            if conn.told:
                break
            await asyncio.sleep(0.01)
        assert conn.played == frames_before and conn.told[0] == timeline[first]
    finally:
        await conn.stop()


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


async def test_stepping_a_replay_shows_each_reprice_and_its_reason_beside_the_book_of_that_moment(chase_recording):
    from textual.widgets import TabbedContent

    from console.rehearse import build_replay
    from console.replay_app import ReplayApp
    from console.settings import load_settings
    from console.widgets.replay_story import ReplayStoryTable

    path, session = chase_recording
    runtime, clock, replay = build_replay(path, load_settings(None), speed=None, paper=False)
    replay.pause()
    timeline = replay._timeline
    frames_at = []  # [n]: story lines told once n frames have been played (those before frame n + 1)
    told = 0
    for record in timeline:
        if record["k"] in STORY_KINDS:
            told += 1
        else:
            frames_at.append(told)
    frames_at.append(told)
    app = ReplayApp(runtime, replay=replay, clock=clock, symbol="BTC", read_only=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        await pilot.press("8")
        await pilot.pause()
        assert app.main_screen.query_one("#tabs", TabbedContent).active == "replay"
        table = app.main_screen.query_one("#replay-table", ReplayStoryTable)
        assert app.main_screen.focused is table
        md = runtime.market_data
        reprices: list[tuple[int, str, str, str]] = []  # (step, chase, detail, book) as the rows appeared
        for step in range(1, len(replay.frames) + 1):
            await pilot.press("full_stop")
            await until(lambda step=step: replay.played == step and len(replay.told) == frames_at[step], pilot,
                        what=f"step {step} played and told")
            await pilot.pause()
            assert replay.paused and replay.played == step
            assert table.row_count == len(replay.told) == frames_at[step]  # the rows of this step, no more
            bid, ask = md.top_of_book("hyperliquid", "BTC")
            for key, cells in app.story.rows[frames_at[step - 1] : frames_at[step]]:
                shown = [str(c) for c in table.get_row(key)]
                assert shown == list(cells)
                if cells[2] == "repriced":
                    reprices.append((step, cells[1], cells[3], cells[4]))
                    book_now = (
                        f"{md.format_price('hyperliquid', 'BTC', bid)} / {md.format_price('hyperliquid', 'BTC', ask)}"
                    )
                    assert cells[4] == book_now  # beside the replayed book of that moment
        assert replay.played == len(replay.frames)
    label = f"{app.story.labels.get(session['chase'])} BTC"
    reprices = [(step, detail, book) for step, who, detail, book in reprices if who == label]
    recorded = [e for e in session["events"] if e.kind == "repriced"]
    assert len(reprices) == len(recorded) >= 2
    for (_, detail, _), event in zip(reprices, recorded, strict=True):
        old = md.format_price("hyperliquid", "BTC", event.data["old"])
        new = md.format_price("hyperliquid", "BTC", event.data["new"])
        assert detail == f"{old} → {new}: {event.data['why']}"
    assert [s for s, _, _ in reprices] == sorted(s for s, _, _ in reprices)
    ended = [cells for _, cells in app.story.rows if cells[2] == "ended" and cells[1] == label]
    assert len(ended) == 1 and ended[0][3].startswith("timeout: filled 0.00000/")


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


def test_the_replay_rows_say_what_each_line_means_in_the_markets_units():
    from console.story import StoryLog
    from execution.market import MarketDataService

    log = StoryLog(MarketDataService())  # no market loaded: raw integers, and the recorded touch
    base = {"venue": "v", "symbol": "BTC", "side": "buy", "t": 1_000_123}
    chase = {**base, "k": "chase", "chase": "c-long-id", "top": [99, 101], "filled_i": 0, "size_i": 5}
    order = {**base, "k": "order", "coi": 7, "parent": "c-long-id", "size_i": 5, "filled_i": 0, "reason": ""}
    rows = [
        log.tell({**chase, "what": "placed", "data": {"price_i": 98, "size_i": 5}}),
        log.tell({**order, "state": "OPEN", "price_i": 98}),
        log.tell({**chase, "what": "repriced", "data": {"old": 98, "new": 99, "why": "touch moved"}}),
        log.tell({**order, "state": "OPEN", "price_i": 99}),
        log.tell({**chase, "what": "limit_reached", "msg": "touch is beyond the limit: sitting at 99", "data": {}}),
        log.tell({**order, "coi": 8, "parent": None, "state": "REJECTED", "price_i": 50, "reason": "post-only"}),
        log.tell({**chase, "what": "ended", "data": {"reason": "timeout", "avg_price_i": None}}),
    ]
    assert [cells for _, cells in rows] == [
        ("00:16:40.123", "#1 BTC", "placed", "buy 5 at 98", "99 / 101"),
        ("00:16:40.123", "#1 BTC", "order open", "buy 5 at 98 filled 0", "- / -"),  # no touch recorded
        ("00:16:40.123", "#1 BTC", "repriced", "98 → 99: touch moved", "99 / 101"),
        ("00:16:40.123", "#1 BTC", "order amended", "buy 5 at 98 → 99 filled 0", "- / -"),
        ("00:16:40.123", "#1 BTC", "limit_reached", "touch is beyond the limit: sitting at 99", "99 / 101"),
        ("00:16:40.123", "order 8 BTC", "order rejected", "buy 5 at 50 filled 0: post-only", "- / -"),
        ("00:16:40.123", "#1 BTC", "ended", "timeout: filled 0/5", "99 / 101"),
    ]
    assert [key for key, _ in rows] == ["1", "2", "3", "4", "5", "6", "7"] and log.rows == rows
