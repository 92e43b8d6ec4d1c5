"""The governance flows under Prefect: each one's database effect and the artifacts it publishes."""

import json
import os
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml
from factories import DELIVERED_ON, contract_dict, delivery_file, ingest, lead, make_contract_file, outcomes_csv
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlalchemy import func, select, update

from leadgov.flows.check_replacements import check_replacements
from leadgov.flows.import_outcomes import import_outcomes
from leadgov.flows.monthly_billing import monthly_billing
from leadgov.flows.quarterly_review import quarterly_review
from leadgov.flows.weekly_checks import weekly_checks
from leadgov.flows.weekly_delivery_validation import InboxParameters, weekly_delivery_validation
from leadgov.models.alert import OutboxAlert
from leadgov.models.billing import BillingStatement
from leadgov.models.db import session_scope
from leadgov.models.delivery import Delivery
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.supplier import ContractVersion, Supplier
from leadgov.review import previous_quarter
from leadgov.statements import previous_month
from leadgov.tasks.common import artifact_key

pytestmark = pytest.mark.prefect

BETA = {"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-2027-01"}
GARBAGE = bytes(range(256)) * 20


@pytest.fixture
def env(leadgov_env, monkeypatch):
    """The flow settings, with the factories' identity key (deliveries seeded directly and through
    flows are deduplicated against each other); the URL of the migrated database."""
    from leadgov.config.settings import get_settings
    from leadgov.models.migrate import upgrade

    monkeypatch.setenv("LEADGOV_HMAC_KEY", "test-key")
    get_settings.cache_clear()
    url = f"sqlite:///{leadgov_env / 'flow.db'}"
    upgrade(url)
    return url


def count(url: str, model, *where) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def table(key: str) -> list[dict]:
    artifact = Artifact.get(key)
    assert artifact is not None, key
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def markdown(key: str) -> str:
    artifact = Artifact.get(key)
    assert artifact is not None, key
    return artifact.data


def task_names(state) -> list[str]:
    """The task runs of a flow run (names without their suffix), in the order they started."""
    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=flow_runs)
    return [run.name.rsplit("-", 1)[0] for run in sorted(runs, key=lambda r: r.start_time or r.expected_start_time)]


# --- weekly_delivery_validation ----------------------------------------------------------------


def make_inbox(root, suppliers: dict[str, dict[str, bytes]], contracts: dict[str, dict]):
    """An inbox (supplier folder -> file name -> bytes) and a contracts folder."""
    inbox, contracts_dir = root / "inbox", root / "contracts"
    contracts_dir.mkdir()
    for supplier_id, data in contracts.items():
        (contracts_dir / f"{supplier_id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for supplier_id, files in suppliers.items():
        (inbox / supplier_id).mkdir(parents=True)
        for name, data in files.items():
            (inbox / supplier_id / name).write_bytes(data)
    return inbox, contracts_dir


def csv_of(rows, **overrides) -> bytes:
    return delivery_file(rows, contract=make_contract_file(**overrides).contract).take()


def listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_weekly_validation_files_every_delivery_and_reruns_idempotently(env, leadgov_env):
    acme = contract_dict()
    inbox, contracts = make_inbox(leadgov_env, {
        "acme-leads": {"a.csv": csv_of([lead(1), lead(2, employees="1")]), "b-garbage.csv": GARBAGE,
                       "c.csv": csv_of([lead(3)])},
        "beta-leads": {"d.csv": csv_of([lead(10), lead(11)], **BETA)},
    }, {"acme-leads": acme, "beta-leads": contract_dict(**BETA)})
    paris = ZoneInfo("Europe/Paris")
    for path in inbox.rglob("*.csv"):  # delivered_on defaults to the file's modification day (Paris)
        stamp = datetime(2027, 3, 1, 23, 30, tzinfo=paris).timestamp()
        os.utime(path, (stamp, stamp))

    summary = weekly_delivery_validation(InboxParameters(inbox_dir=str(inbox), contracts_dir=str(contracts)))

    assert (summary["processed"], summary["refused"], summary["errors"]) == (3, 1, 0)
    assert listing(inbox) == ["acme-leads/processed/a.csv", "acme-leads/processed/c.csv",
                              "acme-leads/refused/b-garbage.csv", "acme-leads/refused/b-garbage.csv.reason.txt",
                              "beta-leads/processed/d.csv"]
    reason = (inbox / "acme-leads/refused/b-garbage.csv.reason.txt").read_text(encoding="utf-8")
    assert "neither UTF-8 nor cp1252" in reason and "b-garbage.csv" in reason
    with session_scope(env) as session:
        stored = session.execute(select(Delivery.supplier_id, Delivery.file_name, Delivery.delivered_on,
                                        Delivery.accepted_count, Delivery.rejected_count)
                                 .order_by(Delivery.supplier_id, Delivery.file_name)).all()
    assert [tuple(s) for s in stored] == [("acme-leads", "a.csv", DELIVERED_ON, 1, 1),
                                          ("acme-leads", "c.csv", DELIVERED_ON, 1, 0),
                                          ("beta-leads", "d.csv", DELIVERED_ON, 2, 0)]

    rows = {(r["supplier_id"], r["file"]): r for r in table("inbox-validation-table")}
    assert rows["acme-leads", "a.csv"]["status"] == "processed"
    assert (rows["acme-leads", "a.csv"]["accepted"], rows["acme-leads", "a.csv"]["rejected"]) == (1, 1)
    assert rows["acme-leads", "b-garbage.csv"]["status"] == "refused"
    assert "neither UTF-8 nor cp1252" in rows["acme-leads", "b-garbage.csv"]["reason"]
    assert rows["beta-leads", "d.csv"]["delivered_on"] == "2027-03-01"
    text = markdown("inbox-validation-summary")
    assert "| acme-leads | 2 | 1 | 2 | 1 |" in text and "camille" not in json.dumps(list(rows.values())).lower()

    again = weekly_delivery_validation(InboxParameters(inbox_dir=str(inbox), contracts_dir=str(contracts)))
    assert (again["processed"], again["refused"], again["suppliers"]) == (0, 0, [])
    assert count(env, Delivery) == 3
    assert listing(inbox)[-1] == "beta-leads/processed/d.csv" and len(listing(inbox)) == 5
    assert table("inbox-validation-table")[0]["status"] == "(no new file)"


def test_weekly_validation_one_supplier_failing_does_not_stop_the_others(env, leadgov_env):
    inbox, contracts = make_inbox(leadgov_env, {
        "acme-leads": {"a.csv": csv_of([lead(1)])},
        "ghost-leads": {"g.csv": csv_of([lead(5)])},  # no contract for this folder
    }, {"acme-leads": contract_dict()})

    state = weekly_delivery_validation(InboxParameters(inbox_dir=str(inbox), contracts_dir=str(contracts),
                                                    delivered_on=DELIVERED_ON), return_state=True)

    assert state.is_failed() and "ghost-leads" in state.message
    assert listing(inbox) == ["acme-leads/processed/a.csv", "ghost-leads/g.csv"]
    assert count(env, Delivery) == 1
    rows = {r["supplier_id"]: r for r in table("inbox-validation-table")}
    assert rows["acme-leads"]["status"] == "processed"
    assert rows["ghost-leads"]["status"] == "error" and "no contract" in rows["ghost-leads"]["reason"]


# --- import_outcomes ---------------------------------------------------------------------------


def test_import_outcomes_stores_events_and_lists_refusals(env, leadgov_env):
    ingest(env, [lead(1), lead(2), lead(3)])
    export = leadgov_env / "crm-export.csv"
    export.write_bytes(outcomes_csv([
        {"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-02 10:00"},
        {"lead_id": "L-00099", "event": "reached", "at": "2027-03-02 10:00"},
        {"lead_id": "L-00003", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "FAKE_LEAD"},
    ]))

    result = import_outcomes(str(export))

    summary = result.imported
    assert (summary.stored, summary.duplicated, summary.refused, summary.contests) == (2, 0, 1, 1)
    assert count(env, OutcomeEvent) == 2
    assert table("outcomes-import-refusals") == [
        {"line": 3, "rule": "UNKNOWN_LEAD", "message": "no lead L-00099 delivered by acme-leads"}]
    assert "| 3 | 2 | 0 | 1 | 1 |" in markdown("outcomes-import-summary")

    again = import_outcomes(str(export)).imported
    assert (again.stored, again.duplicated, again.refused) == (0, 2, 1)
    assert count(env, OutcomeEvent) == 2


def test_import_outcomes_refuses_a_missing_file_without_retrying(env, leadgov_env):
    state = import_outcomes(str(leadgov_env / "missing.csv"), return_state=True)
    assert state.is_failed() and "no such file" in state.message


# --- check_replacements ------------------------------------------------------------------------


def test_check_replacements_moves_late_claims_overdue_with_alerts(env):
    ingest(env, [lead(1), lead(2, employees="1")])  # the rejection opens a claim due 2027-03-11

    summary = check_replacements(as_of=date(2027, 3, 20))

    assert summary.overdue == 1 and summary.alerts.new == ("REPLACEMENT_OVERDUE|acme-leads|overdue:2027-03-12",)
    assert count(env, ReplacementClaim, ReplacementClaim.status == "overdue") == 1
    assert count(env, OutboxAlert, OutboxAlert.type == "REPLACEMENT_OVERDUE") == 1
    [row] = table("replacements-check-table")
    assert row == {"claim_id": row["claim_id"], "supplier_id": "acme-leads", "lead_id": "L-00002",
                   "due_on": "2027-03-11", "overdue_on": "2027-03-12"}
    assert "1 claim became overdue" in markdown("replacements-check-summary")

    again = check_replacements(as_of=date(2027, 3, 21))
    assert again.overdue == 0 and count(env, OutboxAlert) == 1
    assert table("replacements-check-table")[0]["supplier_id"] == "(none)"


def test_check_replacements_runs_each_step_as_its_task(env):
    state = check_replacements(as_of=date(2027, 3, 20), return_state=True)
    assert task_names(state) == ["open_runtime", "reject_reviews_past_deadline", "mark_overdue_claims",
                                 "raise_daily_alerts", "publish_replacements_check"]


# --- weekly_checks -----------------------------------------------------------------------------


def test_weekly_checks_raise_a_volume_shortfall_of_a_finished_week(env):
    ingest(env, [lead(i) for i in range(1, 21)])  # Monday 1 March only: 20 leads, target 50 (floor 40)

    result = weekly_checks(as_of=date(2027, 3, 8))  # Monday: 2027-W09 is over

    assert result.weeks == ("2027-W09",) and result.suppliers == ("acme-leads",)
    shortfall = "VOLUME_SHORTFALL|acme-leads|2027-W09"
    assert shortfall in result.alerts.new
    with session_scope(env) as session:
        alert = session.scalars(select(OutboxAlert).where(OutboxAlert.type == "VOLUME_SHORTFALL")).one()
    assert (alert.key, alert.figure, alert.threshold) == (shortfall, 20, 40)
    rows = table("weekly-checks-alerts")
    assert {"type": "VOLUME_SHORTFALL", "supplier_id": "acme-leads", "period": "2027-W09"} in rows
    text = markdown("weekly-checks-summary")
    assert "Finished weeks checked: 2027-W09; 1 supplier" in text and "| VOLUME_SHORTFALL | 1 |" in text

    again = weekly_checks(as_of=date(2027, 3, 9))  # the same finished week: nothing new
    assert again.alerts.new == () and count(env, OutboxAlert, OutboxAlert.type == "VOLUME_SHORTFALL") == 1
    assert table("weekly-checks-alerts") == [{"type": "(none)", "supplier_id": "", "period": ""}]


def test_weekly_checks_run_each_step_as_its_task(env):
    state = weekly_checks(as_of=date(2027, 3, 8), weeks=2, return_state=True)
    assert state.is_completed()
    assert task_names(state) == ["open_runtime", "suppliers_to_check", "check_finished_weeks",
                                 "publish_weekly_checks"]


def test_weekly_checks_fail_when_the_alerts_cannot_be_evaluated(env):
    with session_scope(env) as session:  # a supplier without any stored contract: its rules cannot run
        session.add(Supplier(id="ghost-leads", name="Ghost Leads"))

    state = weekly_checks(as_of=date(2027, 3, 8), return_state=True)

    assert state.is_failed() and "alerts not evaluated" in state.message, state.message
    assert "alerts not evaluated" in markdown("weekly-checks-summary")  # published before failing


def test_weekly_checks_refuse_a_number_of_weeks_out_of_range(env):
    state = weekly_checks(weeks=0, return_state=True)
    assert state.is_failed() and "Validation of flow parameters failed" in state.message, state.message


# --- monthly_billing ---------------------------------------------------------------------------


def test_monthly_billing_bills_each_supplier_of_the_previous_month(env, leadgov_env):
    ingest(env, [lead(1), lead(2), lead(3, employees="1")])
    ingest(env, [lead(10)], contract=make_contract_file(**BETA), name="beta.csv")

    result = monthly_billing(as_of=date(2027, 4, 2))  # default month: March 2027

    assert (result.month, result.as_of, result.failed_suppliers) == ("2027-03", date(2027, 4, 2), [])
    assert [s.supplier_id for s in result.suppliers] == ["acme-leads", "beta-leads"]
    with session_scope(env) as session:
        stored = session.execute(select(BillingStatement.supplier_id, BillingStatement.month,
                                        BillingStatement.revision, BillingStatement.billable_units)
                                 .order_by(BillingStatement.supplier_id)).all()
    assert [tuple(s) for s in stored] == [("acme-leads", "2027-03", 1, 2), ("beta-leads", "2027-03", 1, 1)]
    for supplier_id in ("acme-leads", "beta-leads"):
        assert (leadgov_env / "out" / "reports" / f"statement-{supplier_id}-2027-03-r1.html").is_file()
    [acme] = table("billing-acme-leads-2027-03")
    assert acme["billable_units"] == 2 and acme["revision"] == 1 and acme["frozen"] is False
    assert acme["amount_due_eur"] == "90.00" and result.suppliers[0].statement.amount_due_eur == Decimal("90.00")
    assert acme["report"] == str(leadgov_env / "out" / "reports" / "statement-acme-leads-2027-03-r1.html")
    assert {r["supplier_id"] for r in table("monthly-billing-table")} == {"acme-leads", "beta-leads"}
    assert "| beta-leads | 1 | 1 | 45.00 |" in markdown("monthly-billing-summary")

    monthly_billing(month="2027-03", as_of=date(2027, 4, 3))  # a rerun stores a new revision
    assert count(env, BillingStatement, BillingStatement.supplier_id == "acme-leads") == 2
    assert table("billing-acme-leads-2027-03")[0]["revision"] == 2


def test_monthly_billing_runs_each_step_as_its_task(env):
    ingest(env, [lead(1)])
    state = monthly_billing(as_of=date(2027, 4, 2), return_state=True)
    assert state.is_completed()
    assert task_names(state) == ["open_runtime", "suppliers_to_bill", "bill_supplier_month", "write_statement",
                                 "raise_statement_alerts", "publish_billing"]


def test_monthly_billing_fails_at_the_end_when_a_supplier_failed(env):
    ingest(env, [lead(1)])
    ingest(env, [lead(10)], contract=make_contract_file(**BETA), name="beta.csv")
    with session_scope(env) as session:  # beta's stored contract no longer reads as a contract
        session.execute(update(ContractVersion).where(ContractVersion.supplier_id == "beta-leads")
                        .values(content="supplier: [not, a, contract"))

    state = monthly_billing(as_of=date(2027, 4, 2), return_state=True)

    assert state.is_failed() and "billing 2027-03 failed for beta-leads" in state.message, state.message
    assert count(env, BillingStatement) == 1  # acme was billed
    rows = {r["supplier_id"]: r for r in table("monthly-billing-table")}
    assert rows["acme-leads"]["revision"] == 1 and rows["beta-leads"]["error"].startswith("ContractError")
    assert "| beta-leads |" in markdown("monthly-billing-summary") and "error: ContractError" in markdown(
        "monthly-billing-summary")


def test_monthly_billing_refuses_a_month_that_is_not_one(env):
    state = monthly_billing(month="2027-13", return_state=True)
    assert state.is_failed() and "Validation of flow parameters failed" in state.message, state.message
    assert count(env, BillingStatement) == 0


# --- quarterly_review --------------------------------------------------------------------------


def test_quarterly_review_writes_the_report_and_tells_the_committee(env, leadgov_env):
    ingest(env, [lead(1), lead(2)], contract=make_contract_file(**{"alerts.committee_channel": "#board"}))

    result = quarterly_review(as_of=date(2027, 4, 20))  # default quarter: 2027-Q1

    report = leadgov_env / "out" / "reports" / "review-2027-Q1.html"
    assert report.is_file() and result.report_path == report and result.quarter == "2027-Q1"
    assert result.alerts.new == ("QUARTERLY_REVIEW|all|2027-Q1",)
    with session_scope(env) as session:
        alert = session.scalars(select(OutboxAlert).where(OutboxAlert.type == "QUARTERLY_REVIEW")).one()
    assert (alert.key, alert.channel) == ("QUARTERLY_REVIEW|all|2027-Q1", "#board")
    summary = markdown("quarterly-review-summary")
    assert str(report.parent) in summary and report.with_suffix(".pdf").name in summary
    assert "> *Revue trimestrielle 2027-Q1* : 1 fournisseur(s)" in summary  # the committee's message
    assert table("quarterly-review-table") == [{"supplier_id": "acme-leads", "name": "ACME Leads SAS",
                                                "leads_delivered": 2}]

    state = quarterly_review(quarter="2027-Q1", as_of=date(2027, 4, 21), return_state=True)
    assert count(env, OutboxAlert, OutboxAlert.type == "QUARTERLY_REVIEW") == 1
    assert task_names(state) == ["open_runtime", "build_quarterly_review", "write_quarterly_review",
                                 "raise_quarterly_review_alert", "publish_quarterly_review"]


# --- parameters and helpers --------------------------------------------------------------------


def test_parameters_make_forms_with_descriptions():
    request = weekly_delivery_validation.parameters.model_dump()["definitions"]["InboxParameters"]["properties"]
    assert "modification date" in request["delivered_on"]["description"]
    assert request["delivered_on"]["anyOf"][0]["format"] == "date"
    billing = monthly_billing.parameters.model_dump()["properties"]
    assert "YYYY-MM" in billing["month"]["description"]
    assert billing["month"]["anyOf"][0]["pattern"]
    for flow_ in (import_outcomes, check_replacements, weekly_checks, quarterly_review):
        properties = flow_.parameters.model_dump()["properties"]
        assert all(p.get("description") for p in properties.values()), flow_.name


def test_default_periods_and_artifact_keys():
    assert previous_month(date(2027, 1, 15)) == "2026-12" and previous_month(date(2027, 3, 1)) == "2027-02"
    assert previous_month(date(2027, 3, 31)) == "2027-02"
    assert previous_quarter(date(2027, 1, 1)) == "2026-Q4" and previous_quarter(date(2027, 8, 31)) == "2027-Q2"
    assert artifact_key("billing", "ACME_Leads", "2027-03") == "billing-acme-leads-2027-03"
