"""Why a file is refused whole: the one exception reading raises, safe to log and to pickle."""

from __future__ import annotations

from collections.abc import Callable


class UnreadableFile(ValueError):
    """The whole file is refused: nothing of it may be stored or billed.

    The message names the file (`source`), the problem and, when known, the line. It never
    contains a cell value, because cells are personal data and messages travel to logs and
    alerts. `source`, `problem` and `line` are kept as attributes for callers that format
    their own. Like any ValueError it can also be raised with one ready-made message
    (`UnreadableFile("big.csv: too large")`); `source` is then None.
    """

    def __init__(self, source: str, problem: str | None = None, *, line: int | None = None) -> None:
        where_from: str | None = source
        if problem is None:
            where_from, problem = None, source
        self.source = where_from
        self.problem = problem
        self.line = line
        where = where_from if line is None else f"{where_from}, line {line}"
        super().__init__(problem if where_from is None else f"{where}: {problem}")

    def __reduce__(
        self,
    ) -> tuple[Callable[[str | None, str, int | None], UnreadableFile], tuple[str | None, str, int | None]]:
        """Keep source/line through pickling (Prefect, workers)."""
        return _unreadable_file, (self.source, self.problem, self.line)


def _unreadable_file(source: str | None, problem: str, line: int | None) -> UnreadableFile:
    """Rebuild an unpickled UnreadableFile with its attributes."""
    if source is None:
        error = UnreadableFile(problem)
        error.line = line
        return error
    return UnreadableFile(source, problem, line=line)
