"""Why a file is refused whole: the one exception reading raises, safe to log and to pickle."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable


class UnreadableFile(ValueError):
    """The whole file is refused: nothing of it may be stored or billed.

    The message names the file (`source`, shown through `printable`), the problem and, when
    known, the line. It never contains a cell value, because cells are personal data and
    messages travel to logs and alerts. `source`, `problem` and `line` are kept as attributes
    for callers that format their own. Like any ValueError it can also be raised with one ready-made message
    (`UnreadableFile("big.csv: too large")`); `source` is then None.
    """

    def __init__(self, source: str, problem: str | None = None, *, line: int | None = None) -> None:
        where_from: str | None = source
        if problem is None:
            where_from, problem = None, source
        self.source = where_from
        self.problem = problem
        self.line = line
        shown = None if where_from is None else printable(where_from)
        where = shown if line is None else f"{shown}, line {line}"
        super().__init__(problem if shown is None else f"{where}: {problem}")

    def __reduce__(
        self,
    ) -> tuple[Callable[[str | None, str, int | None], UnreadableFile], tuple[str | None, str, int | None]]:
        """Keep source/line through pickling (Prefect, workers)."""
        return _unreadable_file, (self.source, self.problem, self.line)


def printable(name: str) -> str:
    """A file name as shown in a message, a log or a reason file: its control, format and line
    separating characters escaped as Python writes them (``\\n``, ``\\x1b``, ``\\u202e``), so that
    a name holding a newline cannot forge a line, nor one holding a bidirectional mark be misread.
    An ordinary name is shown unchanged."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs" else repr(c)[1:-1] for c in name)


def _unreadable_file(source: str | None, problem: str, line: int | None) -> UnreadableFile:
    """Rebuild an unpickled UnreadableFile with its attributes."""
    if source is None:
        error = UnreadableFile(problem)
        error.line = line
        return error
    return UnreadableFile(source, problem, line=line)
