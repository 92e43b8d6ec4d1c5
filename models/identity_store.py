"""Writing and searching identity runs (see ``models.identity``), set-based and vectorised."""

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, delete, false, insert, select, text
from sqlalchemy.orm import Session

from leadgov.models.db import is_sqlite, rows_frame
from leadgov.models.delivery import Lead
from leadgov.models.identity import IdentityRun

KINDS = ("email", "phone")


def encode_run(keys: pd.Series, row_numbers: np.ndarray) -> tuple[bytes, bytes, int] | None:
    """(sorted keys, their row numbers, size) as little-endian blobs; None when no key is set."""
    present = keys.notna().to_numpy()
    if not present.any():
        return None
    values = keys.to_numpy(dtype=np.int64, na_value=0)[present]
    rows = np.asarray(row_numbers, dtype=np.int32)[present]
    order = np.argsort(values, kind="stable")
    return values[order].astype("<i8").tobytes(), rows[order].astype("<i4").tobytes(), int(present.sum())


def insert_runs(session: Session, *, delivery_id: int, supplier_id: str, delivered_on: date,
                keys: dict[str, pd.Series], row_numbers: np.ndarray) -> None:
    """One run per kind of the delivery (``keys``: kind -> the rows' keys, NA where invalid)."""
    for kind in KINDS:
        run = encode_run(keys[kind], row_numbers)
        if run is not None:
            blob, rows, size = run
            session.add(IdentityRun(delivery_id=delivery_id, supplier_id=supplier_id, delivered_on=delivered_on,
                                    kind=kind, size=size, keys=blob, rows=rows))
    session.flush()


#: Stored keys probed at once: the window's runs are read a few at a time and probed in batches of
#: about this many keys, so the look-up holds a batch, not the window (ten million keys: 120 MB read,
#: 80 MB of probe results, per kind).
PROBE_KEYS = 1_000_000
_RUNS_FETCHED = 16
#: A look-up of few keys (a weekly file) first passes the stored keys through a bitmap of the wanted
#: keys' low bits, this many slots per wanted key: about one stored key in this many (plus the
#: matches) reaches the hash probe, which costs several times the bitmap's test (1M stored keys: 18-48
#: -> 7-13 ms per kind). The keys are HMACs, so their low bits are evenly spread.
FILTER_SLOTS_PER_KEY = 64
#: Above this many slots (4 MiB of bitmap: 65,536 wanted keys) the bitmap would filter little for its
#: size: a large delivery's keys go straight to the hash probe.
FILTER_MAX_SLOTS = 1 << 22
#: Batches probed at once, on threads: pandas' hash look-up runs without the GIL, so the next batch is
#: read from the database while the last ones are probed (at most this many batches wait in memory).
PROBE_THREADS = 2


class StoredRun(NamedTuple):
    """One stored run as the look-up reads it."""

    delivery_id: int
    keys: bytes
    rows: bytes


def _matched_rows(session: Session, kind: str, wanted: np.ndarray, since: date, until: date) -> pd.DataFrame:
    """(delivery_id, row_number) of stored keys of ``kind`` in the window that are in ``wanted``
    (distinct): the window's runs are read a batch at a time and each batch is probed, on a thread,
    against one hash table of the delivery's keys."""
    runs = _read_runs(session, select(IdentityRun.delivery_id, IdentityRun.keys, IdentityRun.rows).where(
        IdentityRun.kind == kind, IdentityRun.delivered_on.between(since, until)))
    table = pd.Index(wanted)
    table.get_indexer(table[:1])  # builds its hash table now: the threads then only read it
    bitmap = low_bits_filter(wanted)
    parts: list[pd.DataFrame] = []
    with ThreadPoolExecutor(max_workers=PROBE_THREADS) as pool:
        pending: deque[Future[pd.DataFrame]] = deque()
        for batch in _batches(runs):
            if len(pending) == PROBE_THREADS:
                parts.append(pending.popleft().result())
            pending.append(pool.submit(_probed, table, batch, bitmap))
        parts += [probe.result() for probe in pending]
    if not parts:
        return pd.DataFrame({"delivery_id": [], "row_number": []}, dtype="int64")
    return pd.concat(parts, ignore_index=True)


def _read_runs(session: Session, query: Select[int, bytes, bytes]) -> Iterator[StoredRun]:
    """The runs ``query`` selects, ``_RUNS_FETCHED`` at a time. PostgreSQL sends them in binary: as text,
    each blob travels as hex that the driver then decodes (ten million keys: 0.93 s, in binary 0.4 s)."""
    if is_sqlite(session):
        for delivery_id, keys, rows in session.execute(query.execution_options(yield_per=_RUNS_FETCHED)):
            yield StoredRun(delivery_id, keys, rows)
        return
    compiled = query.compile(dialect=session.get_bind().dialect)
    driver = session.connection().connection.driver_connection  # the session's own transaction
    assert driver is not None  # a checked-out connection has its driver connection
    with driver.cursor(name="leadgov_identity_runs", binary=True) as cursor:
        cursor.itersize = _RUNS_FETCHED
        cursor.execute(str(compiled), compiled.params)
        for delivery_id, keys, rows in cursor:
            yield StoredRun(delivery_id, keys, rows)


def _batches(runs: Iterable[StoredRun]) -> Iterator[list[StoredRun]]:
    """The runs in batches of at least ``PROBE_KEYS`` keys (the last one smaller)."""
    batch: list[StoredRun] = []
    size = 0
    for run in runs:
        batch.append(run)
        size += len(run.keys) // 8
        if size >= PROBE_KEYS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def low_bits_filter(wanted: np.ndarray) -> np.ndarray | None:
    """A bitmap of the wanted keys' low bits (``FILTER_SLOTS_PER_KEY`` slots per key, a power of two):
    a stored key whose slot is not set is not wanted. None for too many keys (``FILTER_MAX_SLOTS``)."""
    slots = 1 << max(10, (len(wanted) * FILTER_SLOTS_PER_KEY - 1).bit_length())
    if slots > FILTER_MAX_SLOTS:
        return None
    bitmap = np.zeros(slots, dtype=bool)
    bitmap[wanted & (slots - 1)] = True  # two's complement: a negative key has its low bits too
    return bitmap


def _probed(table: pd.Index, runs: Sequence[StoredRun], bitmap: np.ndarray | None = None) -> pd.DataFrame:
    """The (delivery_id, row_number) of the keys of ``runs`` found in ``table``; ``bitmap``
    (``low_bits_filter`` of the same keys) only spares the hash probe the keys it rules out."""
    stored = np.concatenate([np.frombuffer(r.keys, dtype="<i8") for r in runs])
    if bitmap is None:
        hit = np.flatnonzero(table.get_indexer(pd.Index(stored, copy=False)) >= 0)
    else:
        maybe = np.flatnonzero(bitmap[stored & (len(bitmap) - 1)])
        hit = maybe[table.get_indexer(pd.Index(stored[maybe], copy=False)) >= 0]
    rows = np.concatenate([np.frombuffer(r.rows, dtype="<i4") for r in runs])
    ends = np.cumsum([len(r.keys) // 8 for r in runs])  # the run of each hit, without a delivery id per key
    deliveries = np.asarray([r.delivery_id for r in runs], dtype="int64")[np.searchsorted(ends, hit, side="right")]
    return pd.DataFrame({"delivery_id": deliveries, "row_number": rows[hit].astype("int64")})


def identity_matches(session: Session, *, kind: str, keys: Iterable[int], since: date, until: date) -> pd.DataFrame:
    """Stored leads delivered in [since, until] whose ``kind`` (email or phone) key is among
    ``keys``: their stored value (``value``), ``supplier_id`` and ``status``, so that the caller
    confirms each match on the value itself."""
    columns = ["value", "supplier_id", "status"]
    wanted = pd.unique(np.asarray(keys, dtype=np.int64))  # a hash table needs them distinct, not sorted
    if not len(wanted):
        return pd.DataFrame(columns=columns)
    hits = _matched_rows(session, kind, wanted, since, until)
    if hits.empty:
        return pd.DataFrame(columns=columns)
    return rows_frame(_leads_at(session, kind, hits), columns)


def _leads_at(session: Session, kind: str, hits: pd.DataFrame) -> Sequence[Sequence[object]]:
    """The value, supplier and status of the leads at (delivery_id, row_number), in one statement."""
    hits = hits.sort_values(["delivery_id", "row_number"])
    if is_sqlite(session):
        pairs = "[" + ",".join(f"[{d},{r}]" for d, r in zip(hits["delivery_id"], hits["row_number"], strict=True)) + "]"
        sql = text(f"SELECT l.{kind}, l.supplier_id, l.status FROM json_each(:pairs) AS k JOIN lead AS l "
                   "ON l.delivery_id = json_extract(k.value, '$[0]') AND l.row_number = json_extract(k.value, '$[1]')")
        return session.execute(sql, {"pairs": pairs}).all()
    sql = text(f"SELECT l.{kind}, l.supplier_id, l.status FROM unnest(CAST(:d AS bigint[]), CAST(:r AS bigint[])) "
               "AS k(delivery_id, row_number) JOIN lead AS l "
               "ON l.delivery_id = k.delivery_id AND l.row_number = k.row_number")
    return session.execute(sql, {"d": hits["delivery_id"].tolist(), "r": hits["row_number"].tolist()}).all()


def rebuild_runs(connection: Connection, delivery_ids: Iterable[int] | None = None) -> int:
    """(Re)write the runs of stored deliveries from their leads' keys (migration, benchmark set-up);
    how many deliveries were done."""
    query = select(Lead.delivery_id, Lead.supplier_id, Lead.delivered_on, Lead.row_number, Lead.email_key,
                   Lead.phone_key).order_by(Lead.delivery_id)
    if delivery_ids is not None:
        ids = sorted(set(delivery_ids))
        query = query.where(Lead.delivery_id.between(ids[0], ids[-1])) if ids else query.where(false())
    leads = pd.DataFrame(connection.execute(query).all(), dtype=object,
                         columns=["delivery_id", "supplier_id", "delivered_on", "row_number", "email", "phone"])
    for kind in KINDS:  # exact 64-bit keys: a float column (pandas' default with None) would round them
        leads[kind] = pd.array(leads[kind].tolist(), dtype="Int64")
    if delivery_ids is not None:
        leads = leads[leads["delivery_id"].isin(set(delivery_ids))]
    connection.execute(delete(IdentityRun).where(IdentityRun.delivery_id.in_(leads["delivery_id"].unique().tolist())))
    rows: list[dict[str, object]] = []
    for delivery_id, group in leads.groupby("delivery_id", sort=True):
        delivery = int(delivery_id)  # type: ignore[arg-type]  # pandas-stubs: a group key is any scalar (an id here)
        for kind in KINDS:
            run = encode_run(group[kind], group["row_number"].to_numpy())
            if run is not None:
                rows.append({"delivery_id": delivery, "supplier_id": group["supplier_id"].iloc[0],
                             "delivered_on": group["delivered_on"].iloc[0], "kind": kind, "size": run[2],
                             "keys": run[0], "rows": run[1]})
    for start in range(0, len(rows), 5_000):
        connection.execute(insert(IdentityRun), rows[start:start + 5_000])
    return leads["delivery_id"].nunique()
