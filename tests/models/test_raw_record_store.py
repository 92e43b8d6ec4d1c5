"""Raw records in compressed blocks: every record comes back as delivered, by its delivery and row,
whatever the block it fell in; an erasure blanks exactly the rows asked and rewrites their blocks; a
search finds a text in any block; the retention purge drops a delivery's blocks."""

import json

import numpy as np
import pandas as pd
import pytest
from factories import ingest, lead
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadgov.models import raw_record_store as store
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.raw_record import RawRecordBlock


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
    assert sorted(erased["row_number"].tolist()) == [2, 5]
    assert again.empty  # nothing held any more
    assert records.isna().tolist() == [False, True, False, False, True, False, False]


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
        session.execute(update(Lead).where(Lead.row_number == 1).values(dict.fromkeys(ERASED_COLUMNS)))
        first, second = session.scalars(select(Lead.id).order_by(Lead.row_number)).all()
        counts = [erase_leads(session, [first])["leads"], erase_leads(session, [first])["leads"]]
        records = store.raw_records_at(session, places([(delivery_id, 1), (delivery_id, 2)]))
    assert counts == [1, 0]  # erased once, then nothing left to erase
    assert records.iloc[0] is None and records.iloc[1] is not None
