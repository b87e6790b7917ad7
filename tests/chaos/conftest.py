"""Every test here is marked ``chaos`` (``pytest -m chaos`` runs only them; they run by default too).

Under pytest-xdist (``--dist loadgroup``) the kill -9 runs of one venue share one xdist worker, as
they share one fake venue process (the module-scoped ``fakes`` fixture): spread over the workers,
each worker would start its own fake of every venue.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/chaos/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.chaos)
            callspec = getattr(item, "callspec", None)
            if item.name.startswith("test_kill_9") and callspec is not None and "fakes" in callspec.params:
                item.add_marker(pytest.mark.xdist_group(f"chaos-kill-{callspec.params['fakes']}"))
