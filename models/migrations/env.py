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


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the old one: with foreign keys enforced, dropping a
        # table that others reference fails. Off during migrations (a no-op inside a transaction,
        # so before it starts), checked again afterwards.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
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
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if problems:
            raise RuntimeError(f"migration left {len(problems)} rows breaking a foreign key")


run_migrations()
