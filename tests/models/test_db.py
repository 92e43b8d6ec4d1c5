"""Engine settings that the performance figures rely on (docs/performance.md)."""

from sqlalchemy import text

from models.db import get_engine


def test_a_new_sqlite_database_has_16k_pages_and_wal(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA page_size")).scalar_one() == 16384
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"


def test_an_existing_database_keeps_its_page_size(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA page_size=4096")
        old.execute("CREATE TABLE t (x INTEGER)")
    with get_engine(f"sqlite:///{path}").connect() as connection:
        assert connection.execute(text("PRAGMA page_size")).scalar_one() == 4096
        assert connection.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 0
