"""Engines and sessions: one place that knows how to connect to SQLite or PostgreSQL."""

import atexit
import logging
import os
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd
from sqlalchemy import CursorResult, Engine, Executable, Result, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from leadgov.private_files import private_file


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (the driver leadgov installs)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


#: Bytes of WAL file SQLite keeps on disk after a checkpoint (it would keep the largest ever written).
WAL_SIZE_LIMIT = 64 * 1024 * 1024


#: How long a SQLite statement waits for another connection's write lock before failing with
#: "database is locked", unless the URL says otherwise (``sqlite:///data/leadgov.db?timeout=5``, seconds).
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def _busy_timeout_ms(url: URL) -> int:
    """The lock wait of a SQLite URL, in milliseconds: its ``timeout`` query parameter (seconds, the
    same that pysqlite reads), else ``SQLITE_BUSY_TIMEOUT_SECONDS``."""
    timeout = url.query.get("timeout")
    seconds = float(timeout if isinstance(timeout, str) else SQLITE_BUSY_TIMEOUT_SECONDS)
    return round(seconds * 1000)


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """A patient lock wait (first: switching a new database to WAL takes the write lock), foreign
    keys on, WAL so readers never block the writer, a large cache, and 16 KiB pages for a new
    database (a lead row is about 1 KB: a million of them stored 10 % faster than with 4 KiB pages;
    an existing database keeps its page size)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA page_size=16384")  # only takes effect before the first table exists
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A large delivery grows the WAL file to its own size; once checkpointed, give the space back.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    # Duplicate look-ups and bulk inserts touch random pages of large indexes: keep them in memory.
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


#: The engines this module made, each with the process that made it (``_close_engines``).
_ENGINES: "weakref.WeakKeyDictionary[Engine, int]" = weakref.WeakKeyDictionary()


@atexit.register
def _close_engines() -> None:
    """When the process ends, close the pooled connections of the engines it made. Closing its last
    connection is when SQLite folds the write-ahead log into the database file and removes it: left
    open, every command left ``leadgov.db-wal`` and ``-shm`` beside the file, the last commits in the
    log, and a copy of ``leadgov.db`` alone (a backup, a move to another machine) missed them. A forked
    child leaves its parent's engines alone (closing them would close the parent's connections)."""
    pid = os.getpid()
    for engine, owner in list(_ENGINES.items()):
        if owner == pid:
            engine.dispose()


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """One engine per URL per process; a new SQLite file is created on first use, 0600 in folders
    created 0700 (``leadgov.private_files``). Its connections are closed when the process ends
    (``_close_engines``).

    ``hide_parameters``: a failed statement's error must not carry the leads' personal data.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    _ENGINE_LOG.addFilter(_no_result_rows)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))  # 0600 in a 0700 folder, whatever the umask
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", partial(_sqlite_pragmas, _busy_timeout_ms(parsed)))
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    _ENGINES[engine] = os.getpid()
    return engine


_ENGINE_LOG = logging.getLogger("sqlalchemy.engine.Engine")


def _no_result_rows(record: logging.LogRecord) -> bool:
    """At DEBUG, SQLAlchemy logs every fetched row: those hold leads' personal data, so they never
    reach a log (``hide_parameters`` covers the statements' parameters, not the rows)."""
    return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def is_sqlite(session: Session) -> bool:
    """Whether the session is bound to SQLite (the other supported dialect is PostgreSQL): what a store
    function asks before it writes SQL of one engine's own."""
    return session.get_bind().dialect.name == "sqlite"


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error, always closes."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def query_frame(session: Session, query: Executable, columns: list[str]) -> pd.DataFrame:
    """The rows of ``query`` as a dataframe with ``columns`` (see ``rows_frame``)."""
    return rows_frame(session.execute(query).all(), columns)


def rows_frame(rows: Sequence[Sequence[object]], columns: list[str]) -> pd.DataFrame:
    """Result rows as a dataframe with ``columns``, built column by column (pandas takes four
    times longer to build it from a list of rows: a second per 200,000)."""
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    return pd.DataFrame(dict(zip(columns, (list(values) for values in zip(*rows, strict=True)), strict=True)))


#: How many values one ``IN (...)`` list binds at most (SQLite's and PostgreSQL's parameter limits allow it).
IN_CHUNK = 5_000

_Value = TypeVar("_Value")


def chunks(values: Sequence[_Value], size: int = IN_CHUNK) -> Iterator[Sequence[_Value]]:
    """``values`` in slices of at most ``size``, for statements with an ``IN (...)`` list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def frame_day(value: object) -> date:
    """A day read from a frame's cell: a ``date``, a ``datetime`` or a pandas ``Timestamp``."""
    return pd.Timestamp(value).date()  # type: ignore[arg-type]  # pandas-stubs: a date or a Timestamp


def changed_rows(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE run through a session changed. The session returns a
    ``CursorResult`` for these statements, though its signature says ``Result``."""
    return cast(CursorResult[Any], result).rowcount
