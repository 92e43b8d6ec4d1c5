"""What the flows share: the runtime of a flow run, the step-to-task runner, retry conditions,
waiting for mapped tasks, and artifact keys.

A service step becomes a Prefect task with ``step_task(step, retry=...)``: a few lines, retries
only on I/O (an unreachable database, a flaky file share), ``NO_CACHE`` (every step reads or writes).
A flow runs the service itself with ``steps=as_tasks``, so each step appears as its task in the UI
and the order of the steps stays in the service.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.futures import PrefectFuture, wait
from prefect.input import RunInput
from prefect.runtime import flow_run as prefect_flow_run
from prefect.tasks import Task
from pydantic import Field

from leadgov.services import runtime as service_runtime
from leadgov.services.runtime import Runtime, build_runtime

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R", bound=RunInput)


def _error(state: Any) -> object:
    return state.result(raise_on_failure=False)


def database_unreachable(state: Any) -> bool:
    """Retry only when the database could not be reached, never on a refused request."""
    return service_runtime.database_unreachable(_error(state))


def file_unavailable(state: Any) -> bool:
    """Retry a read that the file system failed (a flaky share), never a refused or missing file."""
    return service_runtime.file_unavailable(_error(state))


def transient_io(state: Any) -> bool:
    """Either of the above."""
    return service_runtime.transient_io(_error(state))


Retry = Literal["database", "file", "io"] | None
_CONDITIONS: dict[str, Callable[[Any], bool]] = {
    "database": database_unreachable, "file": file_unavailable, "io": transient_io}
_DELAYS = {"database": [5, 30], "file": [2, 10], "io": [5, 30]}
_TASKS: dict[Callable[..., Any], Task[Any, Any]] = {}


def step_task(step: Callable[P, T], *, retry: Retry = None, name: str | None = None) -> Task[P, T]:
    """The Prefect task running a service step (registered for ``as_tasks``)."""
    options: dict[str, Any] = {}
    if retry is not None:
        condition = _CONDITIONS[retry]
        options = {"retries": 2, "retry_delay_seconds": _DELAYS[retry],
                   "retry_condition_fn": lambda _task, _run, state: condition(state)}
    wrapped: Task[P, T] = task(name=name or step.__name__, cache_policy=NO_CACHE, **options)(step)
    _TASKS[step] = wrapped
    return wrapped


def task_for(step: Callable[P, T]) -> Task[P, T]:
    """The task registered for ``step``. Tasks register when their module is imported, and a flow
    imports only its own task module, while a service step may be declared in another job's (a
    release raises the statement alerts of ``tasks.billing``): on a miss every task module is
    imported once, then the step is looked up again."""
    wrapped: Task[P, T] | None = _TASKS.get(step)
    if wrapped is None:
        import leadgov.tasks  # noqa: PLC0415 - the registry completes itself on demand

        for module in pkgutil.iter_modules(leadgov.tasks.__path__, "leadgov.tasks."):
            importlib.import_module(module.name)
        wrapped = _TASKS.get(step)
    if wrapped is None:
        raise LookupError(f"the service step {step.__module__}.{step.__qualname__} has no task: "
                          "declare it with step_task in leadgov.tasks")
    return wrapped


def as_tasks(step: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """The step runner of the flows: run ``step`` as its registered task."""
    return task_for(step)(*args, **kwargs)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda _task, _run, state: database_unreachable(state))
def open_runtime() -> Runtime:
    """The flow run's runtime from the worker's settings; the database brought to the current schema.
    What the run records names it (``flow run <name>``) unless a form names a person."""
    return build_runtime(actor=f"flow run {prefect_flow_run.name}")


#: How long a run waits, paused, for a decision by default: a week.
WEEK_SECONDS = 7 * 24 * 3600


class NoDecisionTaken(RuntimeError):
    """Nobody decided within the decision timeout: nothing was stored."""


def decision_timeout() -> Any:
    """The form field of how long a run waits, paused, for its decision."""
    return Field(WEEK_SECONDS, ge=1, description="How long the run waits, paused, for the decision; then it "
                                                 "fails, storing nothing.")


def decision_poll() -> Any:
    """The form field of how often a paused run checks whether it was resumed."""
    return Field(10, ge=1, le=600, description="How often the paused run checks whether it was resumed.")


def wait_for_decision(form: type[R], *, timeout: int, poll: int) -> R | None:
    """Pause the run until someone submits ``form`` in the UI (or ``resume_flow_run`` with its input);
    None when nobody did within ``timeout`` seconds (the flow then says so and raises NoDecisionTaken)."""
    try:
        return pause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=poll)
    except FlowPauseTimeout:
        return None


def collect(futures: list[PrefectFuture[Any]]) -> list[tuple[Any, str | None]]:
    """Wait for every future; each one's (result, None) or (None, why it did not complete).

    A failed mapped task does not stop its siblings: the flow reports each one and decides.
    """
    wait(futures)
    outcomes: list[tuple[Any, str | None]] = []
    for future in futures:
        state = future.state
        if state.is_completed():
            outcomes.append((future.result(), None))
            continue
        error = future.result(raise_on_failure=False) if state.is_failed() or state.is_crashed() else None
        why = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else (state.message or state.name)
        outcomes.append((None, why))
    return outcomes


def artifact_key(*parts: object) -> str:
    """An artifact key from ``parts``: lowercase letters, digits and dashes only (Prefect's rule)."""
    text = "-".join(str(p) for p in parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")
