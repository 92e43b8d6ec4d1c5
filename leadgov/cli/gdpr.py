"""``leadgov gdpr``: retention purge, a person's erasure, objection and data export, key rotation.

Every command but ``export`` prints counts only: never an email, a phone or a name, not even the
ones typed on the command line (terminal logs and CI output are kept longer than leads should be).
docs/gdpr.md describes what each command changes; SECURITY.md where personal data lives.
"""

import os
from collections.abc import Callable
from typing import Annotated

import typer

from leadgov.cli.common import (
    AsOfOption,
    DbOption,
    OutputFormat,
    cli_runtime,
    err,
    out,
    parse_as_of,
    print_json,
    user_errors,
)
from leadgov.errors import Refused
from leadgov.formatting import counted
from leadgov.services.gdpr import (
    PersonRequest,
    PersonResult,
    PurgeRequest,
    RekeyRequest,
    erase_person,
    export_person,
    object_for_person,
    purge_expired,
    rekey,
)
from leadgov.services.runtime import Runtime

gdpr_app = typer.Typer(help="Personal data: retention, erasure, objection, access, key rotation.",
                       no_args_is_help=True)

EmailOption = Annotated[list[str] | None, typer.Option("--email", help="The person's email (repeat for several).")]
PhoneOption = Annotated[list[str] | None, typer.Option(
    "--phone", help="The person's phone (repeat for several); +CC for a foreign number.")]
RegionOption = Annotated[str | None, typer.Option(
    "--region", help="Region of a phone written without its country code (default: LEADGOV_DEFAULT_PHONE_REGION).")]
FormatOption = Annotated[OutputFormat, typer.Option(help="Output format.")]
ByOption = Annotated[str | None, typer.Option(
    "--by", help="Who asks for it (kept with the suppression entry; default: your user name).")]


def _request(email: list[str] | None, phone: list[str] | None, region: str | None,
             by: str | None = None) -> PersonRequest:
    return PersonRequest(tuple(email or ()), tuple(phone or ()), region, by)


@gdpr_app.command("purge")
def purge_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")] = False,
    as_of: AsOfOption = None,
    format: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Erase the personal data of leads older than their contract's gdpr.retention_days (by delivery day)."""
    with user_errors():
        request = PurgeRequest(parse_as_of(as_of), dry_run)
        result = purge_expired(cli_runtime(db), request)
    data = result.as_dict()
    if format is OutputFormat.json:
        print_json(data)
    else:
        verb = "would erase" if dry_run else "erased"
        out.print(f"retention as of {result.as_of}: {verb} the personal data of "
                  f"{counted(result.total('leads'), 'lead')} in "
                  f"{counted(result.total('deliveries'), 'delivery', 'deliveries')}, and "
                  f"{counted(result.total('outcome_notes'), 'outcome note')}", highlight=False)
        for line in result.lines:
            out.print(f"  {line.supplier_id} · {line.contract_id} (version {line.contract_version_id}): "
                      f"{line.retention_days} days, delivered before {line.delivered_before}: "
                      f"{counted(line.leads, 'lead')}",
                      highlight=False)
    for error in result.errors:
        err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    if result.errors:
        raise typer.Exit(1)


def _print_request(result: PersonResult, format: OutputFormat) -> None:
    if format is OutputFormat.json:
        print_json(result.as_dict())
        return
    if result.action == "erase":
        out.print(f"erased the personal data of {counted(result.leads_erased, 'lead')} ({result.leads_found} found, "
                  f"{counted(result.suppliers, 'supplier')}) and "
                  f"{counted(result.outcome_notes_erased, 'outcome note')}; "
                  f"{counted(result.identity_runs_changed, 'identity run')} updated", highlight=False)
    else:
        out.print(f"{counted(result.leads_found, 'lead')} of this person found "
                  f"({counted(result.suppliers, 'supplier')}): kept",
                  highlight=False)
    out.print(f"suppression list: {result.suppression_added} entries added, {result.suppression_already_listed} "
              f"already listed ({result.identifiers} emails and phones of this person); later deliveries of "
              "this person are rejected SUPPRESSED", highlight=False)


def _suppress(job: Callable[[Runtime, PersonRequest], PersonResult], email: list[str] | None,
              phone: list[str] | None, region: str | None, by: str | None, format: OutputFormat,
              db: str | None) -> None:
    """``erase`` and ``object``: the person named by the options, one job, the counts printed."""
    with user_errors():
        result = job(cli_runtime(db), _request(email, phone, region, by))
    _print_request(result, format)


@gdpr_app.command("erase")
def erase_command(
    email: EmailOption = None, phone: PhoneOption = None, region: RegionOption = None, by: ByOption = None,
    format: FormatOption = OutputFormat.table, db: DbOption = None,
) -> None:
    """Erase a person's data everywhere leadgov stores it and suppress them (right to erasure)."""
    _suppress(erase_person, email, phone, region, by, format, db)


@gdpr_app.command("object")
def object_command(
    email: EmailOption = None, phone: PhoneOption = None, region: RegionOption = None, by: ByOption = None,
    format: FormatOption = OutputFormat.table, db: DbOption = None,
) -> None:
    """Suppress a person without erasing their data (objection to prospecting)."""
    _suppress(object_for_person, email, phone, region, by, format, db)


@gdpr_app.command("export")
def export_command(
    email: EmailOption = None, phone: PhoneOption = None, region: RegionOption = None, db: DbOption = None,
) -> None:
    """Print everything held on a person as JSON (right of access); no leads when nobody matches."""
    with user_errors():
        result = export_person(cli_runtime(db), _request(email, phone, region))
    print_json(result.as_dict())


@gdpr_app.command("rekey")
def rekey_command(
    new_key_env: Annotated[str, typer.Option(
        help="Environment variable holding the new key (never on the command line).")] = "LEADGOV_NEW_HMAC_KEY",
    force: Annotated[bool, typer.Option(
        "--force", help="Rotate even if suppression entries of erased people cannot be carried over.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; change nothing.")] = False,
    format: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Recompute identity keys and suppression hashes from LEADGOV_HMAC_KEY (current) to a new key.

    Stop every worker and scheduled flow first; once done, set LEADGOV_HMAC_KEY to the new key."""
    with user_errors():
        new_key = os.environ.get(new_key_env, "")
        if not new_key:
            raise Refused(f"{new_key_env} is not set: put the new key in that environment variable")
        result = rekey(cli_runtime(db), RekeyRequest(new_key, force=force, dry_run=dry_run))
    if format is OutputFormat.json:
        print_json(result.as_dict())
        return
    verb = "would recompute" if dry_run else "recomputed"
    out.print(f"{verb} the keys of {counted(result.leads, 'lead')}, the identity runs of "
              f"{counted(result.deliveries, 'delivery', 'deliveries')} and "
              f"{counted(result.suppression_rekeyed, 'suppression entry', 'suppression entries')}; "
              f"{counted(result.suppression_lost, 'entry', 'entries')} cannot be "
              "carried over", highlight=False)
    if not dry_run:
        out.print(f"now set LEADGOV_HMAC_KEY to the value of {new_key_env} everywhere leadgov runs", highlight=False)
