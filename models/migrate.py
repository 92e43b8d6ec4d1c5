"""Run Alembic migrations from code, so ``leadgov db upgrade`` needs no alembic.ini in the cwd."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from leadgov.models.db import normalise_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if it is a new SQLite file)."""
    command.upgrade(alembic_config(url), revision)
