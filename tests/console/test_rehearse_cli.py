"""``perpdesk --record FILE`` and ``perpdesk replay FILE [--paper]`` from the command line."""

from __future__ import annotations

import asyncio

import pytest

from connector.paper import PaperConnector
from connector.record.recorder import Recorder, read_recording
from connector.record.replay import ReplayConnector
from connector.transport import tap
from console.cli import main, prepare
from console.rehearse import build_replay, stop_recording
from console.replay_app import ReplayApp
from console.settings import load_settings
from console.widgets.status import StatusBar
from tests.connector.record.conftest import recording  # noqa: F401  # the fixture
from tests.console.settle import until


@pytest.fixture(autouse=True)
def _no_recorder_left():
    yield
    stop_recording()
    assert tap.current() is None


def test_record_installs_a_recorder_for_the_connectors_to_come(tmp_path):
    path = tmp_path / "rec.jsonl.gz"
    runtime, _ = prepare(["--venue", "hyperliquid", "--paper", "--record", str(path), "--record-max-minutes", "5"])
    try:
        recorder = tap.current()
        assert isinstance(recorder, Recorder) and recorder.max_ms == 300_000
    finally:
        runtime.journal.close()
        stop_recording()
    header, records = read_recording(path)
    assert header["venues"]["hyperliquid"]["testnet"] is False and header["paper"] is True
    assert records == []


def test_replay_of_a_file_that_is_not_a_recording_is_one_line(tmp_path, capsys):
    bad = tmp_path / "nope.jsonl.gz"
    bad.write_text("hello")
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "is not a perpdesk recording" in err and err.count("\n") == 1


@pytest.mark.parametrize("paper", [False, True])
async def test_the_console_runs_on_a_replay(recording, paper):  # noqa: F811
    path, _ = recording
    runtime, clock, replay = build_replay(path, load_settings(None), speed=None, paper=paper)
    conn = runtime.connectors["hyperliquid"]
    assert isinstance(conn, PaperConnector if paper else ReplayConnector)
    assert replay is (conn.public if paper else conn)
    app = ReplayApp(runtime, replay=replay, clock=clock, symbol="BTC", read_only=not paper)
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        await asyncio.wait_for(replay.finished.wait(), 30)
        await pilot.pause()
        app.main_screen.flush()
        app.main_screen.refresh_status()
        await pilot.pause()
        assert app.main_screen.selected == ("hyperliquid", "BTC")
        assert runtime.market_data.age_ms("hyperliquid", "BTC") is not None
        assert ("PAPER" in app.query_one(StatusBar).render().plain) is paper


async def test_replay_keys_pause_step_and_change_the_speed(recording):  # noqa: F811
    path, _ = recording
    runtime, clock, replay = build_replay(path, load_settings(None), speed=100.0, paper=False)
    replay.pause()
    app = ReplayApp(runtime, replay=replay, clock=clock, symbol="BTC", read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        await pilot.press("full_stop", "full_stop")
        await until(lambda: replay.played == 2, pilot, what="two steps played")
        assert replay.paused and replay.played == 2
        await pilot.press("greater_than_sign")
        assert replay.speed == 200.0
        await pilot.press("less_than_sign", "less_than_sign")
        assert replay.speed == 50.0
        await pilot.press("space")
        assert not replay.paused
        await asyncio.wait_for(replay.finished.wait(), 30)


def test_serve_refuses_to_record_from_every_tab(capsys):
    assert main(["serve", "--record", "x.jsonl.gz"]) == 2
    assert "record from one console" in capsys.readouterr().err
