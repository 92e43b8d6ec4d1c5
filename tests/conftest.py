"""Shared fixtures: a database at the current schema per test, on SQLite and (when reachable)
PostgreSQL: copies of a template migrated once per session (tests/databases.py)."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

sys.path.insert(0, str(Path(__file__).parent))

import databases  # noqa: E402 - tests/ is on the path from here on
from databases import POSTGRES_URL  # noqa: E402


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return _postgres_available()


# --- databases at the current schema (tests/databases.py: copies of a template migrated once) ---


def migrations_for_real(node) -> bool:
    """A test marked ``migrations`` gets databases migrated by Alembic, not copies of the template."""
    return node.get_closest_marker("migrations") is not None


def _require_postgres(postgres_available: bool) -> None:
    if not postgres_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not reachable")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session (per xdist worker), to be copied."""
    return databases.migrate_sqlite_template(tmp_path_factory.mktemp("template") / "leadgov.db")


@pytest.fixture
def sqlite_database(sqlite_template) -> Callable[[Path], str]:
    """``sqlite_database(path)``: a database at the current schema at ``path`` (a copy of the
    template), its URL."""
    return lambda path: databases.copy_sqlite_template(sqlite_template, path)


@pytest.fixture(scope="session")
def postgres_migration(postgres_available) -> tuple[databases.Statement, ...] | None:
    """The statements of the migration of an empty schema, recorded once per session (per xdist
    worker); None when PostgreSQL is not reachable."""
    return databases.record_postgres_migration_once() if postgres_available else None


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Iterator[databases.Seeds]:
    """``seeds.restore(db_url, seed)``: ``db_url`` holding what ``seed(db_url)`` stores, seeded once
    per module and engine, then copied (for a module whose tests all start from the same data)."""
    kept = databases.Seeds(tmp_path_factory.mktemp("seeds"))
    yield kept
    kept.close()


@contextmanager
def postgres_schema(postgres_available: bool, migration: tuple[databases.Statement, ...] | None = None
                    ) -> Iterator[str]:
    """A new PostgreSQL schema at the current migration, dropped afterwards: yields its URL (built
    by replaying ``migration``, or by Alembic when None). Skips, or fails on CI, without PostgreSQL."""
    _require_postgres(postgres_available)
    with databases.postgres_schema(migration) as url:
        yield url


@pytest.fixture
def pg_url(request, postgres_available) -> Iterator[str]:
    """A fresh PostgreSQL database (a new schema), for tests about PostgreSQL itself."""
    migration = None if migrations_for_real(request.node) else request.getfixturevalue("postgres_migration")
    with postgres_schema(postgres_available, migration) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, postgres_available) -> Iterator[str]:
    """A fresh database at the current schema: a SQLite file, or a new PostgreSQL schema (copies of
    a template migrated once; migrated by Alembic for a test marked ``migrations``)."""
    from leadgov.models.db import get_engine
    from leadgov.models.migrate import upgrade

    real = migrations_for_real(request.node)
    if request.param == "sqlite":
        path = tmp_path / "leadgov.db"
        if real:
            url = f"sqlite:///{path}"
            upgrade(url)
        else:
            url = databases.copy_sqlite_template(request.getfixturevalue("sqlite_template"), path)
        yield url
        get_engine(url).dispose()
        return
    migration = None if real else request.getfixturevalue("postgres_migration")
    with postgres_schema(postgres_available, migration) as url:
        yield url


@pytest.fixture(autouse=True)
def crm_export(tmp_path_factory, monkeypatch) -> Iterator[Path]:
    """Every door refuses a delivery under a contract with ``exclusions.crm_check`` when no CRM export
    is given: tests run with an empty export (a header, no contact) in ``LEADGOV_CRM_EXPORT`` unless
    they pass their own; the tests of that refusal remove the variable."""
    from leadgov.config.settings import get_settings

    path = tmp_path_factory.getbasetemp() / "crm-export-empty.csv"
    if not path.exists():
        path.write_text("email;phone\n", encoding="utf-8")
    monkeypatch.setenv("LEADGOV_CRM_EXPORT", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


# --- the order of the session, and what runs together under pytest-xdist -----------------------

#: Tests that take minutes on their own: started first, so that a parallel run does not end waiting
#: for one of them (``./run test`` runs the suite on every core with pytest-xdist).
LONGEST = ("tests/leadgov/test_demo.py",)
#: The flow tests share one Prefect harness per process (tests/flows/conftest.py, and
#: test_no_personal_data.py's reuses it): under xdist they run in one worker, which starts it once.
#: test_deployment.py starts its own server instead: it may run anywhere.
PREFECT_GROUP = "prefect"
OWN_SERVER = ("tests/flows/test_deployment.py",)


def _path(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers it too; here so that --strict-markers accepts it in a run without xdist.
    config.addinivalue_line("markers", "xdist_group(name): tests run in the same xdist worker")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = _path(item)
        if path in OWN_SERVER:
            continue
        if path.startswith("tests/flows/") or item.get_closest_marker("prefect") is not None:
            item.add_marker(pytest.mark.xdist_group(PREFECT_GROUP))
    items.sort(key=lambda item: _path(item) not in LONGEST)  # stable: the rest keeps its order
