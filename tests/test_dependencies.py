"""Every third-party module the console imports on its default (sim) path comes from a declared dependency.

The README's first command installs only ``[project].dependencies``; the test extra pulls in more (eth-account
brings pydantic), so a module the console needs but only the test extra installed passed every other test
while ``pip install -e . && perpdesk`` failed on a fresh machine.  This test maps each module the console has
imported once it is ready to run (settings loaded, runtime built, the app and its screens imported) to its
distribution and checks that distribution is a base dependency or one of theirs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"console", "execution", "connector"}

CHILD = """
import json, sys
from console import cli
runtime, options = cli.prepare(["--venue", "sim", "--journal", sys.argv[1]])
import console.app
from console.screens import main, trading
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: list[str]) -> set[str]:
    """The distributions the base dependencies install, their own requirements included (extras left out)."""
    seen: set[str] = set()
    todo = [_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r and "extra==" not in r]
    return seen


def test_the_console_imports_only_what_its_base_dependencies_install(tmp_path):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = _closure(project["dependencies"]) | {project["name"]}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "journal.sqlite3")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    modules = json.loads(out.strip().splitlines()[-1])
    owners = metadata.packages_distributions()
    third_party = [m for m in modules if m not in sys.stdlib_module_names and m not in OURS and not m.startswith("_")]
    assert third_party, "the child imported no third-party module: the check checked nothing"
    missing = {
        m: owners.get(m, ["?"]) for m in third_party
        if not any(_name(d) in installed for d in owners.get(m, []))
    }  # fmt: skip
    assert not missing, f"imported but not installed by `pip install -e .`: {missing}"
