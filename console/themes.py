"""Themes are data: TOML files in the ``themes`` package, read into Textual ``Theme`` objects.

Textual has no loader for a folder of themes, so this is it.  Up/down colours and the
staleness badges are theme variables (``$price-up`` …) so no style ever hard-codes them.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from textual.theme import Theme

DEFAULT_THEME = "perpdesk-dark"

THEME_VARIABLE_DEFAULTS: dict[str, str] = {
    "price-up": "#26a69a",
    "price-down": "#ef5350",
    "own-order": "#f5a623",
    "stale-warn": "#f5a623",
    "stale-bad": "#ef5350",
    "depth-bar-bid": "#26a69a 25%",
    "depth-bar-ask": "#ef5350 25%",
    "stop": "#ff7043",
    "take-profit": "#66bb6a",
}

_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the field."""


def theme_from_toml(text: str, source: str) -> Theme:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"theme {source}: not valid TOML ({exc})") from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeFileError(f"theme {source}: needs a name = \"...\" line")
    if not isinstance(data.get("primary"), str):
        raise ThemeFileError(f"theme {source}: needs a primary colour")
    unknown = set(data) - {"name", "dark", "variables", *_COLOUR_FIELDS}
    if unknown:
        raise ThemeFileError(f"theme {source}: unknown field(s) {', '.join(sorted(unknown))}")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeFileError(f"theme {source}: [variables] must map names to colour strings")
    colours = {k: data[k] for k in _COLOUR_FIELDS if k in data}
    return Theme(name=name, dark=bool(data.get("dark", True)), variables=dict(variables), **colours)


def load_themes(directory: Path | None = None) -> list[Theme]:
    """Every ``*.toml`` in ``directory`` (default: the packaged ``themes``), sorted by name."""
    if directory is None:
        files = [f for f in resources.files("themes").iterdir() if f.name.endswith(".toml")]
    else:
        files = sorted(directory.glob("*.toml"))
    themes = [theme_from_toml(f.read_text(encoding="utf-8"), f.name) for f in files]
    return sorted(themes, key=lambda t: t.name)
