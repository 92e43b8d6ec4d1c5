"""The ``leadgov`` command line: analysts' entry point to the same code the flows run.

Commands call the domain directly (no Prefect server needed); every command that touches data
takes ``--db URL`` and brings that database to the current schema first. One module per area:
``deliveries`` (validate, contract check, db upgrade, demo), ``governance`` (outcomes, contests,
replacements, KPIs, billing), ``pilot`` (start a pilot), ``alerts`` (the Slack outbox), ``reports``
(HTML reports), ``gdpr`` (retention, erasure, objection, export), ``ui`` (the flows under a local
Prefect server, its UI and a worker).

A module is imported only when one of its commands runs (``leadgov.cli.lazy``): ``leadgov --help``
imports none of them, ``leadgov validate`` only ``deliveries``. Nothing in this package's top level may
import a command module, a service or a data library (tests/leadgov/test_cli_lazy.py).
"""

import typer

from leadgov.cli.lazy import LazyCommand, LazyGroup, own_process

#: Every subcommand of ``leadgov``: its name, where it lives and the line ``leadgov --help`` shows for
#: it (the first paragraph of its help, as written there). Commands come first, then groups, as Typer
#: lists them. A new command is added here, with its summary.
COMMANDS = (
    LazyCommand("validate", "leadgov.cli.deliveries:validate",
                "Validate one delivery against its contract, store it, write the result file and raise the alerts."),
    LazyCommand("demo", "leadgov.cli.demo:demo",
                "A quarter of lead purchasing from three suppliers: deliveries, outcomes, replacements,\n"
                "alerts, statements, pilots and the quarterly review, into a fresh demo database."),
    LazyCommand("contest", "leadgov.cli.governance:contest",
                "Contest an accepted lead: accepted within the contract's window and with a listed reason."),
    LazyCommand("kpis", "leadgov.cli.governance:kpis",
                "A supplier's KPIs for a period (the leads delivered in it, with their outcomes as known now)."),
    LazyCommand("ui", "leadgov.cli.ui:ui",
                "Run leadgov's flows under a local Prefect server: UI, deployments, schedules and a worker."),
    LazyCommand("db", "leadgov.cli.deliveries:db_app", "Database maintenance."),
    LazyCommand("contract", "leadgov.cli.deliveries:contract_app", "Contract files."),
    LazyCommand("inbox", "leadgov.cli.inbox:inbox_app", "Supplier inbox folders."),
    LazyCommand("outcomes", "leadgov.cli.governance:outcomes_app", "Outcome events from the CRM or phoning tool."),
    LazyCommand("replacements", "leadgov.cli.governance:replacements_app", "Replacement claims."),
    LazyCommand("billing", "leadgov.cli.governance:billing_app", "Monthly billing statements."),
    LazyCommand("pilot", "leadgov.cli.pilot:pilot_app", "Supplier pilots."),
    LazyCommand("alerts", "leadgov.cli.alerts:alerts_app",
                "Slack alerts: list the outbox, send it, run the weekly check."),
    LazyCommand("report", "leadgov.cli.reports:report_app",
                "Self-contained HTML reports (open offline, safe to e-mail)."),
    LazyCommand("gdpr", "leadgov.cli.gdpr:gdpr_app",
                "Personal data: retention, erasure, objection, access, key rotation."),
    LazyCommand("review", "leadgov.cli.lead_review:review_app",
                "Leads held in review: list them, accept or reject them."),
)


class LeadgovGroup(LazyGroup):
    lazy_commands = COMMANDS


app = typer.Typer(cls=LeadgovGroup, help="Govern purchased B2B leads: contracts as code.", no_args_is_help=True)


@app.callback()
def leadgov() -> None:
    # Without a callback Typer makes a Typer that registers no command a single command, not a group.
    pass


def main() -> None:
    """The ``leadgov`` console script: the command line as a process of its own (``own_process``)."""
    with own_process():
        app(prog_name="leadgov")


if __name__ == "__main__":  # pragma: no cover
    main()
