"""Turning a parsed table into the RawDelivery outputs: the canonical frame and the raw records."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadgov.normalise.text import blank_to_null
from leadgov.reading.fields import CANONICAL_FIELDS, TEXT_DTYPE
from leadgov.reading.headers import _display_header
from leadgov.reading.json_escape import _json_escaped
from leadgov.reading.limits import max_raw_bytes, raw_bytes_refused
from leadgov.reading.table import _Table

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class RawRecords:
    """Each row as delivered, as a JSON object text, built when asked for (``texts``), a slice of rows
    at a time: a million records are about 600 MB of text that a delivery only writes, block by block
    (``models.raw_record_store``), so they are never all held at once. A CSV's records are built from its
    raw cells (``names``: the record's keys, one per kept column); a JSON delivery's are its objects'
    texts as delivered (``delivered``)."""

    names: tuple[str, ...]
    cells: tuple[pa.ChunkedArray, ...]
    delivered: pa.ChunkedArray | None = None
    #: How many rows (a CSV may keep no column: every record is then ``{}``).
    rows: int = 0

    def __len__(self) -> int:
        return len(self.delivered) if self.delivered is not None else self.rows

    def texts(self, start: int = 0, length: int | None = None) -> pa.ChunkedArray:
        """The records of rows ``start`` to ``start + length`` (all from ``start`` by default)."""
        length = len(self) - start if length is None else length
        if self.delivered is not None:
            return self.delivered.slice(start, length)
        return _json_records(list(self.names), [c.slice(start, length) for c in self.cells], length)

    def __getitem__(self, row: int) -> str:
        text: str = self.texts(row, 1)[0].as_py()
        return text

    def tolist(self) -> list[str]:
        texts: list[str] = self.texts().to_pylist()
        return texts


@dataclass(frozen=True)
class RawDelivery:
    """A delivery as read: canonical text columns plus what is needed to store it faithfully.

    `frame` has one row per data row (file order, RangeIndex) and every canonical field as a
    `TEXT_DTYPE` column: trimmed text, missing (NaN) when absent, empty or whitespace-only.
    Rows whose every cell is blank (blank lines, `;;;` lines) are not rows. `raw_records` gives,
    per row of `frame` (same order), the row as delivered as a JSON object text (original headers
    to original cell text, extra columns included) for the audit trail; for JSON files it is the
    object's text exactly as delivered (`RawRecords`, built when written). `encoding` is
    one of utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252, latin-1.
    """

    frame: pd.DataFrame
    raw_records: RawRecords
    encoding: str
    delimiter: str | None
    extra_columns: tuple[str, ...]
    sha256: str


def _assemble(
    table: _Table, positions: dict[int, str], source: str
) -> tuple[pd.DataFrame, RawRecords, tuple[str, ...]]:
    """The canonical frame, the raw records and the extra columns of a parsed delivery."""
    trimmed, cells, raw = _drop_blank_rows(table)
    names = _record_names(table.headers, cells, positions)
    frame = _frame(CANONICAL_FIELDS, positions, trimmed)
    if raw is None:
        kept = [(name, column) for name, column in zip(names, cells, strict=True) if name is not None]
        _check_raw_bytes(table, kept, source)
        records = RawRecords(tuple(name for name, _ in kept), tuple(column for _, column in kept), rows=len(frame))
    else:
        records = RawRecords((), (), delivered=raw, rows=len(raw))
    extras = tuple(name for i, name in enumerate(names) if name is not None and i not in positions)
    return frame, records, extras


def _check_raw_bytes(table: _Table, kept: list[tuple[str, pa.ChunkedArray]], source: str) -> None:
    """Refuse a file whose raw records would take more than `limits.max_raw_bytes`: each row
    repeats every header name, so long names over many short rows multiply the file's size."""
    rows = len(kept[0][1]) if kept else 0
    per_row = 2 + sum(len(json.dumps(name, ensure_ascii=False).encode()) + 4 for name, _ in kept)
    values = sum(pc.sum(pc.binary_length(column)).as_py() or 0 for _, column in kept)
    estimate = rows * per_row + values
    if estimate > max_raw_bytes(table.size):
        raise raw_bytes_refused(estimate, rows, table.size, source, table.header_line)


def _record_names(
    headers: list[str], cells: list[pa.ChunkedArray], positions: dict[int, str]
) -> list[str | None]:
    """Unique keys for the raw records, per column; None drops a column that has neither a
    header nor any value (a trailing delimiter on every line)."""
    names: list[str | None] = []
    used: set[str] = set()
    for position, header in enumerate(headers):
        name = _display_header(header)
        if not name and position not in positions:
            if _all_blank(cells[position]):
                names.append(None)
                continue
            name = f"column {position + 1}"
        names.append(_unique(name, used))
    return names


def _unique(name: str, used: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`... if already taken, so JSON keys stay distinct."""
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f"{name} ({k})", k + 1
    used.add(candidate)
    return candidate


def _trim(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text, with empty cells as missing (the spec's "empty or whitespace-only").

    A column that trimming leaves as it is (most are) keeps the raw cells' text buffers, which the raw
    records hold anyway, under a validity bitmap of its own: a million-lead file's canonical frame then
    adds bitmaps, not a second copy of its text (tests/leadgov/test_reading_trim.py compares it with the
    plain trimmed copy)."""
    trimmed = pc.utf8_trim_whitespace(column)
    if pc.any(pc.not_equal(pc.binary_length(trimmed), pc.binary_length(column))).as_py():
        return blank_to_null(trimmed)  # some cell had surrounding whitespace: the trimmed copy
    del trimmed
    return pa.chunked_array([_blank_as_missing(chunk) for chunk in column.chunks], type=column.type)


def _blank_as_missing(chunk: pa.Array) -> pa.Array:
    """``chunk`` (already trimmed) with its empty cells missing, sharing its text.

    Arrow's CSV reader leaves a column's first offset past the header's text; some kernels read such
    arrays wrong (``ascii_lower`` garbles them), so the offsets are rebased to start at 0, over the same
    text from that point."""
    blank = pc.fill_null(pc.equal(chunk, ""), False)
    keep = pc.and_not(pc.is_valid(chunk), blank)
    if chunk.offset or keep.offset or keep.null_count:  # a bitmap that would not line up: copy instead
        return blank_to_null(chunk)
    validity, offsets, text = chunk.buffers()
    if pc.any(blank).as_py():
        validity = keep.buffers()[1]
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width, count=len(chunk) + 1)
    if ends[0]:
        offsets, text = pa.py_buffer(ends - ends[0]), text.slice(int(ends[0]))
    return pa.Array.from_buffers(chunk.type, len(chunk), [validity, offsets, text])


def _all_blank(column: pa.ChunkedArray) -> bool:
    """Whether no cell of the column holds anything but whitespace."""
    return pc.all(pc.is_null(_trim(column))).as_py() is not False


def _drop_blank_rows(
    table: _Table,
) -> tuple[list[pa.ChunkedArray], list[pa.ChunkedArray], pa.ChunkedArray | None]:
    """Trimmed cells, raw cells and raw records without the rows whose every cell is blank
    (`;;;` lines left by spreadsheets are blank lines, not leads)."""
    if not table.cells:  # JSON made only of empty objects: nothing but blank rows
        return [], [], None if table.raw is None else table.raw.slice(0, 0)
    trimmed = _parallel(_trim, table.cells)
    blank = _blank_mask(trimmed)
    if blank is None:
        return trimmed, table.cells, table.raw
    keep = pc.invert(blank)
    raw = None if table.raw is None else table.raw.filter(keep)
    return [c.filter(keep) for c in trimmed], [c.filter(keep) for c in table.cells], raw


def _blank_mask(trimmed: list[pa.ChunkedArray]) -> pa.ChunkedArray | None:
    """True for rows where every trimmed cell is missing; None when there is no such row."""
    mask = None
    for column in trimmed:
        blank = pc.is_null(column)
        mask = blank if mask is None else pc.and_(mask, blank)
        if not pc.any(mask).as_py():
            return None
    return mask


def _frame(
    fields: tuple[str, ...], positions: dict[int, str], trimmed: list[pa.ChunkedArray]
) -> pd.DataFrame:
    """The canonical dataframe: one TEXT_DTYPE column per field, absent fields all missing."""
    rows = len(trimmed[0]) if trimmed else 0
    by_field = {field_: trimmed[p] for p, field_ in positions.items()}
    arrays = [by_field.get(f, pa.nulls(rows, pa.string())) for f in fields]
    frame: pd.DataFrame = pa.table(arrays, names=list(fields)).to_pandas(types_mapper=_text_type)
    return frame


def _text_type(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """Map Arrow text to pandas' `str` dtype when converting to pandas."""
    return TEXT_DTYPE if arrow_type in (pa.string(), pa.large_string()) else None


def _json_records(names: list[str], cells: list[pa.ChunkedArray], rows: int) -> pa.ChunkedArray:
    """Each row as a JSON object text {header: cell text}, built by Arrow column-wise, in
    parallel slices of rows (pandas' to_json takes ~10 s on a million rows; this, ~1 s).
    Cells are never missing here (the CSV readers yield empty text for absent cells)."""
    if not names:
        return pa.chunked_array([pa.array(["{}"] * rows, type=pa.string())], type=pa.string())
    escaped = _parallel(_json_escaped, [pc.fill_null(c, "") if c.null_count else c for c in cells])
    keys = [
        ("{" if k == 0 else '",') + json.dumps(name, ensure_ascii=False) + ':"'
        for k, name in enumerate(names)
    ]

    def join(span: tuple[int, int]) -> pa.ChunkedArray:
        parts = [p for key, column in zip(keys, escaped, strict=True) for p in (key, column.slice(*span))]
        return pc.binary_join_element_wise(*parts, '"}', pa.scalar("", pa.string()))

    pieces = _parallel(join, _row_spans(rows))
    return pa.chunked_array([chunk for piece in pieces for chunk in piece.chunks], type=pa.string())


def _row_spans(rows: int, size: int = 100_000) -> list[tuple[int, int]]:
    """(offset, length) slices covering `rows`, for parallel row-wise work."""
    return [(start, min(size, rows - start)) for start in range(0, rows, size)] or [(0, 0)]


def _parallel(func: Callable[[_Item], _Result], items: Sequence[_Item]) -> list[_Result]:
    """`func` over `items` on a few threads: Arrow kernels release the GIL, so per-column or
    per-slice work spreads over the cores (results in input order)."""
    workers = min(len(items), os.cpu_count() or 1, 8)
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
