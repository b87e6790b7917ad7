"""An hour of virtual time, random faults and 20 chases on the sim: the invariants hold after every step."""

from __future__ import annotations

import pytest

from tests.chaos.soak import CHASES, run_soak


@pytest.mark.parametrize("seed", [1, 2])
async def test_an_hour_of_faults_and_twenty_chases_keeps_every_invariant(seed):
    figures = await run_soak(seed)
    assert figures.virtual_s >= 3600 and figures.chases == CHASES
    assert sum(figures.faults.values()) > 50 and len(figures.faults) == 4  # every kind of fault happened
    assert figures.violations == []
    assert figures.overfills == figures.duplicate_ids == figures.missed_fills == 0
    assert figures.max_resting_per_chase <= 1
    assert figures.filled_chases > 0
