"""The runtime the kill test kills: ``python -m tests.chaos.child VENUE BASE_URL WS_URL KEY_FILE JOURNAL SEED``.

Starts a runtime with a journal on the fake venue (another process), prints ``STARTED``, then places
resting orders and starts three chases in a seeded order, printing ``PLACED`` when all are out, and
keeps running until it is killed.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

from tests.chaos.desk import SYMBOL, away_from_touch, build_runtime, start


async def main(venue: str, base_url: str, ws_url: str, key_file: str, journal: str, seed: int) -> None:
    rng = random.Random(seed)
    runtime = build_runtime(venue, base_url, ws_url, Path(key_file), Path(journal))
    await start(runtime, venue)
    print("STARTED", flush=True)
    md = runtime.market_data
    size = max(md.market(venue, SYMBOL).min_size_i, md.market(venue, SYMBOL).step_i) * 10
    actions = ["rest"] * 3 + ["chase"] * 3
    rng.shuffle(actions)
    for i, action in enumerate(actions):
        is_ask = bool(i % 2)
        if action == "rest":
            price = away_from_touch(runtime, venue, is_ask, 2 + rng.randrange(3))
            await runtime.orders.submit_limit(venue, SYMBOL, is_ask=is_ask, size_i=size, price_i=price, post_only=True)
        else:
            await runtime.tracking.start(venue, SYMBOL, is_ask=is_ask, size_i=size * 3, offset_ticks=0)
        await asyncio.sleep(rng.random() * 0.2)
    print("PLACED", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    venue, base_url, ws_url, key_file, journal, seed = sys.argv[1:7]
    asyncio.run(main(venue, base_url, ws_url, key_file, journal, int(seed)))
