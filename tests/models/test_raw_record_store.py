"""Raw records and supplied values in compressed blocks: every record and value comes back as delivered,
by its delivery and row, whatever the block it fell in; an erasure blanks exactly the rows asked and
rewrites their blocks; a search finds a text in any block; the retention purge drops a delivery's blocks."""

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from factories import ingest, lead
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadgov.models import raw_record_store as store
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.raw_record import SUPPLIED_VALUES, RawRecordBlock


def places(rows: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["delivery_id", "row_number"])


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 3 rows, so that a 7-lead delivery spans three blocks."""
    monkeypatch.setattr(store, "BLOCK_ROWS", 3)


def test_a_delivery_is_stored_in_blocks_and_each_record_read_back_as_delivered(db_url, small_blocks):
    rows = [lead(n, email=f"person{n}@alpha.fr") for n in range(1, 8)]
    delivery_id = ingest(db_url, rows).delivery_id
    with session_scope(db_url) as session:
        blocks = session.execute(select(RawRecordBlock.first_row, RawRecordBlock.last_row)
                                 .where(RawRecordBlock.delivery_id == delivery_id)
                                 .order_by(RawRecordBlock.first_row)).all()
        wanted = places([(delivery_id, 7), (delivery_id, 1), (delivery_id, 4), (delivery_id, 99), (delivery_id + 1, 1)])
        records = store.raw_records_at(session, wanted.set_index(pd.Index([10, 11, 12, 13, 14])))
    assert [tuple(b) for b in blocks] == [(1, 3), (4, 6), (7, 7)]
    assert records.index.tolist() == [10, 11, 12, 13, 14]  # aligned with the rows asked
    assert [json.loads(r)["Email"] for r in records.iloc[:3]] == ["person7@alpha.fr", "person1@alpha.fr",
                                                                  "person4@alpha.fr"]
    assert records.iloc[3] is None and records.iloc[4] is None  # no such row, no such delivery


def test_an_erasure_blanks_exactly_the_rows_asked_and_says_which_held_something(db_url, small_blocks):
    delivery_id = ingest(db_url, [lead(n) for n in range(1, 8)]).delivery_id
    with session_scope(db_url) as session:
        erased = store.erase_raw_records(session, places([(delivery_id, 2), (delivery_id, 5), (delivery_id, 99)]))
        again = store.erase_raw_records(session, places([(delivery_id, 2)]))
        records = store.raw_records_at(session, places([(delivery_id, n) for n in range(1, 8)]))
        values = store.supplied_values_at(session, places([(delivery_id, n) for n in range(1, 8)]))
    assert sorted(erased["row_number"].tolist()) == [2, 5]
    assert again.empty  # nothing held any more
    assert records.isna().tolist() == [False, True, False, False, True, False, False]
    assert values.isna().all(axis=1).tolist() == [False, True, False, False, True, False, False]
    assert values.notna().any(axis=1).tolist() == [True, False, True, True, False, True, True]


def test_rows_stored_erased_are_blanked_in_their_own_block_only(db_url, small_blocks):
    """``insert_blocks`` with rows to store erased (a lead rejected SUPPRESSED): their record and values are
    NULL, every other row keeps both, and a block holding none of them is stored as it was encoded."""
    delivery_id = ingest(db_url, [lead(1)]).delivery_id
    numbers = np.arange(101, 108)  # rows of their own beside the delivery's row 1: three blocks of 3, 3, 1
    texts = pa.chunked_array([pa.array([f'{{"Ref": "R{n}"}}' for n in numbers], pa.large_string())])
    values = pd.DataFrame({"company_name": [f"Société {n}" for n in numbers], "employees": pd.array(numbers, "Int64")})
    blocks = store.encode_blocks(numbers, lambda start, count: texts.slice(start, count), values)
    with session_scope(db_url) as session:
        store.insert_blocks(session, delivery_id=delivery_id, blocks=blocks, erased=np.array([102, 106]))
        stored = dict(session.execute(select(RawRecordBlock.first_row, RawRecordBlock.records)
                                      .where(RawRecordBlock.delivery_id == delivery_id)).all())
        wanted = places([(delivery_id, int(n)) for n in numbers])
        records = store.raw_records_at(session, wanted)
        got = store.supplied_values_at(session, wanted, ["company_name", "employees"])
    gone = [n in (102, 106) for n in numbers]
    assert records.isna().tolist() == gone and got.isna().all(axis=1).tolist() == gone
    assert records.iloc[0] == '{"Ref": "R101"}' and got["company_name"].iloc[2] == "Société 103"
    assert got["employees"].iloc[6] == 107
    assert stored[107] == blocks[2].records  # no erased row in it: untouched
    assert stored[101] != blocks[0].records


def test_supplied_values_come_back_as_normalised_by_delivery_and_row(db_url, small_blocks):
    rows = [lead(n, company_name=f"Société {n}", employees=str(10 * n), campaign="printemps") for n in range(1, 8)]
    rows[3]["campaign"] = None
    delivery_id = ingest(db_url, rows).delivery_id
    with session_scope(db_url) as session:
        wanted = places([(delivery_id, 7), (delivery_id, 4), (delivery_id, 99), (delivery_id, 1)])
        values = store.supplied_values_at(session, wanted.set_index(pd.Index([5, 5, 6, 7])))
        some = store.supplied_values_at(session, wanted, ["employees", "collected_at"])
    assert values.index.tolist() == [5, 5, 6, 7]  # aligned with the rows asked, a repeated index included
    assert list(values.columns) == SUPPLIED_VALUES.names and list(some.columns) == ["employees", "collected_at"]
    assert values["company_name"].tolist() == ["Société 7", "Société 4", None, "Société 1"]
    assert values["employees"].tolist()[:2] == [70, 40] and values["employees"].isna().tolist()[2]
    assert values["campaign"].iloc[1] is None and values["campaign"].iloc[0] == "printemps"
    assert str(values["collected_at"].dtype).startswith("datetime64") and values["collected_at"].iloc[2] is pd.NaT
    assert values["collected_at"].iloc[0] == pd.Timestamp(lead(7)["collected_at"])
    assert values.iloc[2].isna().all()  # no such row
    pd.testing.assert_frame_equal(some, values.loc[:, ["employees", "collected_at"]].set_axis(wanted.index))


#: Generated supplied values: any text, whole numbers of 64 bits, amounts (NaN is missing), times of any
#: year to the nanosecond (stored to the microsecond, floored), and missing values everywhere.
_TIMES = st.one_of(st.none(), st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda t: pd.Timestamp(t) + pd.Timedelta(nanoseconds=789)))
_VALUES = {
    "text": st.one_of(st.none(), st.text(max_size=20)),
    "int": st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    "float": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "time": _TIMES,
}


def _kind(field) -> str:
    if pa.types.is_timestamp(field.type):
        return "time"
    if pa.types.is_integer(field.type):
        return "int"
    return "float" if pa.types.is_floating(field.type) else "text"


@settings(max_examples=40, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=12), first=st.integers(min_value=1, max_value=10_000))
def test_a_block_gives_back_every_supplied_value_exactly(data, size, first):
    """The values' encoding is exact for every type the normaliser gives (its pandas dtypes), a column
    the delivery lacks reads NULL, and times are floored to the microsecond."""
    present = data.draw(st.lists(st.sampled_from(SUPPLIED_VALUES.names), unique=True))
    dtypes = {"text": "str", "int": "Int64", "float": "Float64", "time": "datetime64[ns]"}
    columns = {}
    for name in present:
        kind = _kind(SUPPLIED_VALUES.field(name))
        cells = data.draw(st.lists(_VALUES[kind], min_size=size, max_size=size))
        columns[name] = pd.Series(cells, dtype=dtypes[kind] if kind != "text" else object).astype(dtypes[kind])
    frame = pd.DataFrame(columns, index=pd.RangeIndex(size))
    numbers = np.arange(first, first + size)
    table = store.decode_block(store.encode_values(numbers, store.supplied_table(frame)))
    assert table.column("row_number").to_pylist() == numbers.tolist()
    for name in SUPPLIED_VALUES.names:
        got = table.column(name).to_pylist()
        if name not in columns:
            assert got == [None] * size
            continue
        kind = _kind(SUPPLIED_VALUES.field(name))
        wanted = [None if pd.isna(v) else v for v in columns[name].astype(object)]
        if kind == "time":
            wanted = [None if v is None else v.floor("us").to_pydatetime() for v in wanted]
        assert got == wanted, name


def test_a_search_finds_a_text_in_any_block_whatever_its_case(db_url, small_blocks):
    rows = [lead(n, email=f"person{n}@alpha.fr") for n in range(1, 8)]
    rows[5]["need"] = "Rappeler Jeanne.Martin@Example.FR demain"
    delivery_id = ingest(db_url, rows).delivery_id
    with session_scope(db_url) as session:
        found = store.search_raw_records(session, ["jeanne.martin@example.fr", "person2@alpha.fr"])
        nothing = store.search_raw_records(session, ["nobody@nowhere.fr"])
    assert sorted(found["row_number"].tolist()) == [2, 6]
    assert set(found["delivery_id"]) == {delivery_id}
    assert nothing.empty


def test_the_purge_of_a_delivery_drops_its_blocks_and_no_other(db_url, small_blocks):
    first = ingest(db_url, [lead(n) for n in range(1, 5)]).delivery_id
    second = ingest(db_url, [lead(n) for n in range(11, 13)]).delivery_id
    with session_scope(db_url) as session:
        store.delete_raw_records(session, select(Lead.delivery_id).where(Lead.delivery_id == first).distinct())
        left = session.execute(select(RawRecordBlock.delivery_id, func.count())
                               .group_by(RawRecordBlock.delivery_id)).all()
    assert [tuple(r) for r in left] == [(second, 1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=30),
       first=st.integers(min_value=1, max_value=10_000))
def test_a_block_gives_back_every_text_and_row_number_exactly(texts, first):
    """The encoding is exact: any text (any character, empty, NULL) and its row number come back."""
    numbers = np.arange(first, first + len(texts))
    table = store.decode_block(store.encode_block(numbers, store._as_arrow(pd.Series(texts, dtype=object))))
    assert table.column("row_number").to_pylist() == numbers.tolist()
    assert table.column("raw_record").to_pylist() == texts


def test_erasing_a_lead_that_holds_only_its_raw_record_counts_it_and_blanks_the_record(db_url):
    """A lead whose columns were all emptied still holds its row as delivered: it is erased (and counted)."""
    from sqlalchemy import update

    from leadgov.models.gdpr_store import ERASED_COLUMNS, erase_leads

    delivery_id = ingest(db_url, [lead(1), lead(2)]).delivery_id
    with session_scope(db_url) as session:
        # as if it had been marked erased with its record and values left behind: they are erased all the same
        session.execute(update(Lead).where(Lead.row_number == 1)
                        .values({**dict.fromkeys(ERASED_COLUMNS), "erased": True}))
        first, second = session.scalars(select(Lead.id).order_by(Lead.row_number)).all()
        counts = [erase_leads(session, [first])["leads"], erase_leads(session, [first])["leads"]]
        records = store.raw_records_at(session, places([(delivery_id, 1), (delivery_id, 2)]))
        values = store.supplied_values_at(session, places([(delivery_id, 1), (delivery_id, 2)]))
    assert counts == [1, 0]  # erased once, then nothing left to erase
    assert records.iloc[0] is None and records.iloc[1] is not None
    assert values.iloc[0].isna().all() and values.iloc[1].notna().any()
