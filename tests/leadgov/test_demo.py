"""The main job: ``leadgov demo`` plays a quarter end to end and tells the story it promises."""

import re

import pandas as pd
from sqlalchemy import func, select

from leadgov.models import Lead, LeadReason, LeadReviewDecision, alert_store, incident_store
from leadgov.models.committee_store import list_deliveries
from leadgov.models.db import session_scope
from leadgov.models.pilot import decisions
from leadgov.models.raw_record_store import supplied_values_at
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.supplier import Supplier


def test_demo_plays_the_quarter(demo_run):
    """The demo run is shared with the other tests of its output (conftest.py ``demo_run``)."""
    result, tmp_path = demo_run.result, demo_run.folder
    assert result.exit_code == 0, result.output
    reports = tmp_path / "out" / "reports"
    names = sorted(p.name for p in reports.iterdir())
    assert {"review-2027-Q1.html", "review-2027-Q1.pdf"} <= set(names)
    # each supplier's pilot has its own report, named after the pilot (docs/governance.md, Pilot)
    for s in ("acme-leads", "datapulse", "prospectia"):
        pilot_reports = [n for n in names if re.fullmatch(rf"pilot-{s}-\d+\.(html|pdf)", n)]
        assert len(pilot_reports) == 2, (s, names)
    assert {f"statement-{s}-2027-03-r1.html" for s in ("acme-leads", "datapulse", "prospectia")} <= set(names)
    assert {"statement-acme-leads-2027-02-r1.html", "statement-prospectia-2027-02-r1.html"} <= set(names)
    # February's statements show the leads each pilot held (PILOT_HOLD): ACME's pilot was approved in
    # February, so its held leads are billed there; Prospectia's was stopped, so its are never billed
    acme_february = " ".join((reports / "statement-acme-leads-2027-02-r1.html").read_text(encoding="utf-8").split())
    assert re.search(r"\d+ leads retenus par le pilote, facturés à son approbation \(le 11/02/2027\) : sur ce relevé",
                     acme_february)
    prospectia_february = " ".join(
        (reports / "statement-prospectia-2027-02-r1.html").read_text(encoding="utf-8").split())
    assert re.search(r"\d+ leads held by the pilot: not billed \(the pilot was not approved\)", prospectia_february)
    # Prospectia's pilot stops on consent: its contract requires it and some of its leads come without
    prospectia_pilot = next(reports.glob("pilot-prospectia-*.html")).read_text(encoding="utf-8")
    assert "GDPR incident(s), none is allowed: stop" in prospectia_pilot
    assert any(n.startswith("returns-delivery-") for n in names)
    review = (reports / "review-2027-Q1.html").read_text(encoding="utf-8")
    assert all(name in review for name in ("ACME Leads SAS", "DataPulse", "Prospectia"))

    url = f"sqlite:///{tmp_path / 'data' / 'demo.db'}"
    with session_scope(url) as session:
        keys = [a.key for a in alert_store.list_alerts(session)]
        states = {s.id: s.state for s in session.query(Supplier)}
        verdicts = {s: [d.verdict for d in decisions(session, s)] for s in states}
        packs = {(d.report, d.medium, d.status) for d in list_deliveries(session)}
        datapulse = pd.DataFrame(session.execute(select(Lead.delivery_id, Lead.row_number)
                                                 .where(Lead.supplier_id == "datapulse")).all(),
                                 columns=["delivery_id", "row_number"])
        sent = supplied_values_at(session, datapulse, ["notice_sent_at"])["notice_sent_at"]
        notices = (len(datapulse), int(sent.notna().sum()))
        no_notice = session.scalar(select(func.count(LeadReason.id)).where(LeadReason.code == "NO_NOTICE"))
        no_consent = session.scalar(select(func.count(LeadReason.id)).join(
            Lead, (Lead.delivery_id == LeadReason.delivery_id) & (Lead.row_number == LeadReason.row_number))
            .where(Lead.supplier_id == "prospectia", LeadReason.code == "NO_CONSENT"))
        reviewed = session.execute(select(LeadReviewDecision.decision, LeadReviewDecision.decided_by,
                                          LeadReviewDecision.decided_on, Lead.lead_id, Lead.status)
                                   .join(Lead, Lead.id == LeadReviewDecision.lead_pk)).all()
        claimed = set(session.scalars(select(ReplacementClaim.lead_id)))
        waiting = session.scalar(select(func.count(Lead.id)).where(Lead.status == "review"))
    assert notices[0] > 500 and notices[1] == notices[0] and no_notice == 0  # legitimate interest, notices proven
    assert keys.count("REJECTION_SPIKE|datapulse|2027-W07") == 1          # the week-7 spike, raised once
    assert len(keys) == len(set(keys))                                   # every alert once
    assert verdicts["acme-leads"] == ["GO"] and states["acme-leads"] == "active"
    # the pilot that fails on consent (deliberately pinned to STOP since its contract requires consent)
    assert no_consent > 0 and verdicts["prospectia"] == ["STOP"] and states["prospectia"] == "terminated"
    # DataPulse's review queue, decided on Fridays by its owner: some accepted (billed in the decision's
    # month), some rejected (each opens a claim); none left waiting
    assert {d for d, *_ in reviewed} == {"accept", "reject"} and {by for _, by, *_ in reviewed} == {"Julien Roux"}
    assert all(day.weekday() == 4 for *_, day, _, _ in reviewed) and waiting == 0
    assert {lead_id for d, *_, lead_id, _ in reviewed if d == "reject"} <= claimed
    assert all(status == {"accept": "accepted", "reject": "rejected"}[d] for d, *_, status in reviewed)
    assert "QUARTERLY_REVIEW|all|2027-Q1" in keys
    # the review and each pilot report delivered to the committee by Slack and e-mail
    assert {("review:2027-Q1", "slack", "sent"), ("review:2027-Q1", "email", "sent")} <= packs
    for s in ("acme-leads", "datapulse", "prospectia"):
        assert any(re.fullmatch(rf"pilot:{s}:\d+", r) and (m, st) == ("email", "sent") for r, m, st in packs), s
    assert demo_run.slack_uploads >= 2 * 4 and len(demo_run.emails) >= 4
    assert any(k.startswith("REPLACEMENT_OVERDUE|datapulse|") for k in keys)  # late replacements
    assert "2027-Q1" in result.output and "Reports" in result.output and "review: accepted" in result.output


def test_the_managers_get_incidents_not_floods(demo_run):
    """Against a loopback Slack: at most 15 top-level messages in the managers' channels over the
    quarter; every alert still there, as a message or a reply in its incident's thread; the incidents
    that cleared are closed, with a last reply in their thread."""
    url = f"sqlite:///{demo_run.folder / 'data' / 'demo.db'}"
    with session_scope(url) as session:
        alerts = alert_store.list_alerts(session)
        incidents = incident_store.list_incidents(session)
    committee = {a.channel for a in alerts if a.type in {"PILOT_VERDICT", "QUARTERLY_REVIEW"}}
    managers = [m for m in demo_run.slack_messages if m["channel"] not in committee]
    top_level = [m for m in managers if m["thread_ts"] is None]
    assert 0 < len(top_level) <= 15
    posted = {m["metadata"]["event_payload"]["key"] for m in managers}
    for_managers = [a for a in alerts if a.type not in {"PILOT_VERDICT", "QUARTERLY_REVIEW"}]
    assert len(for_managers) > 2 * len(top_level)  # far more alerts than messages
    assert {a.key for a in for_managers} <= posted and {a.status for a in for_managers} == {"sent"}
    closed = [i for i in incidents if i.state == "closed"]
    assert closed and all(i.closing_status == "sent" for i in closed)
    threads = {m["ts"]: m for m in top_level}
    for incident in closed:
        assert incident.slack_ts in threads
        closing = f"{incident.type}|{incident.supplier_id}|closed:{incident.id}:{incident.cleared_period}"
        assert any(m["metadata"]["event_payload"]["key"] == closing and m["thread_ts"] == incident.slack_ts
                   for m in managers)


def test_the_demo_supplier_on_legitimate_interest_proves_its_notices():
    """DataPulse's contract is on legitimate interest: its demo leads carry notice_sent_at (in its own column and
    date format), so none is NO_NOTICE; its other defects still fire."""
    from datetime import date
    from pathlib import Path

    from factories import validate_rows

    from leadgov.config.contract import load_contract
    from leadgov.demo.leads import delivery_frame
    from leadgov.demo.profiles import PROFILES

    profile = next(p for p in PROFILES if p.supplier_id == "datapulse")
    contracts = Path(__file__).resolve().parents[2] / "config" / "contracts"
    contract = load_contract(contracts / profile.contract_file).contract
    assert contract.gdpr.legal_basis == "legitimate_interest"
    day = date(2027, 3, 1)
    frame = delivery_frame(profile, contract, day, 200, 0, seed=7, week=1, replaces=[])
    assert frame["notice_sent_at"].ne("").all()
    reasons = validate_rows(frame.replace("", None).to_dict("records"), contract, delivered_on=day).reasons
    assert "NO_NOTICE" not in set(reasons["code"]) and len(reasons)  # the other defects still fire
