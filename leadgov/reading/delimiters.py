"""Finding a CSV file's header line and delimiter before any row is parsed."""

from __future__ import annotations

import re

from leadgov.reading.errors import UnreadableFile

_SNIFFED = (";", ",", "\t")
_DELIMITER_NAMES = {";": "';'", ",": "','", "\t": "tab"}


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
