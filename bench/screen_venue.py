"""The venue for ``bench/screen.py``, in its own process: the fake Hyperliquid plus a book blaster.

Run as ``python -m bench.screen_venue KEY_FILE``.  It prints one JSON line with the base URL, then
obeys commands on stdin, one JSON object a line:

- ``{"blast": rate, "seconds": s}``: send ``l2Book`` frames for BTC at ``rate`` frames a second to
  every subscribed client (the fake's own queues and writers), then print ``{"sent": n, "first": seq}``
  (the first frame's sequence number);
  ``{"stop": true}`` ends a blast early.
- ``{"exchange_times": true}``: print ``{"exchange_times": [...]}``, the ``time.perf_counter()``
  at which each ``/exchange`` request reached the fake (Linux's monotonic clock is shared between
  processes, so the bench can compare it with its own key press times).

Each blasted frame is the engine's book with the best bid's size changed (so every frame changes
a visible ladder row); the best bid's ``n`` carries a sequence number (>= 1,000,000) and the best
ask's ``n`` the time the frame was made (µs; it is queued for sending at once), fields the
connector ignores.  The venue runs in its own process so its sending does not compete with the
console for the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from connector.hyperliquid import wire
from tests.fakes.hyperliquid import FakeHyperliquid

SEQ_BASE = 1_000_000


class BlastingFake(FakeHyperliquid):
    def __init__(self) -> None:
        super().__init__(step_s=None)
        self.exchange_times: list[float] = []
        self.seq = SEQ_BASE
        self.stopping = False

    async def _exchange(self, request: Any) -> Any:
        self.exchange_times.append(time.perf_counter())
        return await super()._exchange(request)

    def _template(self) -> str:
        """The frame as a %-template: time, best bid size, sequence, time made."""
        bids, asks = self.engine.book("BTC")
        pd, sd = self._dec("BTC")
        level = lambda p, s: f'{{"px":"{wire.to_wire(p, pd)}","sz":"{wire.to_wire(s, sd)}","n":1}}'  # noqa: E731
        rest_bids = ",".join(level(p, s) for p, s in bids[1:])
        rest_asks = ",".join(level(p, s) for p, s in asks[1:])
        head = '{"channel":"l2Book","data":{"coin":"BTC","time":%d,"levels":[[{"px":"' + wire.to_wire(bids[0][0], pd)
        head += '","sz":"%s","n":%d},' + rest_bids + '],[{"px":"' + wire.to_wire(asks[0][0], pd)
        head += '","sz":"' + wire.to_wire(asks[0][1], sd) + '","n":%d},' + rest_asks + "]]}}"
        return head

    async def blast(self, rate: float, seconds: float) -> int:
        template = self._template()
        clients = [c for c in self._clients if any(s.get("type") == "l2Book" for s in c.subs)]
        sent = 0
        start = time.perf_counter()
        total = int(rate * seconds)
        while sent < total and not self.stopping:
            now = time.perf_counter()
            due = min(total, int((now - start) * rate) + 1)
            now_ms = int(time.time() * 1000)
            stamp = int(now * 1_000_000)
            while sent < due:
                self.seq += 1
                # a size of its own for every frame, so no two frames paint the same ladder row
                frame = template % (now_ms, f"1.{self.seq % 100_000:05d}", self.seq, stamp)
                for client in clients:
                    client.queue.put_nowait(frame)
                sent += 1
            await asyncio.sleep(0.0005)
        return sent


async def _blast(fake: BlastingFake, rate: float, seconds: float) -> None:
    first = fake.seq + 1
    sent = await fake.blast(rate, seconds)
    print(json.dumps({"sent": sent, "first": first}), flush=True)


async def _main(key_file: str) -> None:
    fake = await BlastingFake().start()
    fake.write_key_file(key_file)
    print(json.dumps({"base_url": fake.base_url}), flush=True)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            if "blast" in command:
                fake.stopping = False
                tasks.add(asyncio.create_task(_blast(fake, float(command["blast"]), float(command["seconds"]))))
            elif "stop" in command:
                fake.stopping = True
            elif "exchange_times" in command:
                print(json.dumps({"exchange_times": fake.exchange_times}), flush=True)
    finally:
        await fake.stop()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
