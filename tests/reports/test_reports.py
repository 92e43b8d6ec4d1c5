"""Each report written through its service from a seeded database (SQLite and PostgreSQL): its
figures are the KPI and billing modules' figures, it references no other host, data is escaped, and
the report modules only render what the services loaded."""

import ast
import re
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from factories import contract_on_disk, ingest, lead, make_contract_file, outcomes_csv, service_runtime

import leadgov.reports
from leadgov.explanations import explain
from leadgov.formatting import format_money, format_number, format_rate
from leadgov.governance import supplier_kpis
from leadgov.models.db import session_scope
from leadgov.outcomes import import_outcomes
from leadgov.periods import parse_period
from leadgov.review import MATURITY_DAYS
from leadgov.services.billing import StatementReportRequest, StatementRequest, bill_statement, statement_report
from leadgov.services.pilot import PilotRequest, StartPilotRequest, pilot_report, start_pilot
from leadgov.services.returns import ReturnsReportRequest, returns_report
from leadgov.services.review import ReviewRequest, review_report

TZ = "Europe/Paris"
HOSTILE = "ACME <script>alert(1)</script> & Fils"
CONTRACT = make_contract_file(**{"replacement.max_replacement_share": 1.0, "supplier.name": HOSTILE})
AS_OF = date(2027, 4, 20)
#: The day the runtime's clock says: the reports' footer date, never the wall clock's.
CLOCK = date(2027, 4, 21)


def runtime(db_url, locale="fr"):
    """A runtime on ``db_url`` whose clock says ``CLOCK``, without Slack."""
    return service_runtime(db_url, CLOCK, locale=locale)


def week_rows(week: int, first: int) -> list[dict]:
    """10 leads delivered on the Monday of ISO week ``week`` of 2027; every fifth is INVALID_EMAIL."""
    day = date.fromisocalendar(2027, week, 1)
    stamp = f"{day.isoformat()} 08:00"
    return [lead(first + i, collected_at=stamp, consent_at=stamp, **({"email": "bad"} if i % 5 == 0 else {}))
            for i in range(10)]


@pytest.fixture
def seeded(db_url, seeds):
    """Six weeks of deliveries (W01-W06), a few outcomes, statements for January and February (seeded
    once per engine, then copied: conftest.py ``seeds``)."""
    return seeds.restore(db_url, seed)


def seed(db_url):
    deliveries = [ingest(db_url, week_rows(w, 10 * w), day=date.fromisocalendar(2027, w, 1), contract=CONTRACT,
                         name=f"w{w}.csv").delivery_id for w in range(1, 7)]
    # the pilot, recorded from the first day once the deliveries were stored (so none is held)
    with tempfile.TemporaryDirectory() as folder:
        start_pilot(runtime(db_url), StartPilotRequest("acme-leads", date(2027, 1, 4),
                                                       contract_on_disk(Path(folder), CONTRACT)))
    with session_scope(db_url) as session:
        import_outcomes(session, outcomes_csv([
            {"lead_id": "L-00011", "event": "call_attempt", "at": "2027-01-04 11:00"},
            {"lead_id": "L-00011", "event": "reached", "at": "2027-01-04 11:05"},
            {"lead_id": "L-00011", "event": "appointment_set", "at": "2027-01-05 10:00", "objection": "prix"},
            {"lead_id": "L-00012", "event": "contest", "at": "2027-01-06 10:00", "contest_reason": "FAKE_LEAD"},
        ]), "outcomes.csv", TZ)
    for month in ("2027-01", "2027-02"):
        bill_statement(runtime(db_url), StatementRequest("acme-leads", month, date(2027, 4, 1)))
    return deliveries


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, re.I)
    assert re.findall(r"https?://[^\s\"'<>]+", html) in ([], ["http://www.w3.org/2000/svg"] * html.count("<svg"))
    assert "<script" not in html.lower() and "<link" not in html.lower()


def test_returns_report(db_url, seeded, tmp_path):
    written = returns_report(runtime(db_url), ReturnsReportRequest(seeded[0], tmp_path))
    returns = written.returns
    assert written.path == tmp_path / f"returns-delivery-{seeded[0]}.html"
    assert (returns.delivered, returns.accepted, returns.rejected) == (10, 8, 2)
    assert [(r.code, r.count, r.share) for r in returns.reasons] == [("INVALID_EMAIL", 2, 0.2)]
    assert [r.lead_id for r in returns.rejected_leads] == ["L-00010", "L-00015"]
    html = written.path.read_text(encoding="utf-8")
    text = text_of(html)
    assert_self_contained(html)
    assert "ACME &lt;script&gt;alert(1)&lt;/script&gt; &amp; Fils" in html
    # delivered 4 January: contest window (7 days) closes 11/01, replacements due (10 days) 14/01
    assert (returns.contest_window_closes, returns.replacement_due) == (date(2027, 1, 11), date(2027, 1, 14))
    assert "11/01/2027" in text and "14/01/2027" in text
    assert re.search(r"INVALID_EMAIL 2 20,0 %", text)          # 2 of 10 rejected INVALID_EMAIL
    assert "L-00010" in text and "L-00015" in text and "L-00011" not in text  # rejected leads only
    assert "21/04/2027" in text  # generated on the runtime's day


def test_statement_report(db_url, seeded, tmp_path):
    written = statement_report(runtime(db_url), StatementReportRequest("acme-leads", "2027-01", tmp_path))
    statement = written.statement
    # January: the Mondays of W01-W04 = 4, 11, 18, 25 January -> 40 leads, 8 rejected, 1 contested (L-00012):
    # 31 billable x 45,00 € = 1 395,00 €; data errors 8/40 = 20 % > 10 %: frozen
    assert (statement.revision, statement.billable_units, statement.unit_price_eur) == (1, 31, Decimal("45.00"))
    assert statement.units_amount_eur == statement.gross_eur == Decimal("1395.00")
    assert statement.frozen and "L-00012" not in statement.billable_lead_ids
    assert written.path == tmp_path / "statement-acme-leads-2027-01-r1.html"
    html = written.path.read_text(encoding="utf-8")
    text = text_of(html)
    assert_self_contained(html)
    assert "31 unités × 45,00 €" in text and "1 395,00 €" in text
    assert "GELÉ" in text and "DATA_ERROR_RATE" in text
    assert "L-00012" not in text.split("Unités facturées")[1]  # contested: not billed


def test_review_report_figures_match_the_kpi_module(db_url, seeded, tmp_path):
    written = review_report(runtime(db_url), ReviewRequest("2027-Q1", AS_OF, tmp_path))
    with session_scope(db_url) as session:
        quarter = supplier_kpis(session, "acme-leads", parse_period("2027-Q1"), TZ, AS_OF)
    html = written.path.read_text(encoding="utf-8")
    text = text_of(html)
    assert_self_contained(html)
    assert "ACME &lt;script&gt;" in html and "<script>alert" not in html
    assert format_rate(quarter.reject_rate, "fr") in text                    # (12 rejected + 1 contested) / 60
    assert quarter.reject_rate == pytest.approx(13 / 60)
    assert format_number(quarter.accepted, "fr") == "48"
    assert format_money(quarter.billed_eur, "fr") in text                    # the statements' gross - cap excess
    assert quarter.billed_eur == Decimal("45.00") * (31 + 16)                # January 31 units, February 16
    assert html.count("<svg") == 4  # reject rate, volume, funnel, rejections by reason
    [section] = written.review.suppliers
    # the reason breakdown: each code with its explanation in the report's language, and its share of the rejected
    assert section.rejections and sum(count for _, count, _ in section.rejections) >= quarter.rejected
    code, count, part = section.rejections[0]
    assert "Rejets par motif" in text and code in text and explain(code, "fr") in text
    assert part == pytest.approx(count / quarter.rejected)
    # frozen months named in words, not as the statement's English reason lines
    assert "Relevé janvier 2027 gelé : taux d'erreurs de données au-dessus du seuil de gel" in unescape(text)
    assert "DATA_ERROR_RATE:" not in text and " of " not in text
    assert section.kpis == quarter and section.amounts.billed == quarter.billed_eur
    assert section.recommendation.action in {"renegotiate", "progressive_exit"}
    # both months are frozen on their data errors (the recommendation counts them)
    assert [m.month for m in section.amounts.frozen_months] == ["2027-01", "2027-02"]
    assert len(section.weekly) == 13 and section.weekly[0].delivered == 10 and section.weekly[6].delivered == 0
    # weeks whose leads are not MATURITY_DAYS old on 20 April are named
    young = [f"2027-W{w:02d}" for w in range(1, 14)
             if date.fromisocalendar(2027, w, 7) + timedelta(days=MATURITY_DAYS) > AS_OF]
    assert list(written.review.young_weeks) == young and ", ".join(young) in text


def test_review_in_english_formats_money_the_english_way(db_url, seeded, tmp_path):
    written = review_report(runtime(db_url, locale="en"), ReviewRequest("2027-Q1", AS_OF, tmp_path))
    html = written.path.read_text(encoding="utf-8")
    # billed in the quarter: January 31 units + February 16 units (W05, W06: 20 leads, 4 rejected) x 45.00
    assert "Quarterly lead supplier review: 2027-Q1" in html and "€2,115.00" in text_of(html)


def test_pilot_report(db_url, seeded, tmp_path):
    written = pilot_report(runtime(db_url), PilotRequest("acme-leads", AS_OF, tmp_path))
    assessment = written.assessment
    # the pilot is the first 30 days: W01-W05 (4 Jan - 1 Feb) = 50 leads, 10 rejected + 1 contested
    assert (assessment.kpis.delivered, assessment.first, assessment.last) == (50, date(2027, 1, 4), date(2027, 2, 1))
    assert assessment.verdict.verdict == "RENEGOTIATE" and assessment.verdict.objections == [("prix", 1)]
    html = written.path.read_text(encoding="utf-8")
    text = text_of(html)
    assert_self_contained(html)
    assert "Cohorte de 50 leads" in text
    assert "22,0 % (11 / 50)" in text
    assert "RENEGOTIATE" in text and "prix (1)" in text


def test_report_modules_only_render():
    """No report module opens a session, queries the database or computes a figure: they import
    no database layer and no domain module that loads or decides."""
    forbidden = ("sqlalchemy", "leadgov.models", "leadgov.governance", "leadgov.kpis", "leadgov.recommendation",
                 "leadgov.ingest")
    for path in Path(leadgov.reports.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [m for m in imported if m.startswith(forbidden)], path.name
        assert "pilot_verdict(" not in path.read_text(encoding="utf-8"), path.name


def test_report_commands_print_the_path_they_wrote(db_url, seeded, tmp_path):
    from typer.testing import CliRunner

    from leadgov.cli import app

    runner = CliRunner()
    commands = {
        "review-2027-Q1.html": ["report", "review", "--quarter", "2027-Q1", "--as-of", "2027-04-20"],
        "pilot-acme-leads-1.html": ["report", "pilot", "--supplier", "acme-leads", "--as-of", "2027-04-20"],
        "statement-acme-leads-2027-02-r1.html": ["report", "statement", "--supplier", "acme-leads",
                                                 "--month", "2027-02"],
        f"returns-delivery-{seeded[1]}.html": ["report", "returns", "--delivery", str(seeded[1])],
    }
    for name, args in commands.items():
        result = runner.invoke(app, [*args, "--out", str(tmp_path), "--db", db_url])
        assert result.exit_code == 0, result.output
        assert result.output.strip().replace("\n", "") == str(tmp_path / name)
        assert (tmp_path / name).is_file()
    missing = runner.invoke(app, ["report", "statement", "--supplier", "acme-leads", "--month", "2027-06",
                                  "--out", str(tmp_path), "--db", db_url])
    assert missing.exit_code == 2 and "no statement for acme-leads in 2027-06" in missing.output
    not_a_quarter = runner.invoke(app, ["report", "review", "--quarter", "2027-03", "--out", str(tmp_path),
                                        "--db", db_url])
    assert not_a_quarter.exit_code == 2 and "'2027-03' is not a quarter like 2027-Q1" in not_a_quarter.output
