"""Backlog conflation in the websocket reader: of several queued snapshots of one key only the newest is
handled; everything else is handled, in order; a recorder sees every frame."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.transport import tap
from connector.transport.ws import CONFLATED_SUFFIX, WsSupervisor

Frame = tuple[str, str, int]
"""(kind: snap | top | trade, key, number)"""


def _key(raw: str | bytes) -> tuple[str, bool] | None:
    kind, key, _ = json.loads(raw)
    return None if kind == "trade" else (key, kind == "snap")


def _supervisor(handled: list[Any]) -> WsSupervisor:
    return WsSupervisor("ws://127.0.0.1:9", on_message=handled.append, parse=json.loads, conflate=_key)


frames = st.lists(
    st.tuples(st.sampled_from(["snap", "top", "trade"]), st.sampled_from(["BTC", "ETH"]), st.integers(0, 99)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(frames)
def test_a_batch_keeps_every_trade_in_order_and_the_newest_snapshot_of_each_key(batch: list[Frame]):
    handled: list[Any] = []
    supervisor = _supervisor(handled)
    asyncio.run(supervisor._deliver_batch([json.dumps(f) for f in batch]))
    got = [tuple(f) for f in handled]
    it = iter(batch)
    assert all(f in it for f in got)  # a subsequence: order kept across keys and kinds
    assert [f for f in got if f[0] == "trade"] == [f for f in batch if f[0] == "trade"]
    for i, f in enumerate(batch):
        later_snapshot = any(g[0] == "snap" and g[1] == f[1] for g in batch[i + 1 :])
        if f[0] != "trade" and later_snapshot:
            continue  # superseded (may or may not be identical to a frame kept)
        assert f in got
    for key in ("BTC", "ETH"):  # the book ends on the newest snapshot and whatever touch came after it
        tail = [f for f in batch if f[1] == key and f[0] != "trade"]
        assert [f for f in got if f[1] == key and f[0] != "trade"][-1:] == tail[-1:]
    assert supervisor.received == len(batch)
    assert supervisor.conflated == len(batch) - len(handled)


def test_a_recorder_sees_every_frame_in_order_and_the_skipped_ones_under_their_own_name():
    seen: list[tuple[str, str]] = []

    class Tap:
        def wrap_ws(self, name: str, url: str, parse: Any, on_connect: Any) -> tuple[Any, Any]:
            def recording(raw: str) -> Any:
                seen.append((name, raw))
                return parse(raw)

            return recording, on_connect

        def ws_sent(self, name: str, data: Any) -> None: ...

        def wrap_http(self, name: str, base_url: str, transport: Any) -> Any: ...

    previous = tap.install(Tap())
    try:
        handled: list[Any] = []
        supervisor = _supervisor(handled)
    finally:
        tap.install(previous)
    batch = [json.dumps(f) for f in (("snap", "BTC", 1), ("trade", "BTC", 2), ("snap", "BTC", 3))]
    asyncio.run(supervisor._deliver_batch(batch))
    assert [raw for _, raw in seen] == batch
    assert [name for name, _ in seen] == [f"ws{CONFLATED_SUFFIX}", "ws", "ws"]
    assert handled == [["trade", "BTC", 2], ["snap", "BTC", 3]]
