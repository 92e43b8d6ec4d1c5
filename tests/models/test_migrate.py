"""``upgrade`` recognises a database already at the head with one read, and migrates any other."""

import pytest
from alembic import command
from databases import statements_sent

from leadgov.models.db import get_engine
from leadgov.models.migrate import alembic_config, current_revisions, head_revisions, upgrade

pytestmark = pytest.mark.migrations


def statements_of(url: str, action) -> list[str]:
    return statements_sent(get_engine(url), action)


def test_a_database_at_the_head_is_only_read(db_url):
    assert current_revisions(db_url) == head_revisions() != frozenset()
    sent = statements_of(db_url, lambda: upgrade(db_url))
    assert sent and all(s.lstrip().upper().startswith(("SELECT", "PRAGMA")) for s in sent), sent


def test_a_database_behind_the_head_is_migrated(db_url):
    command.downgrade(alembic_config(db_url), "0005")
    assert current_revisions(db_url) == {"0005"}
    sent = statements_of(db_url, lambda: upgrade(db_url))
    assert any(s.lstrip().upper().startswith(("ALTER", "CREATE", "UPDATE")) for s in sent)
    assert current_revisions(db_url) == head_revisions()


def test_a_new_database_is_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade(url)
    assert current_revisions(url) == head_revisions()


def test_the_heads_read_from_the_files_are_alembics():
    """``head_revisions`` reads the migration files' text, not Alembic's script directory."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from leadgov.models.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(config).get_heads()) != frozenset()


def test_the_heads_of_branched_and_merged_migrations(tmp_path, monkeypatch):
    """Two branches are two heads; a merge revision (a tuple of parents) makes them one."""
    import leadgov.models.migrate as migrate

    versions = tmp_path / "versions"
    versions.mkdir()
    files = {"a.py": "revision = 'a'\ndown_revision = None\n", "b.py": "revision: str = \"b\"\ndown_revision = 'a'\n",
             "c.py": "revision = 'c'\ndown_revision = 'a'\n"}
    for name, text in files.items():
        (versions / name).write_text(f'"""doc"""\n{text}branch_labels = None\n')
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    migrate.head_revisions.cache_clear()
    try:
        assert migrate.head_revisions() == {"b", "c"}
        (versions / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n")
        migrate.head_revisions.cache_clear()
        assert migrate.head_revisions() == {"d"}
    finally:
        migrate.head_revisions.cache_clear()


def test_opening_a_database_at_the_head_does_not_load_alembic(tmp_path, sqlite_database):
    """Every door upgrades the database it opens: at the head, without Alembic's imports."""
    import subprocess
    import sys

    url = sqlite_database(tmp_path / "at-head.db")
    code = ("import sys; from leadgov.models.migrate import upgrade; upgrade(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')))")
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
