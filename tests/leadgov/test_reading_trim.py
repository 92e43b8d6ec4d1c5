"""The reader's trim (``_trim``) keeps the raw cells' text buffers when trimming changes no cell; it
gives exactly the plain trimmed copy (``trimmed_copy``) on any column, chunked and sliced."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadgov.normalise.text import blank_to_null
from leadgov.reading.records import _trim


def trimmed_copy(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The plain version: every cell trimmed into a new column, blank ones missing."""
    return blank_to_null(pc.utf8_trim_whitespace(column))


cell = st.one_of(st.none(), st.sampled_from(["", " ", "\u00a0", "\t", "a", " a", "a ", "é", "a b"]),
                 st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000é"), max_size=6))


def after_a_header(values: list[str | None], kind: pa.DataType, header: str) -> pa.Array:
    """``values`` as Arrow's CSV reader leaves a column: its text after the header's, its first offset
    past it (not at 0)."""
    whole = pa.array([header, *values], kind)
    _, offsets, text = whole.buffers()
    width = np.int64 if pa.types.is_large_string(kind) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[1:len(whole) + 1].copy()
    bits = pc.is_valid(pa.array(values, kind)).buffers()[1] if None in values else None
    return pa.Array.from_buffers(kind, len(values), [bits, pa.py_buffer(ends), text])


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.lists(cell, max_size=8), min_size=1, max_size=4), start=st.integers(0, 3),
       large=st.booleans(), header=st.sampled_from(["", "Forme juridique", "é"]))
@example(chunks=[["SAS", "", "SARL"]], start=0, large=False, header="Forme juridique")
@example(chunks=[["SAS"] * 20, [None, "a"]], start=0, large=True, header="Forme juridique")
def test_the_shared_trim_is_the_trimmed_copy(chunks, start, large, header):
    kind = pa.large_string() if large else pa.string()
    column = pa.chunked_array([after_a_header(c, kind, header) for c in chunks], type=kind)
    column = column.slice(min(start, len(column)))  # chunks that start at an offset
    got, expected = _trim(column), trimmed_copy(column)
    assert got.type == expected.type
    assert got.to_pylist() == expected.to_pylist()
    assert got.null_count == expected.null_count
    # the kernels the normaliser runs read it as they read the copy (ascii_lower garbles a column whose
    # offsets do not start at 0)
    assert pc.ascii_lower(got).to_pylist() == pc.ascii_lower(expected).to_pylist()


def test_an_already_trimmed_column_keeps_its_text_buffer():
    column = pa.chunked_array([pa.array(["a", "", "bc", "d"] * 1000)])
    trimmed = _trim(column)
    assert trimmed.to_pylist() == ["a", None, "bc", "d"] * 1000
    assert trimmed.chunks[0].buffers()[2].address == column.chunks[0].buffers()[2].address


def test_a_column_with_one_padded_cell_is_trimmed_whole():
    column = pa.chunked_array([pa.array(["a", " b ", ""])])
    assert _trim(column).to_pylist() == ["a", "b", None]


def test_a_column_read_after_its_header_is_rebased_and_reads_right():
    """The CSV reader's shape (first offset past the header's text): the trimmed column starts at 0 and
    the normaliser's kernels read it (``ascii_lower`` garbled it before the rebase)."""
    column = pa.chunked_array([after_a_header(["SAS", "", "SARL"], pa.string(), "Forme juridique")])
    trimmed = _trim(column)
    assert np.frombuffer(trimmed.chunks[0].buffers()[1], dtype=np.int32)[0] == 0
    assert pc.ascii_lower(trimmed).to_pylist() == ["sas", None, "sarl"]
