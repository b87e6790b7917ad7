"""The fake venue as its own process, driven from outside through its fault switches (what the chaos
suite needs: a runtime can be killed and restarted while the venue keeps its orders)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.binance_usdm.stream import LIVE
from connector.keys import load_key_file
from tests.connector.binance_usdm.test_connector import FAST, Recorder, until

ROOT = Path(__file__).resolve().parents[3]


async def test_the_fake_runs_as_a_process_and_takes_faults_over_http(tmp_path):
    key_file = tmp_path / "binance-usdm.toml"
    proc = await asyncio.create_subprocess_exec(  # port 0: the fake binds a free port and prints its address
        sys.executable, "-m", "tests.fakes.binance_usdm", "--port", "0", "--key-file", str(key_file),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    conn = None
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            _, _, _, _, base, _, ws_url = (await proc.stdout.readline()).decode().split()  # "fake … at URL  websockets URL"
            while b"key file written" not in await proc.stdout.readline():
                pass
        assert key_file.stat().st_mode & 0o077 == 0
        conn = BinanceUsdmConnector(
            base_url=base, ws_url=ws_url, keys=load_key_file(key_file, venue="binance-usdm"), **FAST
        )
        rec = Recorder(conn)
        await conn.start()
        await conn.subscribe_market_data(["BTCUSDT"])
        await until(lambda: rec.synced(), timeout=10)
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.post("/_fake/drop_sockets", json={})).status_code == 200
            synced = len(rec.synced())
            await until(lambda: conn.streams["public"].connects >= 2 and conn.streams["private"].connects >= 2, 10)
            await until(lambda: len(rec.synced()) > synced, timeout=10)
            # a diff applied after the snapshot: one lost now breaks the chain (earlier, the snapshot covers it)
            await until(lambda: conn.feed.books["BTCUSDT"].state == LIVE, timeout=10)
            assert (await client.post("/_fake/skip_depth", json={"symbol": "BTCUSDT"})).status_code == 200
            await until(lambda: conn.feed.books["BTCUSDT"].gaps >= 1, timeout=10)
            assert (await client.post("/_fake/no_such_fault", json={})).status_code == 404
    finally:
        if conn is not None:
            await conn.stop()
        proc.terminate()
        await proc.wait()
