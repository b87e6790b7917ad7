"""``--record``: a session against the Hyperliquid fake is written as gzip JSON lines holding what came
in (frames, REST answers, with receive times) and what went out (our requests), never a secret; a full
file rolls over to the next part."""

from __future__ import annotations

import gzip
import json

from connector.clock import VirtualClock
from connector.keys import register_secret
from connector.record.recorder import Recorder, read_recording, scrub_text


async def test_the_recording_holds_frames_answers_and_our_requests(recording):
    path, _ = recording
    header, records = read_recording(path)
    assert header["format"] == "perpdesk-recording" and header["version"] == 1
    kinds = {r["k"] for r in records}
    assert {"ws_open", "ws_in", "ws_out", "http"} <= kinds
    http = next(r for r in records if r["k"] == "http")
    assert http["m"] == "POST" and http["u"] == "/info" and http["st"] == 200 and json.loads(http["d"])
    assert all(r["t"] >= header["t"] for r in records)
    subs = [json.loads(r["d"]) for r in records if r["k"] == "ws_out"]
    assert {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}} in subs


def test_secrets_never_reach_a_recording(tmp_path):
    register_secret("s3cr3t-value-123456")
    text = scrub_text(json.dumps({"action": {"type": "order"}, "signature": {"r": "0x1", "s": "0x2"},
                                  "apiKey": "k", "note": "s3cr3t-value-123456"}))  # fmt: skip
    assert json.loads(text) == {"action": {"type": "order"}, "signature": "***", "apiKey": "***", "note": "***"}


def test_a_full_file_rolls_over_to_the_next_part(tmp_path):
    clock = VirtualClock()
    rec = Recorder(tmp_path / "r.jsonl.gz", clock=clock, max_bytes=400, meta={"venues": {"sim": {}}})
    for i in range(20):
        rec.ws_sent("sim.stream", json.dumps({"n": i}))
    rec.close()
    assert len(rec.parts) > 1 and rec.parts[1].name == "r.jsonl.gz.1"
    total = 0
    for part in rec.parts:
        header, records = read_recording(part)
        assert header["venues"] == {"sim": {}}
        total += len(records)
        with gzip.open(part, "rt") as handle:
            assert sum(len(line) for line in handle) < 400 + 200
    assert total == 20
