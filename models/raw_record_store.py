"""Writing, reading, searching and erasing raw records and supplied values (``models.raw_record``), block
by block.

Functions take a session and never commit. Every read names the blocks it needs by delivery and row
range first (a small query), then decodes only those; a search decodes every block, one batch of
blocks at a time, so memory stays bounded by the batch, not the database.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from leadgov.models.db import chunks
from leadgov.models.raw_record import BLOCK_ROWS, SUPPLIED_VALUES, RawRecordBlock

_WRITE = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))  # the fastest level
#: Blocks read and decoded at once (a search reads them all, this many at a time).
_DECODE_BATCH = 16
_NO_SYNC = {"synchronize_session": False}


def encode_block(row_numbers: np.ndarray, records: pa.Array | pa.ChunkedArray) -> bytes:
    """A block's records: an Arrow IPC stream of (row_number int32, raw_record text), zstd-compressed. The
    text keeps its Arrow type, 32- or 64-bit offsets (a block of a hostile file may pass 2 GB), not copied."""
    if not pa.types.is_string(records.type) and not pa.types.is_large_string(records.type):
        records = records.cast(pa.large_string())
    return _stream(pa.table({"row_number": _row_numbers(row_numbers), "raw_record": records}))


def encode_values(row_numbers: np.ndarray, values: pa.Table) -> bytes:
    """A block's supplied values: an Arrow IPC stream of row_number int32 and the ``SUPPLIED_VALUES``
    columns (``values``: a table of those columns, in that schema), zstd-compressed."""
    return _stream(pa.Table.from_arrays([_row_numbers(row_numbers), *values.columns],
                                        names=["row_number", *values.column_names]))


def _row_numbers(row_numbers: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(row_numbers, dtype=np.int32))


def _stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE) as writer:
        writer.write_table(table)
    blob: bytes = sink.getvalue().to_pybytes()
    return blob


def decode_block(blob: bytes) -> pa.Table:
    """A block's (row_number, raw_record) table, or its (row_number, supplied values...) table."""
    return pa.ipc.open_stream(pa.py_buffer(blob)).read_all()


def supplied_table(values: pd.DataFrame) -> pa.Table:
    """``values``' ``SUPPLIED_VALUES`` columns as an Arrow table of that schema (a column it lacks: NULL).
    Text stays text, whole numbers whole, times naive and floored to the microsecond."""
    arrays = []
    for field in SUPPLIED_VALUES:
        if field.name not in values.columns:
            arrays.append(pa.nulls(len(values), field.type))
            continue
        column = values[field.name]
        if pa.types.is_timestamp(field.type):
            column = column.dt.floor("us")
        arrays.append(pa.array(column.array, from_pandas=True).cast(field.type) if len(column)
                      else pa.array([], field.type))
    return pa.Table.from_arrays(arrays, schema=SUPPLIED_VALUES)


def _as_arrow(records: pd.Series) -> pa.ChunkedArray:
    """A series of texts as Arrow text, missing values NULL (no copy when the series is Arrow-backed)."""
    array = pa.array(records.array, from_pandas=True) if len(records) else pa.array([], pa.string())
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


#: A delivery's raw records of rows [start, start + length), in file order (``leadgov.reading.RawRecords.texts``).
RecordTexts = Callable[[int, int], pa.ChunkedArray]


@dataclass(frozen=True)
class EncodedBlock:
    """A block as stored, not yet given its delivery: rows ``first_row`` to ``last_row`` (row numbers),
    their records and supplied values compressed (``encode_block``, ``encode_values``)."""

    first_row: int
    last_row: int
    records: bytes
    supplied_values: bytes


def encode_blocks(row_numbers: np.ndarray, records: RecordTexts, values: pd.DataFrame) -> tuple[EncodedBlock, ...]:
    """A delivery's raw records and supplied values as blocks of ``BLOCK_ROWS`` rows, with no database:
    ``records`` gives the texts of the rows of ``row_numbers`` (file order), a block's at a time, so
    that a million records (about 600 MB) are never all in memory; ``values`` holds the rows' supplied
    values (``SUPPLIED_VALUES`` columns, aligned with ``row_numbers``; others are ignored). Built and
    compressed on every core (Arrow's kernels and zstd free the GIL)."""
    numbers = np.asarray(row_numbers, dtype=np.int64)
    if not len(numbers):
        return ()
    supplied = values.loc[:, [c for c in SUPPLIED_VALUES.names if c in values.columns]]

    def block(bounds: tuple[int, int]) -> EncodedBlock:
        start, stop = bounds
        return EncodedBlock(int(numbers[start]), int(numbers[stop - 1]),
                            encode_block(numbers[start:stop], records(start, stop - start)),
                            encode_values(numbers[start:stop], supplied_table(supplied.iloc[start:stop])))

    bounds = [(start, min(start + BLOCK_ROWS, len(numbers))) for start in range(0, len(numbers), BLOCK_ROWS)]
    with ThreadPoolExecutor(max_workers=min(len(bounds), os.cpu_count() or 1)) as pool:
        return tuple(pool.map(block, bounds))


def insert_blocks(session: Session, *, delivery_id: int, blocks: Sequence[EncodedBlock],
                  erased: np.ndarray | None = None) -> None:
    """Store a delivery's encoded blocks, in one statement. The rows numbered in ``erased`` are stored
    already erased (NULL record and values): the few blocks holding them are rewritten first."""
    gone = np.asarray([] if erased is None else erased, dtype=np.int64)
    if len(gone):
        blocks = [_without(block, gone) for block in blocks]
    if blocks:
        session.execute(insert(RawRecordBlock), [
            {"delivery_id": delivery_id, "first_row": b.first_row, "last_row": b.last_row, "records": b.records,
             "supplied_values": b.supplied_values} for b in blocks])


def _without(block: EncodedBlock, rows: np.ndarray) -> EncodedBlock:
    """``block`` with the record and values of the rows numbered in ``rows`` NULL (itself when it
    holds none of them)."""
    if not ((rows >= block.first_row) & (rows <= block.last_row)).any():
        return block
    table, values = decode_block(block.records), decode_block(block.supplied_values)
    hit = pc.is_in(table.column("row_number"), pa.array(rows.astype(np.int32)))
    if not pc.any(hit).as_py():
        return block
    records, kept = _rewritten(table, values, hit)
    return replace(block, records=records, supplied_values=kept)


def _rewritten(table: pa.Table, values: pa.Table, hit: pa.ChunkedArray | pa.Array) -> tuple[bytes, bytes]:
    """A block's records (``table``) and supplied values (``values``), encoded again with the rows of
    ``hit`` NULL."""
    numbers = table.column("row_number")
    texts = table.column("raw_record")
    records = pc.if_else(hit, pa.scalar(None, texts.type), texts).combine_chunks()
    hits = hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit
    kept = _blanked(values.drop_columns(["row_number"]), hits)
    return (encode_block(numbers.to_numpy(), records),
            encode_values(values.column("row_number").to_numpy(), kept))


def _blanked(table: pa.Table, rows: pa.Array) -> pa.Table:
    """``table`` with every column NULL at ``rows`` (a boolean mask)."""
    return pa.Table.from_arrays([pc.if_else(rows, pa.scalar(None, column.type), column) for column in table.columns],
                                schema=table.schema)


def _blocks_holding(session: Session, rows: pd.DataFrame) -> list[int]:
    """The ids of the blocks that hold some of these (delivery_id, row_number)."""
    wanted: list[int] = []
    for chunk in chunks(sorted({int(d) for d in rows["delivery_id"]})):
        found = session.execute(select(RawRecordBlock.id, RawRecordBlock.delivery_id, RawRecordBlock.first_row,
                                       RawRecordBlock.last_row).where(RawRecordBlock.delivery_id.in_(chunk))).all()
        if not found:
            continue
        blocks = pd.DataFrame(found, columns=["id", "delivery_id", "first_row", "last_row"])
        pairs = rows[["delivery_id", "row_number"]].astype("int64").merge(blocks, on="delivery_id")
        inside = pairs[(pairs["row_number"] >= pairs["first_row"]) & (pairs["row_number"] <= pairs["last_row"])]
        wanted += [int(i) for i in inside["id"].unique()]
    return sorted(set(wanted))


def _decoded(session: Session, ids: Sequence[int], part: str = "records") -> Iterator[tuple[RawRecordBlock, pa.Table]]:
    """The blocks of ``ids``, each with its decoded ``part`` (``records`` or ``supplied_values``)."""
    for chunk in chunks(ids, _DECODE_BATCH):
        for block in session.scalars(select(RawRecordBlock).where(RawRecordBlock.id.in_(chunk))).all():
            yield block, decode_block(getattr(block, part))


def _located(session: Session, rows: pd.DataFrame, part: str) -> Iterator[tuple[pa.Table, np.ndarray, np.ndarray]]:
    """For each block holding some of ``rows`` (``delivery_id``, ``row_number``): its decoded ``part``
    (``records`` or ``supplied_values``), the positions in ``rows`` it holds, and their rows in the block."""
    if rows.empty:
        return
    keys = pd.MultiIndex.from_frame(rows[["delivery_id", "row_number"]].astype("int64"))
    for block, table in _decoded(session, _blocks_holding(session, rows), part):
        stored = pd.MultiIndex.from_arrays([np.full(table.num_rows, block.delivery_id, dtype=np.int64),
                                            table.column("row_number").to_numpy().astype(np.int64)])
        position = stored.get_indexer(keys)
        hit = np.flatnonzero(position >= 0)
        if len(hit):
            yield table, hit, position[hit]


def raw_records_at(session: Session, rows: pd.DataFrame) -> pd.Series:
    """The raw record (text, or None when erased or never stored) of each row of ``rows``
    (``delivery_id``, ``row_number``), aligned with ``rows``' index."""
    result = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    for table, at, inside in _located(session, rows, "records"):
        result.iloc[at] = np.asarray(table.column("raw_record").take(pa.array(inside)).to_pylist(), dtype=object)
    return result


def supplied_values_at(session: Session, rows: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The supplied values (``columns`` of ``SUPPLIED_VALUES``, all by default) of each row of ``rows``
    (``delivery_id``, ``row_number``), aligned with ``rows``' index: NULL when erased or never stored.
    Text comes back as ``object`` (None when missing), whole numbers as ``Int64``, amounts as
    ``Float64``, times as ``datetime64[us]``."""
    names = list(SUPPLIED_VALUES.names if columns is None else columns)
    schema = pa.schema([SUPPLIED_VALUES.field(name) for name in names])
    found: list[pa.Table] = []
    order = np.full(len(rows), -1, dtype=np.int64)  # each row's place in the found values, -1 where none
    taken = 0
    for table, at, inside in _located(session, rows, "supplied_values"):
        order[at] = taken + np.arange(len(at))
        taken += len(at)
        found.append(table.select(names).take(pa.array(inside)))
    values = pa.concat_tables(found).cast(schema) if found else schema.empty_table()
    values = values.take(pa.array(order, mask=order < 0))  # a row found nowhere: NULL values
    return pd.DataFrame({name: _pandas(values.column(name), rows.index) for name in names}, index=rows.index)


def _pandas(column: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """A supplied value column as pandas, on ``index``: see ``supplied_values_at``."""
    if pa.types.is_timestamp(column.type):
        return pd.Series(column.to_pandas().array, index=index)
    if pa.types.is_integer(column.type):
        return pd.Series(column.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).array, index=index)
    if pa.types.is_floating(column.type):
        return pd.Series(column.to_pandas(types_mapper={pa.float64(): pd.Float64Dtype()}.get).array, index=index)
    return pd.Series(column.to_pylist(), dtype=object, index=index)


def erase_raw_records(session: Session, rows: pd.DataFrame) -> pd.DataFrame:
    """Set the raw records and supplied values of these (``delivery_id``, ``row_number``) to NULL,
    rewriting the blocks that hold them: the (``delivery_id``, ``row_number``) whose record or values
    held something."""
    erased: list[pd.DataFrame] = []
    if rows.empty:
        return _places(erased)
    wanted = rows[["delivery_id", "row_number"]].astype("int64")
    for block, table in list(_decoded(session, _blocks_holding(session, rows))):
        values = decode_block(block.supplied_values)
        if not values.column("row_number").equals(table.column("row_number")):
            raise ValueError(f"raw record block {block.id}: its records and supplied values are not of the same rows")
        drop = wanted.loc[wanted["delivery_id"] == block.delivery_id, "row_number"].to_numpy()
        held = pc.is_valid(table.column("raw_record"))
        for column in values.columns[1:]:
            held = pc.or_(held, pc.is_valid(column))
        hit = pc.and_(pc.is_in(table.column("row_number"), pa.array(drop.astype(np.int32))), held)
        if not pc.any(hit).as_py():
            continue
        erased.append(pd.DataFrame({"delivery_id": block.delivery_id,
                                    "row_number": table.column("row_number").filter(hit).to_numpy().astype("int64")}))
        records, kept = _rewritten(table, values, hit)
        session.execute(update(RawRecordBlock).where(RawRecordBlock.id == block.id)
                        .values(records=records, supplied_values=kept), execution_options=_NO_SYNC)
    return _places(erased)


def _places(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({"delivery_id": pd.Series([], dtype="int64"), "row_number": pd.Series([], dtype="int64")})
    return pd.concat(parts, ignore_index=True)


def delete_raw_records(session: Session, deliveries: Select[int]) -> None:
    """Delete every raw record of these deliveries (the retention purge: each expires whole)."""
    session.execute(delete(RawRecordBlock).where(RawRecordBlock.delivery_id.in_(deliveries)),
                    execution_options=_NO_SYNC)


def search_raw_records(session: Session, needles: Iterable[str]) -> pd.DataFrame:
    """Rows whose raw record, lower-cased, contains one of ``needles`` (lower-cased text): delivery_id,
    row_number, raw_record. Every block is decoded, ``_DECODE_BATCH`` at a time (a person's request is
    rare; the records carry no index, on purpose)."""
    needles = sorted(set(needles))
    found: list[pd.DataFrame] = []
    if needles:
        ids = list(session.scalars(select(RawRecordBlock.id).order_by(RawRecordBlock.id)).all())
        for block, table in _decoded(session, ids):
            lowered = pc.utf8_lower(table.column("raw_record"))
            hit = None
            for needle in needles:
                match = pc.fill_null(pc.match_substring(lowered, needle), False)
                hit = match if hit is None else pc.or_(hit, match)
            if hit is None or not pc.any(hit).as_py():
                continue
            kept = table.filter(hit)
            found.append(pd.DataFrame({"delivery_id": block.delivery_id,
                                       "row_number": kept.column("row_number").to_numpy().astype("int64"),
                                       "raw_record": kept.column("raw_record").to_pylist()}))
    if not found:
        return pd.DataFrame({"delivery_id": pd.Series([], dtype="int64"), "row_number": pd.Series([], dtype="int64"),
                             "raw_record": pd.Series([], dtype=object)})
    return pd.concat(found, ignore_index=True)
