"""The contract's reading options, checked when the contract loads, not when a file arrives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from leadgov.fields import fold_header
from leadgov.reading.fields import CANONICAL_FIELDS

_FORMATS = ("csv", "json")
_ENCODINGS = ("auto", "utf-8", "cp1252", "latin-1")
_DELIMITERS = ("auto", ";", ",", "\t")


@dataclass(frozen=True)
class ReadOptions:
    """How to read one supplier's files: the contract's `delivery` block, minus the date format.

    Validated on creation so that a contract typo (an unknown canonical field, an unsupported
    encoding) fails when the contract is loaded rather than when a file arrives.
    """

    format: Literal["csv", "json"] = "csv"
    encoding: Literal["auto", "utf-8", "cp1252", "latin-1"] = "auto"
    delimiter: Literal["auto", ";", ",", "\t"] = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    required_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("format", self.format, _FORMATS)
        _check_choice("encoding", self.encoding, _ENCODINGS)
        _check_choice("delimiter", self.delimiter, _DELIMITERS)
        # Plain strings, even when the contract gives CanonicalField members: a message names a field
        # as `lead_id`, never as `<CanonicalField.lead_id: 'lead_id'>`.
        object.__setattr__(self, "columns", {h: _plain(t) for h, t in self.columns.items()})
        object.__setattr__(self, "required_fields", tuple(_plain(f) for f in self.required_fields))
        _check_columns(self.columns)
        unknown = [f for f in self.required_fields if f not in CANONICAL_FIELDS]
        if unknown:
            raise ValueError(f"required_fields: unknown canonical field(s) {unknown}")


def _plain(value: str) -> str:
    """A str subclass's value (a StrEnum member) as a plain str; anything else unchanged."""
    return str(value) if isinstance(value, str) else value


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    """Reject an option value outside the contract format's vocabulary."""
    if value not in allowed:
        raise ValueError(f"{name}: {value!r} is not one of {list(allowed)}")


def _check_columns(columns: Mapping[str, str]) -> None:
    """A mapping must target canonical fields, and two spellings of one header must agree."""
    seen: dict[str, tuple[str, str]] = {}
    for header, target in columns.items():
        if not isinstance(header, str) or not fold_header(header):
            raise ValueError(f"columns: blank or non-text header {header!r}")
        if target not in CANONICAL_FIELDS:
            raise ValueError(f"columns: {header!r} maps to unknown canonical field {target!r}")
        key = fold_header(header)
        if key in seen and seen[key][1] != target:
            raise ValueError(
                f"columns: {seen[key][0]!r} and {header!r} are the same header "
                f"but map to {seen[key][1]!r} and {target!r}"
            )
        seen[key] = (header, target)
