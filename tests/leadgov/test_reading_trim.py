"""The reader's trim (``_trim``) keeps the raw cells' text buffers when trimming changes no cell; it
gives exactly the plain trimmed copy (``_trimmed_reference``) on any column, chunked and sliced."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.reading.records import _trim, _trimmed_reference

cell = st.one_of(st.none(), st.sampled_from(["", " ", "\u00a0", "\t", "a", " a", "a ", "é", "a b"]),
                 st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000é"), max_size=6))


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.lists(cell, max_size=8), min_size=1, max_size=4), start=st.integers(0, 3),
       large=st.booleans())
def test_the_shared_trim_is_the_trimmed_copy(chunks, start, large):
    kind = pa.large_string() if large else pa.string()
    column = pa.chunked_array([pa.array(c, kind) for c in chunks], type=kind)
    column = column.slice(min(start, len(column)))  # chunks that start at an offset
    got, expected = _trim(column), _trimmed_reference(column)
    assert got.type == expected.type
    assert got.to_pylist() == expected.to_pylist()
    assert got.null_count == expected.null_count


def test_an_already_trimmed_column_keeps_its_text_buffer():
    column = pa.chunked_array([pa.array(["a", "", "bc", "d"] * 1000)])
    trimmed = _trim(column)
    assert trimmed.to_pylist() == ["a", None, "bc", "d"] * 1000
    assert trimmed.chunks[0].buffers()[2].address == column.chunks[0].buffers()[2].address


def test_a_column_with_one_padded_cell_is_trimmed_whole():
    column = pa.chunked_array([pa.array(["a", " b ", ""])])
    assert _trim(column).to_pylist() == ["a", "b", None]
