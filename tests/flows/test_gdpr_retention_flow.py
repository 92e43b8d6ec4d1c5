"""The gdpr_retention flow under Prefect's harness, on SQLite and PostgreSQL: it runs the purge service
(``leadgov.services.gdpr.purge_expired``), erases what is past retention and publishes counts only."""

import json
from datetime import date, timedelta

import pytest
from factories import HMAC_KEY, ingest, lead, make_contract_file
from prefect.artifacts import Artifact
from sqlalchemy import func, select

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
    assert dry.total("leads") == 2 and dry.dry_run is True
    assert holding_email(env) == {"shortco": 2, "acme-leads": 1}
    assert "would be erased (dry run)" in Artifact.get("gdpr-retention-summary").data

    summary = gdpr_retention(as_of=as_of)
    assert (summary.total("leads"), summary.total("deliveries")) == (2, 1)
    assert summary.by_supplier() == {"acme-leads": {"leads": 0, "deliveries": 0, "outcome_notes": 0},
                                     "shortco": {"leads": 2, "deliveries": 1, "outcome_notes": 0}}
    assert holding_email(env) == {"acme-leads": 1}

    published = artifact_texts()
    assert "**2** leads erased" in published and "SHORT-2027" in published
    for personal in ("camille", "martin", "nexalog", "+33", "cert-7f3a9c", "L-00001", "L-00002"):
        assert personal.lower() not in published.lower()
        assert personal.lower() not in json.dumps(summary.as_dict()).lower()

    assert gdpr_retention(as_of=as_of).total("leads") == 0  # the weekly rerun finds nothing left


def test_gdpr_retention_flow_runs_the_purge_step_as_its_task(env):
    """The flow runs the service's step as ``purge_expired_leads`` (its retries), publishes, and
    defaults ``as_of`` to today in the settings' zone."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from leadgov.services.runtime import SystemClock

    state = gdpr_retention(dry_run=True, return_state=True)
    result = state.result()
    assert result.as_of == SystemClock("Europe/Paris").today() and result.dry_run is True
    assert "No delivery stored." in Artifact.get("gdpr-retention-summary").data

    async def task_names() -> list[str]:
        async with get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[
                state.state_details.flow_run_id])))
        return sorted(run.name.rsplit("-", 1)[0] for run in runs)

    import asyncio
    assert asyncio.run(task_names()) == ["open_runtime", "publish_retention", "purge_expired_leads"]


def test_gdpr_retention_flow_fails_after_publishing_when_a_contract_cannot_be_read(env):
    from sqlalchemy import update

    from leadgov.flows.gdpr_retention import RetentionIncomplete
    from leadgov.models import ContractVersion

    ingest(env, [lead(1)], DAY, contract=SHORT, name="old.csv")
    ingest(env, [lead(2)], DAY)
    with session_scope(env) as session:
        session.execute(update(ContractVersion).where(ContractVersion.supplier_id == "shortco")
                        .values(content="contract_id: [broken"))

    with pytest.raises(RetentionIncomplete, match="cannot be read any more"):
        gdpr_retention(as_of=DAY + timedelta(days=40))
    published = Artifact.get("gdpr-retention-summary").data
    assert "Not purged:" in published and "shortco" in published
    assert holding_email(env) == {"shortco": 1, "acme-leads": 1}  # the unreadable version's leads are kept
