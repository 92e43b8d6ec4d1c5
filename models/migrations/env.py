"""Alembic environment: the URL comes from the caller (``leadgov db upgrade --db``) or the settings."""

from alembic import context

from leadgov.config.settings import get_settings
from leadgov.models import Base
from leadgov.models.db import get_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url


def run_migrations() -> None:
    """Online migrations only: leadgov always has a live database to upgrade."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(url).connect() as connection:
        _run(connection)
        connection.commit()
        if connection.dialect.name == "sqlite":  # a no-op inside a transaction: after the commit
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _lock(connection) -> None:
    """Begin the migration's one transaction by taking the database's migration lock, so that two
    processes migrating the same new database at once do not both create its tables: the second
    waits for the first to commit, then Alembic reads the revision again (inside this transaction)
    and finds nothing left to do.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock now (it waits up to the busy timeout), and every
    statement of the migration, DDL included, runs in that transaction (pysqlite never begins one
    before DDL by itself, so each CREATE was committed on its own). PostgreSQL: a transaction-level
    advisory lock per schema (released by the commit), taken by a statement that names no schema, so
    that the tests' recorded migration replays it anywhere (tests/databases.py)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtext('leadgov migrations'), hashtext(current_schema()))"
        )


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the old one: with foreign keys enforced, dropping a
        # table that others reference fails. Off during migrations (a no-op inside a transaction,
        # so before it starts), on again after the commit, checked before it.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    _lock(connection)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"migration left {len(problems)} rows breaking a foreign key")


run_migrations()
