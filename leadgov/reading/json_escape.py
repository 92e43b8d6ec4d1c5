"""Escaping Arrow text for JSON string literals, skipping the columns that need nothing."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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
