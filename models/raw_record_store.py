"""Writing, reading, searching and erasing raw records (``models.raw_record``), block by block.

Functions take a session and never commit. Every read names the blocks it needs by delivery and row
range first (a small query), then decodes only those; a search decodes every block, one batch of
blocks at a time, so memory stays bounded by the batch, not the database.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from leadgov.models.db import chunks
from leadgov.models.raw_record import BLOCK_ROWS, RawRecordBlock

_WRITE = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))  # the fastest level
#: Blocks read and decoded at once (a search reads them all, this many at a time).
_DECODE_BATCH = 16
_NO_SYNC = {"synchronize_session": False}


def encode_block(row_numbers: np.ndarray, records: pa.Array | pa.ChunkedArray) -> bytes:
    """One block's bytes: an Arrow IPC stream of (row_number int32, raw_record text), zstd-compressed. The
    text keeps its Arrow type, 32- or 64-bit offsets (a block of a hostile file may pass 2 GB), not copied."""
    if not pa.types.is_string(records.type) and not pa.types.is_large_string(records.type):
        records = records.cast(pa.large_string())
    table = pa.table({"row_number": pa.array(np.asarray(row_numbers, dtype=np.int32)), "raw_record": records})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE) as writer:
        writer.write_table(table)
    blob: bytes = sink.getvalue().to_pybytes()
    return blob


def decode_block(blob: bytes) -> pa.Table:
    """A block's (row_number, raw_record) table."""
    return pa.ipc.open_stream(pa.py_buffer(blob)).read_all()


def _as_arrow(records: pd.Series) -> pa.ChunkedArray:
    """A series of texts as Arrow text, missing values NULL (no copy when the series is Arrow-backed)."""
    array = pa.array(records.array, from_pandas=True) if len(records) else pa.array([], pa.string())
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


#: A delivery's raw records of rows [start, start + length), in file order (``leadgov.reading.RawRecords.texts``).
RecordTexts = Callable[[int, int], pa.ChunkedArray]


def insert_raw_records(session: Session, *, delivery_id: int, row_numbers: np.ndarray, records: RecordTexts,
                       erased: np.ndarray | None = None) -> None:
    """Store a delivery's raw records as blocks of ``BLOCK_ROWS`` rows, in one statement: ``records``
    gives the texts of the rows of ``row_numbers`` (file order), a block's at a time, so that a million
    records (about 600 MB) are never all in memory; a row ``erased`` (True) is stored already erased (NULL).
    Blocks are built and compressed on every core (Arrow's kernels and zstd free the GIL)."""
    numbers = np.asarray(row_numbers, dtype=np.int64)
    if not len(numbers):
        return
    gone = np.zeros(len(numbers), dtype=bool) if erased is None else np.asarray(erased, dtype=bool)

    def block(bounds: tuple[int, int]) -> bytes:
        start, stop = bounds
        texts = records(start, stop - start)
        if gone[start:stop].any():
            texts = pc.if_else(pa.array(gone[start:stop]), pa.scalar(None, texts.type), texts)
        return encode_block(numbers[start:stop], texts)

    bounds = [(start, min(start + BLOCK_ROWS, len(numbers))) for start in range(0, len(numbers), BLOCK_ROWS)]
    with ThreadPoolExecutor(max_workers=min(len(bounds), os.cpu_count() or 1)) as pool:
        encoded = list(pool.map(block, bounds))
    session.execute(insert(RawRecordBlock), [
        {"delivery_id": delivery_id, "first_row": int(numbers[start]), "last_row": int(numbers[stop - 1]),
         "records": blob} for (start, stop), blob in zip(bounds, encoded, strict=True)])


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


def _decoded(session: Session, ids: Sequence[int]) -> Iterator[tuple[RawRecordBlock, pa.Table]]:
    for chunk in chunks(ids, _DECODE_BATCH):
        for block in session.scalars(select(RawRecordBlock).where(RawRecordBlock.id.in_(chunk))).all():
            yield block, decode_block(block.records)


def raw_records_at(session: Session, rows: pd.DataFrame) -> pd.Series:
    """The raw record (text, or None when erased or never stored) of each row of ``rows``
    (``delivery_id``, ``row_number``), aligned with ``rows``' index."""
    result = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    if rows.empty:
        return result
    keys = pd.MultiIndex.from_frame(rows[["delivery_id", "row_number"]].astype("int64"))
    for block, table in _decoded(session, _blocks_holding(session, rows)):
        found = pd.MultiIndex.from_arrays([np.full(table.num_rows, block.delivery_id, dtype=np.int64),
                                           table.column("row_number").to_numpy().astype(np.int64)])
        position = found.get_indexer(keys)
        hit = position >= 0
        if hit.any():
            texts = np.asarray(table.column("raw_record").to_pylist(), dtype=object)
            result.iloc[np.flatnonzero(hit)] = texts[position[hit]]
    return result


def erase_raw_records(session: Session, rows: pd.DataFrame) -> pd.DataFrame:
    """Set the raw records of these (``delivery_id``, ``row_number``) to NULL, rewriting the blocks
    that hold them: the (``delivery_id``, ``row_number``) whose record held something."""
    erased: list[pd.DataFrame] = []
    if rows.empty:
        return _places(erased)
    wanted = rows[["delivery_id", "row_number"]].astype("int64")
    for block, table in list(_decoded(session, _blocks_holding(session, rows))):
        drop = wanted.loc[wanted["delivery_id"] == block.delivery_id, "row_number"].to_numpy()
        hit = pc.and_(pc.is_in(table.column("row_number"), pa.array(drop.astype(np.int32))),
                      pc.is_valid(table.column("raw_record")))
        if not pc.any(hit).as_py():
            continue
        erased.append(pd.DataFrame({"delivery_id": block.delivery_id,
                                    "row_number": table.column("row_number").filter(hit).to_numpy().astype("int64")}))
        records = pc.if_else(hit, pa.scalar(None, pa.large_string()), table.column("raw_record")).combine_chunks()
        session.execute(update(RawRecordBlock).where(RawRecordBlock.id == block.id)
                        .values(records=encode_block(table.column("row_number").to_numpy(), records)),
                        execution_options=_NO_SYNC)
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
