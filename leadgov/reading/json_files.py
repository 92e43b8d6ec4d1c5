"""Parsing JSON arrays and JSON Lines while keeping each object's text exactly as delivered."""

from __future__ import annotations

import itertools
import json
import operator
import re

import pyarrow as pa
import pyarrow.compute as pc

from leadgov.reading.errors import UnreadableFile
from leadgov.reading.table import _Table

_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    """The position of the first non-whitespace character from `pos` (the pattern always matches)."""
    match = _JSON_SPACE.match(text, pos)
    assert match is not None
    return match.end()


def _json_table(text: str, source: str) -> _Table:
    """Parse a JSON array of objects, or JSON Lines, keeping each object's delivered text."""
    objects, raws = _json_objects(text, source)
    keys = list(dict.fromkeys(itertools.chain.from_iterable(objects)))  # union, first-seen order
    cells = [_json_column(objects, key, source) for key in keys]
    raw = pa.chunked_array([pa.array(raws, type=pa.string())])
    return _Table(keys, cells, raw, has_header=bool(objects))


def _json_objects(text: str, source: str) -> tuple[list[dict[str, object]], list[str]]:
    """The objects and their exact texts. Numbers are kept as their text (`parse_float=str`;
    ints are exact), so "12" stays "12" and "12.50" stays "12.50"."""
    decoder = json.JSONDecoder(parse_float=str, parse_constant=str)
    pos = _skip_space(text, 0)
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
) -> tuple[list[dict[str, object]], list[str]]:
    """Elements of a top-level array, each required to be an object."""
    objects: list[dict[str, object]] = []
    raws: list[str] = []
    pos = _skip_space(text, pos)
    closed = text.startswith("]", pos)
    while not closed:
        obj, end = _json_object_at(decoder, text, pos, len(objects) + 1, source)
        objects.append(obj)
        raws.append(text[pos:end])
        pos = _skip_space(text, end)
        closed = text.startswith("]", pos)
        if not closed and not text.startswith(",", pos):
            raise UnreadableFile(
                source, "invalid JSON array: expected ',' or ']'", line=_text_line(text, pos)
            )
        pos = _skip_space(text, pos + 1) if not closed else pos
    if _skip_space(text, pos + 1) != len(text):
        raise UnreadableFile(
            source, "unexpected data after the JSON array", line=_text_line(text, pos + 1)
        )
    return objects, raws


def _json_lines(
    decoder: json.JSONDecoder, text: str, pos: int, source: str
) -> tuple[list[dict[str, object]], list[str]]:
    """Objects one after the other (JSON Lines; any whitespace between them is accepted)."""
    objects: list[dict[str, object]] = []
    raws: list[str] = []
    while pos < len(text):
        obj, end = _json_object_at(decoder, text, pos, len(objects) + 1, source)
        objects.append(obj)
        raws.append(text[pos:end])
        pos = _skip_space(text, end)
    return objects, raws


def _json_object_at(
    decoder: json.JSONDecoder, text: str, pos: int, number: int, source: str
) -> tuple[dict[str, object], int]:
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


def _json_column(objects: list[dict[str, object]], key: str, source: str) -> pa.ChunkedArray:
    """One key's values as text across all objects (absent or null -> missing)."""
    values = list(map(operator.methodcaller("get", key), objects))
    try:
        column = _json_text_array(values)
    except UnicodeError:
        raise UnreadableFile(source, f"invalid Unicode escape in values of key {key!r}") from None
    if pc.any(pc.match_substring(column, "\x00")).as_py():
        raise UnreadableFile(source, f"NUL character in values of key {key!r}")
    return pa.chunked_array([column])


def _json_text_array(values: list[object]) -> pa.Array:
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
