"""Shared fixtures: a database at the current schema per test, on SQLite and (when reachable)
PostgreSQL: copies of a template migrated once per session (tests/databases.py)."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from typer.testing import Result

sys.path.insert(0, str(Path(__file__).parent))

import databases  # noqa: E402 - tests/ is on the path from here on
from databases import POSTGRES_URL  # noqa: E402
from workers import DEMO_TESTS, worker_group  # noqa: E402


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


def empty_crm_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "crm-export-empty.csv"
    if not path.exists():
        path.write_text("email;phone\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def crm_export(tmp_path_factory, monkeypatch) -> Iterator[Path]:
    """Every door refuses a delivery under a contract with ``exclusions.crm_check`` when no CRM export
    is given: tests run with an empty export (a header, no contact) in ``LEADGOV_CRM_EXPORT`` unless
    they pass their own; the tests of that refusal remove the variable."""
    from leadgov.config.settings import get_settings

    path = empty_crm_export(tmp_path_factory)
    monkeypatch.setenv("LEADGOV_CRM_EXPORT", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def hmac_key(monkeypatch) -> Iterator[str]:
    """Tests run with the factories' identity key in ``LEADGOV_HMAC_KEY``, as a production install runs
    with a key of its own: with the public development key, every door refuses a PostgreSQL database
    or Slack (``Settings.dev_key_refusal``). The tests of that refusal remove the variable."""
    from factories import HMAC_KEY

    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_HMAC_KEY", HMAC_KEY)
    monkeypatch.delenv("LEADGOV_ALLOW_DEV_KEY", raising=False)
    get_settings.cache_clear()
    yield HMAC_KEY
    get_settings.cache_clear()


# --- the demo, played once --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRun:
    """``leadgov demo`` as run in ``folder``: ``data/demo.db``, ``out/`` (reports, summary.csv, ...)."""

    result: Result
    folder: Path
    #: What the loopback Slack holds after the demo (``FakeSlack.messages``) and its recorded uploads.
    slack_messages: list[dict]
    slack_uploads: int
    #: The e-mails the loopback SMTP server received: (recipients, message).
    emails: list


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """``leadgov demo --out out`` run once per session (it plays a quarter: minutes) in a new folder,
    with a data folder of its own, Slack and SMTP configured on loopback servers (as a real install
    would be), an 80-column terminal and the tests' empty CRM export; the tests of the demo read
    what it printed, wrote and sent."""
    from slack_server import FakeSlack
    from smtp_server import SmtpServer
    from typer.testing import CliRunner

    from leadgov.cli import app
    from leadgov.config.settings import get_settings

    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch, FakeSlack() as slack, SmtpServer() as smtp:
        patch.chdir(folder)
        patch.setenv("LEADGOV_DATA_DIR", "data")
        patch.setenv("COLUMNS", "80")
        patch.setenv("LEADGOV_CRM_EXPORT", str(empty_crm_export(tmp_path_factory)))
        for name in ("LEADGOV_SLACK_WEBHOOK_URL", "LEADGOV_DATABASE_URL", "HTTP_PROXY", "HTTPS_PROXY",
                     "http_proxy", "https_proxy"):
            patch.delenv(name, raising=False)
        patch.setenv("LEADGOV_SLACK_BOT_TOKEN", "xoxb-demo")
        patch.setenv("LEADGOV_HMAC_KEY", "demo-run-key-" + "0" * 32)  # Slack is configured: not the dev key
        patch.setenv("LEADGOV_SLACK_BASE_URL", slack.api_url)
        patch.setenv("LEADGOV_SMTP_HOST", "127.0.0.1")
        patch.setenv("LEADGOV_SMTP_PORT", str(smtp.port))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["demo", "--out", "out"])
        finally:
            get_settings.cache_clear()
        return DemoRun(result, folder, list(slack.messages), len(slack.uploads), list(smtp.messages))


# --- the order of the session, and what runs together under pytest-xdist -----------------------
#
# ``./run test`` runs the suite on every core (pytest-xdist). Tests sharing an expensive per-process
# fixture run in one worker, which builds it once: the tests of the demo (``demo_run``: a quarter,
# minutes) and the flow tests (one Prefect harness: tests/flows/conftest.py, reused by
# test_no_personal_data.py's flow test). test_deployment.py starts its own server: it may run anywhere.
# pytest-xdist's own ``xdist_group`` cannot say so under pytest 9 (it renames node ids through an
# attribute pytest 9 no longer reads), so the scheduler below groups by node id; the largest group
# is handed out first, the demo's next, so a parallel run never ends waiting for one of them.
# tests/workers.py names them; tests/test_session_layout.py checks that it names every test that needs one.


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 - xdist's hook
    """``--dist loadgroup``: each test alone, except the groups of ``worker_group``."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid not in DEMO_TESTS)  # the demo first; the rest keeps its order
