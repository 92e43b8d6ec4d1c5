"""The parsed-but-uninterpreted file that the CSV and JSON parsers hand to the record builders."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class _Table:
    """A file parsed but not yet interpreted: headers and untrimmed data cells per column.

    `raw` is set when the format already gives each row's delivered text (JSON); `has_header`
    is False for a JSON file without any object, which has no header to check. `size` is the
    file's size in bytes (what bounds the memory its reading may take, `limits`); `header_line`
    the physical line of a CSV header.
    """

    headers: list[str]
    cells: list[pa.ChunkedArray]
    raw: pa.ChunkedArray | None
    has_header: bool = True
    size: int = 0
    header_line: int = 1
