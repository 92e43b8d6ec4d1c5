"""``leadgov outcomes import``, ``contest``, ``replacements``, ``kpis`` and ``billing``: what
happened to the leads after delivery, and what it costs."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from leadgov.cli.common import (
    AsOfOption,
    DbOption,
    OutputFormat,
    Refused,
    cli_runtime,
    folding_table,
    out,
    parse_as_of,
    print_json,
    report_alerts,
    user_errors,
)
from leadgov.csv_out import records_text
from leadgov.formatting import counted, format_money
from leadgov.models.statuses import ClaimStatus
from leadgov.outcomes import OutcomeImport
from leadgov.periods import BadPeriod, parse_period
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.kpis import KpisRequest
from leadgov.services.kpis import kpis as kpis_of
from leadgov.services.outcomes import ContestRequest, OutcomesImportRequest, import_outcomes
from leadgov.services.outcomes import contest as record_contest
from leadgov.services.release import ReleaseRequest, release_statement
from leadgov.services.replacements import (
    CLAIM_COLUMNS,
    ClaimsRequest,
    ReplacementCheckRequest,
    check_replacements,
    list_claims,
)
from leadgov.statements import StoredStatement, month_period_of

outcomes_app = typer.Typer(help="Outcome events from the CRM or phoning tool.", no_args_is_help=True)
replacements_app = typer.Typer(help="Replacement claims.", invoke_without_command=True)
billing_app = typer.Typer(help="Monthly billing statements.", no_args_is_help=True)


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@outcomes_app.command("import")
def outcomes_import(
    file: Annotated[Path, typer.Argument(help="Outcome export (CSV).")],
    db: DbOption = None,
    format: Annotated[OutputFormat, typer.Option(help="Summary format.")] = OutputFormat.table,
) -> None:
    """Import outcome events: each event stored once; unknown leads and refused contests listed by line."""
    with user_errors():
        result = import_outcomes(cli_runtime(db), OutcomesImportRequest(file))
    print_import(result.imported, format)
    report_alerts(result.alerts)


def print_import(result: OutcomeImport, format: OutputFormat) -> None:
    if format is OutputFormat.json:
        print_json(result.as_dict())
        return
    out.print(f"{result.source}: {counted(result.rows, 'row')}: {result.stored} stored, {result.duplicated} "
              f"duplicated (already stored), {result.refused} refused; {counted(result.contests, 'contest')}, "
              f"{counted(result.claims.opened, 'replacement claim')} opened, {result.claims.not_owed_cap} over the "
              "monthly cap")
    if result.refusals:
        table = folding_table("line", "rule", "why")
        for r in result.refusals:
            table.add_row(str(r.line or "?"), r.rule, r.message)
        out.print(table)


def contest(
    lead_id: Annotated[str, typer.Argument(help="The supplier's lead id.")],
    supplier: Annotated[str, typer.Option(help="Supplier id (the contract's supplier.id).")],
    reason: Annotated[str, typer.Option(help="One of the contract's contest_reasons.")],
    note: Annotated[str | None, typer.Option(help="Free text kept with the contest.")] = None,
    at: Annotated[str | None, typer.Option(help="When (ISO 8601, local time; default: now).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who contests it (default: your user name).")] = None,
    db: DbOption = None,
) -> None:
    """Contest an accepted lead: accepted within the contract's window and with a listed reason."""
    with user_errors():
        result = record_contest(cli_runtime(db), ContestRequest(lead_id, supplier, reason, note, at, by))
    if result.duplicated:
        out.print(f"lead {lead_id} of {supplier}: this contest was already recorded")
        return
    claim = ("a replacement claim is opened" if result.claim is ClaimStatus.OPEN
             else "the month's replacement cap is reached: claim recorded as not_owed_cap")
    out.print(f"lead {lead_id} of {supplier}: contest {result.reason} recorded; {claim}")
    report_alerts(result.alerts)


@replacements_app.callback()
def replacements(
    ctx: typer.Context,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier.")] = None,
    status: Annotated[ClaimStatus | None, typer.Option(help="Only claims in this status.")] = None,
    format: Annotated[ListFormat, typer.Option(help="Output format.")] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """List replacement claims with their history (opened, filled by which lead, overdue, credited)."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        claims = list_claims(cli_runtime(db), ClaimsRequest(supplier, status.value if status else None))
    records = [{column: getattr(c, column) for column in CLAIM_COLUMNS} for c in claims]
    if format is ListFormat.json:
        print_json(records)
    elif format is ListFormat.csv:
        typer.echo(records_text(CLAIM_COLUMNS, records), nl=False)
    else:
        print_claims(records)


def print_claims(records: list[dict[str, object]]) -> None:
    """One table per supplier, six short columns (readable in 80 columns); every field of a claim is
    in ``--format json``/``csv``."""
    shown = {"lead_id": "lead", "origin": "origin", "opened_on": "opened", "due_on": "due", "status": "status",
             "filled_by": "filled by"}
    for supplier in dict.fromkeys(r["supplier_id"] for r in records):
        table = folding_table(*shown.values(), title=str(supplier))
        for r in records:
            if r["supplier_id"] == supplier:
                table.add_row(*("" if r[c] is None else str(r[c]) for c in shown))
        out.print(table)
    out.print(counted(len(records), "claim"))


@replacements_app.command("check")
def replacements_check(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day of the check, YYYY-MM-DD (default: today).")] = None,
    db: DbOption = None,
) -> None:
    """Reject leads left in review past their deadline, then mark open claims past their deadline
    overdue (the daily check)."""
    with user_errors():
        request = ReplacementCheckRequest(parse_as_of(as_of))
        result = check_replacements(cli_runtime(db), request)
    if result.reviews_rejected:
        out.print(f"{counted(len(result.reviews_rejected), 'lead')} in review rejected past their deadline")
    out.print(f"{counted(result.overdue, 'claim')} became overdue (as of {result.as_of})")
    report_alerts(result.alerts)


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def kpis(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    period: Annotated[str, typer.Option(
        help="2027-W09, 2027-03, 2027-Q1, delivery:ID, pilot (the latest) or pilot:ID.")],
    format: Annotated[OutputFormat, typer.Option(help="Output format.")] = OutputFormat.table,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """A supplier's KPIs for a period (the leads delivered in it, with their outcomes as known now)."""
    with user_errors():
        span = parse_period(period)
        day = parse_as_of(as_of)
        figures = kpis_of(cli_runtime(db), KpisRequest(supplier, period, as_of=day))
    data = figures.as_dict()
    if format is OutputFormat.json:
        print_json(data)
        return
    table = folding_table("KPI", "value", title=f"{supplier} · {span.label}")
    for name in ("delivered", "accepted", "rejected", "in_review", "contested", "over_cap"):
        table.add_row(name, str(data[name]))
    for name in ("reject_rate", "duplicate_rate", "data_error_rate", "first_contact_sla", "reachability",
                 "appointment_rate", "opportunity_rate", "win_rate", "replacement_fill_rate"):
        table.add_row(name, _percent(data[name]))
    volume = figures.volume
    if volume.status is not None:
        table.add_row("volume_vs_target", f"{volume.delivered} ({volume.status}: "
                      f"{volume.minimum}..{volume.maximum})")
    for name in ("billed_eur", "cost_per_accepted", "cost_per_appointment", "cost_per_opportunity", "cost_per_won"):
        table.add_row(name, format_money(getattr(figures, name), "en"))  # the Decimal, not the JSON float
    for reason in figures.reason_breakdown:
        table.add_row(f"  {reason['code']}", f"{reason['count']} ({_percent(reason['share'])})")
    out.print(table)


@billing_app.command("statement")
def billing_statement(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    month: Annotated[str, typer.Option(help="Calendar month, YYYY-MM.")],
    format: Annotated[ListFormat, typer.Option(help="table, json, or csv (one line per unit and credit).")]
    = ListFormat.table,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """Compute the month's statement and store it as a new revision (earlier revisions are kept)."""
    with user_errors():
        try:
            month_period_of(month)
        except BadPeriod:
            raise Refused(f"--month {month!r} is not a month like 2027-03") from None
        request = StatementRequest(supplier, month, parse_as_of(as_of))
        runtime = cli_runtime(db)
        result = bill_statement(runtime, request)
    statement = result.statement
    if format is ListFormat.json:
        print_json(statement_data(statement))
    elif format is ListFormat.csv:
        print_statement_csv(statement)
    else:
        print_statement_table(statement, runtime.timezone)
    report_alerts(result.alerts)


@billing_app.command("release")
def billing_release(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    month: Annotated[str, typer.Option(help="Calendar month, YYYY-MM.")],
    by: Annotated[str, typer.Option("--by", help="Who releases it (the committee's member).")],
    comment: Annotated[str, typer.Option(help="Why the committee releases it (required).")],
    format: Annotated[OutputFormat, typer.Option(help="table or json.")] = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Release the month's frozen statement: a new revision, payable, with the same amounts (cannot be undone)."""
    with user_errors():
        runtime = cli_runtime(db)
        result = release_statement(runtime, ReleaseRequest(supplier, month, by, comment))
    if format is OutputFormat.json:
        print_json(statement_data(result.statement))
    else:
        print_statement_table(result.statement, runtime.timezone)


def _eur(amount: Decimal | None) -> float | None:
    """Money in JSON: a number to the cent."""
    return None if amount is None else float(amount)


def statement_data(s: StoredStatement) -> dict[str, object]:
    """The statement as JSON-ready values, lines by lead id."""
    return {
        "supplier_id": s.supplier_id, "month": s.month, "revision": s.revision, "statement_id": s.statement_id,
        "model": s.model, "billable_units": s.billable_units, "unit_price_eur": _eur(s.unit_price_eur),
        "fixed_fee_eur": _eur(s.fixed_fee_eur), "gross_eur": _eur(s.gross_eur),
        "budget_cap_eur": _eur(s.budget_cap_eur), "cap_excess_eur": _eur(s.cap_excess_eur),
        "credits_eur": _eur(s.credits_eur),
        "amount_due_eur": _eur(s.amount_due_eur), "frozen": s.frozen, "freeze_reasons": list(s.freeze_reasons),
        "payable": s.payable, "released_by": s.released_by,
        "released_at": None if s.released_at is None else s.released_at.isoformat(),
        "release_comment": s.release_comment,
        "billable_lead_ids": list(s.billable_lead_ids),
        "credit_lines": [{"claim_id": c.claim_id, "lead_id": c.lead_id, "amount_eur": _eur(c.amount_eur)}
                         for c in s.credit_lines],
        "contract_version": {"id": s.contract_version_id, "contract_id": s.contract_id, "sha256": s.contract_sha256},
    }


STATEMENT_CSV_COLUMNS = ("supplier_id", "month", "revision", "kind", "lead_id", "claim_id", "amount_eur")


def _cents(amount: Decimal) -> Decimal:
    """An amount to the cent, still a number (a credit's minus sign is not read as a formula)."""
    return Decimal(f"{amount:.2f}")


def print_statement_csv(s: StoredStatement) -> None:
    """One line per billed unit and credit note: what the supplier's invoice is checked against."""
    head = {"supplier_id": s.supplier_id, "month": s.month, "revision": s.revision}
    units = ({**head, "kind": "unit", "lead_id": lead_id, "amount_eur": _cents(s.unit_price_eur)}
             for lead_id in s.billable_lead_ids)
    credits = ({**head, "kind": "credit", "lead_id": line.lead_id, "claim_id": line.claim_id,
                "amount_eur": _cents(-line.amount_eur)} for line in s.credit_lines)
    typer.echo(records_text(STATEMENT_CSV_COLUMNS, [*units, *credits]), nl=False)


def _day(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def print_statement_table(s: StoredStatement, timezone: str) -> None:
    title = f"{s.supplier_id} · {s.month} · revision {s.revision} · {s.model}"
    table = folding_table("line", "amount", title=title)
    table.add_row(f"{s.billable_units} units x {s.unit_price_eur:.2f} €", f"{s.units_amount_eur:.2f} €")
    if s.fixed_fee_eur:
        table.add_row("fixed monthly fee", f"{s.fixed_fee_eur:.2f} €")
    table.add_row("gross", f"{s.gross_eur:.2f} €")
    table.add_row("over the budget cap (not billed)", f"-{s.cap_excess_eur:.2f} €")
    table.add_row(f"credit notes ({len(s.credit_lines)})", f"-{s.credits_eur:.2f} €")
    table.add_row("[bold]amount due[/bold]", f"[bold]{s.amount_due_eur:.2f} €[/bold]")
    out.print(table)
    if s.released_at is not None:
        out.print(f"[green]released[/green] by {s.released_by} on {_day(s.released_at, timezone)}: "
                  f"{s.release_comment}", highlight=False)
        out.print("frozen on:", highlight=False)
        for reason in s.freeze_reasons:
            out.print(f"  - {reason}", highlight=False)
    elif s.frozen:
        out.print("[red]FROZEN[/red]: not payable until the committee releases it:")
        for reason in s.freeze_reasons:
            out.print(f"  - {reason}", highlight=False)
    out.print(f"contract {s.contract_id} (version {s.contract_version_id}); lines by lead id: --format csv")
