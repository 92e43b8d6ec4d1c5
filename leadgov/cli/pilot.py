"""``leadgov pilot``: start a supplier's pilot (the supplier_pilot flow then waits for it to mature,
judges it and asks the contract owner for the decision)."""

from pathlib import Path
from typing import Annotated

import typer

from leadgov.cli.common import DbOption, cli_runtime, out, parse_day, user_errors
from leadgov.formatting import counted

pilot_app = typer.Typer(help="Supplier pilots.", no_args_is_help=True)


@pilot_app.command("start")
def pilot_start(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    start_date: Annotated[str | None, typer.Option(
        "--start-date", help="The pilot's first day, YYYY-MM-DD (default: today): its cohort is the first "
                             "pilot.size leads delivered from it.")] = None,
    contract: Annotated[Path | None, typer.Option(
        help="The contract file the pilot runs under (default: config/contracts/<supplier>.yaml).")] = None,
    by: Annotated[str | None, typer.Option(help="Who starts it (default: your user name).")] = None,
    db: DbOption = None,
) -> None:
    """Start a supplier's pilot under its contract, from a day; refused while it has an undecided pilot."""
    from leadgov.services.pilot import StartPilotRequest, start_pilot

    with user_errors():
        day = parse_day(start_date, "--start-date") if start_date else None
        started = start_pilot(cli_runtime(db), StartPilotRequest(supplier, day, contract, by))
    out.print(f"pilot {started.pilot_id} of {started.supplier_id} started on {started.start_day} under "
              f"{started.contract_id}: cohort of {counted(started.size, 'lead')} within "
              f"{counted(started.max_duration_days, 'day')}",
              highlight=False, soft_wrap=True)
