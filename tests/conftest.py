"""Shared fixtures: a migrated database per test, on SQLite and (when reachable) PostgreSQL."""

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))

POSTGRES_URL = os.environ.get("LEADGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return _postgres_available()


@contextmanager
def postgres_schema(postgres_available: bool) -> Iterator[str]:
    """A new PostgreSQL schema at the current migration, dropped afterwards: yields its URL."""
    from leadgov.models.db import get_engine
    from leadgov.models.migrate import upgrade

    if not postgres_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url(postgres_available) -> Iterator[str]:
    """A fresh PostgreSQL database (a new schema), for tests about PostgreSQL itself."""
    with postgres_schema(postgres_available) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, postgres_available) -> Iterator[str]:
    """A fresh database at the current schema: a SQLite file, or a new PostgreSQL schema."""
    from leadgov.models.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leadgov.db'}"
        upgrade(url)
        yield url
        return
    with postgres_schema(postgres_available) as url:
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
