"""The one renderer of the Markdown the flows publish as Prefect artifacts.

A flow's publishing task builds a title, lines of text and ``Table``s from a service's typed
result and calls ``markdown``: cells are escaped here (a pipe or a line break in a supplier's file
name cannot break the table), in one style for every flow. Artifacts carry counts, codes, ids and
paths only, never a lead's personal data.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from leadgov.alerts.outbox import AlertRun


@dataclass(frozen=True)
class Table:
    """A Markdown table: its header and rows of cells (rendered with ``str``; None is empty)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]] = field(default_factory=list)
    #: The line shown instead of the table when it has no row.
    empty: str = "(none)"


Block = str | Table


def cell(value: object) -> str:
    """One cell: None empty, booleans yes/no, pipes and line breaks escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(t: Table) -> list[str]:
    if not t.rows:
        return [t.empty]
    lines = ["| " + " | ".join(cell(c) for c in t.columns) + " |", "| " + " | ".join("---" for _ in t.columns) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in t.rows]
    return lines


def markdown(title: str, *blocks: Block) -> str:
    """``# title`` then each block (a paragraph or a table), separated by blank lines."""
    lines = [f"# {title}"]
    for block in blocks:
        lines.append("")
        lines += table(block) if isinstance(block, Table) else [block]
    return "\n".join(lines) + "\n"


def alerts_line(run: AlertRun) -> str:
    """What a step's alert run did, in one sentence (counts only)."""
    if run.error:
        return f"Alerts: {run.error}."
    return f"Alerts: {len(run.new)} new; {run.sent.line()}."
