"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from models import Base
from models.db import get_engine
from models.migrate import upgrade


def test_migrated_schema_matches_models(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_names_constraints(db_url):
    upgrade(db_url)
    inspector = inspect(get_engine(db_url))
    assert {"supplier", "contract_version", "delivery", "lead", "lead_reason", "suppression_entry",
            "outcome_event", "replacement_claim", "billing_statement", "billing_line", "alert"} <= set(
        inspector.get_table_names())
    unique = {u["name"] for u in inspector.get_unique_constraints("delivery")}
    assert "uq_delivery_supplier_id_file_sha256" in unique
    indexes = {i["name"] for i in inspector.get_indexes("lead")}
    assert {"ix_lead_email_key_delivered_on", "ix_lead_phone_key_delivered_on"} <= indexes
