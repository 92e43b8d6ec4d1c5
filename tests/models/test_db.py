"""Engine settings that the performance figures rely on (docs/performance.md)."""

import pytest
from sqlalchemy import text

from leadgov.models.db import get_engine


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


def test_the_wal_file_shrinks_back_after_a_large_transaction(tmp_path):
    from leadgov.models.db import WAL_SIZE_LIMIT

    path = tmp_path / "big.db"
    engine = get_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x BLOB)"))
    with engine.begin() as connection:  # about 1.5 x the limit in one transaction
        connection.execute(text("INSERT INTO t SELECT zeroblob(1048576) FROM "
                                "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 96) "
                                "SELECT i FROM n)"))
    wal = tmp_path / "big.db-wal"
    assert wal.stat().st_size > WAL_SIZE_LIMIT
    with engine.begin() as connection:  # the next writer restarts the checkpointed WAL
        connection.execute(text("INSERT INTO t VALUES (x'00')"))
    assert wal.stat().st_size <= WAL_SIZE_LIMIT
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 97


def test_sqlite_datetime_texts_are_strftime_to_the_microsecond():
    import pandas as pd

    from leadgov.models.delivery_store import _sqlite_datetime_texts

    column = pd.Series(pd.to_datetime(
        ["2027-01-01 00:00:00", "1999-12-31 23:59:59.5", None, "1700-01-01 00:00:00.999999999",
         "1969-12-31 23:59:59.9999995", "2027-03-07 03:51:08.123456789"], format="mixed"))
    expected = column.dt.strftime("%Y-%m-%d %H:%M:%S.%f").to_numpy(dtype=object, na_value=None).tolist()
    assert _sqlite_datetime_texts(column) == expected
    assert expected[4] == "1969-12-31 23:59:59.999999" and expected[2] is None


def test_a_command_leaves_one_database_file_with_everything_in_it(tmp_path):
    """When a process ends its engines' connections are closed (``models.db._close_engines``): SQLite then
    folds its write-ahead log into the database file and removes it, so a copy of the file alone (a
    backup) holds the last commits. Before, every command left ``-wal`` and ``-shm`` files holding them."""
    import shutil
    import sqlite3
    import subprocess
    import sys

    path = tmp_path / "leadgov.db"
    subprocess.run([sys.executable, "-c", "from leadgov.cli import main; main()", "db", "upgrade", "--db",
                    f"sqlite:///{path}"], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leadgov.db"]
    shutil.copyfile(path, tmp_path / "copy.db")
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT COUNT(*) FROM alembic_version").fetchone() == (1,)


FORKED = """
import os, sys
import pytest
from sqlalchemy import text
from leadgov.models.db import get_engine

engine = get_engine(sys.argv[1])
def backend():
    with engine.connect() as connection:  # pool_pre_ping: a connection closed under it is replaced
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
before = backend()
child = os.fork()
if child == 0:
    sys.exit(0)  # the child ends normally: its exit handlers run
os.waitpid(child, 0)
print(before == backend())
"""


@pytest.mark.postgres
def test_a_forked_child_leaves_its_parents_connections_open(pg_url):
    """A forked child shares its parent's sockets: closing the engines at its exit would end the parent's
    connections, so it leaves the engines its parent made alone."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FORKED, pg_url], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "True"
