"""Every third-party package our code imports is installed by the dependencies declared for it.

The README's first command installs only ``[project].dependencies``; the test extra pulls in more (eth-account
brings pydantic), so a package the console imported but only the test extra installed passed every other test
while ``pip install -e . && perpdesk`` failed on a fresh machine (``No module named 'pydantic'``).  Each import
statement in console/, execution/ and connector/ (those under ``if TYPE_CHECKING:`` left out) is mapped to the
distribution that provides it, which must be a base dependency, one of theirs, or in the extra that the
file's room declares (a venue's package: its extra; the served console: ``serve``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"console", "execution", "connector"}
EXTRA_OF = {  # a room whose imports may come from an extra
    "connector/hyperliquid": "hyperliquid",
    "connector/lighter": "lighter",
    "connector/backpack": "backpack",
    "console/serve.py": "serve",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements install, their own requirements included (extras left out)."""
    seen: set[str] = set()
    todo = [_name(r) for r in requirements]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if not re.search(r"extra\s*==", r)]
    return seen


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> set[str]:
    """Top-level names of the absolute imports in ``tree``, leaving ``if TYPE_CHECKING:`` blocks out."""
    found: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        todo += [child for child in ast.iter_child_nodes(node) if not _type_checking(child)]
    return found


def _extra(path: Path) -> str | None:
    rel = path.relative_to(ROOT).as_posix()
    return next((extra for room, extra in EXTRA_OF.items() if rel == room or rel.startswith(room + "/")), None)


def _missing() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    owners = metadata.packages_distributions()
    base = _closure(project["dependencies"]) | {project["name"]}
    extras = {extra: base | _closure(reqs) for extra, reqs in project["optional-dependencies"].items()}
    missing: dict[str, set[str]] = {}
    for room in sorted(OURS):
        for path in sorted((ROOT / room).rglob("*.py")):
            extra = _extra(path)
            installed = extras[extra] if extra else base
            for module in _imports(ast.parse(path.read_text(), str(path))):
                if module in sys.stdlib_module_names or module in OURS or module == "__future__":
                    continue
                if not any(_name(d) in installed for d in owners.get(module, [module])):
                    missing.setdefault(f"{module} ({extra or 'base'})", set()).add(path.relative_to(ROOT).as_posix())
    return missing


def test_every_package_our_code_imports_is_installed_by_what_its_room_declares():
    missing = _missing()
    assert not missing, f"imported but not declared in pyproject.toml for the file's room: {missing}"


def test_the_check_sees_a_package_left_out(monkeypatch):
    """Without pydantic in the base dependencies, the settings' import is named (the defect this guards)."""
    real = tomllib.loads

    def without_pydantic(text: str) -> dict:
        data = real(text)
        data["project"]["dependencies"] = [d for d in data["project"]["dependencies"] if _name(d) != "pydantic"]
        return data

    monkeypatch.setattr(tomllib, "loads", without_pydantic)
    assert "console/settings.py" in _missing()["pydantic (base)"]
