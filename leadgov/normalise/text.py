"""Text folding and whole-word keyword matching (docs/deliveries.md, "Normalisation": Text, Words).

Keywords, legal forms and job titles are compared case- and accent-insensitively, with hyphens and
repeated spaces folded to one space; a keyword matches whole consecutive words of the text.

The work is vectorised with pyarrow's kernels. Only values holding non-ASCII characters need
Unicode decomposition (to drop accents), which Python does once per *distinct* such value: titles
and legal forms repeat a lot, so this is cheap.

This module also holds the small Arrow helpers shared by the other normalisers (conversion of a
Series to an Arrow string array and back, per-distinct-value mapping, digit extraction), so that
every normaliser runs the same RE2 kernels whatever the input dtype (object or pyarrow `str`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Letters that Unicode decomposition leaves whole but a French reader folds (œuvre = oeuvre).
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
#: Hyphen-minus and the Unicode dashes/minus signs: all fold to a space (RE2 class body).
_DASHES = r"\-\x{2010}-\x{2015}\x{2212}\x{fe58}\x{fe63}\x{ff0d}"
#: One space: ASCII whitespace and every Unicode space separator (NBSP, narrow NBSP, thin space...),
#: i.e. Unicode's White_Space characters (RE2).
SPACE = r"[\t\n\v\f\r \p{Z}\x{85}]"
_SPACES = SPACE + "+"
#: Python's ``\s`` (the characters ``str.isspace`` says are spaces) as an RE2 class body: RE2's own ``\s``
#: is ASCII only (tests/leadgov/normalise/test_norm_text.py compares the two on every code point).
PYTHON_SPACES = r"\t\n\v\f\r\x1c-\x1f \p{Z}\x{85}"
#: Anything that is not a letter or a digit separates words (RE2).
_NON_WORD = r"[^\p{L}\p{N}]+"

STR_DTYPE = pd.StringDtype("pyarrow", na_value=float("nan"))  # pandas' default "str" dtype


# --- Arrow helpers shared by the normalisers -------------------------------------------------


def as_arrow(s: pd.Series) -> pa.Array:
    """The Series as one Arrow string array; missing values (NA, None, NaN) become nulls.

    Non-string values (e.g. numbers read by a JSON reader) are cast to their text."""
    if len(s) == 0:
        return pa.array([], pa.large_string())
    try:
        arr = pa.array(s.array, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: take their text
        arr = pa.array([None if pd.isna(v) else str(v) for v in s.array], pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):  # categorical
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


def plain_spaces(arr: pa.Array) -> pa.Array:
    """Every space character (see `SPACE`) replaced by a plain space, one for one."""
    return pc.replace_substring_regex(arr, SPACE, " ")


def to_str_series(arr: pa.Array, index: pd.Index, name: Hashable = None) -> pd.Series:
    """An Arrow string array as a pandas `str` Series (missing = NaN) on `index`."""
    return pd.Series(pd.array(arr, dtype=STR_DTYPE), index=index, name=name)


def to_bool_series(arr: pa.Array, index: pd.Index, name: Hashable = None) -> pd.Series:
    """An Arrow boolean array as a nullable `boolean` Series on `index`."""
    return pd.Series(pd.array(arr, dtype="boolean"), index=index, name=name)


def map_distinct(arr: pa.Array, func: Callable[[str], object], type_: pa.DataType) -> pa.Array:
    """`func` applied once per distinct non-null value of `arr`, mapped back to every row.

    Nulls stay null. Used for the per-value library calls that a fast path could not avoid."""
    if len(arr) == 0:
        return pa.array([], type_)
    encoded = _dictionary(arr)
    mapped = pa.array([func(v) for v in encoded.dictionary.to_pylist()], type_)
    return pc.take(mapped, encoded.indices)


def _dictionary(arr: pa.Array) -> pa.DictionaryArray:
    """``arr`` as its distinct values (``dictionary``) and each row's place among them (``indices``,
    null where the value is)."""
    encoded = pc.dictionary_encode(arr)
    return encoded.combine_chunks() if isinstance(encoded, pa.ChunkedArray) else encoded


def _utf8_bytes(arr: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(the array as large strings, null = "", its offsets, its UTF-8 bytes), without a copy."""
    arr = pc.cast(pc.fill_null(arr, ""), pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data_buffer = arr.buffers()[2]
    data = (np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]] if data_buffer
            else np.zeros(0, np.uint8))
    return arr, offsets, data


def rows_with_bytes(arr: pa.Array, which: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """True for the rows holding at least one UTF-8 byte for which `which` (a vectorised test on
    the bytes) holds; null rows are False. In numpy over the bytes: no regex."""
    _, offsets, data = _utf8_bytes(arr)
    before = np.concatenate([np.zeros(1, np.int64), np.cumsum(which(data), dtype=np.int64)])
    relative = offsets - offsets[0]
    found: np.ndarray = before[relative[1:]] > before[relative[:-1]]
    return found


def ascii_digits(arr: pa.Array) -> pa.Array:
    """Each string reduced to its ASCII digits ("06 12.34" -> "061234"; null -> ""), in numpy over
    the UTF-8 bytes (no regex: ~20x faster). Bytes of non-ASCII characters are never digits, so
    the result is valid UTF-8."""
    arr, offsets, data = _utf8_bytes(arr)
    n = len(arr)
    keep = (data >= ord("0")) & (data <= ord("9"))
    kept_before = np.concatenate([np.zeros(1, np.int64), np.cumsum(keep, dtype=np.int64)])
    new_offsets = kept_before[offsets - offsets[0]]
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes()))


def blank_to_null(arr: pa.Array) -> pa.Array:
    """Empty strings become nulls (an empty value is a missing one)."""
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


# --- Folding and words -------------------------------------------------------------------------


def _fold_unicode(value: str) -> str:
    """Case and accents folded for one non-ASCII value: é -> e, ç -> c, œ -> oe, ﬁ -> fi."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return stripped.lower().translate(_LIGATURES)


def _fold_arrow(arr: pa.Array) -> pa.Array:
    """See `fold`; Arrow in, Arrow out."""
    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False)
    folded = pc.ascii_lower(arr)
    if pc.any(non_ascii).as_py():
        unicode_folded = map_distinct(pc.filter(arr, non_ascii), _fold_unicode, arr.type)
        folded = pc.replace_with_mask(folded, non_ascii, unicode_folded)
    folded = pc.replace_substring_regex(folded, f"[{_DASHES}]", " ")
    folded = pc.replace_substring_regex(folded, _SPACES, " ")
    return blank_to_null(pc.utf8_trim(folded, " "))


def _words_arrow(arr: pa.Array) -> pa.Array:
    """See `words`; Arrow in, Arrow out."""
    spaced = pc.replace_substring_regex(_fold_arrow(arr), _NON_WORD, " ")
    return blank_to_null(pc.utf8_trim(spaced, " "))


def fold(s: pd.Series) -> pd.Series:
    """Lower case, accents removed (NFKD, combining marks dropped; œ -> oe, æ -> ae), hyphens and
    dashes turned into spaces, runs of whitespace folded to one space, trimmed.

    A value left empty by folding (e.g. "-") becomes missing. Missing stays missing."""
    return to_str_series(_fold_arrow(as_arrow(s)), s.index, s.name)


def words(s: pd.Series) -> pd.Series:
    """The folded text reduced to its words (maximal runs of letters and digits) joined by one
    space: "Directeur (DSI) - Paris" -> "directeur dsi paris". No word at all -> missing."""
    return to_str_series(per_distinct(as_arrow(s), _words_arrow), s.index, s.name)


#: Rows looked at first by ``per_distinct`` to decide whether a column repeats.
_DISTINCT_PROBE = 65_536


def per_distinct(arr: pa.Array, func: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``func`` (Arrow in, Arrow out, value by value) computed on the distinct values of ``arr`` and
    taken back to its rows, when they repeat (job titles and legal forms do: a million rows hold a few
    thousand); on every row otherwise. Nulls stay null.

    Finding the distinct values of a million all-different texts costs 0.3 s, so a column whose first
    ``_DISTINCT_PROBE`` rows are mostly different is not looked at further."""
    if len(arr) > _DISTINCT_PROBE and 2 * len(pc.unique(arr.slice(0, _DISTINCT_PROBE))) > _DISTINCT_PROBE:
        return func(arr)
    encoded = _dictionary(arr)
    if 2 * len(encoded.dictionary) > len(arr):
        return func(arr)
    return pc.take(func(encoded.dictionary), encoded.indices)


def keyword_pattern(keywords: Sequence[str]) -> str | None:
    """The RE2 pattern matching any keyword (reduced to words) as consecutive whole words of a
    `words` text; None when no keyword has a word."""
    reduced = _words_arrow(as_arrow(pd.Series(list(keywords), dtype=object)))
    distinct = sorted({k for k in reduced.to_pylist() if k is not None}, key=len, reverse=True)
    if not distinct:
        return None
    # Words hold only letters, digits and single spaces: nothing to escape for RE2.
    return "(?:^| )(?:" + "|".join(distinct) + ")(?: |$)"


def contains_keyword(words_series: pd.Series, keywords: Sequence[str]) -> pd.Series:
    """True where the text (already reduced by `words`) holds one of the keywords, itself reduced
    by `words`, as consecutive whole words: "head of" matches "head of sales" but "dg" does not
    match "dgfip". Missing text, or no keyword, gives False."""
    pattern = keyword_pattern(keywords)
    arr = as_arrow(words_series)
    if pattern is None:
        hits = pa.array([False] * len(arr), pa.bool_())
    else:
        hits = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    return pd.Series(hits.to_numpy(zero_copy_only=False), index=words_series.index, name=words_series.name)
