"""Databases at the current schema for the tests, without migrating each one (used by conftest.py).

Migrating a new database costs a few tenths of a second (Alembic loads its scripts, reflects, and
SQLite copies tables in batch mode), for each of several hundred tests. So a test session (each
xdist worker) migrates once, and every test gets a copy:

- SQLite: a template file migrated once, its WAL checkpointed into the main file, copied per test;
- PostgreSQL: the SQL that migrating an empty template schema sent to the server, recorded once
  and replayed in each new schema: the same statements, in the same order, on the same empty schema.

tests/models/test_template_databases.py compares such a copy with a freshly migrated database on
both engines (tables, columns, indexes, constraints, sequences, Alembic's revision), so the shortcut
cannot drift. Tests marked ``migrations`` (tests/models/test_migrations.py) get databases migrated
by Alembic for real.
"""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

POSTGRES_URL = os.environ.get("LEADGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: (statement, parameters, executemany) as SQLAlchemy handed them to the DBAPI cursor.
Statement = tuple[str, object, bool]

#: The URLs of the databases made from a template (not by Alembic), for the test that checks them.
TEMPLATE_COPIES: set[str] = set()


class TemplateError(RuntimeError):
    """A template that cannot be copied faithfully."""


# --- SQLite ------------------------------------------------------------------------------------


def migrate_sqlite_template(path: Path) -> Path:
    """Migrate a new SQLite file at ``path``; every page in the main file (no WAL left), so that
    copying that one file copies the whole database."""
    from leadgov.models.db import get_engine
    from leadgov.models.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()
    with closing(sqlite3.connect(path)) as connection:  # the WAL's pages into the main file, WAL emptied
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    wal = path.with_name(path.name + "-wal")
    if busy or (wal.exists() and wal.stat().st_size):
        raise TemplateError(f"the template database {path} kept pages in its WAL: copying it would lose them")
    return path


def copy_sqlite_template(template: Path, path: Path) -> str:
    """A new SQLite database at ``path``, a copy of the migrated template: its URL."""
    for suffix in ("-wal", "-shm"):  # a stale WAL next to the copy would be replayed into it
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    TEMPLATE_COPIES.add(url)
    return url


# --- PostgreSQL --------------------------------------------------------------------------------


def admin_engine() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def new_schema(admin: Engine) -> tuple[str, str]:
    """A new empty schema with a random name, and the URL whose search_path is that schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_schema(admin: Engine, schema: str, url: str) -> None:
    from leadgov.models.db import get_engine

    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def record_postgres_migration() -> tuple[Statement, ...]:
    """What migrating an empty schema sends to the server, recorded on a template schema (dropped
    afterwards). The statements name no schema (it is the connection's search_path), which is
    checked: they can be replayed in any other."""
    from leadgov.models.db import get_engine
    from leadgov.models.migrate import upgrade

    admin = admin_engine()
    schema, url = new_schema(admin)
    engine = get_engine(url)
    recorded: list[Statement] = []

    def record(_connection, _cursor, statement, parameters, _context, executemany) -> None:
        recorded.append((statement, copy.deepcopy(parameters), executemany))

    event.listen(engine, "before_cursor_execute", record)
    try:
        upgrade(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        drop_schema(admin, schema, url)
        admin.dispose()
    if any(schema in f"{statement} {parameters}" for statement, parameters, _ in recorded):
        raise TemplateError("the migration named its schema: its statements cannot be replayed in another one")
    return tuple(recorded)


def replay(url: str, statements: tuple[Statement, ...]) -> None:
    """Send ``statements`` to the database at ``url`` in one transaction, as the migration did."""
    from leadgov.models.db import get_engine

    connection = get_engine(url).raw_connection()
    try:
        cursor = connection.cursor()
        for statement, parameters, executemany in statements:
            if executemany:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
        cursor.close()
        connection.commit()
    finally:
        connection.close()


@contextmanager
def postgres_schema(migration: tuple[Statement, ...] | None = None) -> Iterator[str]:
    """A new PostgreSQL schema at the current migration, dropped afterwards: yields its URL. The
    schema is built by replaying ``migration`` (``record_postgres_migration``), or by Alembic when None."""
    from leadgov.models.migrate import upgrade

    admin = admin_engine()
    schema, url = new_schema(admin)
    try:
        if migration is None:
            upgrade(url)
        else:
            replay(url, migration)
            TEMPLATE_COPIES.add(url)
        yield url
    finally:
        drop_schema(admin, schema, url)
        admin.dispose()


# --- seeded databases: seed once, copy per test ------------------------------------------------


def _checkpointed_copy(url: str, path: Path) -> None:
    """Copy the SQLite database at ``url`` to ``path`` with every committed page (WAL checkpointed)."""
    from sqlalchemy.engine import make_url

    from leadgov.models.db import get_engine

    source = Path(make_url(url).database or "")
    get_engine(url).dispose()
    with closing(sqlite3.connect(source)) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise TemplateError(f"{source} is in use: its WAL cannot be checkpointed")
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, path)


def _schema_of(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]


def copy_postgres_data(source_url: str, target_url: str) -> None:
    """Copy every row of the schema of ``source_url`` into the (empty, same-schema) one of
    ``target_url``, and each sequence's state, so that the next ids are the same too."""
    from leadgov.models import Base

    source, target = _schema_of(source_url), _schema_of(target_url)
    admin = admin_engine()
    try:
        with admin.connect() as connection, connection.begin():
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # rows in any order
            for table in Base.metadata.sorted_tables:
                name = table.name
                connection.execute(text(f'INSERT INTO "{target}"."{name}" SELECT * FROM "{source}"."{name}"'))
            sequences = connection.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"),
                                           {"s": source}).scalars().all()
            for name in sequences:
                connection.execute(text(f"SELECT setval('\"{target}\".\"{name}\"', last_value, is_called) "
                                        f'FROM "{source}"."{name}"'))
    finally:
        admin.dispose()


class Seeds:
    """Databases seeded once and copied to each test that asks for the same seed: ``restore(url,
    seed)`` makes the database at ``url`` (fresh, at the current schema) hold what ``seed(url)``
    stores, and returns what ``seed`` returned. The first call of each engine seeds for real and
    keeps a copy (a SQLite file; a PostgreSQL schema, dropped by ``close``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: (engine, seed) -> (the copy: a file path or a schema's URL, what ``seed`` returned)
        self.kept: dict[tuple[str, str], tuple[str, object]] = {}
        self.schemas: list[tuple[str, str]] = []

    def restore(self, url: str, seed) -> object:
        engine = "sqlite" if url.startswith("sqlite") else "postgresql"
        key = (engine, f"{seed.__module__}.{seed.__qualname__}")
        if key not in self.kept:
            value = seed(url)
            self.kept[key] = (self._keep(url, engine), value)
            return value
        copy_of, value = self.kept[key]
        if engine == "sqlite":
            from sqlalchemy.engine import make_url

            from leadgov.models.db import get_engine

            get_engine(url).dispose()  # the test's empty file is replaced: no connection may keep it open
            _checkpointed_copy(f"sqlite:///{copy_of}", Path(make_url(url).database or ""))
        else:
            copy_postgres_data(copy_of, url)
        return value

    def _keep(self, url: str, engine: str) -> str:
        if engine == "sqlite":
            path = self.folder / f"seed-{len(self.kept)}.db"
            _checkpointed_copy(url, path)
            return str(path)
        admin = admin_engine()
        try:
            schema, copy_url = new_schema(admin)
        finally:
            admin.dispose()
        self.schemas.append((schema, copy_url))
        replay(copy_url, record_postgres_migration_once())
        copy_postgres_data(url, copy_url)
        return copy_url

    def close(self) -> None:
        admin = admin_engine()
        try:
            for schema, url in self.schemas:
                drop_schema(admin, schema, url)
        finally:
            admin.dispose()


_RECORDED: list[tuple[Statement, ...]] = []


def record_postgres_migration_once() -> tuple[Statement, ...]:
    """``record_postgres_migration``, once per process."""
    if not _RECORDED:
        _RECORDED.append(record_postgres_migration())
    return _RECORDED[0]


def statements_sent(engine: Engine, action) -> list[str]:  # noqa: ANN001 - any callable
    """The SQL statements ``engine`` sent while ``action()`` ran."""
    return [statement for statement, _ in sent_with_parameters(engine, action)]


def sent_with_parameters(engine: Engine, action) -> list[tuple[str, object]]:  # noqa: ANN001 - any callable
    """The SQL statements ``engine`` sent while ``action()`` ran, each with its parameters."""
    sent: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, *_args) -> None:  # noqa: ANN001
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent
