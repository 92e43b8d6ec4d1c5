"""``leadgov ui``: leadgov's flows under a local Prefect server, with its UI, on this machine
(the supervisor is ``leadgov.tools.supervisor``; docs/prefect.md says what it starts and stops)."""

from pathlib import Path
from typing import Annotated

import typer


def ui(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and its UI (on 127.0.0.1).")] = 4200,
    project: Annotated[Path | None, typer.Option(
        help="Folder holding prefect.yaml and flows/ (default: the current folder if it has a "
             "prefect.yaml, else leadgov's source checkout).")] = None,
    startup_timeout: Annotated[float, typer.Option(
        help="Seconds to wait for the server to be healthy (its first start creates its database).")] = 180,
    deploy: Annotated[bool, typer.Option(help="Deploy prefect.yaml's deployments.")] = True,
) -> None:
    """Run leadgov's flows under a local Prefect server: UI, deployments, schedules and a worker."""
    from leadgov.tools.supervisor import run_ui

    code = run_ui(port, project, startup_timeout, deploy)
    if code:
        raise typer.Exit(code)
