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
