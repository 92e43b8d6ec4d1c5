"""Reading a delivery file (or the buyer's CRM export) into raw canonical text columns.

This is the only place that knows about bytes, encodings, delimiters and supplier headers
(spec/leads.md, "A delivery", "Canonical lead fields", "The CRM export"). Everything after it
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
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import operator
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CANONICAL_FIELDS: tuple[str, ...] = (
    "lead_id",
    "collected_at",
    "company_name",
    "siren",
    "naf_code",
    "employees",
    "legal_form",
    "postal_code",
    "country",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "language",
    "budget_eur",
    "project_horizon_months",
    "need",
    "source",
    "campaign",
    "consent_at",
    "consent_proof",
    "replaces_lead_id",
)

#: The dtype of every text column produced here: pandas 3's default `str` dtype (pyarrow-backed,
#: missing values are NaN, comparisons give plain numpy booleans). Test missing with `.isna()`.
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)

CRM_FIELDS: tuple[str, ...] = ("email", "phone")

_FORMATS = ("csv", "json")
_ENCODINGS = ("auto", "utf-8", "cp1252", "latin-1")
_DELIMITERS = ("auto", ";", ",", "\t")
_SNIFFED = (";", ",", "\t")
_DELIMITER_NAMES = {";": "';'", ",": "','", "\t": "tab"}

# Byte-order marks recognised by `auto`: (mark, codec to decode with, name reported as used).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)


class UnreadableFile(ValueError):
    """The whole file is refused: nothing of it may be stored or billed.

    The message names the file (`source`), the problem and, when known, the line. It never
    contains a cell value, because cells are personal data and messages travel to logs and
    alerts. `source`, `problem` and `line` are kept as attributes for callers that format
    their own. Like any ValueError it can also be raised with one ready-made message
    (`UnreadableFile("big.csv: too large")`); `source` is then None.
    """

    def __init__(self, source: str, problem: str | None = None, *, line: int | None = None) -> None:
        if problem is None:
            source, problem = None, source
        self.source = source
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        super().__init__(problem if source is None else f"{where}: {problem}")

    def __reduce__(self):  # noqa: ANN204 - keep source/line through pickling (Prefect, workers)
        return _unreadable_file, (self.source, self.problem, self.line)


def _unreadable_file(source: str | None, problem: str, line: int | None) -> UnreadableFile:
    """Rebuild an unpickled UnreadableFile with its attributes."""
    if source is None:
        error = UnreadableFile(problem)
        error.line = line
        return error
    return UnreadableFile(source, problem, line=line)


@dataclass(frozen=True)
class ReadOptions:
    """How to read one supplier's files: the contract's `delivery` block, minus the date format.

    Validated on creation so that a contract typo (an unknown canonical field, an unsupported
    encoding) fails when the contract is loaded rather than when a file arrives.
    """

    format: Literal["csv", "json"] = "csv"
    encoding: Literal["auto", "utf-8", "cp1252", "latin-1"] = "auto"
    delimiter: Literal["auto", ";", ",", "\t"] = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    required_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("format", self.format, _FORMATS)
        _check_choice("encoding", self.encoding, _ENCODINGS)
        _check_choice("delimiter", self.delimiter, _DELIMITERS)
        object.__setattr__(self, "columns", dict(self.columns))
        object.__setattr__(self, "required_fields", tuple(self.required_fields))
        _check_columns(self.columns)
        unknown = [f for f in self.required_fields if f not in CANONICAL_FIELDS]
        if unknown:
            raise ValueError(f"required_fields: unknown canonical field(s) {unknown}")


@dataclass(frozen=True)
class RawDelivery:
    """A delivery as read: canonical text columns plus what is needed to store it faithfully.

    `frame` has one row per data row (file order, RangeIndex) and every canonical field as a
    `TEXT_DTYPE` column: trimmed text, missing (NaN) when absent, empty or whitespace-only.
    Rows whose every cell is blank (blank lines, `;;;` lines) are not rows. `raw_records` is a
    `TEXT_DTYPE` Series aligned with `frame` holding, per row, the row as delivered as a JSON
    object text (original headers to original cell text, extra columns included) for the
    audit trail; for JSON files it is the object's text exactly as delivered. `encoding` is
    one of utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252, latin-1.
    """

    frame: pd.DataFrame
    raw_records: pd.Series
    encoding: str
    delimiter: str | None
    extra_columns: tuple[str, ...]
    sha256: str


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    """Reject an option value outside the contract format's vocabulary."""
    if value not in allowed:
        raise ValueError(f"{name}: {value!r} is not one of {list(allowed)}")


def _check_columns(columns: Mapping[str, str]) -> None:
    """A mapping must target canonical fields, and two spellings of one header must agree."""
    seen: dict[str, tuple[str, str]] = {}
    for header, target in columns.items():
        if not isinstance(header, str) or not _norm_header(header):
            raise ValueError(f"columns: blank or non-text header {header!r}")
        if target not in CANONICAL_FIELDS:
            raise ValueError(f"columns: {header!r} maps to unknown canonical field {target!r}")
        key = _norm_header(header)
        if key in seen and seen[key][1] != target:
            raise ValueError(
                f"columns: {seen[key][0]!r} and {header!r} are the same header "
                f"but map to {seen[key][1]!r} and {target!r}"
            )
        seen[key] = (header, target)


# --------------------------------------------------------------------------------------------
# Encoding


def decode(data: bytes, encoding: str, *, source: str) -> tuple[str, str]:
    """Decode a whole file to text; returns (text, encoding used). See `_to_utf8` for the rules."""
    payload, used = _to_utf8(data, encoding, source=source)
    return payload.decode("utf-8"), used


def _to_utf8(data: bytes, encoding: str, *, source: str) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without BOM, and the encoding it was read with.

    `auto` is the spec's rule: a BOM decides, else UTF-8 if the bytes are valid UTF-8, else
    cp1252. A declared encoding is trusted only while the bytes agree with it: a BOM of another
    encoding, bytes invalid in it, or (for the single-byte encodings, which accept anything)
    bytes that are valid non-ASCII UTF-8 all mean the wrong encoding was declared, which the spec
    says refuses the file rather than storing mangled names.
    """
    _check_choice("encoding", encoding, _ENCODINGS)
    bom = _bom_of(data)
    if bom is not None:
        return _from_bom(data, bom, encoding, source)
    if encoding == "utf-8":
        _require_utf8(data, source, declared=True)
        return data, "utf-8"
    if encoding == "auto":
        if _is_utf8(data):
            return data, "utf-8"
        return _single_byte(data, "cp1252", source, declared=False), "cp1252"
    if data.isascii() or not _is_utf8(data):
        return _single_byte(data, encoding, source, declared=True), encoding
    raise UnreadableFile(
        source, f"declared encoding {encoding} but the file is UTF-8 (accents would be garbled)"
    )


def _bom_of(data: bytes) -> tuple[bytes, str, str] | None:
    """The byte-order mark the file starts with, if any."""
    return next((bom for bom in _BOMS if data.startswith(bom[0])), None)


def _from_bom(
    data: bytes, bom: tuple[bytes, str, str], encoding: str, source: str
) -> tuple[bytes, str]:
    """Decode a file whose BOM names its encoding; a contradicting declaration refuses it."""
    mark, codec, label = bom
    if encoding not in ("auto", "utf-8") or (encoding == "utf-8" and codec != "utf-8"):
        raise UnreadableFile(
            source,
            f"declared encoding {encoding} but the file starts with a {label} byte-order mark",
        )
    body = data[len(mark) :]
    if codec == "utf-8":
        _require_utf8(body, source, declared=encoding != "auto", base=len(mark))
        return body, label
    try:
        return body.decode(codec).encode("utf-8"), label
    except UnicodeDecodeError as exc:
        raise _decode_error(data, exc.start + len(mark), f"not valid {label}", source) from None


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8, checked by Arrow (SIMD, no decoded copy)."""
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _require_utf8(data: bytes, source: str, *, declared: bool, base: int = 0) -> None:
    """Refuse bytes that are not UTF-8, pointing at the first bad byte."""
    if _is_utf8(data):
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        what = "not valid utf-8 (the declared encoding)" if declared else "not valid utf-8"
        raise _decode_error(data, exc.start, what, source, base=base) from None


def _single_byte(data: bytes, codec: str, source: str, *, declared: bool) -> bytes:
    """Transcode a cp1252 / latin-1 file to UTF-8; cp1252 leaves 5 bytes undefined."""
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        what = "neither UTF-8 nor cp1252"
        if declared:
            what = f"not valid {codec} (the declared encoding)"
        raise _decode_error(data, exc.start, what, source) from None


def _decode_error(
    data: bytes, offset: int, what: str, source: str, *, base: int = 0
) -> UnreadableFile:
    """An encoding refusal naming the byte, its offset in the file and its line."""
    line = data.count(b"\n", 0, offset) + 1
    return UnreadableFile(
        source, f"{what}: byte 0x{data[offset]:02X} at offset {base + offset}", line=line
    )


# --------------------------------------------------------------------------------------------
# Delimiter


def sniff_delimiter(header_line: str, *, source: str = "<delivery>") -> str:
    """The delimiter among ';' ',' tab occurring most often in the header (outside quotes).

    Only the header is used: it is written by the supplier's tool, never by a prospect, so a
    comma inside a company name cannot mislead the guess. A header with none of them is a
    single column, which is not a delivery; a tie is ambiguous. Both refuse the file, and the
    fix (declaring `delimiter` in the contract) is named in the message.
    """
    counts = _count_outside_quotes(header_line)
    best = max(counts.values())
    if best == 0:
        raise UnreadableFile(
            source,
            "cannot find the delimiter: the header has a single column (expected ';', ',' or tab)",
        )
    winners = [d for d, n in counts.items() if n == best]
    if len(winners) > 1:
        names = " and ".join(_DELIMITER_NAMES[d] for d in winners)
        raise UnreadableFile(
            source,
            f"ambiguous delimiter: the header has as many {names}; "
            "declare the delimiter in the contract",
        )
    return winners[0]


def _count_outside_quotes(line: str) -> dict[str, int]:
    """Occurrences of each candidate delimiter outside double-quoted parts of the line."""
    outside = "".join(line.split('"')[0::2])
    return {d: outside.count(d) for d in _SNIFFED}


def _header_line(body: bytes) -> str:
    """The first logical line (a quoted header cell may span physical lines)."""
    end = 0
    while True:
        newline = body.find(b"\n", end)
        end = len(body) if newline < 0 else newline + 1
        chunk = body[:end]
        if chunk.count(b'"') % 2 == 0 or newline < 0 or chunk.count(b"\n") > 50:
            return chunk.decode("utf-8").strip("\r\n")


def _skip_blank_lines(payload: bytes) -> tuple[bytes, int]:
    """The payload from its first line holding something other than whitespace, and the
    number of lines skipped (so that the header is the parsers' first row, and refusals can
    still name physical lines)."""
    match = re.search(rb"\S", payload)
    start = 0 if match is None else payload.rfind(b"\n", 0, match.start()) + 1
    return (payload[start:], payload.count(b"\n", 0, start)) if start else (payload, 0)


# --------------------------------------------------------------------------------------------
# Reading a whole file


@dataclass(frozen=True)
class _Table:
    """A file parsed but not yet interpreted: headers and untrimmed data cells per column.

    `raw` is set when the format already gives each row's delivered text (JSON); `has_header`
    is False for a JSON file without any object, which has no header to check.
    """

    headers: list[str]
    cells: list[pa.ChunkedArray]
    raw: pa.ChunkedArray | None
    has_header: bool = True


def read_delivery(data: bytes, options: ReadOptions, *, source: str = "<delivery>") -> RawDelivery:
    """Read one delivery file into canonical text columns, or refuse it whole."""
    with ThreadPoolExecutor(max_workers=1) as background:
        digest = background.submit(_sha256, data)  # hashing releases the GIL: runs alongside
        payload, used = _to_utf8(data, options.encoding, source=source)
        table, delimiter = _parse_delivery(payload, options, source)
        del payload  # the parsed columns own their memory: let the UTF-8 copy go early
        positions = _map_headers(table.headers, options.columns, CANONICAL_FIELDS, source)
        if table.has_header:
            _check_required(positions, options, source)
        frame, raw_records, extra_columns = _assemble(table, positions)
        return RawDelivery(frame, raw_records, used, delimiter, extra_columns, digest.result())


def _sha256(data: bytes) -> str:
    """Hex digest of the file: identifies a re-delivered file (same bytes, same digest)."""
    return hashlib.sha256(data).hexdigest()


def _parse_delivery(payload: bytes, options: ReadOptions, source: str) -> tuple[_Table, str | None]:
    """Parse according to the contract's format; the delimiter used (None for JSON)."""
    _check_content(payload, source)
    if options.format == "json":
        return _json_table(payload.decode("utf-8"), source), None
    return _csv_table(payload, options.delimiter, source, single_column_ok=False)


def _assemble(
    table: _Table, positions: dict[int, str]
) -> tuple[pd.DataFrame, pd.Series, tuple[str, ...]]:
    """The canonical frame, the raw records and the extra columns of a parsed delivery."""
    trimmed, cells, raw = _drop_blank_rows(table)
    names = _record_names(table.headers, cells, positions)
    if raw is None:
        kept = [(name, column) for name, column in zip(names, cells) if name is not None]
        raw = _json_records([name for name, _ in kept], [column for _, column in kept])
    extras = tuple(name for i, name in enumerate(names) if name is not None and i not in positions)
    return _frame(CANONICAL_FIELDS, positions, trimmed), _to_series(raw), extras


def read_crm_export(data: bytes, *, source: str = "<crm>") -> pd.DataFrame:
    """The buyer's CRM contacts: columns `email` and `phone` (text, trimmed, NaN when empty).

    Same encoding and delimiter detection as deliveries; a single-column export (only emails)
    is accepted. An export with neither column cannot serve the ALREADY_IN_CRM check and is
    refused rather than silently matching nothing.
    """
    payload, _ = _to_utf8(data, "auto", source=source)
    _check_content(payload, source)
    table, _ = _csv_table(payload, "auto", source, single_column_ok=True)
    positions = _map_headers(table.headers, {}, CRM_FIELDS, source)
    if not positions:
        raise UnreadableFile(source, "no 'email' or 'phone' column in the header of the CRM export")
    trimmed, _, _ = _drop_blank_rows(table)
    return _frame(CRM_FIELDS, positions, trimmed)


def _check_content(payload: bytes, source: str) -> None:
    """Refuse what is not text at all: an empty or blank file, or a binary one (NUL byte)."""
    if not payload:
        raise UnreadableFile(source, "empty file")
    if re.search(rb"\S", payload) is None:
        raise UnreadableFile(source, "the file contains only whitespace (no header)")
    nul = payload.find(b"\x00")
    if nul >= 0:
        raise UnreadableFile(
            source,
            "NUL byte found: binary file, or an undeclared UTF-16 file",
            line=_line_at(payload, nul),
        )


def _line_at(payload: bytes, offset: int) -> int:
    """1-based physical line of a byte offset."""
    return payload.count(b"\n", 0, offset) + 1


def _csv_table(
    payload: bytes, delimiter: str, source: str, *, single_column_ok: bool
) -> tuple[_Table, str]:
    """Parse a CSV payload: choose the delimiter, then split rows into header and data."""
    body, skipped = _skip_blank_lines(payload)
    header = _header_line(body)
    if delimiter == "auto":
        lone = max(_count_outside_quotes(header).values()) == 0
        delimiter = "," if lone and single_column_ok else sniff_delimiter(header, source=source)
    width = len(next(csv.reader([header], delimiter=delimiter)))
    if width < 2 and not single_column_ok:
        raise UnreadableFile(
            source,
            f"the header has a single column with delimiter {_DELIMITER_NAMES[delimiter]} "
            "(wrong delimiter declared?)",
        )
    try:
        columns = _parse_csv(body, delimiter, width, source)
    except UnreadableFile as exc:
        if exc.line is None or not skipped:
            raise
        raise UnreadableFile(source, exc.problem, line=exc.line + skipped) from None
    headers = [column[0].as_py() for column in columns]
    return _Table(headers, [column.slice(1) for column in columns], None), delimiter


# --------------------------------------------------------------------------------------------
# CSV parsing


def _parse_csv(payload: bytes, delimiter: str, width: int, source: str) -> list[pa.ChunkedArray]:
    """All rows (header first) as one text array per column, cells exactly as delivered.

    Arrow silently ends a quoted field left open at the end of the file, so a file with an odd
    number of quotes (cut inside a quoted field, or holding a stray literal quote) goes straight
    to pandas, which reports the unterminated field.
    """
    if payload.count(b'"') % 2 == 0:
        try:
            return _parse_csv_arrow(payload, delimiter, width)
        except pa.ArrowInvalid:
            pass  # Arrow's message quotes the offending row (personal data): dropped.
    return _parse_csv_pandas(payload, delimiter, source)


def _parse_csv_arrow(payload: bytes, delimiter: str, width: int) -> list[pa.ChunkedArray]:
    """The fast path: multi-threaded, but strict (every row exactly as wide as the header)."""
    names = [f"c{i}" for i in range(width)]
    table = pacsv.read_csv(
        pa.BufferReader(payload),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return [table.column(i) for i in range(table.num_columns)]


def _parse_csv_pandas(payload: bytes, delimiter: str, source: str) -> list[pa.ChunkedArray]:
    """The tolerant path: short rows are padded with empty cells (missing values), while
    over-long or unterminated rows refuse the file with the line where they start."""
    try:
        frame = pd.read_csv(
            io.BytesIO(payload),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
            encoding="utf-8",
            quotechar='"',
            doublequote=True,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        raise _csv_refusal(payload, delimiter, source, str(exc)) from None
    return [_chunked(pa.array(frame[c].array, type=pa.string())) for c in frame.columns]


def _chunked(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """An Arrow array as a ChunkedArray (pandas hands back either, depending on its chunks;
    wrapping a ChunkedArray in a list would convert it value by value)."""
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _csv_refusal(payload: bytes, delimiter: str, source: str, message: str) -> UnreadableFile:
    """Turn a parser failure into a refusal naming the physical line where the bad row starts
    (pandas counts records, not lines, so the csv module re-scans: error path only)."""
    records = _csv_records(payload.decode("utf-8"), delimiter)
    if "EOF inside string" in message:
        last = None
        for last in records:
            pass
        line = None if last is None else last[0]
        return UnreadableFile(source, "unterminated quoted field (file cut off?)", line=line)
    header_width = None
    for line, width in records:
        if width is None:
            return UnreadableFile(source, "unterminated quoted field (file cut off?)", line=line)
        if header_width is None:
            header_width = width
        elif width > header_width:
            return UnreadableFile(
                source,
                f"row has {width} cells but the header has {header_width} (file cut or malformed)",
                line=line,
            )
    return UnreadableFile(source, "malformed CSV")


def _csv_records(text: str, delimiter: str) -> Iterable[tuple[int, int | None]]:
    """(start line, cell count) of each non-blank record; a count of None marks a field that
    runs past the csv module's size limit, i.e. an open quote swallowing the rest."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            return
        if any(cell.strip() for cell in cells):
            yield start, len(cells)


# --------------------------------------------------------------------------------------------
# JSON parsing

_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_table(text: str, source: str) -> _Table:
    """Parse a JSON array of objects, or JSON Lines, keeping each object's delivered text."""
    objects, raws = _json_objects(text, source)
    keys = list(dict.fromkeys(itertools.chain.from_iterable(objects)))  # union, first-seen order
    cells = [_json_column(objects, key, source) for key in keys]
    raw = pa.chunked_array([pa.array(raws, type=pa.string())])
    return _Table(keys, cells, raw, has_header=bool(objects))


def _json_objects(text: str, source: str) -> tuple[list[dict], list[str]]:
    """The objects and their exact texts. Numbers are kept as their text (`parse_float=str`;
    ints are exact), so "12" stays "12" and "12.50" stays "12.50"."""
    decoder = json.JSONDecoder(parse_float=str, parse_constant=str)
    pos = _JSON_SPACE.match(text).end()
    if text.startswith("[", pos):
        return _json_array(decoder, text, pos + 1, source)
    if text.startswith("{", pos):
        return _json_lines(decoder, text, pos, source)
    raise UnreadableFile(
        source,
        "not JSON: expected an array of objects or one object per line",
        line=_text_line(text, pos),
    )


def _json_array(
    decoder: json.JSONDecoder, text: str, pos: int, source: str
) -> tuple[list[dict], list[str]]:
    """Elements of a top-level array, each required to be an object."""
    objects: list[dict] = []
    raws: list[str] = []
    pos = _JSON_SPACE.match(text, pos).end()
    closed = text.startswith("]", pos)
    while not closed:
        obj, end = _json_object_at(decoder, text, pos, len(objects) + 1, source)
        objects.append(obj)
        raws.append(text[pos:end])
        pos = _JSON_SPACE.match(text, end).end()
        closed = text.startswith("]", pos)
        if not closed and not text.startswith(",", pos):
            raise UnreadableFile(
                source, "invalid JSON array: expected ',' or ']'", line=_text_line(text, pos)
            )
        pos = _JSON_SPACE.match(text, pos + 1).end() if not closed else pos
    if _JSON_SPACE.match(text, pos + 1).end() != len(text):
        raise UnreadableFile(
            source, "unexpected data after the JSON array", line=_text_line(text, pos + 1)
        )
    return objects, raws


def _json_lines(
    decoder: json.JSONDecoder, text: str, pos: int, source: str
) -> tuple[list[dict], list[str]]:
    """Objects one after the other (JSON Lines; any whitespace between them is accepted)."""
    objects: list[dict] = []
    raws: list[str] = []
    while pos < len(text):
        obj, end = _json_object_at(decoder, text, pos, len(objects) + 1, source)
        objects.append(obj)
        raws.append(text[pos:end])
        pos = _JSON_SPACE.match(text, end).end()
    return objects, raws


def _json_object_at(
    decoder: json.JSONDecoder, text: str, pos: int, number: int, source: str
) -> tuple[dict, int]:
    """Decode the value at `pos`, which must be an object (the `number`-th record)."""
    try:
        value, end = decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(source, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(value, dict):
        raise UnreadableFile(
            source, f"record {number} is not a JSON object", line=_text_line(text, pos)
        )
    return value, end


def _text_line(text: str, pos: int) -> int:
    """1-based line of a character position."""
    return text.count("\n", 0, pos) + 1


def _json_column(objects: list[dict], key: str, source: str) -> pa.ChunkedArray:
    """One key's values as text across all objects (absent or null -> missing)."""
    values = list(map(operator.methodcaller("get", key), objects))
    try:
        column = _json_text_array(values)
    except UnicodeError:
        raise UnreadableFile(source, f"invalid Unicode escape in values of key {key!r}") from None
    if pc.any(pc.match_substring(column, "\x00")).as_py():
        raise UnreadableFile(source, f"NUL character in values of key {key!r}")
    return pa.chunked_array([column])


def _json_text_array(values: list) -> pa.Array:
    """Values as an Arrow text array; only columns holding non-strings take the per-value
    conversion (most keys hold strings and nulls only)."""
    try:
        return pa.array(values, type=pa.string())
    except pa.ArrowTypeError:
        return pa.array([_json_cell(value) for value in values], type=pa.string())


def _json_cell(value: object) -> str | None:
    """A JSON value as cell text: strings as is, numbers as written, booleans as true/false,
    nested objects or arrays as compact JSON (the checks will find them unreadable)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Headers


def _norm_header(header: str) -> str:
    """Header comparison key: without BOM, NFC (macOS writes accents decomposed), trimmed,
    case-folded."""
    return unicodedata.normalize("NFC", header.replace("\ufeff", "")).strip().casefold()


def _display_header(header: str) -> str:
    """A header as shown in messages and raw records: without BOM and surrounding spaces."""
    return header.replace("\ufeff", "").strip()


def _map_headers(
    headers: list[str], columns: Mapping[str, str], fields: tuple[str, ...], source: str
) -> dict[int, str]:
    """Column position -> canonical field. The contract's mapping wins; a header spelled like a
    canonical field passes as is. Two headers for one field refuse the file: picking one
    would silently bill or reject on the wrong data."""
    by_mapping = {_norm_header(k): v for k, v in columns.items()}
    claims: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        key = _norm_header(header)
        target = by_mapping.get(key) or (key if key in fields else None)
        if target in fields:
            claims.setdefault(target, []).append(position)
    for target, positions in claims.items():
        if len(positions) > 1:
            names = " and ".join(repr(_display_header(headers[p])) for p in positions)
            raise UnreadableFile(source, f"headers {names} both map to the field {target}")
    return {positions[0]: target for target, positions in claims.items()}


def _check_required(positions: dict[int, str], options: ReadOptions, source: str) -> None:
    """Refuse a file lacking the column of a required field, saying which header was expected."""
    present = set(positions.values())
    missing = [f for f in options.required_fields if f not in present]
    if missing:
        details = "; ".join(
            f"{f} (expected header {_expected_headers(f, options.columns)})" for f in missing
        )
        raise UnreadableFile(source, f"required column missing from the header: {details}")


def _expected_headers(target: str, columns: Mapping[str, str]) -> str:
    """The headers that would provide a canonical field, as a readable list."""
    names = [h for h, f in columns.items() if f == target]
    if target not in {_norm_header(h) for h in names}:
        names.append(target)
    return " or ".join(repr(n) for n in names)


def _record_names(
    headers: list[str], cells: list[pa.ChunkedArray], positions: dict[int, str]
) -> list[str | None]:
    """Unique keys for the raw records, per column; None drops a column that has neither a
    header nor any value (a trailing delimiter on every line)."""
    names: list[str | None] = []
    used: set[str] = set()
    for position, header in enumerate(headers):
        name = _display_header(header)
        if not name and position not in positions:
            if _all_blank(cells[position]):
                names.append(None)
                continue
            name = f"column {position + 1}"
        names.append(_unique(name, used))
    return names


def _unique(name: str, used: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`... if already taken, so JSON keys stay distinct."""
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f"{name} ({k})", k + 1
    used.add(candidate)
    return candidate


# --------------------------------------------------------------------------------------------
# Building the outputs


def _trim(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text, with empty cells as missing (the spec's "empty or whitespace-only")."""
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _all_blank(column: pa.ChunkedArray) -> bool:
    """Whether no cell of the column holds anything but whitespace."""
    return pc.all(pc.is_null(_trim(column))).as_py() is not False


def _drop_blank_rows(
    table: _Table,
) -> tuple[list[pa.ChunkedArray], list[pa.ChunkedArray], pa.ChunkedArray | None]:
    """Trimmed cells, raw cells and raw records without the rows whose every cell is blank
    (`;;;` lines left by spreadsheets are blank lines, not leads)."""
    if not table.cells:  # JSON made only of empty objects: nothing but blank rows
        return [], [], None if table.raw is None else table.raw.slice(0, 0)
    trimmed = _parallel(_trim, table.cells)
    blank = _blank_mask(trimmed)
    if blank is None:
        return trimmed, table.cells, table.raw
    keep = pc.invert(blank)
    raw = None if table.raw is None else table.raw.filter(keep)
    return [c.filter(keep) for c in trimmed], [c.filter(keep) for c in table.cells], raw


def _blank_mask(trimmed: list[pa.ChunkedArray]) -> pa.ChunkedArray | None:
    """True for rows where every trimmed cell is missing; None when there is no such row."""
    mask = None
    for column in trimmed:
        blank = pc.is_null(column)
        mask = blank if mask is None else pc.and_(mask, blank)
        if not pc.any(mask).as_py():
            return None
    return mask


def _frame(
    fields: tuple[str, ...], positions: dict[int, str], trimmed: list[pa.ChunkedArray]
) -> pd.DataFrame:
    """The canonical dataframe: one TEXT_DTYPE column per field, absent fields all missing."""
    rows = len(trimmed[0]) if trimmed else 0
    by_field = {field_: trimmed[p] for p, field_ in positions.items()}
    arrays = [by_field.get(f, pa.nulls(rows, pa.string())) for f in fields]
    return pa.table(arrays, names=list(fields)).to_pandas(types_mapper=_text_type)


def _text_type(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """Map Arrow text to pandas' `str` dtype when converting to pandas."""
    return TEXT_DTYPE if arrow_type in (pa.string(), pa.large_string()) else None


def _to_series(records: pa.ChunkedArray) -> pd.Series:
    """Raw records as a `str` Series with a RangeIndex, aligned with the frame."""
    return pa.table([records], names=["raw"]).to_pandas(types_mapper=_text_type)["raw"].rename(None)


def _json_records(names: list[str], cells: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    """Each row as a JSON object text {header: cell text}, built by Arrow column-wise, in
    parallel slices of rows (pandas' to_json takes ~10 s on a million rows; this, ~1 s).
    Cells are never missing here (the CSV readers yield empty text for absent cells)."""
    rows = len(cells[0]) if cells else 0
    if not names:
        return pa.chunked_array([pa.array(["{}"] * rows, type=pa.string())], type=pa.string())
    escaped = _parallel(_json_escaped, [pc.fill_null(c, "") if c.null_count else c for c in cells])
    keys = [
        ("{" if k == 0 else '",') + json.dumps(name, ensure_ascii=False) + ':"'
        for k, name in enumerate(names)
    ]

    def join(span: tuple[int, int]) -> pa.ChunkedArray:
        parts = [p for key, column in zip(keys, escaped) for p in (key, column.slice(*span))]
        return pc.binary_join_element_wise(*parts, '"}', pa.scalar("", pa.string()))

    pieces = _parallel(join, _row_spans(rows))
    return pa.chunked_array([chunk for piece in pieces for chunk in piece.chunks], type=pa.string())


def _row_spans(rows: int, size: int = 100_000) -> list[tuple[int, int]]:
    """(offset, length) slices covering `rows`, for parallel row-wise work."""
    return [(start, min(size, rows - start)) for start in range(0, rows, size)] or [(0, 0)]


def _parallel(func: Callable, items: Sequence) -> list:
    """`func` over `items` on a few threads: Arrow kernels release the GIL, so per-column or
    per-slice work spreads over the cores (results in input order)."""
    workers = min(len(items), os.cpu_count() or 1, 8)
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def _json_escaped(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column's text escaped for a JSON string literal (RFC 8259, section 7).

    Most columns need nothing: that is decided on the raw value bytes (memchr and a numpy
    minimum), far faster than a per-value regex. Only columns holding a special byte are
    rewritten; control characters other than newline, CR and tab are looked for last.
    """
    if not (_has_control(column) or _has_byte(column, b'"') or _has_byte(column, b"\\")):
        return column
    column = pc.replace_substring(column, "\\", "\\\\")
    column = pc.replace_substring(column, '"', '\\"')
    for char, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        column = pc.replace_substring(column, char, escaped)
    if _has_control(column):
        for code in range(0x20):
            column = pc.replace_substring(column, chr(code), f"\\u{code:04x}")
    return column


def _value_buffers(column: pa.ChunkedArray) -> Iterable[pa.Buffer]:
    """The value-bytes buffers of a text column's chunks (they may extend beyond a sliced
    chunk, which can only make the checks below answer True needlessly)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and data.size:
            yield data


def _has_control(column: pa.ChunkedArray) -> bool:
    """Whether any value holds a byte below 0x20 (a control character)."""
    return any(np.frombuffer(b, dtype=np.uint8).min() < 0x20 for b in _value_buffers(column))


def _has_byte(column: pa.ChunkedArray, byte: bytes) -> bool:
    """Whether any value holds the given byte (memchr over a copy of the buffer)."""
    return any(byte in b.to_pybytes() for b in _value_buffers(column))
