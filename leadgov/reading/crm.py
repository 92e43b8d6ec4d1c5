"""Reading the buyer's CRM export, which feeds the ALREADY_IN_CRM check rather than billing."""

from __future__ import annotations

import pandas as pd

from leadgov.arrow_memory import use_returning_pool
from leadgov.reading.csv_files import _csv_table
from leadgov.reading.decoding import _check_content, _to_utf8
from leadgov.reading.errors import UnreadableFile
from leadgov.reading.fields import CRM_FIELDS
from leadgov.reading.headers import _map_headers
from leadgov.reading.records import _drop_blank_rows, _frame


def read_crm_export(data: bytes, *, source: str = "<crm>") -> pd.DataFrame:
    """The buyer's CRM contacts: columns `email` and `phone` (text, trimmed, NaN when empty).

    Same encoding and delimiter detection as deliveries; a single-column export (only emails)
    is accepted. An export with neither column cannot serve the ALREADY_IN_CRM check and is
    refused rather than silently matching nothing.
    """
    use_returning_pool()
    payload, _ = _to_utf8(data, "auto", source=source)
    _check_content(payload, source)
    table, _ = _csv_table(payload, "auto", source, single_column_ok=True)
    positions = _map_headers(table.headers, {}, CRM_FIELDS, source)
    if not positions:
        raise UnreadableFile(source, "no 'email' or 'phone' column in the header of the CRM export")
    trimmed, _, _ = _drop_blank_rows(table)
    return _frame(CRM_FIELDS, positions, trimmed)
