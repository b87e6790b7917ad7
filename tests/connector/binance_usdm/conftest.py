"""The Binance USDⓈ-M fake on 127.0.0.1 and a key file for it, shared by the connector, fills and trigger tests
(a module that needs another fake defines its own ``fake``)."""

from __future__ import annotations

import pytest

from connector.keys import load_key_file
from tests.fakes.binance_usdm import FakeBinanceUsdm


@pytest.fixture
async def fake():
    venue = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    yield venue
    await venue.stop()


@pytest.fixture
def keys(tmp_path, fake):
    return load_key_file(fake.write_key_file(tmp_path / "binance-usdm.toml"), venue="binance-usdm")
