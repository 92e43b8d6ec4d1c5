"""Phones: the spec's formats, region order and refusal of foreign numbers, and the proof that
the vectorised fast path gives exactly the library's verdict and E.164 on a large odd sample."""

from __future__ import annotations

import random
import re
import sys
import unicodedata

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat

from leadgov.normalise.phones import _fast_path, cannot_be_valid, normalise_phones
from leadgov.normalise.text import as_arrow

# --- The reference: the library, per value, written independently of the module ----------------

#: Unicode's White_Space characters: the ASCII ones, and the separators (Zs, Zl, Zp).
WHITE_SPACE = "\t\n\v\f\r\x85" + "".join(
    c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(c) in ("Zs", "Zl", "Zp"))


def has_letter_in_number(raw: str) -> bool:
    """A letter (category L*) after the first decimal digit or plus sign."""
    starts = [i for i, c in enumerate(raw) if c.isdecimal() or c in "+＋"]
    return bool(starts) and any(unicodedata.category(c).startswith("L") for c in raw[starts[0]:])


def reference(raw: str, regions: list[str]) -> str | None:
    """Spec: every Unicode space reads as a plain space; a letter after the first digit or plus
    sign makes it invalid; written internationally (first digit-or-plus is "+", or starts with
    "00" read as "+") -> parsed as such; else each region in order, first valid parse wins; a
    parse counts only if valid and its region is one of `regions`."""
    regions = [r.upper() for r in regions]
    raw = "".join(" " if c in WHITE_SPACE else c for c in raw)
    if has_letter_in_number(raw):
        return None

    def accepted(n):
        if phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) in regions:
            return phonenumbers.format_number(n, PhoneNumberFormat.E164)
        return None

    m = re.match(r"^[^\d+＋]*(?:([+＋])|(00))", raw)
    if m:
        text = raw if m.group(1) else raw[: m.start(2)] + "+" + raw[m.end(2) :]
        try:
            return accepted(phonenumbers.parse(text, None))
        except NumberParseException:
            return None
    for region in regions:
        try:
            e164 = accepted(phonenumbers.parse(raw, region))
        except NumberParseException:
            continue
        if e164:
            return e164
    return None


def assert_same_as_reference(values: list[str | None], regions: list[str]) -> None:
    out = normalise_phones(pd.Series(values, dtype=object), regions)
    expected = [None if v is None else reference(v, regions) for v in values]
    got = [None if pd.isna(p) else p for p in out["phone"]]
    mismatches = [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g]
    assert not mismatches[:20], f"{len(mismatches)} mismatches, e.g. {mismatches[:20]}"
    valid = out["valid"].tolist()
    assert all((v is None and x is pd.NA) or (v is not None and x == (e is not None))
               for v, e, x in zip(values, expected, valid, strict=True))


# --- The spec's examples ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "0612345678", "06.12.34.56.78",
     "06-12-34-56-78", "+33 (0)6 12 34 56 78", "(+33) 6 12 34 56 78", "+33612345678"],
)  # fmt: skip
def test_spec_formats_give_e164(raw):
    out = normalise_phones(pd.Series([raw]), ["FR"])
    assert out["phone"].tolist() == ["+33612345678"]
    assert out["valid"].tolist() == [True]


def test_landline_with_dots():
    assert normalise_phones(pd.Series(["01.23.45.67.89"]), ["FR"])["phone"].tolist() == ["+33123456789"]


def test_missing_stays_missing_and_index_is_kept():
    s = pd.Series(["06 12 34 56 78", None, "nope"], index=[7, 3, 5], dtype="str")
    out = normalise_phones(s, ["FR"])
    assert list(out.index) == [7, 3, 5]
    assert out["valid"].tolist() == [True, pd.NA, False]
    assert out["phone"].isna().tolist() == [False, True, True]
    assert str(out["valid"].dtype) == "boolean"


def test_double_zero_is_international():
    out = normalise_phones(pd.Series(["0044 20 7946 0958", "00 32 470 12 34 56"]), ["GB", "BE"])
    assert out["phone"].tolist() == ["+442079460958", "+32470123456"]


def test_region_order_first_valid_parse_wins():
    # "0470 12 34 56" is a valid Belgian mobile and a valid French number (+33 470123456).
    s = pd.Series(["0470 12 34 56", "06 12 34 56 78"])
    assert normalise_phones(s, ["BE", "FR"])["phone"].tolist() == ["+32470123456", "+33612345678"]
    assert normalise_phones(s, ["FR", "BE"])["phone"].tolist() == ["+33470123456", "+33612345678"]


def test_foreign_valid_number_is_refused_when_its_region_is_not_a_contract_region():
    s = pd.Series(["+44 20 7946 0958", "+1 212 555 0123", "+32 470 12 34 56"])
    assert normalise_phones(s, ["FR"])["valid"].tolist() == [False, False, False]
    assert normalise_phones(s, ["FR", "GB"])["valid"].tolist() == [True, False, False]
    assert normalise_phones(s, ["BE"])["phone"].tolist()[2] == "+32470123456"


def test_french_number_refused_for_a_belgian_only_contract():
    out = normalise_phones(pd.Series(["+33 6 12 34 56 78", "06 12 34 56 78"]), ["BE"])
    assert out["valid"].tolist() == [False, False]


def test_regions_are_case_insensitive():
    assert normalise_phones(pd.Series(["06 12 34 56 78"]), ["fr"])["valid"].tolist() == [True]


def test_unassigned_french_range_is_invalid():
    # 08 7x and 06 3 9x are not in phonenumbers' FR metadata.
    out = normalise_phones(pd.Series(["08 70 12 34 56", "06 39 12 34 56", "06 12 34 56 7"]), ["FR"])
    assert out["valid"].tolist() == [
        phonenumbers.is_valid_number(phonenumbers.parse("0870123456", "FR")),
        phonenumbers.is_valid_number(phonenumbers.parse("0639123456", "FR")),
        False,
    ]


@pytest.mark.parametrize("space", ["\u202f", "\u2009", "\u2007", "\t", "\u00a0\u202f"])
def test_every_unicode_space_reads_as_a_space(space):
    raw = [space.join(["06", "12", "34", "56", "78"]), space.join(["+33", "6", "12", "34", "56", "78"])]
    out = normalise_phones(pd.Series(raw), ["FR"])
    assert out["phone"].tolist() == ["+33612345678"] * 2


@pytest.mark.parametrize(
    "raw",
    ["06 12 AB CD 78", "06 12 34 5a6 78", "0612ABCD78", "06 12 34 56 78 ext 12", "+33 6 12 34 56 78 ext. 5",
     "06 12 34 56 78 x", "06 1b2 34 56 78", "06 12 34 56 78 a", "+1 800 FLOWERS"],
)  # fmt: skip
def test_a_letter_in_the_number_makes_it_invalid(raw):
    assert normalise_phones(pd.Series([raw]), ["FR", "US"])["valid"].tolist() == [False]


def test_a_label_before_the_number_is_ignored():
    out = normalise_phones(pd.Series(["Tél : 06 12 34 56 78", "tel:+33612345678", "Mobile\u202f: 06 12 34 56 78"]),
                           ["FR"])
    assert out["phone"].tolist() == ["+33612345678"] * 3


# --- Equivalence with the library on a large generated sample ----------------------------------


def _spaced(nsn: str, sep: str) -> str:
    return sep.join([nsn[0], nsn[1:3], nsn[3:5], nsn[5:7], nsn[7:9]])


def _french_nsn(rng: random.Random) -> str:
    """A 9-digit national number whose first 1-4 digits are uniform, so that every metadata
    range (01-09, 0836, 089x, ...) is well covered."""
    head = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 3)))
    return head + "".join(rng.choice("0123456789") for _ in range(9 - len(head)))


FRENCH_FORMATS = [
    lambda n, r: "0" + _spaced(n, " "),
    lambda n, r: "0" + n,
    lambda n, r: "0" + _spaced(n, "."),
    lambda n, r: "0" + _spaced(n, "-"),
    lambda n, r: "0" + _spaced(n, "/"),
    lambda n, r: "0" + _spaced(n, "\u00a0"),
    lambda n, r: "0" + _spaced(n, "\u202f"),
    lambda n, r: "0" + _spaced(n, "  "),
    lambda n, r: "0" + _spaced(n, " - "),
    lambda n, r: "+33 " + _spaced(n, " "),
    lambda n, r: "+33" + n,
    lambda n, r: "+33 (0)" + _spaced(n, " "),
    lambda n, r: "+33(0)" + n,
    lambda n, r: "+33 (0) " + _spaced(n, "."),
    lambda n, r: "+33 0" + n,
    lambda n, r: "+330" + n,
    lambda n, r: "(+33) " + _spaced(n, " "),
    lambda n, r: "+ 33 " + _spaced(n, " "),
    lambda n, r: "+33-" + _spaced(n, "-"),
    lambda n, r: "+33." + _spaced(n, "."),
    lambda n, r: "0033" + n,
    lambda n, r: "0033 " + _spaced(n, " "),
    lambda n, r: "00 33 " + _spaced(n, " "),
    lambda n, r: "0033 (0)" + n,
    lambda n, r: "0 033 " + n,
    lambda n, r: "33" + n,
    lambda n, r: "33 0" + n,
    lambda n, r: n,
    lambda n, r: _spaced(n, " "),
    lambda n, r: "0" + n[:-1],
    lambda n, r: "0" + n + r.choice("0123456789"),
    lambda n, r: "+33 " + n[:-1],
    lambda n, r: "+33 " + n + "1",
    lambda n, r: "00" + n,
    lambda n, r: "0" + n + " ext 12",
    lambda n, r: "0" + _spaced(n, " ") + " poste 12",
    lambda n, r: "Tél : 0" + _spaced(n, " "),
    lambda n, r: "tel:+33" + n,
    lambda n, r: "0" + _spaced(n, " ") + ".",
    lambda n, r: "-0" + n,
    lambda n, r: "0" + n[:3] + "AB" + n[5:],
    lambda n, r: "０" + "".join(chr(0xFF10 + int(c)) for c in n),
    lambda n, r: "+33 6 " + n,
    lambda n, r: "0" + _spaced(n, " ") + " / 0" + n,
    lambda n, r: "00330" + n,
    lambda n, r: "(0)" + n,
    lambda n, r: "0 " + _spaced(n, " "),
    lambda n, r: ".0" + n,
    lambda n, r: "+33 " + _spaced(n, "\u00a0"),
    lambda n, r: "+33\u202f" + _spaced(n, "\u202f"),
    lambda n, r: "0" + _spaced(n, "\u2009"),
    lambda n, r: "0" + _spaced(n, "\u3000"),
    lambda n, r: "0" + _spaced(n, "\t"),
    lambda n, r: "0" + _spaced(n, "\u2028"),
    lambda n, r: "0" + _spaced(n, "\u00a0\u202f"),
    lambda n, r: "0" + n[:4] + "a" + n[4:],
    lambda n, r: "0" + n[:3] + "ＡＢ" + n[5:],
    lambda n, r: "0" + n[:3] + "é" + n[3:],
    lambda n, r: "Tél\u202f: 0" + _spaced(n, "\u202f"),
]

ODD = [
    "+44 20 7946 0958", "0044 20 7946 0958", "+44 7911 123456", "020 7946 0958", "07911 123456",
    "+1 212 555 0123", "+1 (212) 555-0123", "(212) 555-0123", "212-555-0123", "1-800-FLOWERS",
    "+32 470 12 34 56", "0470 12 34 56", "02 123 45 67", "+32 2 123 45 67", "0032 2 123 45 67",
    "+41 44 668 18 00", "044 668 18 00", "+49 30 1234567", "030 1234567", "+39 06 1234 5678",
    "06 1234 5678", "+262 262 12 34 56", "0262 12 34 56", "+590 590 12 34 56", "+377 93 15 20 00",
    "93 15 20 00", "+352 621 123 456", "+34 612 34 56 78", "+7 495 123 45 67", "+800 1234 5678",
    "+999 12345678", "+0 612345678", "+", "00", "0", "-", "()", "abc", "06", "0 6", "+33",
    "+33 ", "0033", "06 12 34 56 78 90 12", "1234567890123456789012", "+33 6 12 34 56 78 ext. 5",
    "+33 6 12 34 56 78;ext=5", "tel:+33-6-12-34-56-78", "+33 6 12 34 56 78 #12", "06 12 34 56 78 x",
    "0800 123 456", "0 800 12 34 56", "3615", "112", "+33 1", "٠٦١٢٣٤٥٦٧٨",
]  # fmt: skip


def generated_sample(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    values: list[str | None] = []
    for i in range(n):
        if i % 50 == 0:
            values.append(rng.choice(ODD))
        elif i % 997 == 0:
            values.append(None)
        else:
            values.append(rng.choice(FRENCH_FORMATS)(_french_nsn(rng), rng))
    return values


def test_fast_path_equals_library_for_fr_on_100k_numbers():
    assert_same_as_reference(generated_sample(100_000, seed=1), ["FR"])


@pytest.mark.parametrize(
    "regions",
    [["BE", "FR"], ["FR", "BE"], ["GB", "FR"], ["CH", "FR", "DE"], ["FR", "US"], ["IT", "FR"],
     ["RE", "FR"], ["LU", "FR"], ["BE"], ["GB"], ["US", "CA"], ["MC", "FR"]],
)  # fmt: skip
def test_fast_path_equals_library_for_other_region_lists(regions):
    assert_same_as_reference(generated_sample(12_000, seed=hash(tuple(regions)) % 1000), regions)


def test_every_two_digit_prefix_and_boundary_numbers():
    nsns = [f"{p:02d}{s}" for p in range(10, 100) for s in ("0000000", "9999999", "5555555", "1234567")]
    nsns += [f"{p:03d}{s}" for p in range(100, 1000) for s in ("000000", "999999")]
    values = [f(n, random.Random(0)) for n in nsns for f in FRENCH_FORMATS[:12]]
    assert_same_as_reference(values, ["FR"])
    assert_same_as_reference(values[::7], ["BE", "FR"])


def test_cannot_be_valid_is_sound():
    """Where `cannot_be_valid` says a region's parse is invalid, the library agrees."""
    rng = random.Random(3)
    digits = ["".join(rng.choice("0123456789") for _ in range(rng.randint(2, 13))) for _ in range(6_000)]
    for region in ["FR", "BE", "CH", "DE", "GB", "US", "IT", "RE", "GP", "ES"]:
        impossible = cannot_be_valid(as_arrow(pd.Series(digits)), region)
        for d in np.array(digits)[impossible]:
            try:
                number = phonenumbers.parse(d, region)
            except NumberParseException:
                continue
            assert not phonenumbers.is_valid_number(number), (region, d)


def test_fast_path_decides_at_least_95_percent_of_realistic_french_numbers():
    rng = random.Random(5)
    realistic = FRENCH_FORMATS[:4] + FRENCH_FORMATS[9:12] + FRENCH_FORMATS[20:22]
    values = [rng.choice(realistic)(rng.choice("12345679") + "".join(rng.choice("0123456789") for _ in range(8)), rng)
              for _ in range(20_000)]  # fmt: skip
    for regions in (("FR",), ("BE", "FR"), ("FR", "BE")):
        decided, _ = _fast_path(as_arrow(pd.Series(values)), regions)
        assert decided.mean() >= 0.95, (regions, decided.mean())


def test_each_distinct_raw_value_reaches_the_library_once(monkeypatch):
    calls: list[str] = []
    real_parse = phonenumbers.parse

    def counting_parse(number, region=None, *args, **kwargs):
        calls.append(number)
        return real_parse(number, region, *args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    s = pd.Series(["Tél : 06 12 34 56 78"] * 1000 + ["06 12 34 56 78"] * 1000)
    out = normalise_phones(s, ["FR"])
    assert out["valid"].all()
    assert calls == ["Tél : 06 12 34 56 78"]
