"""How values and key paths are written in problem lines, so every message reads the same."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any


def _show(value: Any) -> str:
    """A value as the author wrote it in YAML, shortened."""
    if value is None:
        shown = "null (empty)"
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, Enum):
        shown = repr(value.value)
    elif isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    elif isinstance(value, (dict, list)):
        shown = ("a mapping " if isinstance(value, dict) else "a list ") + repr(value)
    else:
        shown = repr(value) if isinstance(value, str) else str(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _quote_all(values: list[str]) -> str:
    return ", ".join(repr(value) for value in values)


def _key_path(loc: tuple[Any, ...]) -> str:
    """``('billing', 'freeze_if', 'x')`` -> ``billing.freeze_if.x``; list indices as ``[i]``;
    keys that are not plain names (headers with spaces) as ``['Date collecte']``."""
    path = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the key itself" in a mapping
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            path += f".{part}" if path else str(part)
        else:
            path += f"[{str(part)!r}]"
    return path or "(contract)"
