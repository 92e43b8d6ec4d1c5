"""``upgrade`` recognises a database already at the head with one read, and migrates any other."""

import pytest
from alembic import command
from sqlalchemy import event

from leadgov.models.db import get_engine
from leadgov.models.migrate import alembic_config, current_revisions, head_revisions, upgrade

pytestmark = pytest.mark.migrations


def statements_of(url: str, action) -> list[str]:
    sent: list[str] = []
    engine = get_engine(url)

    def record(_connection, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


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
