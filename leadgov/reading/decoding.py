"""Bytes to UTF-8 text: encoding detection, and refusing files whose encoding would garble names."""

from __future__ import annotations

import codecs
import re

import numpy as np
import pyarrow as pa

from leadgov.reading.errors import UnreadableFile
from leadgov.reading.options import _ENCODINGS, _check_choice

# Byte-order marks recognised by `auto`: (mark, codec to decode with, name reported as used).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)


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
        _refuse_mixed(data, "cp1252", source)
        return _single_byte(data, "cp1252", source, declared=False), "cp1252"
    if data.isascii() or not _is_utf8(data):
        _refuse_mixed(data, encoding, source)
        return _single_byte(data, encoding, source, declared=True), encoding
    raise UnreadableFile(
        source, f"declared encoding {encoding} but the file is UTF-8 (accents would be garbled)"
    )


#: A UTF-8 encoded accented letter (U+00C0..U+00FF: à, é, ç, ô...): read as cp1252 or latin-1
#: it is "Ã©"-style mojibake, which no French or English text contains.
_UTF8_LETTER = re.compile(rb"\xC3[\x80-\xBF]")


def _refuse_mixed(data: bytes, codec: str, source: str) -> None:
    """Refuse a file that is not UTF-8 as a whole but holds UTF-8 letters: two exports in two
    encodings pasted together. Reading it as ``codec`` would garble the UTF-8 rows' names."""
    letter = _UTF8_LETTER.search(data)
    # A NUL byte is binary content, refused as such later (_check_content). Other control bytes are
    # not: a file with a stray \x1f and two encodings was read as cp1252 and its UTF-8 rows garbled.
    if letter is None or b"\x00" in data:
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_line, other_line = _line(data, letter.start()), _line(data, exc.start)
        raise UnreadableFile(
            source, f"two encodings mixed: UTF-8 on line {utf8_line} and {codec} (byte 0x{data[exc.start]:02X}) "
                    f"on line {other_line}; export the file again in one encoding", line=other_line) from None


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


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
