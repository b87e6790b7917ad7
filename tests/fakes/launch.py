"""Run one fake venue in a process of its own, with fault switches, for the chaos suite.

    python -m tests.fakes.launch hyperliquid --key-file K [--seed 7] [--drop-every 1.0]
        [--malformed-every 0.5] [--rate-limit-every 2.0]

Listens on a free port of 127.0.0.1, writes the venue's key file, then prints one line
``READY <venue> <base_url> <ws_url> <pid>`` and serves until SIGTERM (or SIGKILL).  Faults run on
their own schedule inside the process: ``--drop-every`` closes every websocket that often,
``--malformed-every`` queues a garbage frame on every socket, ``--rate-limit-every`` answers the
next HTTP request 429, and ``--fill-on-drop`` trades through both touches right after each drop, so
fills land while the client's socket is down.  ``--unlimited`` lifts the venue's standing rate limits
(Binance USDⓈ-M's order and weight counts; the benches measure the path, not the budget);
``--orders-file`` appends ``<time.monotonic()> <status> <price_i>`` for each order the venue books or ends
(the venue's own receipt time, on the clock every process of the machine shares).  ``--fills-file`` appends the trade id and size of each of
the account's fills to a file as the venue books it (the venue's own record, read while it runs).  With ``--held`` the faults wait for SIGUSR2 (a client
can start first); SIGUSR1 stops them and, once none is running, prints ``CALM``; at exit the process prints
``STATS {json}`` (faults made, orders the venue took, client order indices it saw twice).
``tests.chaos.procs.start_fake`` starts one and waits for the line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from connector.interface import Fill, OrderSnapshot

VENUES = ("hyperliquid", "backpack", "binance-usdm", "lighter")


def make_fake(venue: str, seed: int, unlimited: bool = False) -> Any:
    """The venue's fake (imported only when asked for)."""
    if venue == "hyperliquid":
        from tests.fakes.hyperliquid import FakeHyperliquid

        return FakeHyperliquid(seed=seed, step_s=0.05)
    if venue == "backpack":
        from tests.fakes.backpack import FakeBackpack

        return FakeBackpack(seed=seed, step_s=0.05)
    if venue == "binance-usdm":
        from tests.fakes.binance_usdm import FakeBinanceUsdm

        # the chaos suite starts dozens of runtimes a minute on one account: room for their weight
        limits = {"REQUEST_WEIGHT:1M": 100_000}
        if unlimited:
            limits = {"REQUEST_WEIGHT:1M": 10**7, "ORDERS:10S": 10**7, "ORDERS:1M": 10**7}
        return FakeBinanceUsdm(seed=seed, step_s=0.05, rate_limits=limits)
    if venue == "lighter":
        from tests.fakes.lighter import FakeLighter

        return FakeLighter(seed=seed, step_s=0.05)
    raise SystemExit(f"unknown venue {venue!r}: one of {', '.join(VENUES)}")


def write_key_file(fake: Any, path: str) -> None:
    """The venue's key file (Lighter's is a fresh throwaway API key its module writes)."""
    if hasattr(fake, "write_key_file"):
        fake.write_key_file(path)
        return
    from tests.fakes.lighter import write_key_file as lighter_key_file

    lighter_key_file(Path(path), account_index=fake.account_index, api_key_index=fake.api_key_index)


async def _every(period_s: float, action: Callable[[], Awaitable[None] | None]) -> None:
    while True:
        await asyncio.sleep(period_s)
        result = action()
        if result is not None:
            await result


async def serve(args: argparse.Namespace) -> None:
    fake = make_fake(args.venue, args.seed, args.unlimited)
    await fake.start(0)
    write_key_file(fake, args.key_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.orders_file:
        orders_log = open(args.orders_file, "a", encoding="utf-8")  # closed at exit
        seen: dict[int, str] = {}

        def record_order(event: object) -> None:
            if isinstance(event, OrderSnapshot) and seen.get(event.client_order_index) != event.status:
                seen[event.client_order_index] = event.status
                orders_log.write(f"{time.monotonic():.6f} {event.status} {event.price_i}\n")
                orders_log.flush()

        fake.engine.subscribe(record_order, ())  # account events only
    made = {"drops": 0, "malformed": 0, "rate_limits": 0, "trade_throughs": 0}
    symbol = next(iter(fake.engine.markets))
    if args.fills_file:
        fills = open(args.fills_file, "a", encoding="utf-8")  # closed at exit

        def record_fill(event: object) -> None:
            if isinstance(event, Fill):
                fills.write(f"{event.trade_id} {event.size_i}\n")
                fills.flush()

        fake.engine.subscribe(record_fill, ())  # account events only

    async def drop() -> None:
        made["drops"] += 1
        await fake.drop_sockets()
        if args.fill_on_drop:
            bid, ask = fake.engine.top(symbol)
            size = fake.engine.markets[symbol].min_size_i * 50
            for is_ask, price in ((True, bid), (False, ask)):
                if price is not None and fake.engine.trade_through(symbol, is_ask=is_ask, price_i=price, size_i=size):
                    made["trade_throughs"] += 1

    def malformed() -> None:
        made["malformed"] += 1
        fake.send_malformed(1 + made["malformed"] % 4)  # each kind of garbage in turn

    def rate_limit() -> None:
        made["rate_limits"] += 1
        fake.rate_limit(1, 0.05)

    faults: list[asyncio.Task[None]] = []

    def unleash() -> None:
        if faults:
            return
        for period, action in ((args.drop_every, drop), (args.malformed_every, malformed),
                               (args.rate_limit_every, rate_limit)):  # fmt: skip
            if period:
                faults.append(asyncio.create_task(_every(period, action)))

    def calm() -> None:
        for task in faults:
            task.cancel()

    calming: set[asyncio.Task[None]] = set()

    async def calmed() -> None:
        calm()
        await asyncio.gather(*faults, return_exceptions=True)
        print("CALM", flush=True)  # no fault is running any more (one in progress was cancelled and has ended)

    def on_calm() -> None:
        task = asyncio.create_task(calmed())
        calming.add(task)
        task.add_done_callback(calming.discard)

    loop.add_signal_handler(signal.SIGUSR1, on_calm)
    loop.add_signal_handler(signal.SIGUSR2, unleash)
    if not args.held:
        unleash()
    print(f"READY {args.venue} {fake.base_url} {fake.ws_url} {os.getpid()}", flush=True)
    try:
        await stop.wait()
    finally:
        calm()
        await asyncio.gather(*faults, return_exceptions=True)
        await fake.stop()
        orders = list(getattr(fake.engine, "_orders", {}).values())
        indices = [o.client_order_index for o in orders]
        made.update(orders=len(orders), duplicate_indices=len(indices) - len(set(indices)))
        print("STATS " + json.dumps(made), flush=True)
        if args.fills_file:
            fills.close()
        if args.orders_file:
            orders_log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake venue in its own process, on 127.0.0.1, with faults")
    parser.add_argument("venue", choices=VENUES)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drop-every", type=float, default=0.0, help="close every websocket this often (s)")
    parser.add_argument("--malformed-every", type=float, default=0.0, help="a garbage frame this often (s)")
    parser.add_argument("--rate-limit-every", type=float, default=0.0, help="one HTTP 429 this often (s)")
    parser.add_argument("--held", action="store_true", help="faults start only on SIGUSR2")
    parser.add_argument("--fills-file", help="append the trade id and size of each of the account's fills here")
    parser.add_argument("--unlimited", action="store_true", help="lift the venue's standing rate limits")
    parser.add_argument("--orders-file", help="append the time, status and price of each order the venue books here")
    parser.add_argument("--fill-on-drop", action="store_true", help="trade through both touches after each drop")
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
