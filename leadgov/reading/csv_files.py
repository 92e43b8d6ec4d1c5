"""Parsing CSV: Arrow's fast reader first, pandas' tolerant one for files Arrow refuses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pandas.io.parsers import TextFileReader

from leadgov.reading.delimiters import (
    _DELIMITER_NAMES,
    _count_outside_quotes,
    _header_line,
    _skip_blank_lines,
    sniff_delimiter,
)
from leadgov.reading.errors import UnreadableFile
from leadgov.reading.limits import cells_refused, columns_refused, too_many_cells, too_many_columns
from leadgov.reading.table import _Table


def _csv_table(
    payload: bytes, delimiter: str, source: str, *, single_column_ok: bool
) -> tuple[_Table, str]:
    """Parse a CSV payload: choose the delimiter, then split rows into header and data."""
    body, skipped = _skip_blank_lines(payload)
    header = _header_line(body)
    if delimiter == "auto":
        lone = max(_count_outside_quotes(header).values()) == 0
        delimiter = "," if lone and single_column_ok else sniff_delimiter(header, source=source)
    count = _count_outside_quotes(header)[delimiter] + 1  # bounded before the header is split
    if too_many_columns(count):
        raise columns_refused(count, source, skipped + 1)
    try:
        width = len(next(csv.reader([header], delimiter=delimiter)))
    except csv.Error:  # a stray quote or a bare CR inside the header line
        raise UnreadableFile(source, "the header line is malformed (a stray quote, or old Mac line endings?)",
                             line=skipped + 1) from None
    if width < 2 and not single_column_ok:
        raise UnreadableFile(
            source,
            f"the header has a single column with delimiter {_DELIMITER_NAMES[delimiter]} "
            "(wrong delimiter declared?)",
        )
    try:
        columns = _parse_csv(body, delimiter, width, source, len(payload))
    except UnreadableFile as exc:
        if exc.line is None or not skipped:
            raise
        raise UnreadableFile(source, exc.problem, line=exc.line + skipped) from None
    if not columns or any(len(column) == 0 for column in columns):
        raise UnreadableFile(source, "no header line (the file holds nothing but blank lines or marks)")
    headers = [column[0].as_py() for column in columns]
    return _Table(headers, [column.slice(1) for column in columns], None, size=len(payload),
                  header_line=skipped + 1), delimiter


def _parse_csv(payload: bytes, delimiter: str, width: int, source: str, size: int) -> list[pa.ChunkedArray]:
    """All rows (header first) as one text array per column, cells exactly as delivered.

    Arrow silently ends a quoted field left open at the end of the file, so a file with an odd
    number of quotes (cut inside a quoted field, or holding a stray literal quote) goes straight
    to pandas, which reports the unterminated field.
    """
    if payload.count(b'"') % 2 == 0:
        try:
            return _parse_csv_arrow(payload, delimiter, width)
        except pa.ArrowInvalid:
            pass  # Arrow's message quotes the offending row (personal data): dropped.
    return _parse_csv_pandas(payload, delimiter, width, source, size)


def _parse_csv_arrow(payload: bytes, delimiter: str, width: int) -> list[pa.ChunkedArray]:
    """The fast path: multi-threaded, but strict (every row exactly as wide as the header)."""
    names = [f"c{i}" for i in range(width)]
    table = pacsv.read_csv(
        pa.BufferReader(payload),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return [table.column(i) for i in range(table.num_columns)]


def _parse_csv_pandas(payload: bytes, delimiter: str, width: int, source: str, size: int) -> list[pa.ChunkedArray]:
    """The tolerant path: short rows are padded with empty cells (missing values), while
    over-long or unterminated rows refuse the file with the line where they start. Read in
    chunks of rows, so that short rows padded to the header's width are refused
    (`limits.max_cells`) before they fill the memory."""
    chunks: list[list[pa.Array | pa.ChunkedArray]] = []
    rows = 0
    try:
        with _pandas_reader(payload, delimiter, rows=max(1, _CHUNK_CELLS // max(1, width))) as reader:
            for frame in reader:
                rows += len(frame)
                if too_many_cells(rows, frame.shape[1], size):
                    raise cells_refused(rows, frame.shape[1], size, source, 1)  # 1: the header's line
                chunks.append([pa.array(frame[c].array, type=pa.string()) for c in frame.columns])
    except pd.errors.ParserError as exc:
        raise _csv_refusal(payload, delimiter, source, str(exc)) from None
    except pd.errors.EmptyDataError:
        raise UnreadableFile(source, "no header line (the file holds nothing but blank lines or marks)") from None
    columns = len(chunks[0]) if chunks else 0
    return [pa.chunked_array([a for chunk in chunks for a in _arrays(chunk[i])], type=pa.string())
            for i in range(columns)]


def _pandas_reader(payload: bytes, delimiter: str, *, rows: int) -> TextFileReader:
    """pandas' C parser over the payload, every cell as text, `rows` rows at a time."""
    return pd.read_csv(
        io.BytesIO(payload),
        sep=delimiter,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        engine="c",
        encoding="utf-8",
        quotechar='"',
        doublequote=True,
        skip_blank_lines=True,
        chunksize=rows,
    )


#: Cells of a chunk of rows on the tolerant path (rows per chunk: this divided by the header's width).
_CHUNK_CELLS = 1 << 20


def _arrays(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """An Arrow array as its chunks (pandas hands back either, depending on its chunks)."""
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


def _csv_refusal(payload: bytes, delimiter: str, source: str, message: str) -> UnreadableFile:
    """Turn a parser failure into a refusal naming the physical line where the bad row starts
    (pandas counts records, not lines, so the csv module re-scans: error path only)."""
    records = _csv_records(payload.decode("utf-8"), delimiter)
    if "EOF inside string" in message:
        last = None
        for record in records:
            last = record
        line = None if last is None else last[0]
        return UnreadableFile(source, "unterminated quoted field (file cut off?)", line=line)
    header_width = None
    for line, width in records:
        if width is None:
            return UnreadableFile(source, "unterminated quoted field (file cut off?)", line=line)
        if header_width is None:
            header_width = width
        elif width > header_width:
            return UnreadableFile(
                source,
                f"row has {width} cells but the header has {header_width} (file cut or malformed)",
                line=line,
            )
    return UnreadableFile(source, "malformed CSV")


def _csv_records(text: str, delimiter: str) -> Iterable[tuple[int, int | None]]:
    """(start line, cell count) of each non-blank record; a count of None marks a field that
    runs past the csv module's size limit, i.e. an open quote swallowing the rest."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            return
        if any(cell.strip() for cell in cells):
            yield start, len(cells)
