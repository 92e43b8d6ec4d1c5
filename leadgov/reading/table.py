"""The parsed-but-uninterpreted file that the CSV and JSON parsers hand to the record builders."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class _Table:
    """A file parsed but not yet interpreted: headers and untrimmed data cells per column.

    `raw` is set when the format already gives each row's delivered text (JSON); `has_header`
    is False for a JSON file without any object, which has no header to check.
    """

    headers: list[str]
    cells: list[pa.ChunkedArray]
    raw: pa.ChunkedArray | None
    has_header: bool = True
