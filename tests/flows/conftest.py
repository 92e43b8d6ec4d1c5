"""Flows run under Prefect's test harness: a temporary server with its own database."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def prefect_harness(tmp_path_factory):
    """One harness for the whole session; PREFECT_HOME is a temp dir, never ~/.prefect. (Imported
    here: loading Prefect's server takes seconds, which a session without flow tests need not pay.)"""
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
        with prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture
def leadgov_env(monkeypatch, tmp_path, sqlite_database):
    """Settings for a flow run: a fresh SQLite database (at the current schema, a copy of the
    session's template: the flow's own upgrade finds nothing to do) and output folder under tmp_path."""
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_DATABASE_URL", sqlite_database(tmp_path / "flow.db"))
    monkeypatch.setenv("LEADGOV_OUTPUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
