"""Parsing JSON arrays and JSON Lines while keeping each object's text exactly as delivered."""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from leadgov.reading.errors import UnreadableFile
from leadgov.reading.limits import (
    MAX_JSON_DEPTH,
    cells_refused,
    columns_refused,
    json_depth_refused,
    too_many_cells,
    too_many_columns,
)
from leadgov.reading.table import _Table

_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    """The position of the first non-whitespace character from `pos` (the pattern always matches)."""
    match = _JSON_SPACE.match(text, pos)
    assert match is not None
    return match.end()


def _json_table(text: str, source: str, size: int) -> _Table:
    """Parse a JSON array of objects, or JSON Lines, keeping each object's delivered text."""
    records = _json_objects(text, source, size)
    objects = records.objects
    cells = [_json_column(objects, key, source) for key in records.keys]
    raw = pa.chunked_array([pa.array(records.raws, type=pa.string())])
    return _Table(list(records.keys), cells, raw, has_header=bool(objects), size=size)


@dataclass
class _Records:
    """The records read so far: the objects, their delivered texts and their keys (the union, in
    first-seen order), kept within the bounds of `limits` as they come."""

    text: str
    source: str
    size: int
    objects: list[dict[str, object]] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    keys: dict[str, None] = field(default_factory=dict)

    def add(self, obj: dict[str, object], start: int, end: int) -> None:
        """The record read from `text[start:end]`, or a refusal naming its line."""
        raw = self.text[start:end]
        if (raw.find("[") >= 0 or raw.find("{", 1) >= 0) and _deeper_than(obj, MAX_JSON_DEPTH):
            raise json_depth_refused(self.source, _text_line(self.text, start))
        if not obj.keys() <= self.keys.keys():
            self.keys.update(dict.fromkeys(obj))
            if too_many_columns(len(self.keys)):
                raise columns_refused(len(self.keys), self.source, _text_line(self.text, start))
        self.objects.append(obj)
        self.raws.append(raw)
        if too_many_cells(len(self.objects), len(self.keys), self.size):
            raise cells_refused(len(self.objects), len(self.keys), self.size, self.source,
                                _text_line(self.text, start))


def _deeper_than(value: object, limit: int) -> bool:
    """Whether arrays and objects nest in `value` more than `limit` levels (`value` is level 1);
    walked without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _json_objects(text: str, source: str, size: int) -> _Records:
    """The objects and their exact texts. Numbers are kept as their text (`parse_float=str`;
    ints are exact), so "12" stays "12" and "12.50" stays "12.50"."""
    decoder = json.JSONDecoder(parse_float=str, parse_constant=str)
    records = _Records(text, source, size)
    pos = _skip_space(text, 0)
    if text.startswith("[", pos):
        _json_array(decoder, records, pos + 1)
    elif text.startswith("{", pos):
        _json_lines(decoder, records, pos)
    else:
        raise UnreadableFile(
            source,
            "not JSON: expected an array of objects or one object per line",
            line=_text_line(text, pos),
        )
    return records


def _json_array(decoder: json.JSONDecoder, records: _Records, pos: int) -> None:
    """Elements of a top-level array, each required to be an object."""
    text, source = records.text, records.source
    pos = _skip_space(text, pos)
    closed = text.startswith("]", pos)
    while not closed:
        obj, end = _json_object_at(decoder, text, pos, len(records.objects) + 1, source)
        records.add(obj, pos, end)
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


def _json_lines(decoder: json.JSONDecoder, records: _Records, pos: int) -> None:
    """Objects one after the other (JSON Lines; any whitespace between them is accepted)."""
    text = records.text
    while pos < len(text):
        obj, end = _json_object_at(decoder, text, pos, len(records.objects) + 1, records.source)
        records.add(obj, pos, end)
        pos = _skip_space(text, end)


def _json_object_at(
    decoder: json.JSONDecoder, text: str, pos: int, number: int, source: str
) -> tuple[dict[str, object], int]:
    """Decode the value at `pos`, which must be an object (the `number`-th record). A value nested
    deeper than Python's recursion allows is refused like one deeper than `MAX_JSON_DEPTH`."""
    try:
        value, end = decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(source, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise json_depth_refused(source, _text_line(text, pos)) from None
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
