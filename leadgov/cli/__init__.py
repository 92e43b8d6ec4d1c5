"""The ``leadgov`` command line: analysts' entry point to the same code the flows run.

Commands call the domain directly (no Prefect server needed); every command that touches data
takes ``--db URL`` and brings that database to the current schema first. One module per area:
``deliveries`` (validate, contract check, db upgrade, demo), ``governance`` (outcomes, contests,
replacements, KPIs, billing), ``alerts`` (the Slack outbox), ``reports`` (HTML reports), ``gdpr``
(retention, erasure, objection, export), ``ui`` (the flows under a local Prefect server, its UI and
a worker).
"""

import typer

from leadgov.cli import alerts, deliveries, demo, gdpr, governance, inbox, reports, ui

app = typer.Typer(help="Govern purchased B2B leads: contracts as code.", no_args_is_help=True)
app.add_typer(deliveries.db_app, name="db")
app.add_typer(deliveries.contract_app, name="contract")
app.command()(deliveries.validate)
app.command()(demo.demo)
app.add_typer(inbox.inbox_app, name="inbox")
app.add_typer(governance.outcomes_app, name="outcomes")
app.command()(governance.contest)
app.add_typer(governance.replacements_app, name="replacements")
app.command()(governance.kpis)
app.add_typer(governance.billing_app, name="billing")
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(reports.report_app, name="report")
app.add_typer(gdpr.gdpr_app, name="gdpr")
app.command()(ui.ui)


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="leadgov")


if __name__ == "__main__":  # pragma: no cover
    main()
