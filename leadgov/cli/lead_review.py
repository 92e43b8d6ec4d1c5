"""``leadgov review list|accept|reject``: the leads held in review and a person's decision on them
(docs/governance.md, The review tier). The quarterly governance review is ``leadgov report review``."""

from dataclasses import asdict
from typing import Annotated

import typer

from leadgov.cli.common import DbOption, cli_runtime, folding_table, out, print_json, user_errors
from leadgov.cli.governance import ListFormat
from leadgov.csv_out import records_text
from leadgov.formatting import counted
from leadgov.services.lead_review import (
    WAITING_COLUMNS,
    ReviewDecisionRequest,
    ReviewDecisionResult,
    ReviewListRequest,
    decide_review,
    list_reviews,
)

review_app = typer.Typer(help="Leads held in review: list them, accept or reject them.", no_args_is_help=True)

LeadIds = Annotated[list[str], typer.Argument(help="The supplier's lead ids to decide (one decision for all).")]
SupplierOption = Annotated[str, typer.Option(help="Supplier id.")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who decides (default: your user name).")]
CommentOption = Annotated[str, typer.Option(help="Why (required; kept with the decision).")]


@review_app.command("list")
def review_list(
    supplier: Annotated[str | None, typer.Option(help="Only this supplier.")] = None,
    format: Annotated[ListFormat, typer.Option(help="Output format.")] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """The leads waiting for a decision, oldest first, with their reasons and the days left (no name,
    email or phone: the email's domain at most)."""
    with user_errors():
        listed = list_reviews(cli_runtime(db), ReviewListRequest(supplier))
    records = [{**asdict(x), "reasons": ";".join(x.reasons)} for x in listed.leads]
    if format is ListFormat.json:
        print_json(records)
    elif format is ListFormat.csv:
        typer.echo(records_text(WAITING_COLUMNS, records), nl=False)
    else:
        for name in dict.fromkeys(str(r["supplier_id"]) for r in records):
            table = folding_table("lead", "delivered", "decide by", "reasons", "details", title=name)
            for r in records:
                if r["supplier_id"] == name:
                    table.add_row(str(r["lead_id"]), str(r["delivered_on"]),
                                  f"{r['due_on']} ({r['days_left']} d)", str(r["reasons"]), str(r["details"]))
            out.print(table)
        out.print(f"{counted(len(records), 'lead')} in review (as of {listed.as_of})")


def _decide(decision: str, supplier: str, lead_ids: list[str], by: str | None, comment: str, db: str | None) -> None:
    with user_errors():
        result = decide_review(cli_runtime(db), ReviewDecisionRequest(supplier, tuple(lead_ids), decision, comment, by))
    print_decision(result)


def print_decision(result: ReviewDecisionResult) -> None:
    done = "accepted" if result.decision == "accept" else "rejected"
    out.print(f"{counted(result.decided, 'lead')} of {result.supplier_id} {done} by {result.decided_by} on "
              f"{result.decided_on}: " + ", ".join(x.lead_id for x in result.leads))
    c = result.claims
    if c.opened or c.not_owed_cap or c.filled:
        out.print(f"claims opened: {c.opened}, not owed (monthly cap): {c.not_owed_cap}, filled: {c.filled}")


@review_app.command("accept")
def review_accept(lead_ids: LeadIds, supplier: SupplierOption, comment: CommentOption, by: ByOption = None,
                  db: DbOption = None) -> None:
    """Accept leads in review: billed on the statement of this month."""
    _decide("accept", supplier, lead_ids, by, comment, db)


@review_app.command("reject")
def review_reject(lead_ids: LeadIds, supplier: SupplierOption, comment: CommentOption, by: ByOption = None,
                  db: DbOption = None) -> None:
    """Reject leads in review: each opens its replacement claim today."""
    _decide("reject", supplier, lead_ids, by, comment, db)
