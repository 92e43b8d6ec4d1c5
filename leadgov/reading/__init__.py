"""Reading a delivery file (or the buyer's CRM export) into raw canonical text columns.

This is the only place that knows about bytes, encodings, delimiters and supplier headers
(docs/deliveries.md, "A delivery", "Canonical lead fields", "The CRM export"). Everything after it
works on a dataframe with one text column per canonical field, so the checks never depend
on how a supplier happens to spell a header or encode an accent.

Two outcomes only: the whole file is refused (`UnreadableFile`, nothing of it is used), or
every data row comes out, in file order. Reading never judges a value: "abc" in `employees`
is read as text and rejected later, row by row, by the checks.

Speed matters (a million rows must read in seconds), so CSV goes through pyarrow's
multi-threaded reader and every later step is column-wise Arrow compute (no per-row Python).
Files Arrow cannot take as they are (short rows, whitespace-only lines, over-long rows, an odd
number of quote characters) are re-read by pandas' C parser, which pads short rows and
reports malformed ones; both parsers give the same cells for the files both accept.
Error messages name the file, the line and the header, never a cell value: cells are
personal data and messages end up in logs, alerts and Slack.

The modules of this package:

- `errors`: `UnreadableFile`, the one refusal, and `printable` (file names in messages).
- `limits`: the bounds on what a file may cost in memory (columns, cells, raw records, JSON depth).
- `fields`, `options`: the canonical fields, `TEXT_DTYPE`, and the contract's `ReadOptions`.
- `decoding`: bytes to UTF-8 (BOMs, auto-detection, wrong declared encodings), `decode`.
- `delimiters`, `csv_files`: `sniff_delimiter`, then CSV through Arrow or pandas.
- `json_files`: JSON arrays and JSON Lines, keeping each object's delivered text.
- `table`: `_Table`, what the parsers hand over.
- `headers`: supplier headers to canonical fields, required columns.
- `records`, `json_escape`: the canonical frame and the raw records (`RawDelivery`).
- `crm`: `read_crm_export`. `read_delivery` is here, in `__init__`.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from leadgov.arrow_memory import use_returning_pool
from leadgov.reading.crm import read_crm_export
from leadgov.reading.csv_files import _csv_table
from leadgov.reading.decoding import _check_content, _to_utf8, decode
from leadgov.reading.delimiters import sniff_delimiter
from leadgov.reading.errors import UnreadableFile
from leadgov.reading.fields import CANONICAL_FIELDS, CRM_FIELDS, TEXT_DTYPE
from leadgov.reading.headers import _check_required, _map_headers
from leadgov.reading.json_files import _json_table
from leadgov.reading.options import ReadOptions
from leadgov.reading.records import RawDelivery, RawRecords, _assemble
from leadgov.reading.table import _Table

__all__ = [
    "CANONICAL_FIELDS",
    "CRM_FIELDS",
    "TEXT_DTYPE",
    "RawDelivery",
    "RawRecords",
    "ReadOptions",
    "UnreadableFile",
    "decode",
    "read_crm_export",
    "read_delivery",
    "sniff_delimiter",
]


def read_delivery(data: bytes, options: ReadOptions, *, source: str = "<delivery>") -> RawDelivery:
    """Read one delivery file into canonical text columns, or refuse it whole."""
    use_returning_pool()
    with ThreadPoolExecutor(max_workers=1) as background:
        digest = background.submit(_sha256, data)  # hashing releases the GIL: runs alongside
        payload, used = _to_utf8(data, options.encoding, source=source)
        table, delimiter = _parse_delivery(payload, options, source)
        del payload  # the parsed columns own their memory: let the UTF-8 copy go early
        positions = _map_headers(table.headers, options.columns, CANONICAL_FIELDS, source)
        if table.has_header:
            _check_required(positions, options, source)
        frame, raw_records, extra_columns = _assemble(table, positions, source)
        return RawDelivery(frame, raw_records, used, delimiter, extra_columns, digest.result())


def _sha256(data: bytes) -> str:
    """Hex digest of the file: identifies a re-delivered file (same bytes, same digest)."""
    return hashlib.sha256(data).hexdigest()


def _parse_delivery(payload: bytes, options: ReadOptions, source: str) -> tuple[_Table, str | None]:
    """Parse according to the contract's format; the delimiter used (None for JSON)."""
    _check_content(payload, source)
    if options.format == "json":
        return _json_table(payload.decode("utf-8"), source, len(payload)), None
    return _csv_table(payload, options.delimiter, source, single_column_ok=False)
