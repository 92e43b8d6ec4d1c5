"""The databases tests get (tests/conftest.py: a copy of a SQLite template, a PostgreSQL schema built by
replaying the recorded migration) are exactly what migrating a new database builds, on both engines:
same tables, columns, indexes, constraints, sequences and Alembic revision. If a migration changes
what it does, or the shortcut stops copying something, this fails."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from databases import TEMPLATE_COPIES, Seeds, copy_sqlite_template, postgres_schema, record_postgres_migration_once
from sqlalchemy import inspect, text

from leadgov.models.db import get_engine
from leadgov.models.migrate import upgrade


def _comparable(index: dict) -> dict:
    """An index as reflected, its partial-index condition (a ``TextClause``, compared by identity)
    as its SQL text."""
    options = {k: str(v) for k, v in index.get("dialect_options", {}).items()}
    return {**index, "dialect_options": options} if options else index


def inspected(url: str) -> dict:
    """Everything SQLAlchemy's inspector sees of the schema, table by table, plus Alembic's revision."""
    inspector = inspect(get_engine(url))
    tables = {}
    for name in sorted(inspector.get_table_names()):
        tables[name] = {
            "columns": [{k: str(v) for k, v in c.items()} for c in inspector.get_columns(name)],
            "primary_key": inspector.get_pk_constraint(name),
            "foreign_keys": sorted(inspector.get_foreign_keys(name), key=str),
            "indexes": sorted((_comparable(i) for i in inspector.get_indexes(name)), key=lambda i: i["name"]),
            "unique": sorted(inspector.get_unique_constraints(name), key=lambda u: u["name"]),
            "checks": sorted(inspector.get_check_constraints(name), key=str),
        }
    with get_engine(url).connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"tables": tables, "revision": revision}


def _ddl(sql: str | None) -> object:
    """A ``CREATE TABLE``'s text as (head, columns in order, constraints in any order): Alembic's batch
    mode on SQLite writes a rebuilt table's constraints in an order that varies from one migration
    to the next (set order), so two fresh migrations differ there and only there."""
    if sql is None or not sql.startswith("CREATE TABLE"):
        return sql
    head, body = sql.split("(", 1)
    parts = [part.strip() for part in body.rsplit(")", 1)[0].split(", \n")]
    return (head, [p for p in parts if not p.startswith("CONSTRAINT")],
            sorted(p for p in parts if p.startswith("CONSTRAINT")))


def sqlite_catalog(url: str) -> dict:
    """SQLite's own record of the schema (the DDL of every table, index and trigger) and the page size."""
    with get_engine(url).connect() as connection:
        master = connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                         "ORDER BY type, name")).all()
        page_size = connection.execute(text("PRAGMA page_size")).scalar()
    return {"master": [(kind, name, table, _ddl(sql)) for kind, name, table, sql in master], "page_size": page_size}


PG_CATALOG = {
    "columns": """SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type,
                         character_maximum_length, numeric_precision, numeric_scale, is_identity
                  FROM information_schema.columns WHERE table_schema = current_schema()
                  ORDER BY table_name, ordinal_position""",
    "constraints": """SELECT cls.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
                      FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid
                      WHERE con.connamespace = current_schema()::regnamespace ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes
                  WHERE schemaname = current_schema() ORDER BY 1, 2""",
    "sequences": """SELECT sequencename, data_type, start_value, increment_by, max_value, cycle, last_value
                    FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1""",
    "owned_sequences": """SELECT seq.relname, tab.relname, att.attname FROM pg_depend dep
                          JOIN pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S'
                          JOIN pg_class tab ON tab.oid = dep.refobjid
                          JOIN pg_attribute att ON att.attrelid = tab.oid AND att.attnum = dep.refobjsubid
                          WHERE seq.relnamespace = current_schema()::regnamespace ORDER BY 1""",
}


def pg_catalog(url: str) -> dict:
    """PostgreSQL's own definitions of the schema's columns, constraints, indexes and sequences,
    with the schema's (random) name taken out."""
    with get_engine(url).connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
        found = {name: [tuple(row) for row in connection.execute(text(query)).all()]
                 for name, query in PG_CATALOG.items()}
    return {name: [tuple(re.sub(rf'"?{schema}"?\.', "", v) if isinstance(v, str) else v for v in row)
                   for row in rows] for name, rows in found.items()}


@contextmanager
def migrated_for_real(db_url: str, folder: Path) -> Iterator[str]:
    """A new database of ``db_url``'s engine, migrated by Alembic."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'fresh.db'}"
        upgrade(url)
        yield url
        return
    with postgres_schema() as url:  # no recorded migration: Alembic
        yield url


def test_a_database_given_to_tests_is_the_migrated_one(db_url, tmp_path):
    assert db_url in TEMPLATE_COPIES  # a copy of the template, not migrated by the fixture
    with migrated_for_real(db_url, tmp_path) as fresh:
        assert fresh not in TEMPLATE_COPIES
        copied = inspected(db_url)
        assert {"supplier", "delivery", "lead", "alembic_version"} <= set(copied["tables"])
        assert copied == inspected(fresh)
        if db_url.startswith("sqlite"):
            assert sqlite_catalog(db_url) == sqlite_catalog(fresh)
        else:
            catalog = pg_catalog(db_url)
            assert catalog == pg_catalog(fresh)
            assert catalog["sequences"] and catalog["owned_sequences"]  # serial columns compared too


@pytest.mark.migrations
def test_a_test_marked_migrations_gets_a_database_migrated_by_alembic(db_url):
    assert db_url not in TEMPLATE_COPIES
    assert inspected(db_url)["revision"] == inspected(db_url)["revision"] != []


def test_the_migration_tests_are_marked():
    """tests/models/test_migrations.py downgrades and upgrades its databases: they must be made by
    Alembic, which the ``migrations`` marker asks of the fixtures."""
    import test_migrations

    marks = getattr(test_migrations, "pytestmark", [])
    assert any(mark.name == "migrations" for mark in (marks if isinstance(marks, list) else [marks]))


# --- seeded databases copied to each test (conftest.py ``seeds``) ------------------------------


def rows(url: str) -> dict:
    """Every row of every table, in primary-key order."""
    from leadgov.models import Base

    with get_engine(url).connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
            table.select().order_by(*table.primary_key.columns)).all()] for table in Base.metadata.sorted_tables}


def seed(url: str) -> int:
    """Deliveries, leads, reasons, identity runs and outcome events; on PostgreSQL a delivery id
    used and never stored (the next id is not max + 1: the sequence's state must be copied)."""
    from factories import DELIVERED_ON, TZ, ingest, lead, outcomes_csv

    from leadgov.models.db import session_scope
    from leadgov.outcomes import import_outcomes

    first = ingest(url, [lead(1), lead(2), lead(3, email="bad")], name="one.csv")
    ingest(url, [lead(4), lead(1)], day=DELIVERED_ON + timedelta(days=1), name="two.csv")
    with session_scope(url) as session:
        import_outcomes(session, outcomes_csv([{"lead_id": "L-00001", "event": "reached", "at": "2027-03-02 10:00"}]),
                        "outcomes.csv", TZ)
        if not url.startswith("sqlite"):
            session.execute(text("SELECT nextval('delivery_id_seq')"))
    return first.delivery_id


def test_a_restored_seed_holds_exactly_what_was_seeded(db_url, tmp_path, sqlite_template):
    kept = Seeds(tmp_path)
    try:
        assert kept.restore(db_url, seed) == 1  # seeded for real, and kept
        if db_url.startswith("sqlite"):
            other = copy_sqlite_template(sqlite_template, tmp_path / "other.db")
            assert kept.restore(other, seed) == 1
            assert rows(other) == rows(db_url) and rows(db_url)["lead"]
            return
        with postgres_schema(record_postgres_migration_once()) as other:
            assert kept.restore(other, seed) == 1
            assert rows(other) == rows(db_url) and rows(db_url)["lead"]
            assert pg_catalog(other) == pg_catalog(db_url)  # the sequences' states too
    finally:
        kept.close()
