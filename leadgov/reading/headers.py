"""Matching supplier headers to canonical fields, so a header's spelling never changes a check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from leadgov.fields import fold_header
from leadgov.reading.errors import UnreadableFile

if TYPE_CHECKING:
    from leadgov.reading.options import ReadOptions


def _display_header(header: str) -> str:
    """A header as shown in messages and raw records: without BOM and surrounding spaces."""
    return header.replace("\ufeff", "").strip()


def _map_headers(
    headers: list[str], columns: Mapping[str, str], fields: tuple[str, ...], source: str
) -> dict[int, str]:
    """Column position -> canonical field. The contract's mapping wins; a header spelled like a
    canonical field passes as is. Two headers for one field refuse the file: picking one
    would silently bill or reject on the wrong data."""
    by_mapping = {fold_header(k): v for k, v in columns.items()}
    claims: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        key = fold_header(header)
        target = by_mapping.get(key) or (key if key in fields else None)
        if target in fields:
            claims.setdefault(target, []).append(position)
    for target, positions in claims.items():
        if len(positions) > 1:
            names = " and ".join(repr(_display_header(headers[p])) for p in positions)
            raise UnreadableFile(source, f"headers {names} both map to the field {target}")
    return {positions[0]: target for target, positions in claims.items()}


def _check_required(positions: dict[int, str], options: ReadOptions, source: str) -> None:
    """Refuse a file lacking the column of a required field, saying which header was expected."""
    present = set(positions.values())
    missing = [f for f in options.required_fields if f not in present]
    if missing:
        details = "; ".join(
            f"{f} (expected header {_expected_headers(f, options.columns)})" for f in missing
        )
        raise UnreadableFile(source, f"required column missing from the header: {details}")


def _expected_headers(target: str, columns: Mapping[str, str]) -> str:
    """The headers that would provide a canonical field, as a readable list."""
    names = [h for h, f in columns.items() if f == target]
    if target not in {fold_header(h) for h in names}:
        names.append(target)
    return " or ".join(repr(n) for n in names)
