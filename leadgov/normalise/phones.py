"""Phones: validity for the contract's regions and E.164 form (docs/deliveries.md: Phone normalisation,
INVALID_PHONE).

The rule, as the library reads it (`phone_reference`), after two readings of leadgov's own:
- every Unicode space (NBSP, the narrow no-break space U+202F of French typography, a thin space, a
  tab...) reads as a plain space: `06\u202f12\u202f34\u202f56\u202f78` is `06 12 34 56 78`;
- a letter after the number's first digit or plus sign makes it invalid: phonenumbers would read
  `06 12 AB CD 78` on a keypad (`06 12 22 23 78`) and silently drop a stray letter (`06 12 34 5a6 78`),
  and an extension (`poste 12`, `ext. 5`) makes it a switchboard's. Letters before the number are a
  label (`Tél : 06 12 34 56 78`) and are ignored, as the library ignores them;
- a number written internationally (its first digit-or-plus character is `+`, or it starts with
  `00`, which is read as `+`) is parsed as such;
- a national one is parsed with each region of `regions` in order; the first valid parse wins;
- a parse counts only if `phonenumbers.is_valid_number` holds AND the number's region
  (`region_code_for_number`) is one of `regions`: a valid British number is INVALID for a contract
  whose regions are ["FR"] ("not a valid number of one of phone_regions"), however it is written.

`phonenumbers.parse` costs ~24 s per million, so a FAST PATH decides most values with RE2 and
numpy over the whole column, using phonenumbers' own metadata (validity = the national
significant number matches the general description and one of the number types, with their
possible lengths: exactly what `is_valid_number` checks):
- the common French shapes (`06 12 34 56 78`, `0612345678`, `01.23.45.67.89`, `06-12-...`,
  `+33 6 12 34 56 78`, `+33 (0)6 12 ...`, `(+33) 6 12 ...`, `0033612345678`), whose parse is known exactly;
- international numbers whose country code belongs to no region of the contract (invalid);
- national numbers for which each region before the deciding one surely yields no valid number
  (`cannot_be_valid`), so that ["BE", "FR"] stays fast for French numbers.
Everything else goes to the library once per distinct raw string.
tests/leadgov/normalise/test_norm_phones.py proves the result equal to the library's on large
generated samples, for several region lists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

from leadgov.normalise.text import (
    as_arrow,
    ascii_digits,
    map_distinct,
    plain_spaces,
    rows_with_bytes,
    to_bool_series,
    to_str_series,
)

#: First digit-or-plus character is a plus sign, or the number starts with "00" (Python re, \d is
#: Unicode like phonenumbers' own notion of a digit).
_INTERNATIONAL = re.compile(r"^[^\d+\uff0b]*(?:([+\uff0b])|(00))")

#: A letter after the first digit or plus sign (RE2: \p{Nd} are the digits phonenumbers reads).
_LETTER_IN_NUMBER = r"(?s)[\p{Nd}+\x{ff0b}].*\p{L}"

def _letter_or_odd_space_byte(data: np.ndarray) -> np.ndarray:
    """UTF-8 bytes that may belong to a letter or a space other than U+0020: any non-ASCII byte, an
    ASCII letter, an ASCII control space (tab, LF, VT, FF, CR)."""
    lower = data | 0x20
    odd: np.ndarray = (data >= 0x80) | ((lower >= ord("a")) & (lower <= ord("z"))) | ((data >= 0x09) & (data <= 0x0D))
    return odd


def _read_as_written(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(the phones with every Unicode space made a plain space, rows with a letter in the number).

    Only the rows holding a byte of a letter or of another space go through the regular
    expressions: a delivery's phones are mostly digits and plain separators."""
    odd = rows_with_bytes(raw, _letter_or_odd_space_byte)
    lettered = np.zeros(len(raw), dtype=bool)
    if odd.any():
        rows = np.flatnonzero(odd)
        read = plain_spaces(raw.take(rows))
        raw = pc.replace_with_mask(raw, pa.array(odd), pc.cast(read, raw.type))
        lettered[rows] = _mask(pc.match_substring_regex(read, _LETTER_IN_NUMBER))
    return raw, lettered


#: Separators the fast path accepts between digits (all are phonenumbers punctuation; every other
#: space was made a plain space first).
_SEP_CHAR = r"[ .\-/]"
_SEP = _SEP_CHAR + "?"
_FR_NATIONAL = rf"^0[1-9](?:{_SEP}[0-9]){{8}}$"
_FR_INTERNATIONAL = (
    rf"^(?:(?:\+|00)33|\((?:\+|00)33\)){_SEP}(?:\(0\){_SEP}|0{_SEP})?[1-9](?:{_SEP}[0-9]){{8}}$"
)
#: Digits and single separators only, written nationally (not starting with "00").
_NATIONAL_SHAPE = rf"^(?:[1-9]|0[1-9]|0{_SEP_CHAR})(?:{_SEP}[0-9])*$"
#: `+CC ...` or `00CC ...` with digits and single separators only.
_INTERNATIONAL_SHAPE = rf"^(?:\+|00){_SEP}[1-9](?:{_SEP}[0-9])*$"

_TYPE_FIELDS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def _anchored(pattern: str) -> str:
    """A metadata pattern as a full-match RE2 pattern (phonenumbers uses fullmatch)."""
    return f"^(?:{pattern})$"


@dataclass(frozen=True)
class _Desc:
    """A PhoneNumberDesc reduced to what validation uses: possible lengths and pattern."""

    lengths: tuple[int, ...]
    pattern: str


@dataclass(frozen=True)
class _RegionRules:
    """What a national parse with a default region can yield, from phonenumbers' metadata."""

    country_code: str
    idd: str | None  # international (IDD) prefix pattern of the region
    national_prefix: str  # a plain digit string ("" when none)
    validity: tuple[tuple[_Desc, tuple[_Desc, ...]], ...]  # (general, types) per region of the code


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> _Desc | None:
    """The reduced description, or None when the metadata has no pattern for it."""
    if desc is None or not desc.national_number_pattern:
        return None
    return _Desc(tuple(desc.possible_length), _anchored(desc.national_number_pattern))


def _validity(region: str) -> tuple[_Desc, tuple[_Desc, ...]] | None:
    """(general, number types) descriptions: `is_valid_number` for a number of `region` is "its
    national significant number matches the general description and one of the types" (each
    with its possible lengths; a type without lengths takes the general ones)."""
    md = PhoneMetadata.metadata_for_region(region)
    general = _desc(md.general_desc) if md else None
    if general is None:
        return None
    types = tuple(d for d in (_desc(getattr(md, f)) for f in _TYPE_FIELDS) if d is not None)
    return general, types


@cache
def region_rules(region: str) -> _RegionRules | None:
    """The rules of `region`, or None when its national prefix is not a plain digit string (with
    carrier codes or transform rules the fast path would not be exact: such regions go slow)."""
    md = PhoneMetadata.metadata_for_region(region)
    if md is None or md.country_code is None or md.national_prefix_transform_rule:
        return None
    prefix = md.national_prefix_for_parsing or ""
    if prefix and not prefix.isdigit():
        return None
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(md.country_code, ())
    validity = tuple(v for v in (_validity(r) for r in regions) if v is not None)
    idd = f"^(?:{md.international_prefix})" if md.international_prefix else None
    return _RegionRules(str(md.country_code), idd, prefix, validity)


def _matches(nsn: pa.Array, desc: _Desc) -> np.ndarray:
    """phonenumbers' `_is_number_matching_desc`: length among the possible ones (if listed) and
    the pattern fully matched."""
    hit = pc.match_substring_regex(nsn, desc.pattern)
    if desc.lengths:
        hit = pc.and_(hit, pc.is_in(pc.utf8_length(nsn), pa.array(desc.lengths, pa.int32())))
    matched: np.ndarray = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    return matched


def _valid_by_metadata(nsn: pa.Array, validity: tuple[_Desc, tuple[_Desc, ...]]) -> np.ndarray:
    """Whether each national significant number is valid for one region (see `_validity`).

    Types sharing the same possible lengths are matched with one alternation (one RE2 pass)."""
    general, types = validity
    by_lengths: dict[tuple[int, ...], list[str]] = {}
    for desc in types:
        by_lengths.setdefault(desc.lengths or general.lengths, []).append(desc.pattern)
    any_type = np.zeros(len(nsn), dtype=bool)
    for lengths, patterns in by_lengths.items():
        any_type |= _matches(nsn, _Desc(lengths, "|".join(f"(?:{p})" for p in patterns)))
    return _matches(nsn, general) & any_type


def cannot_be_valid(digits: pa.Array, region: str) -> np.ndarray:
    """True where parsing these national digits with default `region` surely gives no valid number.

    Without an international prefix of the region nor its country code in front, phonenumbers
    keeps the region's country code and takes as national significant number the digits, or the
    digits without the national prefix: if neither is valid for any region sharing the country
    code, the parse is invalid. False means "maybe valid" (the library decides)."""
    rules = region_rules(region)
    if rules is None or len(digits) == 0:
        return np.zeros(len(digits), dtype=bool)
    blocked: np.ndarray = pc.starts_with(digits, rules.country_code).to_numpy(zero_copy_only=False)
    if rules.idd:
        blocked |= pc.match_substring_regex(digits, rules.idd).to_numpy(zero_copy_only=False)
    candidates = [digits]
    if rules.national_prefix:
        stripped = pc.utf8_slice_codeunits(digits, len(rules.national_prefix))
        candidates.append(pc.if_else(pc.starts_with(digits, rules.national_prefix), stripped, digits))
    maybe = np.zeros(len(digits), dtype=bool)
    for nsn in candidates:
        for validity in rules.validity:
            maybe |= _valid_by_metadata(nsn, validity)
    return ~blocked & ~maybe


def _fr_fast_path_available() -> bool:
    """The exact FR path relies on +33 being FR only, national prefix 0 and 9-digit numbers."""
    rules = region_rules("FR")
    return (
        phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(33) == ("FR",)
        and rules is not None
        and rules.national_prefix == "0"
        and rules.validity[0][0].lengths == (9,)
    )


def _mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy (null = False)."""
    mask: np.ndarray = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
    return mask


@lru_cache(maxsize=1)
def _known_country_codes() -> pa.Array:
    """Every country calling code phonenumbers knows, as strings."""
    return pa.array(sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), pa.large_string())


def _country_code(digits: pa.Array) -> pa.Array:
    """The country calling code phonenumbers reads after a "+": the shortest known code among
    the first 1, 2 or 3 digits (null if none)."""
    code = pa.nulls(len(digits), pa.large_string())
    for width in (3, 2, 1):  # the shortest known prefix wins: it overwrites the longer ones
        prefix = pc.cast(pc.utf8_slice_codeunits(digits, 0, width), pa.large_string())
        code = pc.if_else(pc.is_in(prefix, value_set=_known_country_codes()), prefix, code)
    return code


def _foreign_international(raw: pa.Array, digits: pa.Array, regions: tuple[str, ...]) -> np.ndarray:
    """Numbers written `+CC ...`/`00CC ...` (digits and separators only) whose country code
    belongs to none of `regions`: their region cannot be one of `regions`, so they are invalid."""
    rows = np.flatnonzero(_mask(pc.match_substring_regex(raw, _INTERNATIONAL_SHAPE)))
    sub = digits.take(rows)
    sub = pc.if_else(pc.starts_with(sub, "00"), pc.utf8_slice_codeunits(sub, 2), sub)
    code = _country_code(sub)
    allowed = pa.array(sorted({str(_country_code_of(r)) for r in regions} - {"None"}), pa.large_string())
    foreign = pc.and_(pc.is_valid(code), pc.invert(pc.is_in(code, value_set=allowed)))
    out = np.zeros(len(raw), dtype=bool)
    out[rows[_mask(foreign)]] = True
    return out


def _country_code_of(region: str) -> int | None:
    """The country calling code of `region` (None if phonenumbers does not know it)."""
    md = PhoneMetadata.metadata_for_region(region)
    return md.country_code if md else None


def _fr_exact(raw: pa.Array, digits: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(national `0X XX XX XX XX` shape, international `+33 X XX ...` shape, valid) for the French
    shapes whose parse the fast path knows exactly: the national significant number is the last
    9 digits, valid iff it matches the FR metadata."""
    national = _mask(pc.match_substring_regex(raw, _FR_NATIONAL))
    international = _mask(pc.match_substring_regex(raw, _FR_INTERNATIONAL))
    rows = np.flatnonzero(national | international)
    valid = np.zeros(len(raw), dtype=bool)
    nsn = pc.utf8_slice_codeunits(digits.take(rows), -9)
    rules = region_rules("FR")
    assert rules is not None  # the fast path runs only when _fr_fast_path_available()
    valid[rows] = _valid_by_metadata(nsn, rules.validity[0])
    return national, international, valid


def _walk_national(
    digits: pa.Array, rows: np.ndarray, fr_national: np.ndarray, fr_valid: np.ndarray, regions: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(rows decided valid as FR, rows decided invalid) among national `rows`, walking the regions
    in order as the library does: FR is exact on its `0X XX XX XX XX` shape; another region (or
    FR on another shape) is skipped where it `cannot_be_valid`; elsewhere the row is left to the
    library."""
    hits = []
    for region in regions:
        exact = fr_national[rows] if region == "FR" else np.zeros(len(rows), dtype=bool)
        skip = np.zeros(len(rows), dtype=bool)
        inexact = np.flatnonzero(~exact)
        skip[inexact] = cannot_be_valid(digits.take(rows[inexact]), region)
        hit = exact & fr_valid[rows]
        hits.append(rows[hit])
        skip |= exact & ~hit
        rows = rows[skip]
    return np.concatenate(hits) if hits else rows[:0], rows


def _fast_path(raw: pa.Array, regions: tuple[str, ...]) -> tuple[np.ndarray, pa.Array]:
    """(decided mask, E.164 or null) for the values decidable without phonenumbers.parse:
    the exact French shapes, international numbers of a country foreign to `regions`, and national
    numbers that the regions, walked in order, either validate as FR or cannot validate."""
    digits = ascii_digits(raw)
    fr_national, fr_international, fr_valid = _fr_exact(raw, digits)
    valid = fr_international & fr_valid & ("FR" in regions)
    decided = fr_international | _foreign_international(raw, digits, regions)
    national = np.flatnonzero(_mask(pc.match_substring_regex(raw, _NATIONAL_SHAPE)))
    fr_hits, invalid = _walk_national(digits, national, fr_national, fr_valid, regions)
    valid[fr_hits] = decided[fr_hits] = decided[invalid] = True
    e164 = pc.utf8_replace_slice(pc.utf8_slice_codeunits(digits, -9), 0, 0, "+33")
    return decided, pc.if_else(pa.array(valid), e164, pa.scalar(None, raw.type))


def _accepted(number: phonenumbers.PhoneNumber, regions: Sequence[str]) -> str | None:
    """E.164 of a parsed number when it is valid and of one of `regions`, else None."""
    if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in regions:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return None


def phone_reference(raw: str, regions: Sequence[str]) -> str | None:
    """E.164 of one raw phone per the library (the slow path), None if invalid for `regions`."""
    m = _INTERNATIONAL.match(raw)
    if m:
        text = raw if m.group(1) else raw[: m.start(2)] + "+" + raw[m.end(2) :]
        try:
            return _accepted(phonenumbers.parse(text, None), regions)
        except NumberParseException:
            return None
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except NumberParseException:
            continue
        e164 = _accepted(number, regions)
        if e164 is not None:
            return e164
    return None


def normalise_phones(s: pd.Series, regions: Sequence[str]) -> pd.DataFrame:
    """Columns `phone` (E.164, NA if invalid or missing) and `valid` (boolean, NA if missing).

    `regions` are ISO 3166 alpha-2 codes (any case) in the contract's order."""
    regions = tuple(r.strip().upper() for r in regions)
    raw = as_arrow(s)
    raw = pc.if_else(pc.equal(pc.utf8_trim_whitespace(raw), ""), pa.scalar(None, raw.type), raw)
    raw, lettered = _read_as_written(raw)
    if _fr_fast_path_available():
        decided, phone = _fast_path(raw, regions)
    else:
        decided, phone = np.zeros(len(raw), dtype=bool), pa.nulls(len(raw), raw.type)
    decided |= lettered
    phone = pc.if_else(pa.array(lettered), pa.scalar(None, raw.type), phone)
    slow_mask = pc.and_(pc.invert(pa.array(decided)), pc.is_valid(raw))
    if pc.any(slow_mask).as_py():
        slow = map_distinct(pc.filter(raw, slow_mask), lambda v: phone_reference(v, regions), raw.type)
        phone = pc.replace_with_mask(phone, slow_mask, slow)
    valid = pc.if_else(pc.is_valid(raw), pc.is_valid(phone), pa.scalar(None, pa.bool_()))
    return pd.DataFrame(
        {"phone": to_str_series(phone, s.index), "valid": to_bool_series(valid, s.index)}, index=s.index
    )
