"""Run Alembic migrations from code, so ``leadgov db upgrade`` needs no alembic.ini in the cwd.

Every door upgrades the database it opens (``build_runtime``). A database already at the head is
recognised by one query on ``alembic_version`` against the heads read from the migration files'
``revision`` and ``down_revision`` lines, so Alembic itself (a tenth of a second of imports) is
loaded only when there is something to migrate. ``tests/models/test_migrate.py`` checks that those
heads are Alembic's.
"""

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from leadgov.models.db import get_engine, normalise_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Alembic's table of the revision(s) a database is at (its default name; env.py keeps it).
VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str) -> "Config":
    """An Alembic config pointing at the packaged migrations and the given database."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic only when migrating (module docstring)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the packaged migrations: revisions no other names as its
    ``down_revision`` (read once per process, from the files' text)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        lines = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in lines:
            continue
        revisions.add(ast.literal_eval(lines["revision"]))
        down = ast.literal_eval(lines.get("down_revision", "None"))  # None, a revision or a tuple (a merge)
        parents.update([down] if isinstance(down, str) else (down or ()))
    return frozenset(revisions - parents)


def current_revisions(url: str) -> frozenset[str]:
    """The revision(s) the database at ``url`` is at; empty when it was never migrated."""
    with get_engine(url).connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        return frozenset(connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars())


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if it is a new SQLite file); a
    database already at the head is left alone without loading Alembic."""
    if revision == "head" and current_revisions(url) == head_revisions():
        return
    from alembic import command  # noqa: PLC0415 - Alembic only when migrating (module docstring)

    command.upgrade(alembic_config(url), revision)
