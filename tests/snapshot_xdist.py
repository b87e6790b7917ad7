"""Unused snapshots fail the run under pytest-xdist too.

syrupy 4.8 (under pytest-textual-snapshot 1.1.0) decides "unused" in ``pytest_sessionfinish`` and,
on an xdist worker or controller, skips that decision (its own TODO): each worker runs only part of a
module. Here every worker writes what it collected, what it ran and which snapshot files its
assertions used; the controller merges them and applies syrupy's rule to the ``.svg`` files in every
``__snapshots__/<test module>/`` directory:

- a file no assertion used whose test ran this session is unused (a renamed parameter, a snapshot
  index the test no longer reaches);
- a file whose name matches no test of its module is unused when the module was collected whole (no
  ``::`` node, ``-k`` or ``-m`` on the command line) and every test of it ran (the test was deleted or
  renamed);
- otherwise (its test was not selected) it is left alone.

Unused files fail the run (exit status 1), are listed, and are deleted under ``--snapshot-update``;
``--snapshot-warn-unused`` lists them without failing, as syrupy does. A changed snapshot needs no help:
its test fails on the worker that ran it. Without xdist (``-n 0``) syrupy does all of it itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

_DIR_KEY = "perpdesk_snapshot_used_dir"


def _controller_dir(config) -> Path | None:
    return getattr(config, "_perpdesk_snapshot_dir", None)


def configure(config) -> None:
    """On the xdist controller: a directory for the workers' reports."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if not config.pluginmanager.hasplugin("xdist"):
        return
    config._perpdesk_snapshot_dir = Path(tempfile.mkdtemp(prefix="perpdesk-snapshots-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    folder = _controller_dir(node.config)
    if folder is not None:
        node.workerinput[_DIR_KEY] = str(folder)


def _worker_report(session) -> None:
    config = session.config
    folder = getattr(config, "workerinput", {}).get(_DIR_KEY)
    syrupy = getattr(config, "_syrupy", None)
    if folder is None or syrupy is None or syrupy.report is None:
        return
    used = [str(Path(c.location).resolve()) for c in syrupy.report.used]
    ran = [nodeid for nodeid, status in syrupy._selected_items.items() if status.value]
    collected = [item.nodeid for item in syrupy._collected_items]
    name = f"{config.workerinput['workerid']}.json"
    Path(folder, name).write_text(json.dumps({"used": used, "ran": ran, "collected": collected}))


def _matches(snapshot: str, test: str) -> bool:
    """syrupy's names: ``test[params]`` for a test's first snapshot, ``test[params].N`` after it."""
    return snapshot == test or (snapshot.startswith(test + ".") and snapshot[len(test) + 1 :].isdigit())


def find_unused(root: Path, used: set[str], ran: set[str], collected: set[str], whole: bool) -> list[Path]:
    """``whole``: modules were collected whole (no ``::`` node, ``-k`` or ``-m`` picked tests)."""
    unused = []
    for snapshot_dir in sorted(root.rglob("__snapshots__")):
        for module_dir in sorted(p for p in snapshot_dir.iterdir() if p.is_dir()):
            module = module_dir.parent.parent / f"{module_dir.name}.py"
            prefix = module.relative_to(root).as_posix() + "::"
            tests = {n for n in collected if n.startswith(prefix)}
            if not tests:
                continue  # not part of this session
            names = {n[len(prefix) :].replace("::", ".") for n in tests}
            ran_names = {n[len(prefix) :].replace("::", ".") for n in tests & ran}
            whole_module = whole and tests <= ran
            for path in sorted(module_dir.glob("*.svg")):
                if str(path.resolve()) in used:
                    continue
                if any(_matches(path.stem, t) for t in ran_names) or (
                    whole_module and not any(_matches(path.stem, t) for t in names)
                ):
                    unused.append(path)
    return unused


def _controller_check(session) -> None:
    config = session.config
    folder = _controller_dir(config)
    if folder is None:
        return
    used: set[str] = set()
    ran: set[str] = set()
    collected: set[str] = set()
    reports = list(folder.glob("*.json"))
    for report in reports:
        data = json.loads(report.read_text())
        used.update(data["used"])
        ran.update(data["ran"])
        collected.update(data["collected"])
        report.unlink()
    os.rmdir(folder)
    if not reports:
        return
    whole = not (config.option.keyword or config.option.markexpr or any("::" in a for a in config.args))
    unused = find_unused(Path(config.rootpath), used, ran, collected, whole)
    if not unused:
        return
    writer = config.pluginmanager.get_plugin("terminalreporter")
    update = bool(config.option.update_snapshots)
    verb = "deleted" if update else "unused"
    if writer is not None:
        writer.ensure_newline()
    for path in unused:
        if update:
            path.unlink()
        if writer is not None:
            writer.write_line(f"snapshot {verb}: {path.relative_to(config.rootpath)}", red=not update)
    if writer is not None and not update:
        writer.write_line(f"{len(unused)} unused snapshot(s): `pytest --snapshot-update` deletes them", red=True)
    if not update and not config.option.warn_unused_snapshots:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session) -> None:
    """After syrupy's own ``pytest_sessionfinish`` (which built the report this reads)."""
    if hasattr(session.config, "workerinput"):
        _worker_report(session)
    else:
        _controller_check(session)
