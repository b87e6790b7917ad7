"""Just enough TOML writing to persist a setting without a new dependency.

``set_key_in_text`` edits one line in place so the trader's comments and layout survive;
``dumps`` rewrites a whole document and is the fallback when the in-place edit cannot be
proved right (the result is always re-parsed and compared before it is used).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import tomllib
from decimal import Decimal
from pathlib import PurePath
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER = re.compile(r"^\s*\[(?!\[)(?P<name>[^\]]+)\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[")


def format_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _format_string(key)


def format_value(value: Any) -> str:
    """One TOML value on one line (tables become inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, Decimal):
        return _format_string(str(value))  # a string keeps it exact; the settings parse it back to Decimal
    if isinstance(value, str | PurePath):
        return _format_string(str(value))
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_key(str(k))} = {format_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")


def _format_string(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dumps(data: dict[str, Any]) -> str:
    """A whole document: plain keys first, then one ``[table]`` per nested dict."""
    lines: list[str] = []
    _dump_table(data, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _dump_table(data: dict[str, Any], prefix: tuple[str, ...], lines: list[str]) -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    if prefix and (plain or not tables):
        lines.append("")
        lines.append("[" + ".".join(format_key(p) for p in prefix) + "]")
    for key, value in plain.items():
        lines.append(f"{format_key(str(key))} = {format_value(value)}")
    for key, value in tables.items():
        _dump_table(value, (*prefix, str(key)), lines)


def set_key_in_text(text: str, path: tuple[str, ...], value: Any) -> str | None:
    """``text`` with ``path`` set to ``value`` by a one-line edit, or None when that is not safe."""
    *table_parts, leaf = path
    table = tuple(table_parts)
    lines = text.splitlines()
    headers: list[tuple[int, tuple[str, ...]]] = []
    for index, line in enumerate(lines):
        if _ARRAY_HEADER.match(line):
            return None
        header = _HEADER.match(line)
        if header:
            parts = _split_header(header.group("name"))
            if parts is None:
                return None
            headers.append((index, parts))
    new_line = f"{format_key(leaf)} = {format_value(value)}"
    if table:
        starts = [i for i, parts in headers if parts == table]
        if not starts:
            if lines and lines[-1].strip():
                lines.append("")
            lines += ["[" + ".".join(format_key(p) for p in table) + "]", new_line]
            return "\n".join(lines) + "\n"
        begin = starts[0] + 1
    else:
        begin = 0
    end = next((i for i, _ in headers if i >= begin), len(lines))
    key_pattern = re.compile(r"^\s*(" + re.escape(leaf) + "|" + re.escape(_format_string(leaf)) + r")\s*=")
    for index in range(begin, end):
        if key_pattern.match(lines[index]):
            lines[index] = new_line
            return "\n".join(lines) + "\n"
    insert_at = end
    while insert_at > begin and not lines[insert_at - 1].strip():
        insert_at -= 1
    lines.insert(insert_at, new_line)
    return "\n".join(lines) + "\n"


def _split_header(name: str) -> tuple[str, ...] | None:
    try:
        parsed = tomllib.loads(f"[{name}]\n")
    except tomllib.TOMLDecodeError:
        return None
    parts: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        parts.append(key)
    return tuple(parts)


def set_key(text: str, path: tuple[str, ...], value: Any) -> str:
    """The document with ``path`` set: an in-place edit when provably right, else a full rewrite."""
    data = tomllib.loads(text) if text.strip() else {}
    expected = _with_value(data, path, value)
    edited = set_key_in_text(text, path, value)
    if edited is not None:
        try:
            if tomllib.loads(edited) == tomllib.loads(dumps(expected)):
                return edited
        except tomllib.TOMLDecodeError:
            pass
    return dumps(expected)


def _with_value(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    result = dict(data)
    node = result
    for part in path[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[path[-1]] = value
    return result
