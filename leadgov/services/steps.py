"""How a service runs its steps: directly (CLI, demo, tests) or each as a Prefect task (flows).

A service with several steps is written once, as a sequence of calls ``steps(step, *args)``. The
CLI passes nothing and each step is a plain call; a flow passes a runner that runs each step as the
Prefect task wrapping it (``leadgov.tasks``), with that task's retries. So the order of the steps
lives in the service only, and no door re-composes it.
"""

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StepRunner(Protocol):
    """Runs one step of a service with its arguments and returns what the step returns."""

    def __call__(self, step: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def run_directly(step: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """The plain runner: call the step."""
    return step(*args, **kwargs)
