"""The main job: ``leadgov demo`` plays a quarter end to end and tells the story it promises."""

from leadgov.models import alert_store
from leadgov.models.committee_store import list_deliveries
from leadgov.models.db import session_scope
from leadgov.models.pilot import decisions
from leadgov.models.supplier import Supplier


def test_demo_plays_the_quarter(demo_run):
    """The demo run is shared with the other tests of its output (conftest.py ``demo_run``)."""
    result, tmp_path = demo_run.result, demo_run.folder
    assert result.exit_code == 0, result.output
    reports = tmp_path / "out" / "reports"
    names = sorted(p.name for p in reports.iterdir())
    assert {"review-2027-Q1.html", "review-2027-Q1.pdf"} <= set(names)
    assert {f"pilot-{s}.{x}" for s in ("acme-leads", "datapulse", "prospectia") for x in ("html", "pdf")} <= set(names)
    assert {f"statement-{s}-2027-03-r1.html" for s in ("acme-leads", "datapulse", "prospectia")} <= set(names)
    assert any(n.startswith("returns-delivery-") for n in names)
    review = (reports / "review-2027-Q1.html").read_text(encoding="utf-8")
    assert all(name in review for name in ("ACME Leads SAS", "DataPulse", "Prospectia"))

    url = f"sqlite:///{tmp_path / 'data' / 'demo.db'}"
    with session_scope(url) as session:
        keys = [a.key for a in alert_store.list_alerts(session)]
        states = {s.id: s.state for s in session.query(Supplier)}
        verdicts = {s: [d.verdict for d in decisions(session, s)] for s in states}
        packs = {(d.report, d.medium) for d in list_deliveries(session)}
    assert keys.count("REJECTION_SPIKE|datapulse|2027-W07") == 1          # the week-7 spike, raised once
    assert len(keys) == len(set(keys))                                   # every alert once
    assert verdicts["acme-leads"] == ["GO"] and states["acme-leads"] == "active"
    assert verdicts["prospectia"][0] in {"STOP", "RENEGOTIATE"}          # the pilot that fails
    assert "QUARTERLY_REVIEW|all|2027-Q1" in keys
    # the review and each pilot report wait in the committee outbox for Slack and e-mail
    assert {("review:2027-Q1", "slack"), ("review:2027-Q1", "email")} <= packs
    assert {(f"pilot:{s}", "email") for s in ("acme-leads", "datapulse", "prospectia")} <= packs
    assert any(k.startswith("REPLACEMENT_OVERDUE|datapulse|") for k in keys)  # late replacements
    assert "2027-Q1" in result.output and "Reports" in result.output
