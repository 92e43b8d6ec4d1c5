"""The one writer of every CSV leadgov writes for a person to open in a spreadsheet.

The result and return files of a delivery, ``leadgov billing statement --format csv``,
``leadgov replacements --format csv`` and the demo's ``summary.csv`` and ``alerts.csv`` all carry text
a supplier chose (lead ids, file names...). A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab,
a carriage return, a line feed or a NUL character is one a spreadsheet may run as a formula
(``=cmd|' /C calc'!A0``): it is written prefixed with ``'`` (OWASP, CSV injection). Only text is:
a number (``int``, ``float``, ``Decimal``, numpy's, a numeric column of a frame), negative ones
included, is written as the number it is, so that a credit of ``-12.50`` stays a number a
spreadsheet adds up.

Not written through here: the demo's generated *inputs* (the suppliers' deliveries, the CRM and
outcome exports it plays, ``leadgov.tools.synthetic`` and ``leadgov.demo``). They stand for other
systems' files, which leadgov reads back as it would read those (a phone ``+33 6 ...`` must stay as
written), and they hold generated values only.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from numbers import Number
from pathlib import Path
from typing import TextIO

import pandas as pd

#: What a cell a spreadsheet would run as a formula starts with.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: A record: a row as a mapping of column name to value (a missing key is an empty cell).
Record = Mapping[str, object]


def safe_cell(value: object) -> object:
    """``value`` as it may be written: None and numbers unchanged, any other value as text, prefixed
    with ``'`` when it starts like a formula."""
    if value is None or isinstance(value, Number):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_column(column: pd.Series) -> pd.Series:
    """A frame's column as it may be written (vectorised): a numeric column unchanged; in a text
    column, the text cells starting like a formula prefixed with ``'`` (a missing or non-text cell
    unchanged)."""
    if pd.api.types.is_numeric_dtype(column):
        return column
    try:
        starts = column.str.startswith(FORMULA_START)
    except AttributeError:  # pandas refuses .str on a column holding no text at all (dates, decimals...)
        return column
    risky = starts.fillna(False).astype(bool)
    if not risky.any():
        return column
    return column.mask(risky, "'" + column.astype("str"))


def write_records(file: TextIO, columns: Sequence[str], records: Iterable[Record], *, delimiter: str = ",",
                  lineterminator: str = "\n") -> None:
    """A header line of ``columns``, then one line per record (None or an absent key as an empty cell)."""
    writer = csv.writer(file, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow([safe_cell(c) for c in columns])
    writer.writerows([safe_cell(record.get(c)) for c in columns] for record in records)


def records_text(columns: Sequence[str], records: Iterable[Record]) -> str:
    """The CSV of ``records`` as text (what a command prints with ``--format csv``)."""
    buffer = io.StringIO()
    write_records(buffer, columns, records)
    return buffer.getvalue()


def write_records_file(path: Path, columns: Sequence[str], records: Iterable[Record]) -> Path:
    """The CSV of ``records`` as a UTF-8 file (folders created as needed); its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        write_records(file, columns, records)
    return path


def write_frame(frame: pd.DataFrame, path: Path, *, delimiter: str, encoding: str = "utf-8-sig",
                lineterminator: str = "\r\n") -> Path:
    """A frame as a CSV file for a spreadsheet (by default UTF-8 with a BOM, CRLF), without its
    index, every text column made safe; its path."""
    safe = frame.apply(safe_column)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe.to_csv(path, index=False, sep=delimiter, encoding=encoding, lineterminator=lineterminator)
    return path
