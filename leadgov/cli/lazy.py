"""Subcommands imported when they run, so that ``leadgov --help`` imports none of them.

Each command module imports the services it calls, and through them pandas, pandera, SQLAlchemy,
pyarrow...: importing them all took 1.8 s before the first line of help (docs/performance.md). The
root group knows each subcommand by its name, where it lives (``module:attribute``, a Typer app or a
command function) and the summary its line shows in ``leadgov --help``; listing the commands (the
root's help, shell completion) shows the summaries, and only running a command, or asking for its own
help, imports its module, then builds it as Typer builds the eager tree. Click documents this as its
``LazyGroup`` pattern; the summaries are what keeps the root's help from importing every module.
tests/leadgov/test_cli_lazy.py checks that every help text is the eager tree's, summaries included.
"""

import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

if TYPE_CHECKING:  # Typer's own copy of click (typer >= 0.26): the types its groups are written with
    from typer._click import Command, Context, HelpFormatter
    from typer._click.shell_completion import CompletionItem


#: A command's youngest-generation collection threshold (Python's default: 700 allocations). Once its
#: imports are frozen, a command's objects are data frames, rows and SQL statements that reference
#: counting frees; a collection every 700 allocations cost a weekly file's ``leadgov validate`` some 260
#: young collections (about 30 ms of its 1.3 s). A command ends within seconds: every collection still
#: runs, less often.
COMMAND_GC_THRESHOLD = 20_000

#: True while ``leadgov`` runs as a process of its own (``own_process``, the console script).
_OWN_PROCESS: ContextVar[bool] = ContextVar("leadgov_cli_own_process", default=False)


@contextmanager
def own_process() -> Iterator[None]:
    """Run the command line as the whole process: a command module's first import then leaves what it
    creates out of Python's cyclic garbage collector (``_imports_frozen``). The console script runs in it;
    a process that only calls into the CLI (the tests' ``CliRunner``) keeps its collector untouched."""
    token = _OWN_PROCESS.set(True)
    try:
        yield
    finally:
        _OWN_PROCESS.reset(token)


@contextmanager
def _imports_frozen(module: str) -> Iterator[None]:
    """Import ``module`` with the cyclic collector off, then freeze what exists (``gc.freeze``) and
    collect the young generation less often (``COMMAND_GC_THRESHOLD``).

    Importing pandas, pandera, SQLAlchemy and the rest creates some 270,000 objects that live until
    the process ends; the collections their creation triggers, the full ones walking every object again,
    took 0.3 s of the 2 s of ``leadgov validate`` on a weekly file (docs/performance.md). Frozen, they
    are skipped by every later collection; the few cycles the imports left as garbage (about 1,500
    objects) stay.
    """
    if not _OWN_PROCESS.get() or module in sys.modules:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(COMMAND_GC_THRESHOLD, *gc.get_threshold()[1:])
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class LazyCommand:
    """A subcommand of the root: ``target`` is ``module:attribute``, a ``typer.Typer`` (a group) or a
    command function; ``summary`` is the first paragraph of its help, shown in the root's help."""

    name: str
    target: str
    summary: str

    def load(self, root: TyperGroup) -> "Command":
        """Import the target and build it as the root's eager tree would (same Typer settings)."""
        module, _, attribute = self.target.partition(":")
        with _imports_frozen(module):
            found = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(rich_markup_mode=root.rich_markup_mode, suggest_commands=root.suggest_commands,
                             add_completion=False)
        if isinstance(found, typer.Typer):
            holder.add_typer(found, name=self.name)
        else:
            holder.command(self.name)(found)
        return get_group(holder).commands[self.name]

    def placeholder(self) -> TyperCommand:
        """What the root lists before the command is loaded: its name and summary, nothing to run."""
        return TyperCommand(name=self.name, help=self.summary)


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands (``lazy_commands``, set by a subclass) load on first use.

    Until loaded, a subcommand is its placeholder in ``commands``: its name is known (for the
    help, completion and "did you mean" suggestions), its module is not imported.
    """

    lazy_commands: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._unloaded = {command.name: command for command in self.lazy_commands}
        self._listing = False
        for command in self.lazy_commands:
            self.commands[command.name] = command.placeholder()

    def get_command(self, ctx: "Context", cmd_name: str) -> "Command | None":
        """The command to run: imported and built now if it was not yet; its placeholder while the
        commands are only listed."""
        if not self._listing and cmd_name in self._unloaded:
            self.commands[cmd_name] = self._unloaded.pop(cmd_name).load(self)
        return super().get_command(ctx, cmd_name)

    @contextmanager
    def _summaries(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: "Context", formatter: "HelpFormatter") -> None:
        with self._summaries():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: "Context", incomplete: str) -> "list[CompletionItem]":
        with self._summaries():
            return super().shell_complete(ctx, incomplete)
