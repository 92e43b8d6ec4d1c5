"""Property-based tests (hypothesis) on the readers, the normalisers and the contract loader (issue 7).

- the readers never raise anything but ``UnreadableFile``, whatever the bytes, and give back exactly
  the cells a CSV writer wrote (trimmed);
- the normalisers never raise, keep the index and the length, are idempotent where that holds, and
  give missing + invalid for what they cannot read, never a half-normalised value;
- the contract loader never raises anything but ``ContractError``, and a valid contract written back
  to YAML loads to an equal model.

Crashes found here (bare CR line ends, a stray BOM as a CRM export's only content, non-printable
characters in a contract) became fixes, each with a test in test_hostile_input.py; the properties
cover those inputs again.
"""

import csv
import io
import json
import re
from datetime import date, timedelta

import pandas as pd
import pytest
import yaml
from factories import BASE_CONTRACT, with_overrides
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadgov.config.contract import ContractError, parse_contract
from leadgov.normalise.company_ids import normalise_sirens
from leadgov.normalise.emails import normalise_emails
from leadgov.normalise.phones import normalise_phones
from leadgov.normalise.text import fold, words
from leadgov.normalise.values import department_from_postal_code, parse_amounts, parse_datetimes, parse_integers
from leadgov.reading import ReadOptions, UnreadableFile, read_crm_export, read_delivery
from leadgov.reading.outcomes import read_outcomes_export

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = yaml.safe_load(BASE_CONTRACT.read_text(encoding="utf-8"))
BOM = b"\xef\xbb\xbf"


# --- readers: arbitrary bytes -----------------------------------------------------------------------

#: Pieces of CSV-ish files: delimiters, quotes, line ends, BOMs, accents in UTF-8 and cp1252, NULs,
#: the canonical headers, invalid bytes.
TOKENS = [b";", b",", b"\t", b'"', b'""', b"\n", b"\r\n", b" ", b"a", b"x y", b"1", b"\xc3\xa9", b"\xe9", b"\x81",
          BOM, b"\xff\xfe", b"\x00", b"\x0b", b"\x0c", b"\xc2\x85", b"\xe2\x80\xa8", b"lead_id", b"email",
          b"supplier_id", b"event", b"at", b"phone", b"[", b"]", b"{", b"}", b":", b"\\u0000"]
csvish = st.lists(st.sampled_from(TOKENS), max_size=40).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=300), csvish)

OPTIONS = [ReadOptions(), ReadOptions(delimiter=";"), ReadOptions(delimiter="\t"), ReadOptions(encoding="utf-8"),
           ReadOptions(encoding="cp1252"), ReadOptions(encoding="latin-1"), ReadOptions(format="json"),
           ReadOptions(required_fields=("lead_id",)), ReadOptions(columns={"Mail": "email", "Réf": "lead_id"})]


@FAST
@given(any_bytes, st.sampled_from(OPTIONS))
@example(b"\x89PNG\r\n\x1a\n\x00\x00", ReadOptions())
@example(b'lead_id;email\nL1;"a', ReadOptions())
def test_delivery_reader_refuses_or_reads_any_bytes(data, options):
    try:
        delivery = read_delivery(data, options, source="any.csv")
    except UnreadableFile as error:
        assert str(error).startswith("any.csv") and error.problem
        return
    assert len(delivery.frame) == len(delivery.raw_records)
    assert list(delivery.frame.index) == list(range(len(delivery.frame)))
    for column in delivery.frame.columns:  # trimmed text or missing, never an empty string
        values = delivery.frame[column].dropna()
        assert all(isinstance(v, str) and _trimmed(v) == v for v in values)


@FAST
@given(any_bytes)
def test_outcome_reader_refuses_or_reads_any_bytes(data):
    try:
        frame, encoding, delimiter = read_outcomes_export(data, source="o.csv")
    except UnreadableFile as error:
        assert str(error).startswith("o.csv")
        return
    assert {"lead_id", "supplier_id", "event", "at"} <= set(frame.columns)


@FAST
@given(any_bytes)
def test_crm_reader_refuses_or_reads_any_bytes(data):
    try:
        crm = read_crm_export(data, source="crm.csv")
    except UnreadableFile as error:
        assert str(error).startswith("crm.csv")
        return
    assert list(crm.columns) == ["email", "phone"]


# --- readers: cells written by Python's csv module come back exactly, trimmed ------------------------

_SPECIALS = [";", ",", "\t", '"', '""', "\n", "\r\n", " ", "  ", "\u00a0", "é", "€", "=1+1", "'", "\\", "#"]
cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=15),
    st.lists(st.sampled_from(_SPECIALS + ["a", "Zoé", "x"]), max_size=6).map("".join),
)
HEADERS = ["lead_id", "need", "company_name", "job_title"]


def _trimmed(value: str) -> str | None:
    """The reader's trimming (Arrow's utf8_trim_whitespace): empty means missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pa.array([value])).to_pylist()[0]
    return text or None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(cell, cell, cell, cell), max_size=6), st.sampled_from([";", ",", "\t"]),
       st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       st.sampled_from(["\n", "\r\n"]))
def test_cells_written_by_a_csv_writer_round_trip_trimmed(rows, delimiter, quoting, line_end):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=line_end)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    delivery = read_delivery(buffer.getvalue().encode("utf-8"), ReadOptions(), source="w.csv")
    expected = [row for row in rows if any(_trimmed(c) is not None for c in row)]  # blank rows are not rows
    assert len(delivery.frame) == len(expected)
    for i, row in enumerate(expected):
        got = [delivery.frame.at[i, h] for h in HEADERS]
        assert [None if pd.isna(g) else g for g in got] == [_trimmed(c) for c in row]
        assert json.loads(delivery.raw_records[i]) == dict(zip(HEADERS, row, strict=True))  # as delivered


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(cell, cell), min_size=1, max_size=5))
def test_cp1252_file_reads_like_its_utf8_twin(rows):
    rows = [tuple(c.encode("cp1252", "ignore").decode("cp1252") for c in row) for row in rows]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows([["lead_id", "need"], *rows])
    text = buffer.getvalue()
    utf8 = read_delivery(text.encode("utf-8"), ReadOptions(), source="u.csv")
    data = text.encode("cp1252")
    if not data.isascii() and _is_utf8(data):  # e.g. "Ã©": a declared cp1252 on UTF-8 bytes is refused
        with pytest.raises(UnreadableFile, match="declared encoding cp1252 but the file is UTF-8"):
            read_delivery(data, ReadOptions(encoding="cp1252"), source="c.csv")
        return
    if re.search(rb"\xC3[\x80-\xBF]", data):  # "Ã" + a cp1252 symbol reads as a UTF-8 letter: mixed
        with pytest.raises(UnreadableFile, match="two encodings mixed"):
            read_delivery(data, ReadOptions(encoding="cp1252"), source="c.csv")
        return
    cp1252 = read_delivery(data, ReadOptions(encoding="cp1252"), source="c.csv")
    pd.testing.assert_frame_equal(utf8.frame, cp1252.frame)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- normalisers --------------------------------------------------------------------------------------

free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
email_like = st.builds(
    lambda local, domain, tld, pad: f"{pad}{local}@{domain}.{tld}{pad}",
    st.text(alphabet="abcXYZ09._-+'éÉœ!#", min_size=1, max_size=12),
    st.text(alphabet="abcxyz09-.ü", min_size=1, max_size=12),
    st.sampled_from(["fr", "com", "FR", "example", "local", "x1", "co.uk", "xn--p1ai"]),
    st.sampled_from(["", " ", "\t", "\u00a0"]),
)
#: Unicode spaces a supplier's file may hold between digits: NBSP, French typography's narrow NBSP,
#: thin and figure spaces, the ideographic space, a tab.
UNICODE_SPACES = ["\u00a0", "\u202f", "\u2009", "\u2007", "\u3000", "\t"]
phone_like = st.builds(
    lambda prefix, digits, sep: prefix + sep.join(digits[i:i + 2] for i in range(0, len(digits), 2)),
    st.sampled_from(["0", "+33 ", "0033", "+32 ", "+44 ", "(+33) ", "+33 (0)", "", "00", "+", "+33\u202f"]),
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.sampled_from(["", " ", ".", "-", "/", *UNICODE_SPACES]),
)
#: A fullwidth twin of ASCII text: letters, digits, "-" and "." (U+FF01..U+FF5E), the dot also as "。".
FULLWIDTH = {c: chr(ord(c) - 0x21 + 0xFF01) for c in map(chr, range(0x21, 0x7F))}
maybe = lambda values: st.one_of(st.none(), values)  # noqa: E731


def series(values: list, dtype) -> pd.Series:
    """Values on a shuffled, non-default index, to catch any positional mix-up."""
    return pd.Series(values, dtype=dtype, index=pd.Index([10 * i + 7 for i in range(len(values))][::-1]))


def _check_shape(result: pd.DataFrame, source: pd.Series) -> None:
    assert result.index.equals(source.index) and len(result) == len(source)


@FAST
@given(st.lists(maybe(st.one_of(email_like, free_text)), max_size=8), st.sampled_from(["str", object]))
def test_emails(values, dtype):
    s = series(values, dtype)
    result = normalise_emails(s)
    _check_shape(result, s)
    blank = s.isna() | s.astype(object).map(lambda v: v is None or not str(v).strip(" \t\r\n\f\v"))
    assert result["valid"].isna().equals(blank)
    invalid = result["valid"].eq(False).fillna(False).astype(bool)
    assert result.loc[invalid | blank, ["email", "local", "domain"]].isna().all().all()  # nothing half-done
    valid = result["valid"].fillna(False).astype(bool)
    normalised = result.loc[valid, "email"]
    assert (normalised.str.lower() == normalised).all()
    assert (result.loc[valid, "local"] + "@" + result.loc[valid, "domain"]).tolist() == normalised.tolist()
    again = normalise_emails(normalised)  # idempotent
    assert again["valid"].all() and again["email"].tolist() == normalised.tolist()


@FAST
@given(st.lists(email_like, min_size=1, max_size=8), st.data())
def test_an_email_domain_in_fullwidth_forms_normalises_like_its_ascii_twin(values, data):
    """Fullwidth letters, digits, hyphens or dots (or an ideographic dot) in a domain: the same
    verdict and the same normalised address as the domain written in ASCII."""
    twins = []
    for value in values:
        local, _, domain = value.partition("@")
        dots = data.draw(st.sampled_from([".", "．", "。"]))
        twins.append(local + "@" + "".join(dots if c == "." else FULLWIDTH.get(c, c) for c in domain))
    plain, wide = normalise_emails(pd.Series(values)), normalise_emails(pd.Series(twins))
    pd.testing.assert_frame_equal(plain, wide)


@FAST
@given(st.lists(maybe(st.one_of(phone_like, free_text)), max_size=8),
       st.sampled_from([("FR",), ("FR", "BE"), ("BE", "FR"), ("GB",), ("fr",)]))
def test_phones(values, regions):
    s = series(values, "str")
    result = normalise_phones(s, list(regions))
    _check_shape(result, s)
    assert result["valid"].isna().equals(s.isna() | s.str.strip().eq("").fillna(True))
    invalid = result["valid"].eq(False).fillna(False).astype(bool)
    assert result.loc[invalid, "phone"].isna().all()
    e164 = result.loc[result["valid"].fillna(False).astype(bool), "phone"]
    assert e164.str.fullmatch(r"\+[1-9][0-9]{6,14}").all()
    again = normalise_phones(e164, list(regions))  # an E.164 number normalises to itself
    assert again["valid"].all() and again["phone"].tolist() == e164.tolist()


#: A valid French mobile number (06 1x xx xx xx) written with plain spaces, nationally or internationally.
fr_mobile = st.builds(
    lambda prefix, d: prefix + " ".join(["1" + d[0], d[1:3], d[3:5], d[5:7]]),
    st.sampled_from(["06 ", "+33 6 ", "0033 6 ", "+33 (0)6 "]), st.text(alphabet="0123456789", min_size=7, max_size=7),
)


@FAST
@given(st.lists(st.one_of(fr_mobile, phone_like), min_size=1, max_size=8),
       st.sampled_from([("FR",), ("BE", "FR"), ("GB",)]), st.sampled_from(UNICODE_SPACES))
def test_a_phone_with_unicode_spaces_reads_like_one_with_plain_spaces(values, regions, space):
    spaced = [v.replace(" ", space) for v in values]
    pd.testing.assert_frame_equal(normalise_phones(pd.Series(values), list(regions)),
                                  normalise_phones(pd.Series(spaced), list(regions)))


@FAST
@given(st.lists(st.tuples(fr_mobile, st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo")),
                                             min_size=1, max_size=2), st.integers(0, 30)), min_size=1, max_size=8),
       st.sampled_from([("FR",), ("BE", "FR")]))
def test_a_letter_after_the_first_digit_makes_a_phone_invalid(cases, regions):
    """A valid number, letters inserted anywhere after its first digit or plus sign: invalid."""
    assert normalise_phones(pd.Series([phone for phone, _, _ in cases]), list(regions))["valid"].all()
    values = []
    for phone, letters, at in cases:
        first = next(i for i, c in enumerate(phone) if c.isdecimal() or c == "+")
        where = first + 1 + at % (len(phone) - first)
        values.append(phone[:where] + letters + phone[where:])
    assert normalise_phones(pd.Series(values), list(regions))["valid"].eq(False).all()


@FAST
@given(st.lists(maybe(st.one_of(st.text(alphabet="0123456789 \u00a0", max_size=16), free_text)), max_size=8))
def test_sirens(values):
    s = series(values, "str")
    result = normalise_sirens(s)
    _check_shape(result, s)
    assert result.loc[result["valid"].eq(False).fillna(False).astype(bool), "siren"].isna().all()
    sirens = result.loc[result["valid"].fillna(False).astype(bool), "siren"]
    assert sirens.str.fullmatch(r"[0-9]{9}").all()
    assert normalise_sirens(sirens)["siren"].tolist() == sirens.tolist()


@FAST
@given(st.lists(maybe(free_text), max_size=8))
def test_value_parsers_never_raise_and_never_half_read(values):
    s = series(values, "str")
    for parsed in (parse_integers(s), parse_amounts(s), parse_datetimes(s, "auto", "Europe/Paris"),
                   parse_datetimes(s, "%d/%m/%Y", "Europe/Paris")):
        _check_shape(parsed, s)
        assert parsed["invalid"].dtype == bool
        assert not (parsed["invalid"] & parsed["value"].notna()).any()  # unreadable = missing value
        assert not (s.isna() & parsed["invalid"]).any()  # missing is not invalid
        read = parsed["value"].notna()
        assert (read | parsed["invalid"] | s.isna() | s.str.strip().eq("")).all()


@FAST
@given(st.lists(maybe(free_text), max_size=8))
def test_fold_and_words_never_raise_and_are_idempotent(values):
    s = series(values, "str")
    folded, worded = fold(s), words(s)
    _check_shape(folded.to_frame(), s)
    _check_shape(worded.to_frame(), s)
    assert fold(folded).tolist() == folded.tolist() or folded.isna().all()
    assert words(worded).tolist() == worded.tolist() or worded.isna().all()


_SPACES = ["", " ", "\u00a0", "\u202f"]


def _grouped(n: int, separator: str) -> str:
    return f"{n:,}".replace(",", separator) if separator else str(n)


@FAST
@given(st.integers(0, 10**15 - 1), st.integers(0, 99), st.booleans(),
       st.sampled_from([("", ","), ("", "."), (" ", ","), ("\u00a0", ","), ("\u202f", "."), (".", ","), (",", ".")]),
       st.sampled_from(["", "€", " €", " EUR", " euros"]), st.sampled_from(["", "€ ", "EUR "]))
def test_amounts_round_trip(units, cents, with_cents, separators, suffix, prefix):
    thousands, decimal = separators
    text = _grouped(units, thousands) + (f"{decimal}{cents:02d}" if with_cents else "") + suffix
    if not suffix:
        text = prefix + text
    parsed = parse_amounts(pd.Series([text, f"  {text}  "], dtype="str"))
    expected = units + cents / 100 if with_cents else float(units)
    assert not parsed["invalid"].any(), text
    assert parsed["value"].tolist() == pytest.approx([expected, expected], rel=1e-15), text


def test_amounts_round_trip_examples():
    parsed = parse_amounts(pd.Series(["1 234,56", "1.234,56", "1,234.56", "1234.5", "5 000 €"], dtype="str"))
    assert parsed["value"].tolist() == [1234.56, 1234.56, 1234.56, 1234.5, 5000.0]


@FAST
@given(st.integers(0, 10**18 - 1), st.sampled_from(_SPACES))
def test_integers_round_trip(n, separator):
    parsed = parse_integers(pd.Series([_grouped(n, separator), f" {n} "], dtype="str"))
    assert parsed["value"].tolist() == [n, n] and not parsed["invalid"].any()


@FAST
@given(st.integers(1, 10**6), st.sampled_from(["-", "+"]))
def test_signed_numbers_are_unreadable(n, sign):
    for parse in (parse_integers, parse_amounts):
        parsed = parse(pd.Series([f"{sign}{n}"], dtype="str"))
        assert parsed["invalid"].tolist() == [True] and parsed["value"].isna().all()


@FAST
@given(st.datetimes(min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
                    max_value=pd.Timestamp("2200-12-31").to_pydatetime()).map(lambda d: d.replace(microsecond=0)),
       st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S"]))
def test_naive_datetimes_round_trip(moment, layout):
    parsed = parse_datetimes(pd.Series([moment.strftime(layout)], dtype="str"), "auto", "Europe/Paris")
    assert parsed["value"].tolist() == [pd.Timestamp(moment)]


@FAST
@given(st.lists(st.text(alphabet="0123456789", min_size=5, max_size=5), min_size=1, max_size=10))
def test_every_five_digit_postal_code_has_a_department(codes):
    departments = department_from_postal_code(series(codes, "str"))
    assert departments.notna().all()
    for code, department in zip(codes, departments, strict=True):
        assert 2 <= len(department) <= 3
        if code.startswith("20"):
            assert department == ("2A" if code < "20200" else "2B")
        elif code[:2] in ("97", "98"):
            assert department == code[:3]
        else:
            assert department == code[:2]


@FAST
@given(st.lists(maybe(free_text.filter(lambda t: not re.fullmatch(r"[0-9]{5}", t))), max_size=6))
def test_anything_but_five_digits_has_no_department(values):
    assert department_from_postal_code(series(values, "str")).isna().all()


# --- the contract loader -----------------------------------------------------------------------------

#: YAML-ish fragments: indicators, anchors and aliases, tags, directives, keys of the contract.
_YAML_TOKENS = [":", ": ", " ", "-", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!!python/name:os ", "!x ",
                "!!binary ", "?", "|", ">", "'", '"', "#", "\n", "\n  ", "\t", "%YAML 1.1\n", "---\n", "...\n", "<<",
                "@", "`", "%", "key", "1", "1.5", ".inf", "~", "null", "yes", "2027-13-01", "contract_id",
                "supplier", "id", "é", "\u2028", "\ufeff"]
yaml_text = st.one_of(st.lists(st.sampled_from(_YAML_TOKENS), max_size=40).map("".join),
                      st.text(alphabet=st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc", "Co")),
                              max_size=80))


def _contract_error_only(text: str) -> None:
    try:
        parse_contract(text, "any.yaml")
    except ContractError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
        assert str(error).startswith("any.yaml")


@FAST
@given(yaml_text)
@example("a: &a [1]\nb: *a\n")
@example("!!python/object/apply:os.system ['true']")
def test_contract_loader_raises_only_contract_error_on_any_text(text):
    _contract_error_only(text)


_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10), st.dates(),
                    st.sampled_from(["FR", "fr", "mon", "62*", "lead_id", "consent", "per_lead", "#x", "2027-01-01"]))
_keys = st.one_of(st.sampled_from(list(BASE) + ["columns", "countries", "model", "id"]), st.text(max_size=8),
                  st.integers(), st.booleans(), st.none())
nested = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
                      max_leaves=20)


@FAST
@given(st.dictionaries(_keys, nested, max_size=6))
def test_contract_loader_raises_only_contract_error_on_any_nested_mapping(document):
    _contract_error_only(yaml.safe_dump(document, allow_unicode=True))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


CONTRACT_PATHS = sorted(_paths(BASE), key=str)


@FAST
@given(st.lists(st.tuples(st.sampled_from(CONTRACT_PATHS), nested), min_size=1, max_size=3))
def test_contract_loader_raises_only_contract_error_on_a_mutated_contract(changes):
    document = json.loads(json.dumps(BASE, default=str))
    for path, value in changes:
        node = document
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
    _contract_error_only(yaml.safe_dump(document, allow_unicode=True))


_REGIONS = ["FR", "BE", "CH", "LU", "DE", "GB", "ES", "IT"]
valid_variation = st.fixed_dictionaries({
    "contract_id": st.from_regex(r"[A-Z][A-Z0-9-]{0,20}", fullmatch=True),
    "locale": st.sampled_from(["fr", "en"]),
    "period.start": st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    "period.notice_days": st.integers(0, 365),
    "billing.unit_price_eur": st.floats(0, 10_000, allow_nan=False).map(lambda x: round(x, 2)),
    "billing.monthly_budget_cap_eur": st.one_of(st.none(), st.integers(0, 10**6).map(float)),
    "volumes.weekly_target": st.integers(0, 500),
    "volumes.monthly_min": st.integers(0, 500),
    "qualification.countries": st.lists(st.sampled_from(_REGIONS), unique=True, max_size=4),
    "qualification.departments": st.lists(st.sampled_from(["75", "92", "2A", "2B", "971", "13", "69"]), unique=True),
    "qualification.min_employees": st.one_of(st.none(), st.integers(0, 100)),
    "qualification.job_title_include": st.lists(st.text(alphabet="abcdéfgh -'", min_size=1, max_size=12)
                                                .filter(lambda t: t.strip()), max_size=4, unique=True),
    "exploitability.phone_regions": st.lists(st.sampled_from(_REGIONS), unique=True, min_size=1, max_size=3),
    "exploitability.max_age_days": st.integers(0, 60),
    "delivery.delimiter": st.sampled_from(["auto", ";", ",", "\t"]),
    "delivery.encoding": st.sampled_from(["auto", "utf-8", "cp1252", "latin-1"]),
    "quality.max_reject_rate": st.floats(0, 1).map(lambda x: round(x, 3)),
})


@settings(max_examples=40, deadline=None)
@given(valid_variation)
def test_a_valid_contract_written_back_to_yaml_loads_to_an_equal_model(variation):
    overrides = dict(variation)
    overrides["period.end"] = overrides["period.start"] + timedelta(days=365)
    overrides["volumes.weekly_max"] = overrides["volumes.weekly_target"] + 10
    overrides["volumes.monthly_max"] = overrides["volumes.monthly_min"] + 100
    overrides["qualification.max_employees"] = None if overrides["qualification.min_employees"] is None else 5000
    text = yaml.safe_dump(with_overrides(overrides), allow_unicode=True, sort_keys=False)
    try:
        original = parse_contract(text, "v.yaml").contract
    except ContractError as error:  # the strategy aims at valid contracts: say which clause it missed
        pytest.fail(f"generated contract refused: {error.problems}")
    dumped = yaml.safe_dump(original.model_dump(mode="json"), allow_unicode=True)
    assert parse_contract(dumped, "dumped.yaml").contract == original
    assert parse_contract(yaml.safe_dump(original.model_dump(mode="json", exclude_defaults=True)),
                          "short.yaml").contract == original
