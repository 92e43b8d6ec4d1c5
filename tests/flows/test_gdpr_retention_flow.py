"""The gdpr_retention flow under Prefect's harness, on SQLite and PostgreSQL: it erases what is past
retention and publishes counts only."""

import json
from datetime import date, timedelta

import pytest
from prefect.artifacts import Artifact
from sqlalchemy import func, select

from factories import HMAC_KEY, ingest, lead, make_contract_file
from leadgov.flows.gdpr_retention import gdpr_retention
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead

pytestmark = pytest.mark.prefect

DAY = date(2027, 3, 1)
SHORT = make_contract_file(**{"contract_id": "SHORT-2027", "supplier.id": "shortco", "supplier.name": "Short Co",
                              "gdpr.retention_days": 30})


@pytest.fixture
def env(leadgov_env, monkeypatch, db_url):
    """The flow's settings on the ``db_url`` database, with the factories' identity key."""
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_DATABASE_URL", db_url)
    monkeypatch.setenv("LEADGOV_HMAC_KEY", HMAC_KEY)
    get_settings.cache_clear()
    return db_url


def holding_email(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return dict(session.execute(select(Lead.supplier_id, func.count()).where(Lead.email.isnot(None))
                                    .group_by(Lead.supplier_id)).all())


def artifact_texts() -> str:
    texts = []
    for key in ("gdpr-retention-summary", "gdpr-retention-table"):
        artifact = Artifact.get(key)
        assert artifact is not None, key
        texts.append(artifact.data if isinstance(artifact.data, str) else json.dumps(artifact.data))
    return "\n".join(texts)


def test_gdpr_retention_flow_erases_and_publishes_counts_only(env):
    ingest(env, [lead(1), lead(2)], DAY, contract=SHORT, name="old.csv")
    ingest(env, [lead(3)], DAY)  # ACME keeps personal data 1095 days
    as_of = DAY + timedelta(days=40)

    dry = gdpr_retention(as_of=as_of, dry_run=True)
    assert dry["leads"] == 2 and dry["dry_run"] is True
    assert holding_email(env) == {"shortco": 2, "acme-leads": 1}
    assert "would be erased (dry run)" in Artifact.get("gdpr-retention-summary").data

    summary = gdpr_retention(as_of=as_of)
    assert (summary["leads"], summary["deliveries"]) == (2, 1)
    assert summary["by_supplier"] == {"acme-leads": {"leads": 0, "deliveries": 0, "outcome_notes": 0},
                                      "shortco": {"leads": 2, "deliveries": 1, "outcome_notes": 0}}
    assert holding_email(env) == {"acme-leads": 1}

    published = artifact_texts()
    assert "**2** leads erased" in published and "SHORT-2027" in published
    for personal in ("camille", "martin", "nexalog", "+33", "cert-7f3a9c", "L-00001", "L-00002"):
        assert personal.lower() not in published.lower() and personal.lower() not in json.dumps(summary).lower()

    assert gdpr_retention(as_of=as_of)["leads"] == 0  # the weekly rerun finds nothing left
