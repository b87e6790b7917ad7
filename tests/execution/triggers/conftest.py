from __future__ import annotations

import pytest

from tests.execution.triggers.harness import TriggerDesk


@pytest.fixture(params=["emulated", "native"])
def mode(request) -> str:
    return request.param


@pytest.fixture
async def desk(clock, tmp_path, mode):
    d = await TriggerDesk(clock, tmp_path, emulate=mode == "emulated").start()
    yield d
    await d.stop()
