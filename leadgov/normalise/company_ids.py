"""SIREN / SIRET (docs/deliveries.md: Canonical lead fields `siren`, INVALID_COMPANY_ID).

A SIREN is 9 digits passing Luhn. A 14-digit SIRET is accepted: its SIREN part (first 9 digits)
passes Luhn and its 14 digits pass Luhn, except La Poste's establishments (SIREN 356000000),
whose 14 digits must sum (plain sum of digits) to a multiple of 5. Whitespace (including
non-breaking and narrow non-breaking spaces) is ignored, nothing else: "552.100.554" is invalid.
A value that is only whitespace is missing. The checksums run in numpy over a digit matrix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadgov.normalise.text import as_arrow, blank_to_null, to_bool_series, to_str_series

LA_POSTE_SIREN = "356000000"
_WHITESPACE = r"[\t\n\v\f\r \p{Z}\x{85}]+"
_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)  # Luhn: 2d, minus 9 if > 9


def digit_matrix(arr: pa.Array, width: int) -> np.ndarray:
    """(n, width) uint8 digits of an Arrow array of ASCII digit strings all `width` long: the
    string bytes are contiguous, so the matrix is a view of the data buffer, no per-row work."""
    arr = pc.cast(arr, pa.large_string())
    n = len(arr)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(n, width) - np.uint8(ord("0"))


def luhn_valid(digits: np.ndarray) -> np.ndarray:
    """Luhn check of each row of a digit matrix: from the right, every second digit is doubled."""
    width = digits.shape[1]
    doubled = (width - 1 - np.arange(width)) % 2 == 1
    values = np.where(doubled, _DOUBLED[digits], digits)
    valid: np.ndarray = values.sum(axis=1) % 10 == 0
    return valid


def _siren_ok(arr: pa.Array) -> np.ndarray:
    """Validity of 9-digit values."""
    return luhn_valid(digit_matrix(arr, 9))


def _siret_ok(arr: pa.Array) -> np.ndarray:
    """Validity of 14-digit values (La Poste's rule for SIREN 356000000)."""
    digits = digit_matrix(arr, 14)
    la_poste = (digits[:, :9] == np.array([int(c) for c in LA_POSTE_SIREN])).all(axis=1)
    checksum_ok = np.where(la_poste, digits.sum(axis=1) % 5 == 0, luhn_valid(digits))
    return luhn_valid(digits[:, :9]) & checksum_ok


def normalise_sirens(s: pd.Series) -> pd.DataFrame:
    """Columns `siren` (the 9-digit SIREN, also of a valid SIRET; NA if invalid or missing) and
    `valid` (boolean, NA if missing)."""
    compact = blank_to_null(pc.replace_substring_regex(as_arrow(s), _WHITESPACE, ""))
    missing = pc.is_null(compact).to_numpy(zero_copy_only=False)
    valid = np.zeros(len(compact), dtype=bool)
    for width, check in ((9, _siren_ok), (14, _siret_ok)):
        mask = pc.fill_null(pc.match_substring_regex(compact, f"^[0-9]{{{width}}}$"), False)
        valid[mask.to_numpy(zero_copy_only=False)] = check(pc.filter(compact, mask))
    valid_arr = pa.array(valid, pa.bool_(), mask=missing)
    siren = pc.if_else(pa.array(valid), pc.utf8_slice_codeunits(compact, 0, 9), pa.scalar(None, compact.type))
    return pd.DataFrame(
        {"siren": to_str_series(siren, s.index), "valid": to_bool_series(valid_arr, s.index)}, index=s.index
    )
