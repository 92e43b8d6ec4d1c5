"""How much memory a file may cost: bounds checked before the costly step, so that a small hostile
file is refused instead of exhausting the machine (docs/deliveries.md, "Refused whole").

`LEADGOV_MAX_FILE_BYTES` bounds a file's size, but not what reading it costs. Measured before these
bounds: a header of 100,000 ';' (100 KB) took 1.1 GB in Arrow's CSV reader (about 10 KB a column);
a header of 1,000 names and 200,000 rows of one cell (400 KB) took 4.5 GB (the short rows padded to
the header's width, each row's raw record naming every header); a header name of 10,000 characters
over 100,000 short rows, 1.1 GB. With these bounds, reading a file costs memory in proportion to its
size, whatever its shape.
"""

from __future__ import annotations

from leadgov.reading.errors import UnreadableFile

#: Columns of a file: the cells of a CSV header, the distinct keys of a JSON file. Checked before
#: the rows are parsed (a delivery has about 25 canonical fields and a few extra columns).
MAX_COLUMNS = 1_000

#: Cells a file may hold (rows times columns, a short row counted at the header's width, a JSON
#: record at every key of the file): this many per byte of the file, plus `FREE_CELLS`. A CSV row
#: as wide as its header spends at least a byte per cell (a delimiter or its line end), so only a
#: file of short rows or of records with different keys can exceed it. Checked while parsing.
MAX_CELLS_PER_BYTE = 2
FREE_CELLS = 1_000_000

#: The raw records of a CSV file (each row as a JSON object naming every header, docs/deliveries.md)
#: may take this many times the file's size, plus `FREE_RAW_BYTES`. A file of ordinary rows takes
#: two to four times its size; long header names over many short rows take far more. Checked
#: before the raw records are built.
MAX_RAW_BYTES_PER_BYTE = 16
FREE_RAW_BYTES = 64 << 20

#: How deep arrays and objects may be nested in a JSON record (the record itself is level 1): a
#: lead's values are flat, and a deeper record would exhaust Python's recursion in the JSON reader.
MAX_JSON_DEPTH = 32


def too_many_columns(count: int) -> bool:
    return count > MAX_COLUMNS


def columns_refused(count: int, source: str, line: int) -> UnreadableFile:
    return UnreadableFile(source, f"{count:,} columns (header cells or JSON keys), more than the {MAX_COLUMNS:,} "
                                  "a file may have (a malformed header?)", line=line)


def max_cells(size: int) -> int:
    """The cells a file of `size` bytes may hold."""
    return MAX_CELLS_PER_BYTE * size + FREE_CELLS


def too_many_cells(rows: int, columns: int, size: int) -> bool:
    return rows * columns > max_cells(size)


def cells_refused(rows: int, columns: int, size: int, source: str, line: int) -> UnreadableFile:
    return UnreadableFile(source, f"{rows:,} rows of {columns:,} columns make more than the {max_cells(size):,} "
                                  f"cells a file of {size:,} bytes may hold (rows far shorter than the header, "
                                  "or records with different keys)", line=line)


def max_raw_bytes(size: int) -> int:
    """The bytes the raw records of a file of `size` bytes may take."""
    return MAX_RAW_BYTES_PER_BYTE * size + FREE_RAW_BYTES


def raw_bytes_refused(estimate: int, rows: int, size: int, source: str, line: int) -> UnreadableFile:
    return UnreadableFile(source, f"its {rows:,} rows, each naming every header, would take {estimate:,} bytes, "
                                  f"more than the {max_raw_bytes(size):,} allowed for a file of {size:,} bytes "
                                  "(header names far longer than the rows?)", line=line)


def json_depth_refused(source: str, line: int) -> UnreadableFile:
    return UnreadableFile(source, f"a record nests arrays or objects more than {MAX_JSON_DEPTH} levels deep",
                          line=line)
