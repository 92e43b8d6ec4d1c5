"""Session-taking functions of the delivery store, on SQLite and PostgreSQL."""

import json
import sqlite3

import numpy as np
import pyarrow as pa
import pytest
from databases import statements_sent
from factories import ingest, lead
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from leadgov.models import Lead
from leadgov.models.db import session_scope
from leadgov.models.delivery_store import json_text, lead_pks, looked_up_lead_pks


def test_lead_pks_follow_the_asked_row_numbers(db_url):
    delivery_id = ingest(db_url, [lead(n) for n in range(1, 6)]).delivery_id
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(Lead.row_number, Lead.id)).all())
        asked = np.array([5, 2, 3])
        assert lead_pks(session, delivery_id, asked).tolist() == [stored[5], stored[2], stored[3]]
        assert lead_pks(session, delivery_id, np.array([], dtype="int64")).tolist() == []


def test_lead_pks_are_computed_from_an_unbroken_run_of_ids_as_the_index_gives_them(db_url):
    """Lead ids that run against the rows' order (descending) do not change it: ids follow insertion."""
    first = ingest(db_url, [lead(n) for n in range(1, 4)], name="first.csv").delivery_id
    delivery_id = ingest(db_url, [lead(n, lead_id=f"Z-{100 - n:03d}") for n in range(10, 40)], name="b.csv").delivery_id
    asked = np.array([30, 1, 17, 2, 2, 29, 5])
    with session_scope(db_url) as session:
        looked_up = looked_up_lead_pks(session, delivery_id, asked)
        sent = statements_sent(session.get_bind(), lambda: lead_pks(session, delivery_id, asked))
        assert lead_pks(session, delivery_id, asked).tolist() == looked_up.tolist()
        assert len(sent) == 1 and "CROSS JOIN" not in sent[0], sent  # computed, not looked up
        assert set(looked_up).isdisjoint(looked_up_lead_pks(session, first, np.array([1, 2, 3])))
        with pytest.raises(KeyError, match="has no row 31"):
            lead_pks(session, delivery_id, np.array([1, 31]))


def test_lead_pks_are_looked_up_when_another_insert_took_ids_in_between(db_url):
    delivery_id = ingest(db_url, [lead(n) for n in range(1, 8)]).delivery_id
    with session_scope(db_url) as session:
        # as if another transaction had taken an id between rows 3 and 4 (a shared sequence)
        session.execute(update(Lead).where(Lead.delivery_id == delivery_id, Lead.row_number >= 4)
                        .values(id=Lead.id + 1000))
    asked = np.array([7, 1, 4, 3])
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(Lead.row_number, Lead.id).where(Lead.delivery_id == delivery_id)).all())
        assert lead_pks(session, delivery_id, asked).tolist() == [stored[7], stored[1], stored[4], stored[3]]
        assert stored[4] - stored[3] == 1001


def test_accepted_by_company_counts_this_suppliers_accepted_leads_of_the_window(db_url):
    from datetime import timedelta

    from factories import DELIVERED_ON, make_contract_file

    from leadgov.models.delivery_store import accepted_by_company

    other = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})
    ingest(db_url, [lead(1), lead(2, siren="73282932000074"), lead(3, employees="1"), lead(4, siren="443061841"),
                    lead(5, siren="443061841")], name="a.csv")
    ingest(db_url, [lead(6), lead(7)], contract=other, name="b.csv")
    ingest(db_url, [lead(8)], day=DELIVERED_ON + timedelta(days=1), name="c.csv")  # after the window's end
    with session_scope(db_url) as session:
        # a lead in review is not accepted (it takes part in identity like a rejected one)
        session.execute(update(Lead).where(Lead.supplier_id == "acme-leads", Lead.row_number == 5,
                                           Lead.delivered_on == DELIVERED_ON).values(status="review"))
        def counts(since, until, sirens=("732829320", "443061841", "552100554")):
            return accepted_by_company(session, "acme-leads", list(sirens), since, until)

        assert counts(DELIVERED_ON, DELIVERED_ON) == {"732829320": 2, "443061841": 1}
        assert counts(DELIVERED_ON - timedelta(days=180), DELIVERED_ON + timedelta(days=1)) == {
            "732829320": 3, "443061841": 1}
        assert counts(DELIVERED_ON + timedelta(days=1), DELIVERED_ON + timedelta(days=2)) == {"732829320": 1}
        assert counts(DELIVERED_ON, DELIVERED_ON, sirens=["443061841"]) == {"443061841": 1}
        assert counts(DELIVERED_ON, DELIVERED_ON, sirens=[]) == {}


# --- PostgreSQL's bulk path: CSV written by Arrow, against the driver's row by row ----------------

_COLUMNS = {"t": "text", "i": "bigint", "f": "double precision", "ts": "timestamp", "d": "date", "n": "numeric",
            "b": "boolean"}


def _frames():
    from datetime import date
    from decimal import Decimal

    import pandas as pd
    from hypothesis import strategies as st

    letters = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))  # what UTF-8 text can hold
    texts = st.one_of(st.none(), st.text(letters, max_size=12),
                      st.sampled_from(['"', '""', ",", "\n", "\r\n", "\\", "\\N", "NULL", " ", ""]))
    ints = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
    floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))
    stamps = st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62))  # nanoseconds, 1824-2116
    days = st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
    decimals = st.one_of(st.none(), st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
    bools = st.one_of(st.none(), st.booleans())
    row = st.tuples(texts, ints, floats, stamps, days, decimals, bools)

    def frame(rows):
        t, i, f, ts, d, n, b = zip(*rows, strict=True) if rows else ([],) * 7
        return pd.DataFrame({
            "t": pd.Series(t, dtype="str"), "i": pd.array(i, dtype="Int64"), "f": pd.Series(f, dtype="float64"),
            "ts": pd.to_datetime(pd.Series([None if x is None else pd.Timestamp(x, unit="ns") for x in ts],
                                           dtype="datetime64[ns]")),
            "d": pd.Series(d, dtype=object), "n": pd.Series([x if x is None else Decimal(x) for x in n], dtype=object),
            "b": pd.Series(b, dtype=object),
        })

    return st.lists(row, min_size=1, max_size=25).map(frame)


def test_the_csv_copy_stores_what_the_row_by_row_copy_stores(pg_url, monkeypatch):
    """PostgreSQL's fast path (``_arrow_table`` + CSV COPY) and the exact one (the driver's COPY of each
    row) store the same values: text with quotes, commas, line breaks, backslashes and ``\\N`` (NULL and
    the empty text apart), 64-bit integers, floats (NaN as NULL, infinities), datetimes to the
    microsecond, days, decimals and booleans."""
    import math

    from hypothesis import HealthCheck, given, settings
    from sqlalchemy import text

    from leadgov.models import delivery_store

    exact_path = delivery_store._arrow_table

    def stored(session, table):
        rows = session.execute(text(f"SELECT {', '.join(_COLUMNS)} FROM {table} ORDER BY k")).all()
        return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in r) for r in rows]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(frame=_frames())
    def check(frame):
        assert exact_path(frame) is not None  # these columns take the fast path
        with session_scope(pg_url) as session:
            for table in ("fast_copy", "row_copy"):
                session.execute(text(f"CREATE TEMP TABLE {table} (k serial, "
                                     + ", ".join(f"{c} {kind}" for c, kind in _COLUMNS.items()) + ")"))
            delivery_store.bulk_insert(session, "fast_copy", frame)
            monkeypatch.setattr(delivery_store, "_arrow_table", lambda _frame: None)
            try:
                delivery_store.bulk_insert(session, "row_copy", frame)
            finally:
                monkeypatch.setattr(delivery_store, "_arrow_table", exact_path)
            fast, rows = stored(session, "fast_copy"), stored(session, "row_copy")
            session.rollback()
        assert fast == rows
        assert len(fast) == len(frame)

    check()


def test_many_rows_per_statement_store_what_one_row_per_statement_stores(tmp_path, monkeypatch):
    """SQLite's INSERTs of several rows each (a few rows per statement and per chunk here, so that every
    frame spans whole statements, a shorter last one and several chunks) store each row's values in the
    frame's order, as one statement per row does."""
    from hypothesis import HealthCheck, given, settings
    from sqlalchemy import text

    from leadgov.models import delivery_store

    sqlite_url = f"sqlite:///{tmp_path / 'rows.db'}"
    monkeypatch.setattr(delivery_store, "SQLITE_ROWS_PER_STATEMENT", 3)
    monkeypatch.setattr(delivery_store, "CHUNK_ROWS", 7)
    columns = {name: kind for name, kind in _COLUMNS.items() if name in ("t", "i", "f", "ts", "b")}

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(frame=_frames())
    def check(frame):
        frame = frame.loc[:, list(columns)]
        with session_scope(sqlite_url) as session:
            for table in ("many_rows", "row_by_row"):
                session.execute(text(f"DROP TABLE IF EXISTS temp.{table}"))  # DDL is not rolled back here
                session.execute(text(f"CREATE TEMP TABLE {table} (k INTEGER PRIMARY KEY, "
                                     + ", ".join(f"{c} {kind}" for c, kind in columns.items()) + ")"))
            delivery_store.bulk_insert(session, "many_rows", frame)
            one = f"INSERT INTO row_by_row ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            session.connection().exec_driver_sql(
                one, list(zip(*delivery_store._python_columns(frame, True), strict=True)))
            stored = [session.execute(text(f"SELECT k, {', '.join(columns)} FROM {table} ORDER BY k")).all()
                      for table in ("many_rows", "row_by_row")]
            session.rollback()
        assert stored[0] == stored[1]
        assert [row[0] for row in stored[0]] == list(range(1, len(frame) + 1))  # ids in the frame's order

    check()


def test_rows_per_statement_stay_within_sqlites_limit_on_bound_values(tmp_path):
    """A connection that binds fewer values per statement gets fewer rows per INSERT, not an error."""
    import pandas as pd
    from sqlalchemy import text

    from leadgov.models import delivery_store

    sqlite_url = f"sqlite:///{tmp_path / 'limited.db'}"
    frame = pd.DataFrame({"a": range(1000), "b": [f"x{n}" for n in range(1000)]})
    with session_scope(sqlite_url) as session:
        session.execute(text("CREATE TEMP TABLE limited (a INTEGER, b TEXT)"))
        session.connection().connection.driver_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 9)
        assert delivery_store._rows_per_statement(session.connection(), 2) == 4
        sent = statements_sent(session.get_bind(), lambda: delivery_store.bulk_insert(session, "limited", frame))
        assert session.execute(text("SELECT COUNT(*), SUM(a) FROM limited")).one() == (1000, sum(range(1000)))
        session.rollback()
    assert sent and all(statement.count("?") <= 8 for statement in sent)


def test_a_column_the_csv_path_does_not_cover_takes_the_row_path():
    from datetime import date

    import pandas as pd

    from leadgov.models.delivery_store import _arrow_table

    assert _arrow_table(pd.DataFrame({"a": pd.Series(["x", 1, date(2027, 1, 1)], dtype=object)})) is None  # mixed
    assert _arrow_table(pd.DataFrame({"a": pd.to_datetime(["2027-01-01"]).tz_localize("Europe/Paris")})) is None
    assert _arrow_table(pd.DataFrame({"a": pd.Series([None, None], dtype=object)})) is not None  # all NULL: text


def _read_back(text: str) -> list[object]:
    """What SQLite's ``json_each`` reads from the text, in order."""
    with sqlite3.connect(":memory:") as connection:
        return [row[0] for row in connection.execute("SELECT value FROM json_each(?) ORDER BY key", (text,))]


@given(st.lists(st.text()))
def test_texts_joined_by_arrow_read_back_as_json_dumps_writes_them(values):
    """Any text, quotes, backslashes, control characters and non-ASCII included: the JSON Arrow joins
    (or json.dumps, for a text JSON escapes) reads back as the values in Python, and SQLite reads
    what it reads of json.dumps' text (which cuts a text at a NUL: its own limit, the same both ways)."""
    text = json_text(pa.array(values, pa.string()))
    assert json.loads(text) == values
    assert _read_back(text) == _read_back(json.dumps(values))


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_whole_numbers_joined_by_arrow_read_back(values):
    text = json_text(pa.array(values, pa.int64()))
    assert json.loads(text) == values
    assert _read_back(text) == values


def test_postgresql_reads_the_bound_lists_values_back(pg_url):
    """PostgreSQL reads the JSON array ``_bind_list`` binds (Arrow's or json.dumps' text) as the distinct
    values, for any text PostgreSQL can hold (no NUL) and any 64-bit integer."""
    from hypothesis import HealthCheck, settings
    from sqlalchemy import text

    from leadgov.models.delivery_store import _bind_list, _values_source

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(texts=st.lists(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))),
           numbers=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1)))
    def check(texts, numbers):
        with session_scope(pg_url) as session:
            for values, kind in ((texts, "text"), (numbers, "bigint")):
                bound = _bind_list(pa.array(values, pa.string() if kind == "text" else pa.int64()))
                read = session.execute(text(f"SELECT k.value FROM {_values_source(session, 'v', kind)}"), {"v": bound})
                assert sorted(read.scalars().all()) == sorted(set(values)), kind

    check()


def test_plain_text_is_joined_by_arrow_not_json_dumps(monkeypatch):
    """The fast path is taken for text JSON writes as it is (json.dumps would escape the é)."""
    monkeypatch.setattr(json, "dumps", lambda *a, **k: pytest.fail("json.dumps called"))
    assert json_text(pa.array(["L-1", "é"])) == '["L-1","é"]'
