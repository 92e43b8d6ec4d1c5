"""Reading the CRM / phoning tool's outcome export (docs/governance.md, Outcomes)."""

from __future__ import annotations

import pandas as pd

from leadgov.reading.csv_files import _csv_records, _csv_table
from leadgov.reading.decoding import _check_content, _to_utf8
from leadgov.reading.errors import UnreadableFile
from leadgov.reading.headers import _map_headers
from leadgov.reading.records import _drop_blank_rows, _frame

OUTCOME_FIELDS: tuple[str, ...] = (
    "lead_id", "supplier_id", "event", "at", "contest_reason", "amount_eur", "objection", "note",
)
REQUIRED_OUTCOME_FIELDS: tuple[str, ...] = ("lead_id", "supplier_id", "event", "at")


def read_outcomes_export(data: bytes, *, source: str = "<outcomes>") -> tuple[pd.DataFrame, str, str]:
    """(one text column per outcome field, encoding, delimiter). Same encoding and delimiter
    detection as deliveries; a file without one of the four required columns is refused whole."""
    payload, encoding = _to_utf8(data, "auto", source=source)
    _check_content(payload, source)
    table, delimiter = _csv_table(payload, "auto", source, single_column_ok=False)
    positions = _map_headers(table.headers, {}, OUTCOME_FIELDS, source)
    missing = [f for f in REQUIRED_OUTCOME_FIELDS if f not in positions.values()]
    if missing:
        raise UnreadableFile(source, f"missing column(s) {', '.join(missing)} in the header of the outcome export")
    trimmed, _, _ = _drop_blank_rows(table)
    return _frame(OUTCOME_FIELDS, positions, trimmed), encoding, delimiter


def record_lines(data: bytes, delimiter: str) -> list[int]:
    """The physical line where each data row starts (header excluded), for messages that must
    name a line. Re-scans the file: call it only when there is something to report."""
    payload, _ = _to_utf8(data, "auto", source="<outcomes>")
    starts = [line for line, _ in _csv_records(payload.decode("utf-8"), delimiter)]
    return starts[1:]
