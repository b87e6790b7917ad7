"""The layer contracts in pyproject.toml hold on this tree, and they would catch a UI import in the core.

CI runs ``lint-imports`` too; these tests prove the contracts can fail, so a weakened contract or a
config that silently checks nothing shows up as a red test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("console", "execution", "connector", "themes")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("lint-imports is not installed: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([exe, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def copy_tree(dest: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_the_tree_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_textual_import_in_execution_breaks_the_headless_contract(tmp_path):
    tree = copy_tree(tmp_path)
    module = tree / "execution" / "listeners.py"
    module.write_text(module.read_text() + "\nimport textual  # noqa: E402, F401\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "execution.listeners -> textual" in result.stdout


def test_execution_importing_a_venue_package_breaks_the_factory_contract(tmp_path):
    tree = copy_tree(tmp_path)
    module = tree / "execution" / "listeners.py"
    module.write_text(module.read_text() + "\nimport connector.sim.engine  # noqa: E402, F401\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "execution is not allowed to import connector.sim" in result.stdout


def test_a_cycle_hidden_under_type_checking_still_counts(tmp_path):
    tree = copy_tree(tmp_path)
    module = tree / "execution" / "market" / "book.py"
    module.write_text(
        module.read_text() + "\nfrom typing import TYPE_CHECKING  # noqa: E402\n\nif TYPE_CHECKING:\n    from execution.orders import Order  # noqa: E402, F401\n"
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "execution.market" in result.stdout and "execution.orders" in result.stdout
