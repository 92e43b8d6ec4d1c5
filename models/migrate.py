"""Run Alembic migrations from code, so ``leadgov db upgrade`` needs no alembic.ini in the cwd."""

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from leadgov.models.db import get_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the packaged migrations (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def current_revisions(url: str) -> frozenset[str]:
    """The revision(s) the database at ``url`` is at; empty when it was never migrated."""
    with get_engine(url).connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if it is a new SQLite file).

    Every door upgrades the database it opens (``build_runtime``): a database already at the head
    is recognised by one query on ``alembic_version``, without loading the migration scripts."""
    if revision == "head" and current_revisions(url) == head_revisions():
        return
    command.upgrade(alembic_config(url), revision)
