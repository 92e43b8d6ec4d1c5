"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from leadgov.models import Base
from leadgov.models.db import get_engine
from leadgov.models.migrate import upgrade

#: These tests are about the migrations: their databases are migrated by Alembic, not copied from a template.
pytestmark = pytest.mark.migrations


def test_migrated_schema_matches_models(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_names_constraints(db_url):
    upgrade(db_url)
    inspector = inspect(get_engine(db_url))
    assert {"supplier", "contract_version", "delivery", "lead", "lead_reason", "suppression_entry",
            "outcome_event", "replacement_claim", "billing_statement", "billing_line", "alert", "identity_run",
            "pilot_decision"} <= set(inspector.get_table_names())
    unique = {u["name"] for u in inspector.get_unique_constraints("delivery")}
    assert "uq_delivery_supplier_id_file_sha256" in unique
    indexes = {i["name"] for i in inspector.get_indexes("lead")}
    assert "ix_lead_supplier_id_lead_id" in indexes
    # 0023: a period's leads are found through their deliveries, not on an index of the delivery day
    assert not {"ix_lead_supplier_id_delivered_on", "ix_lead_email_key_delivered_on",
                "ix_lead_phone_key_delivered_on"} & indexes
    # 0025: reasons are read through their leads, never by their code alone
    assert {i["name"] for i in inspector.get_indexes("lead_reason")} == {"ix_lead_reason_delivery_id_row_number"}


def test_identity_runs_are_built_from_leads_stored_before_them(db_url):
    """A database that stored leads before identity runs existed keeps finding their duplicates."""
    from datetime import date

    from alembic import command
    from sqlalchemy import text

    from leadgov.models.db import session_scope
    from leadgov.models.identity_store import identity_matches
    from leadgov.models.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0003")
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
        connection.execute(text(
            "INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status, email_key, phone_key, "
            "email) "
            "VALUES (1, 's', 1, '2027-02-01', 'accepted', 42, NULL, 'a@b.fr'), "
            "(1, 's', 2, '2027-02-01', 'rejected', -7, 99, 'c@d.fr')"))
    upgrade(db_url)
    with session_scope(db_url) as session:
        found = identity_matches(session, kind="email", keys=[42, 5], since=date(2027, 1, 1), until=date(2027, 3, 1))
        phones = identity_matches(session, kind="phone", keys=[99], since=date(2027, 2, 2), until=date(2027, 3, 1))
    assert found.values.tolist() == [["a@b.fr", "s", "accepted"]]
    assert phones.empty  # outside the window


def test_rebuilt_runs_keep_64_bit_keys_exact(db_url):
    """Keys near 2^63 do not survive a float: the rebuild must not go through one."""
    import numpy as np
    from sqlalchemy import text

    from leadgov.models.identity_store import rebuild_runs

    big = 2**62 + 1
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
        connection.execute(text(
            "INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status, email_key, phone_key) "
            f"VALUES (1, 's', 1, '2027-02-01', 'accepted', {big}, NULL), "
            "(1, 's', 2, '2027-02-01', 'accepted', NULL, 3)"))
        assert rebuild_runs(connection) == 1
        keys = connection.execute(text("SELECT keys FROM identity_run WHERE kind = 'email'")).scalar_one()
    assert np.frombuffer(keys, dtype="<i8").tolist() == [big]



def test_leads_stored_before_notice_sent_at_keep_their_data_and_have_no_notice(db_url):
    """0011 adds the lead's notice date (NULL for leads stored before) and its downgrade drops it."""
    from alembic import command
    from sqlalchemy import text

    from leadgov.models.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0010")
    assert "notice_sent_at" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("lead")}
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
        connection.execute(text(
            "INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status, email) "
            "VALUES (1, 's', 1, '2027-02-01', 'accepted', 'a@b.fr')"))
    command.upgrade(alembic_config(db_url), "0021")  # 0022 moves the notice to the delivery's blocks
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT email, notice_sent_at FROM lead")).all() == [("a@b.fr", None)]
    command.downgrade(alembic_config(db_url), "0010")
    assert "notice_sent_at" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("lead")}
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT email FROM lead")).scalars().all() == ["a@b.fr"]

def _one_delivery(connection) -> None:
    """Supplier 's', one contract version and delivery 1 (2027-02-01), in raw SQL: valid at any revision."""
    from sqlalchemy import text

    connection.execute(text(
        "INSERT INTO supplier (id, name, state, created_at) VALUES ('s', 'S', 'active', '2027-01-01')"))
    connection.execute(text(
        "INSERT INTO contract_version (supplier_id, contract_id, sha256, terms_sha256, content, source_path, "
        "loaded_at) "
        "VALUES ('s', 'C', 'x', 'x', '', 'p', '2027-01-01')"))
    connection.execute(text(
        "INSERT INTO delivery (supplier_id, contract_version_id, file_name, file_sha256, delivered_on, received_at, "
        "encoding, delivered_count, accepted_count, rejected_count, over_cap_count) "
        "VALUES ('s', 1, 'f', 'h', '2027-02-01', '2027-02-01', 'utf-8', 2, 2, 0, 0)"))


def test_the_review_status_and_decision_day_come_with_0012_and_leave_with_its_downgrade(db_url):
    """0012 lets a lead wait in ``review`` and keeps the day it was decided; its downgrade turns a lead
    still in review into a rejected one (the older schema has no other place for it)."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from leadgov.models.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0011")
    insert = ("INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status) "
              "VALUES (1, 's', {row}, '2027-02-01', 'review')")
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
    with pytest.raises(IntegrityError), get_engine(db_url).begin() as connection:
        connection.execute(text(insert.format(row=1)))
    upgrade(db_url)
    with get_engine(db_url).begin() as connection:
        connection.execute(text(insert.format(row=1)))
        connection.execute(text("UPDATE lead SET decided_on = '2027-03-02' WHERE row_number = 1"))
        status, decided_on = connection.execute(text("SELECT status, decided_on FROM lead")).one()
        assert (status, str(decided_on)) == ("review", "2027-03-02")  # SQLite gives the text, PostgreSQL a date
    command.downgrade(alembic_config(db_url), "0011")
    assert "decided_on" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("lead")}
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT status FROM lead")).scalars().all() == ["rejected"]



def test_who_decided_comes_with_0017_and_earlier_rows_keep_null(db_url):
    """0017 adds who recorded an outcome event, asked for a suppression and computed a statement; rows
    stored before know nobody (NULL); its downgrade drops the columns."""
    from alembic import command
    from sqlalchemy import text

    from leadgov.models.migrate import alembic_config

    added = {"outcome_event": {"recorded_by"}, "suppression_entry": {"requested_by", "requested_at"},
             "billing_statement": {"computed_by"}}
    command.downgrade(alembic_config(db_url), "0012")
    for table, columns in added.items():
        assert not columns & {c["name"] for c in inspect(get_engine(db_url)).get_columns(table)}
    with get_engine(db_url).begin() as connection:
        connection.execute(text("INSERT INTO suppression_entry (kind, key_hmac, identity_key, reason, created_at) "
                                "VALUES ('email', 'h', 1, 'objected', '2027-01-01')"))
    upgrade(db_url)
    for table, columns in added.items():
        assert columns <= {c["name"] for c in inspect(get_engine(db_url)).get_columns(table)}
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT reason, requested_by FROM suppression_entry")).all() == [
            ("objected", None)]
    command.downgrade(alembic_config(db_url), "0012")
    assert "requested_by" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("suppression_entry")}


def test_supplied_values_move_to_the_blocks_with_0022_and_back_with_its_downgrade(db_url):
    """0022 moves every lead's supplied values into its delivery's blocks, row by row, and marks erased the
    leads that held nothing (no value, no key, no raw record); its downgrade puts the values back."""
    from datetime import datetime

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from alembic import command
    from sqlalchemy import text

    from leadgov.models.migrate import alembic_config
    from leadgov.models.raw_record_store import encode_block, supplied_values_at

    command.downgrade(alembic_config(db_url), "0021")
    columns = "delivery_id, supplier_id, row_number, delivered_on, status, lead_id, email, email_key"
    values = ("company_name", "employees", "budget_eur", "collected_at", "need", "department")
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
        connection.execute(text(
            f"INSERT INTO lead ({columns}, {', '.join(values)}) VALUES "
            "(1, 's', 1, '2027-02-01', 'accepted', 'A', 'a@b.fr', 7, 'Nexalog', 120, 2500.5, "
            "'2027-01-31 10:00:00.000001', 'Un CRM', '75'), "
            "(1, 's', 2, '2027-02-01', 'rejected', 'B', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
            "(1, 's', 3, '2027-02-01', 'rejected', 'C', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
            "(1, 's', 4, '2027-02-01', 'accepted', 'D', NULL, NULL, 'Alone SA', NULL, NULL, NULL, NULL, NULL), "
            "(1, 's', 5, '2027-02-01', 'rejected', 'E', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"))
        records = encode_block(np.array([1, 2, 4, 5]),
                               pa.array(['{"a": 1}', None, '{"d": 4}', '{"e": ""}'], pa.large_string()))
        connection.execute(text("INSERT INTO raw_record_block (delivery_id, first_row, last_row, records) "
                                "VALUES (1, 1, 5, :records)"), {"records": records})
    upgrade(db_url)
    lead_columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("lead")}
    assert not set(values) & lead_columns and "erased" in lead_columns
    with get_engine(db_url).connect() as connection:
        erased = connection.execute(text("SELECT lead_id, erased FROM lead ORDER BY row_number")).all()
    from leadgov.models.db import session_scope

    with session_scope(db_url) as session:
        moved = supplied_values_at(session, pd.DataFrame({"delivery_id": [1] * 4, "row_number": [1, 2, 3, 4]}))
    # E held nothing but its raw record (every cell blank): not erased
    assert [(lead_id, bool(flag)) for lead_id, flag in erased] == [("A", False), ("B", True), ("C", True),
                                                                     ("D", False), ("E", False)]
    assert moved.loc[0, ["company_name", "employees", "budget_eur", "need", "department"]].tolist() == [
        "Nexalog", 120, 2500.5, "Un CRM", "75"]
    assert moved.loc[0, "collected_at"] == pd.Timestamp(datetime(2027, 1, 31, 10, 0, 0, 1))
    assert moved.loc[1:2].isna().all(axis=None)  # B erased; C had no record (erased): nothing carried over
    assert moved.loc[3, "company_name"] == "Alone SA"

    command.downgrade(alembic_config(db_url), "0021")
    assert "supplied_values" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("raw_record_block")}
    assert "erased" not in {c["name"] for c in inspect(get_engine(db_url)).get_columns("lead")}
    with get_engine(db_url).connect() as connection:
        back = connection.execute(text(f"SELECT lead_id, {', '.join(values)} FROM lead ORDER BY row_number")).all()
    assert [tuple(str(v) if v is not None else None for v in row) for row in back] == [
        ("A", "Nexalog", "120", "2500.5", "2027-01-31 10:00:00.000001", "Un CRM", "75"),
        ("B", None, None, None, None, None, None), ("C", None, None, None, None, None, None),
        ("D", "Alone SA", None, None, None, None, None), ("E", None, None, None, None, None, None)]


def test_a_lead_points_at_its_delivery_and_supplier_with_one_key_from_0024(db_url):
    """0024 replaces the lead's two keys (delivery, supplier) by one on (delivery, supplier): a lead whose
    supplier is not its delivery's is refused, as is one of a delivery that does not exist, and stored
    leads keep their rows through the upgrade and its downgrade."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from leadgov.models.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0023")
    insert = ("INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status, lead_id) "
              "VALUES ({delivery}, '{supplier}', {row}, '2027-02-01', 'accepted', 'L{row}')")
    with get_engine(db_url).begin() as connection:
        _one_delivery(connection)
        connection.execute(text(
            "INSERT INTO supplier (id, name, state, created_at) VALUES ('t', 'T', 'active', '2027-01-01')"))
        connection.execute(text(insert.format(delivery=1, supplier="s", row=1)))
    with get_engine(db_url).begin() as connection:  # before 0024: any known supplier passed
        connection.execute(text(insert.format(delivery=1, supplier="t", row=2)))
        connection.execute(text("DELETE FROM lead WHERE row_number = 2"))
    upgrade(db_url)
    keys = inspect(get_engine(db_url)).get_foreign_keys("lead")
    assert [(k["constrained_columns"], k["referred_table"], k["referred_columns"]) for k in keys] == [
        (["delivery_id", "supplier_id"], "delivery", ["id", "supplier_id"])]
    for delivery, supplier in ((1, "t"), (2, "s")):  # another supplier's lead; a delivery that does not exist
        with pytest.raises(IntegrityError), get_engine(db_url).begin() as connection:
            connection.execute(text(insert.format(delivery=delivery, supplier=supplier, row=3)))
    with get_engine(db_url).begin() as connection:
        connection.execute(text(insert.format(delivery=1, supplier="s", row=3)))
    command.downgrade(alembic_config(db_url), "0023")
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT lead_id FROM lead ORDER BY row_number")).scalars().all() == ["L1", "L3"]
    keys = inspect(get_engine(db_url)).get_foreign_keys("lead")
    assert sorted((k["constrained_columns"], k["referred_table"]) for k in keys) == [
        (["delivery_id"], "delivery"), (["supplier_id"], "supplier")]
