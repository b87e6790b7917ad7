"""``perpdesk --record FILE`` from the command line."""

from __future__ import annotations

import pytest

from connector.record.recorder import Recorder, read_recording
from connector.transport import tap
from console.cli import prepare
from console.rehearse import stop_recording


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

