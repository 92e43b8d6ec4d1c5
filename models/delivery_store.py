"""Session-taking functions that read and write deliveries, leads and their reasons.

They never commit. Look-ups send the delivery's keys in one statement (one JSON array, on both
engines) and join them on indexed columns: one round-trip per look-up, never one per lead. Bulk
writes go through the driver (INSERTs of many rows each on SQLite, COPY on PostgreSQL) in chunks,
because the ORM would cost ten times more per row.
"""

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Boolean, Connection, Text, bindparam, func, literal_column, select, text, update
from sqlalchemy.orm import Session

from leadgov.models.db import is_sqlite, rows_frame
from leadgov.models.delivery import Delivery, Lead, LeadReason, delivered_between
from leadgov.models.statuses import LeadStatus
from leadgov.models.supplier import Supplier
from leadgov.models.suppression import SuppressionEntry

if TYPE_CHECKING:  # the model is the domain's; the store only names it
    from pandera.typing.pandas import DataFrame

    from leadgov.frames import LeadRows

CHUNK_ROWS = 20_000
#: Rows per INSERT statement on SQLite (fewer when the columns would pass SQLite's limit on bound
#: values). One statement per row, as executemany runs it, costs SQLite a reset and a step each: a million
#: 14-column rows took 3.0 s that way and 2.1 s in statements of 256 rows (raw ``sqlite3``).
SQLITE_ROWS_PER_STATEMENT = 256

#: Lead columns written by ``insert_leads``, in order (the other supplied values go to the delivery's
#: blocks: ``models.raw_record_store.encode_blocks``).
LEAD_COLUMNS = (
    "delivery_id", "supplier_id", "row_number", "delivered_on", "status", "primary_reason", "flags",
    "email_key", "phone_key", "lead_id", "siren", "email", "phone", "replaces_lead_id",
)  # fmt: skip
REASON_COLUMNS = ("delivery_id", "row_number", "code", "detail")


def find_delivery(session: Session, supplier_id: str, file_sha256: str) -> Delivery | None:
    """The delivery already stored for these bytes from this supplier, if any."""
    return session.scalar(
        select(Delivery).where(Delivery.supplier_id == supplier_id, Delivery.file_sha256 == file_sha256)
    )


#: Key of the PostgreSQL advisory lock that serialises the storing of deliveries.
DELIVERY_LOCK_KEY = 0x1EAD60F


def lock_deliveries(session: Session, supplier_id: str) -> None:
    """Serialise the storing of deliveries, of every supplier, until the transaction ends.

    The identity rules read what other deliveries stored (earlier leads of this supplier, other
    suppliers' accepted leads): two deliveries deciding at once would each miss the other.
    PostgreSQL: a transaction-level advisory lock. SQLite: a write on the supplier row takes the
    database's single write lock now, before the reads, instead of at the first insert.
    """
    if is_sqlite(session):
        session.execute(update(Supplier).where(Supplier.id == supplier_id).values(name=Supplier.name))
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DELIVERY_LOCK_KEY})


def _values_source(session: Session, param: str, kind: str) -> str:
    """SQL for a one-column row source ``k(value)`` of type ``kind`` fed by one bound parameter, the JSON
    array ``_bind_list`` writes (PostgreSQL parses it faster than psycopg binds a list of a million
    Python values: the lead id look-up at 1M, 1.5 -> 1.25 s)."""
    if is_sqlite(session):
        return f"json_each(:{param}) AS k"
    return (f"(SELECT CAST(j.value AS {kind}) AS value "
            f"FROM json_array_elements_text(CAST(:{param} AS json)) AS j(value)) AS k")


def _bind_list(values: Iterable[object]) -> str:
    """Distinct values, *sorted*, as the text of one JSON array (``json_text``): probing an index in key
    order reads each page once, where random order jumps around it (twice as fast on a million keys).
    Arrow sorts text byte-wise, SQLite's BINARY order; any order gives the same answer. Missing values
    are left out (NULL equals nothing)."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(
        values if isinstance(values, np.ndarray | pd.Series | pd.api.extensions.ExtensionArray) else list(values))
    if isinstance(array, pa.ChunkedArray):  # an Arrow-backed pandas column gives one
        array = array.combine_chunks()
    ordered = pc.drop_null(array)
    ordered = ordered.take(pc.array_sort_indices(ordered))
    # Sorted, each value but the first of its run is dropped: a fourth of the time of a hash of a
    # million texts (Arrow's ``unique`` on large strings).
    first = np.ones(len(ordered), dtype=bool)
    if len(ordered) > 1:
        first[1:] = pc.not_equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)).to_numpy(zero_copy_only=False)
    return json_text(ordered.filter(pa.array(first)))


#: A character JSON writes escaped inside a string: a quote, a backslash or a control character.
_ESCAPED = r'["\\\x00-\x1f]'


def json_text(array: pa.Array) -> str:
    """``array`` (whole numbers or text, no missing value) as the text of a JSON array, joined by
    Arrow (0.02 s for a million lead ids; a Python string each and ``json.dumps`` took 0.13 s). A text
    holding a character JSON escapes goes through ``json.dumps``; other text is written as it is (JSON
    reads UTF-8); SQLite and PostgreSQL read both the same (tests/models/test_delivery_store.py)."""
    if pa.types.is_integer(array.type):
        return "[" + _joined(array.cast(pa.large_string()), ",") + "]"
    if pc.any(pc.match_substring_regex(array, _ESCAPED)).as_py():
        return json.dumps(array.to_pylist())
    return '["' + _joined(array.cast(pa.large_string()), '","') + '"]' if len(array) else "[]"


def _joined(texts: pa.Array, separator: str) -> str:
    """The texts joined with ``separator``, in Arrow."""
    whole = pa.LargeListArray.from_arrays(pa.array([0, len(texts)], pa.int64()), texts)
    joined: str = pc.binary_join(whole, pa.scalar(separator, pa.large_string()))[0].as_py()
    return joined


def _present_texts(values: Iterable[str]) -> pa.Array | pa.ChunkedArray:
    """The texts of ``values`` that are not missing, as Arrow (what ``_bind_list`` takes as it is)."""
    return pc.drop_null(pa.array(pd.Series(values, dtype="str"), pa.large_string()))


def used_lead_ids(session: Session, supplier_id: str, lead_ids: Iterable[str]) -> frozenset[str]:
    """Which of ``lead_ids`` this supplier already delivered."""
    ids = _present_texts(lead_ids)
    if not len(ids):
        return frozenset()
    sql = text(
        f"SELECT DISTINCT l.lead_id FROM {_values_source(session, 'ids', 'text')} CROSS JOIN lead AS l "
        "WHERE l.supplier_id = :supplier AND l.lead_id = k.value"
    )
    rows = session.execute(sql, {"ids": _bind_list(ids), "supplier": supplier_id})
    return frozenset(rows.scalars())


def accepted_in_iso_week(session: Session, supplier_id: str, day: date) -> int:
    """Accepted leads already stored for the supplier in the ISO week of ``day``, counted against the
    weekly cap: a lead accepted by a person after review (it has a primary reason) is not, the cap
    being decided at delivery."""
    monday = day - timedelta(days=day.isoweekday() - 1)
    return session.scalar(
        select(func.count()).select_from(Lead).where(
            delivered_between(supplier_id, monday, monday + timedelta(days=6)),
            Lead.status == "accepted",
            Lead.primary_reason.is_(None),
        )
    ) or 0


def accepted_by_company(session: Session, supplier_id: str, sirens: Iterable[str], since: date,
                        until: date) -> dict[str, int]:
    """SIREN -> the supplier's leads of that company whose stored status is accepted, delivered in
    [since, until], for the given ``sirens`` (absent when none): one grouped statement.

    It walks the leads of the supplier's deliveries in the window (``models.delivery.delivered_between``)
    and keeps those whose SIREN is in the delivery's set (a hash look-up, SQLite's ephemeral index or
    PostgreSQL's hashed subplan); the SIREN has no index of its own, which would cost every stored
    lead a random insert into a tree of all the leads.
    """
    present = _present_texts(sirens)
    if not len(present):
        return {}
    wanted = select(literal_column("k.value", Text)).select_from(text(_values_source(session, "sirens", "text")))
    rows = session.execute(
        select(Lead.siren, func.count()).where(delivered_between(supplier_id, since, until),
                                               Lead.status == LeadStatus.ACCEPTED.value, Lead.siren.in_(wanted))
        .group_by(Lead.siren), {"sirens": _bind_list(present)})
    return {str(siren): int(count) for siren, count in rows.all()}


def suppression_candidates(session: Session, keys: Iterable[int]) -> tuple[frozenset[int], frozenset[str]]:
    """Suppression entries whose 64-bit key is among ``keys``: (their keys, their HMAC proofs)."""
    if not session.scalar(select(func.count()).select_from(SuppressionEntry)):
        return frozenset(), frozenset()
    keys = np.asarray(keys, dtype=np.int64)
    if not len(keys):
        return frozenset(), frozenset()
    sql = text(
        f"SELECT s.identity_key, s.key_hmac FROM {_values_source(session, 'keys', 'bigint')} "
        "CROSS JOIN suppression_entry AS s WHERE s.identity_key = k.value"
    )
    rows = session.execute(sql, {"keys": _bind_list(keys)}).all()
    return frozenset(r[0] for r in rows), frozenset(r[1] for r in rows)


def lead_pks(session: Session, delivery_id: int, row_numbers: np.ndarray) -> np.ndarray:
    """The database ids of a stored delivery's leads at ``row_numbers`` (in that order).

    A delivery's leads are inserted in row order in its own transaction (``bulk_insert``), and both
    engines hand out ids in insertion order. So when one aggregate shows that the delivery's ids and
    its row numbers are two unbroken runs of the same length, row ``r``'s id is computed:
    ``first_id + (r - first_row)``. When another transaction took ids in between (a PostgreSQL
    sequence is shared), one statement answers from the (delivery_id, row_number) index instead.
    Both give the same ids (tests/models/test_delivery_store.py); the first spares a million-lead
    delivery reading back the ids of its 190,000 rejected leads."""
    if not len(row_numbers):
        return np.empty(0, dtype="int64")
    asked = np.asarray(row_numbers, dtype="int64")
    first_id, last_id, first_row, last_row, count = session.execute(
        select(func.min(Lead.id), func.max(Lead.id), func.min(Lead.row_number), func.max(Lead.row_number),
               func.count()).where(Lead.delivery_id == delivery_id)).one()
    if count and last_id - first_id == last_row - first_row == count - 1:
        outside = asked[(asked < first_row) | (asked > last_row)]
        if len(outside):
            raise KeyError(f"delivery {delivery_id} has no row {int(outside[0])}")
        return asked - first_row + first_id
    return looked_up_lead_pks(session, delivery_id, asked)


def looked_up_lead_pks(session: Session, delivery_id: int, row_numbers: np.ndarray) -> np.ndarray:
    """``lead_pks`` read from the (delivery_id, row_number) index: one statement, without reading the rows."""
    if not len(row_numbers):
        return np.empty(0, dtype="int64")
    sql = text(f"SELECT l.row_number, l.id FROM {_values_source(session, 'rows', 'bigint')} "
               "CROSS JOIN lead AS l WHERE l.delivery_id = :delivery AND l.row_number = k.value")
    found = session.execute(sql, {"rows": _bind_list(np.asarray(row_numbers, dtype="int64")),
                                  "delivery": delivery_id}).all()
    frame = rows_frame(found, ["row_number", "id"])
    return frame.set_index("row_number")["id"].reindex(row_numbers).to_numpy(dtype="int64")


def insert_delivery(session: Session, **fields: object) -> Delivery:
    """Add the delivery row and flush, so its id exists for the leads."""
    delivery = Delivery(**fields)
    session.add(delivery)
    session.flush()
    return delivery


def _python_columns(frame: pd.DataFrame, sqlite: bool) -> list[Sequence[object]]:
    """Columns as Python lists with None for missing values, in the database's formats
    (datetime64 columns: text on SQLite, datetimes on PostgreSQL, both floored to the microsecond;
    dates: pass ISO text)."""
    columns: list[Sequence[object]] = []
    for name in frame.columns:
        column = frame[name]
        if sqlite and column.dtype == "datetime64[ns]":
            columns.append(_sqlite_datetime_texts(column))
            continue
        if pd.api.types.is_datetime64_any_dtype(column):
            column = column.dt.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else column.dt.floor("us").astype(object)
        columns.append(column.to_numpy(dtype=object, na_value=None).tolist())  # type: ignore[call-overload]  # pandas-stubs: na_value=None is valid
    return columns


def _sqlite_datetime_texts(column: pd.Series) -> list[str | None]:
    """Naive datetimes as SQLAlchemy stores them on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``),
    formatted by Arrow: six times faster than pandas' strftime, and the same text (the
    nanoseconds are floored to microseconds first, as strftime's ``%f`` does, before 1970 too)."""
    micros = pa.array(column.dt.floor("us")).cast(pa.timestamp("us"))
    texts: list[str | None] = micros.cast(pa.string()).to_pylist()
    return texts


def _column_chunks(frame: pd.DataFrame, sqlite: bool) -> Iterator[list[Sequence[object]]]:
    """The frame's columns as Python values (``_python_columns``), CHUNK_ROWS rows at a time."""
    for start in range(0, len(frame), CHUNK_ROWS):
        yield _python_columns(frame.iloc[start : start + CHUNK_ROWS], sqlite)


def _sqlite_insert(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    """``frame``'s rows appended to ``table`` on SQLite, ``_rows_per_statement`` rows per INSERT: each
    statement's parameters are that many rows' values one after the other (one reshape of a chunk's
    values, no Python loop over rows)."""
    width = len(frame.columns)
    per = _rows_per_statement(connection, width)
    values = "(" + ", ".join("?" * width) + ")"

    def sql(rows: int) -> str:
        return f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES {', '.join([values] * rows)}"

    many = sql(per)
    for columns in _column_chunks(frame, sqlite=True):
        count = len(columns[0])
        grid = np.empty((count, width), dtype=object)
        for position, column in enumerate(columns):
            grid[:, position] = column
        whole = count - count % per
        if whole:
            connection.exec_driver_sql(many, list(map(tuple, grid[:whole].reshape(-1, per * width).tolist())))
        if whole < count:
            connection.exec_driver_sql(sql(count - whole), tuple(grid[whole:].reshape(-1).tolist()))


def _rows_per_statement(connection: Connection, width: int) -> int:
    """``SQLITE_ROWS_PER_STATEMENT``, or fewer when that many rows of ``width`` values would bind more
    values than the connection allows (999 before SQLite 3.32)."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)  # leadgov's SQLite driver is the standard library's
    return max(1, min(SQLITE_ROWS_PER_STATEMENT, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))


def bulk_insert(session: Session, table: str, frame: pd.DataFrame) -> None:
    """Append ``frame``'s rows to ``table`` (columns named as in the table) in the session's transaction."""
    if frame.empty:
        return
    connection = session.connection()
    if is_sqlite(session):
        _sqlite_insert(connection, table, frame)
        return
    names = ", ".join(frame.columns)
    raw = connection.connection.driver_connection
    assert raw is not None  # a checked-out connection has its driver connection
    arrow = _arrow_table(frame)
    if arrow is not None:  # the fast path: CSV written by Arrow, a chunk at a time
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, arrow.num_rows, CHUNK_ROWS):
                copy.write(_csv_bytes(arrow.slice(start, CHUNK_ROWS)))
        return
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for columns in _column_chunks(frame, sqlite=False):
            for row in zip(*columns, strict=True):
                copy.write_row(row)


#: Every value quoted, NULL not: COPY's CSV format reads an unquoted empty field as NULL and ``""`` as
#: the empty text, so the two stay apart.
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")


def _arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """``frame`` as an Arrow table PostgreSQL's CSV COPY reads back exactly, or None when a column is
    of a kind the CSV path does not cover (then the driver writes each row: ``bulk_insert``).

    Naive datetimes are floored to the microsecond, as the driver's path does; text, whole numbers,
    floats (NaN is NULL), days, decimals and booleans are written as Arrow formats them, which
    PostgreSQL parses to the same values (``tests/models/test_delivery_store.py`` compares both paths)."""
    converted = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            return None
        if pd.api.types.is_datetime64_dtype(column.dtype):
            column = column.dt.floor("us")
        converted[name] = column
    try:
        table = pa.Table.from_pandas(pd.DataFrame(converted, index=frame.index), preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:
                return None
            kind = pa.timestamp("us")
        elif pa.types.is_null(kind):
            kind = pa.string()
        elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
                  or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_date32(kind)
                  or pa.types.is_decimal(kind)):
            return None
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _csv_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, write_options=_CSV)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def insert_leads(session: Session, leads: "DataFrame[LeadRows]") -> None:
    """Store a delivery's leads; ``leads`` has exactly ``LEAD_COLUMNS`` (``leadgov.frames.LeadRows``,
    not validated here: a million rows).

    A column no lead of the delivery fills (a supplier that sends no replaced lead ids, say) is left out
    of the statement: the lead columns have no default, so the database stores NULL as it would
    have, and a million NULLs are not converted and bound one by one.
    """
    leads = leads.loc[:, list(LEAD_COLUMNS)]
    bulk_insert(session, Lead.__tablename__, leads.loc[:, leads.notna().any().to_numpy()])


def mark_erased(session: Session, delivery_id: int, row_numbers: np.ndarray) -> None:
    """Mark these leads of a delivery being stored as erased (those stored SUPPRESSED: few), in one
    statement, so that storing the others never binds the flag."""
    if not len(row_numbers):
        return
    sql = text(f"UPDATE lead SET erased = :erased WHERE delivery_id = :delivery AND row_number IN "
               f"(SELECT k.value FROM {_values_source(session, 'rows', 'bigint')})")
    session.execute(sql.bindparams(bindparam("erased", type_=Boolean)),
                    {"erased": True, "delivery": delivery_id,
                     "rows": _bind_list(np.asarray(row_numbers, dtype="int64"))})


def insert_reasons(session: Session, reasons: pd.DataFrame) -> None:
    """Store a delivery's reasons; ``reasons`` has exactly ``REASON_COLUMNS``."""
    bulk_insert(session, LeadReason.__tablename__, reasons.loc[:, list(REASON_COLUMNS)])


def stored_leads(session: Session, delivery_id: int) -> pd.DataFrame:
    """The verdict columns of a stored delivery's leads, in file order."""
    rows = session.execute(
        select(Lead.row_number, Lead.lead_id, Lead.status, Lead.flags, Lead.decided_on)
        .where(Lead.delivery_id == delivery_id)
        .order_by(Lead.row_number)
    )
    return pd.DataFrame(rows.all(), columns=["row_number", "lead_id", "status", "flags", "decided_on"])


def stored_reasons(session: Session, delivery_id: int) -> pd.DataFrame:
    """A stored delivery's reasons: row_number, code, detail."""
    rows = session.execute(
        select(LeadReason.row_number, LeadReason.code, LeadReason.detail).where(
            LeadReason.delivery_id == delivery_id
        )
    )
    return pd.DataFrame(rows.all(), columns=["row_number", "code", "detail"])
