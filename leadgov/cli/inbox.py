"""``leadgov inbox run``: every supplier's new files of an inbox folder, each as ``leadgov validate``
would process it (the same service as the ``weekly_delivery_validation`` flow)."""

from pathlib import Path
from typing import Annotated

import typer

from leadgov.cli.common import DbOption, cli_runtime, err, out, report_alerts, user_errors
from leadgov.formatting import counted
from leadgov.reading.errors import printable
from leadgov.services.inbox import FileStatus, InboxRequest, InboxResult, process_inbox

inbox_app = typer.Typer(help="Supplier inbox folders.", no_args_is_help=True)


@inbox_app.command("run")
def inbox_run(
    inbox: Annotated[Path, typer.Option(help="Inbox folder: one sub-folder per supplier id holding its new files.")],
    contracts: Annotated[Path, typer.Option(help="Folder of the contracts, one <supplier id>.yaml per supplier.")],
    crm: Annotated[Path | None, typer.Option(help="CRM export (CSV with email, phone); default LEADGOV_CRM_EXPORT. "
                                                  "Required for contracts with crm_check.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder of the result and return files, one pair "
                                                               "per delivery under <supplier id>/ (default: "
                                                               "<output_dir>/deliveries).")] = None,
    db: DbOption = None,
) -> None:
    """Validate and store every new file, file it under processed/ or refused/, write its result and
    return files and raise its alerts. Exits 1 when a supplier's files could not be processed, or a file
    was set aside in failed/ by an unexpected error."""
    with user_errors():
        runtime = cli_runtime(db)
        request = InboxRequest.with_defaults(runtime.settings, inbox_dir=inbox, contracts_dir=contracts,
                                             crm_path=crm, out_dir=out_dir)
        result = process_inbox(runtime, request)
    print_inbox(result)
    if result.failed_suppliers or result.failed:
        raise typer.Exit(1)


def print_inbox(result: InboxResult) -> None:
    """Each file as ``<supplier id>/<file> (day)`` over what became of it, a stack that reads in any
    terminal width (file names and refusal reasons are long); then the suppliers that failed (their
    files stay in the inbox)."""
    for f in result.files:
        d = f.delivery
        out.print(f"{printable(f.supplier_id)}/{f.file} ({f.delivered_on.isoformat()})", highlight=False)
        if d is not None:
            again = " (already ingested)" if d.already_ingested else ""
            outcome = f"delivery {d.delivery_id}{again}: {d.counts.accepted} accepted, {d.counts.rejected} rejected"
        else:
            outcome = ""
        out.print(f"  {f.status.value}: {'; '.join(x for x in (outcome, f.reason or '') if x)}", highlight=False)
    failed = f", {result.failed} failed (set aside in failed/)" if result.failed else ""
    out.print(f"{counted(result.processed, 'file')} processed, {result.refused} refused{failed}, "
              f"{counted(len(result.failed_suppliers), 'supplier')} in error")
    for supplier in result.suppliers:
        if supplier.error:
            err.print(f"[red]error:[/red] {printable(supplier.supplier_id)}: {supplier.error}", highlight=False,
                      soft_wrap=True)
    for f in result.files:
        if f.status is FileStatus.processed and f.delivery is not None:
            report_alerts(f.delivery.alerts)
