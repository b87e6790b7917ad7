"""Run one fake venue in a process of its own, with fault switches, for the chaos suite.

    python -m tests.fakes.launch hyperliquid --key-file K [--seed 7] [--drop-every 1.0]
        [--malformed-every 0.5] [--rate-limit-every 2.0]

Listens on a free port of 127.0.0.1, writes the venue's key file, then prints one line
``READY <venue> <base_url> <ws_url> <pid>`` and serves until SIGTERM (or SIGKILL).  Faults run on
their own schedule inside the process: ``--drop-every`` closes every websocket that often,
``--malformed-every`` queues a garbage frame on every socket, ``--rate-limit-every`` answers the
next HTTP request 429.  ``tests.chaos.procs.start_fake`` starts one and waits for the line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

VENUES = ("hyperliquid", "backpack", "binance-usdm")


def make_fake(venue: str, seed: int) -> Any:
    """The venue's fake (imported only when asked for)."""
    if venue == "hyperliquid":
        from tests.fakes.hyperliquid import FakeHyperliquid

        return FakeHyperliquid(seed=seed, step_s=0.05)
    if venue == "backpack":
        from tests.fakes.backpack import FakeBackpack

        return FakeBackpack(seed=seed, step_s=0.05)
    if venue == "binance-usdm":
        from tests.fakes.binance_usdm import FakeBinanceUsdm

        return FakeBinanceUsdm(seed=seed, step_s=0.05)
    raise SystemExit(f"unknown venue {venue!r}: one of {', '.join(VENUES)}")


async def _every(period_s: float, action: Callable[[], Awaitable[None] | None]) -> None:
    while True:
        await asyncio.sleep(period_s)
        result = action()
        if result is not None:
            await result


async def serve(args: argparse.Namespace) -> None:
    fake = make_fake(args.venue, args.seed)
    await fake.start(0)
    fake.write_key_file(args.key_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    faults: list[asyncio.Task[None]] = []
    if args.drop_every:
        faults.append(asyncio.create_task(_every(args.drop_every, fake.drop_sockets)))
    if args.malformed_every:
        faults.append(asyncio.create_task(_every(args.malformed_every, lambda: fake.send_malformed(1))))
    if args.rate_limit_every:
        faults.append(asyncio.create_task(_every(args.rate_limit_every, lambda: fake.rate_limit(1, 0.05))))
    print(f"READY {args.venue} {fake.base_url} {fake.ws_url} {os.getpid()}", flush=True)
    try:
        await stop.wait()
    finally:
        for task in faults:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake venue in its own process, on 127.0.0.1, with faults")
    parser.add_argument("venue", choices=VENUES)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drop-every", type=float, default=0.0, help="close every websocket this often (s)")
    parser.add_argument("--malformed-every", type=float, default=0.0, help="a garbage frame this often (s)")
    parser.add_argument("--rate-limit-every", type=float, default=0.0, help="one HTTP 429 this often (s)")
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
