"""Statuses are StrEnums the database checks: every table's constraint lists exactly its enum's values
(the migrations and the models agree), and a value outside them is refused by the database itself."""

import re

import pytest
from factories import ingest, lead
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from leadgov.models.statuses import CHECKED_STATUSES


def check_clauses(url: str) -> dict[str, str]:
    """Constraint name -> its SQL, as the migrated database holds it."""
    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            tables = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
            found = {m.group(1): m.group(2) for _, sql in tables
                     for m in re.finditer(r"CONSTRAINT (ck_\w+) CHECK \((.*?)\)(?:,|\s*\))", sql or "")}
        else:
            rows = connection.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'c' AND connamespace = current_schema()::regnamespace")).all()
            found = dict(rows)
    engine.dispose()
    return found


def test_each_status_column_accepts_exactly_its_enum(db_url):
    clauses = check_clauses(db_url)
    for table, column, enum in CHECKED_STATUSES:
        clause = clauses.get(f"ck_{table}_{column}")
        assert clause is not None, f"no check constraint on {table}.{column}"
        assert set(re.findall(r"'([a-z_]+)'", clause)) == {member.value for member in enum}, (table, column)


@pytest.mark.parametrize(("table", "column"), [("supplier", "state"), ("lead", "status"),
                                               ("replacement_claim", "status"), ("replacement_claim", "origin")])
def test_a_value_outside_the_enum_is_refused_by_the_database(db_url, table, column):
    # A delivery with a rejected lead: a supplier, leads and a replacement claim are stored.
    ingest(db_url, [lead(1), lead(2), lead(3), lead(4), lead(5, employees="1")])
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() > 0
        with pytest.raises(IntegrityError):
            connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
        connection.rollback()
    engine.dispose()
