"""Abrupt kill and restart: a runtime in a child process, on a fake venue in another process, is
``kill -9``ed at a seeded random moment while it places resting orders and chases; a fresh runtime on
the same journal must know every venue order, resume or cancel each chase per ``on_restart``, leave no
orphan, never overfill, never reuse a client order index, and the journal passes ``integrity_check``."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.chaos.desk import RESTING, SYMBOL, build_runtime, integrity, journaled_indices, start, until
from tests.chaos.procs import ROOT, FakeProcess, child_env, end, start_fake, wait_for_line

VENUES = ["hyperliquid", "backpack", "binance-usdm", "lighter"]
RUNS = 10
KILL_WITHIN_S = 2.0


@dataclass
class Outcome:
    """What one run found; the bench adds these up."""

    venue_orders: int = 0
    unknown_to_journal: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)
    overfills: list[str] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    integrity: str = ""
    chases: int = 0
    consistent_s: float = 0.0
    """From the fresh runtime's start to every venue order accounted for."""


class Fakes:
    """One fake process per venue, shared by its runs (its state outlives each killed runtime).

    Binance's fake is renewed every few runs: each run starts two runtimes, and their request weight
    on one account would soon hold the next start until the venue's minute rolls over (as it should).
    """

    RENEW_EVERY = {"binance-usdm": 3}

    def __init__(self, venue: str, workdir: Path) -> None:
        self.venue, self.workdir, self.used = venue, workdir, 0
        self.proc: FakeProcess | None = None

    def get(self) -> FakeProcess:
        renew = self.RENEW_EVERY.get(self.venue)
        if self.proc is not None and renew and self.used >= renew:
            self.proc.stop()
            self.proc, self.used = None, 0
        if self.proc is None:
            self.proc = start_fake(self.venue, self.workdir, seed=11)
        self.used += 1
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@pytest.fixture(scope="module", params=VENUES)
def fakes(request, tmp_path_factory):
    pool = Fakes(request.param, tmp_path_factory.mktemp(f"fake-{request.param}"))
    yield pool
    pool.stop()


def kill_child_at_random(fake: FakeProcess, journal: Path, seed: int) -> float:
    """Start the child runtime, wait for it to be up, ``kill -9`` it at a seeded moment; the delay used."""
    args = [fake.venue, fake.base_url, fake.ws_url, str(fake.key_file), str(journal), str(seed)]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.child", *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_line(child, "STARTED")
        delay = random.Random(seed).uniform(0, KILL_WITHIN_S)
        try:
            child.wait(delay)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        end(child)
    return delay


async def restart_and_check(fake: FakeProcess, journal: Path, on_restart: str) -> Outcome:
    out = Outcome(integrity=integrity(journal))
    before = set(journaled_indices(journal, fake.venue))
    runtime = build_runtime(
        fake.venue, fake.base_url, fake.ws_url, fake.key_file, journal, tracking={"on_restart": on_restart}
    )
    began = time.monotonic()
    await start(runtime, fake.venue)
    try:
        conn = runtime.connectors[fake.venue]
        venue_symbol = runtime.market_data.venue_symbol(fake.venue, SYMBOL)
        tracking, orders = runtime.tracking, runtime.orders
        out.chases = len(runtime.journal.load_parents(live_only=False))

        def orphans(listed) -> list[int]:
            """Venue orders no live chase or resting order of ours stands behind."""
            bad = []
            for snap in listed:
                order = orders.get(fake.venue, snap.client_order_index)
                if order is None:
                    bad.append(snap.client_order_index)
                elif order.parent_id is not None:
                    chase = tracking.get(order.parent_id)
                    if chase is None or chase.is_done or chase.child is not order:
                        bad.append(snap.client_order_index)
            return bad

        if on_restart == "cancel":
            await until(lambda: all(c.is_done for c in tracking.chases.values()), what="chases cancelled")
        listed: list = []

        async def settled() -> bool:
            listed[:] = await conn.get_open_orders(venue_symbol)
            return not orphans(listed)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not await settled() and loop.time() < deadline:
            await asyncio.sleep(0.5)
        out.consistent_s = time.monotonic() - began
        out.venue_orders = len(listed)
        out.unknown_to_journal = [
            s.client_order_index for s in listed if orders.get(fake.venue, s.client_order_index) is None
        ]
        out.orphans = orphans(listed)
        out.unknown_to_journal += [
            o.client_order_index
            for o in orders.orders
            if o.venue == fake.venue and any("unknown to us" in t.reason for t in o.history)
        ]
        if on_restart == "resume":
            assert all(not c.is_done or c.end_reason is not None for c in tracking.chases.values())
        for record in runtime.journal.load_parents(live_only=False):
            target = int(record["params"]["size_i"])
            filled = sum(o.filled_i for o in orders.orders if o.parent_id == record["parent_id"])
            if filled > target:
                out.overfills.append(f"{record['parent_id']}: {filled} > {target}")
        # a new order after the restart takes an index never used before
        bid, _ = runtime.market_data.top_of_book(fake.venue, SYMBOL)
        tick = runtime.market_data.market(fake.venue, SYMBOL).tick_i or 1
        price = bid * 97 // 100
        fresh = await orders.submit_limit(
            fake.venue,
            SYMBOL,
            is_ask=False,
            size_i=max(runtime.market_data.market(fake.venue, SYMBOL).min_size_i, 1) * 10,
            price_i=price - price % tick,
            post_only=True,
        )
        if fresh.client_order_index in before:
            out.reused.append(fresh.client_order_index)
    finally:
        # leave the shared venue clean for the next run
        await runtime.tracking.cancel_all()
        await runtime.orders.cancel_all(fake.venue)
        conn = runtime.connectors[fake.venue]
        venue_symbol = runtime.market_data.venue_symbol(fake.venue, SYMBOL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while [s for s in await conn.get_open_orders(venue_symbol) if s.status in RESTING] and loop.time() < deadline:
            await runtime.orders.cancel_all(fake.venue)
            await asyncio.sleep(0.5)
        await runtime.stop()
    assert integrity(journal) == "ok"
    return out


@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_9_mid_chase_then_a_fresh_runtime_on_the_journal_is_consistent(fakes, tmp_path, seed):
    fake = fakes.get()
    journal = tmp_path / "journal.sqlite3"
    kill_child_at_random(fake, journal, seed)
    on_restart = "resume" if seed % 2 else "cancel"
    out = asyncio.run(restart_and_check(fake, journal, on_restart))
    assert out.integrity == "ok"
    assert out.unknown_to_journal == [], "the venue holds orders the journal never knew"
    assert out.orphans == []
    assert out.overfills == []
    assert out.reused == []
