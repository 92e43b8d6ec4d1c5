"""The per-field rules run check by check (``field_failures``) give exactly the (row, code, column)
triples of pandera's lazy validation of the same schema, the reference path, on any delivery."""

from datetime import date

import pandas as pd
import pandera.pandas as pa
import pytest
from factories import TZ, make_contract, raw_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.reading import CANONICAL_FIELDS
from leadgov.tools.synthetic import Defects, generate_leads
from leadgov.validation.prepare import prepare_leads
from leadgov.validation.rules import build_schema, facts_frame, field_failures

DAY = date(2027, 3, 10)

#: Contracts that switch rules on and off: the example, legitimate interest (NO_NOTICE), no targeting.
CONTRACTS = {
    "example": {},
    "legitimate interest": {"gdpr.legal_basis": "legitimate_interest", "gdpr.consent_required": False},
    "fewer required fields": {"exploitability.required_fields": ["email"]},
}


def validated_failures(facts: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """The reference: the triples read from a lazy ``schema.validate``'s failure cases."""
    try:
        schema.validate(facts, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        assert not cases["index"].isna().any(), cases  # every rule ran
        return pd.DataFrame({"row": cases["index"].astype("int64").to_numpy(),
                             "code": cases["check"].astype(str).to_numpy(),
                             "column": cases["column"].astype(str).to_numpy()})
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "code": pd.Series(dtype=str), "column": pd.Series(dtype=str)})


def triples(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    return sorted(zip(frame["row"].astype(int), frame["code"], frame["column"], strict=True))


junk = st.sampled_from(["", "  ", "n/a", "0", "-1", "abc@", "@@", "06", "2027-13-45", "1e309", "\u00a0", "é" * 3])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 80), contract=st.sampled_from(sorted(CONTRACTS)),
       edits=st.lists(st.tuples(st.integers(0, 79), st.sampled_from(CANONICAL_FIELDS), junk), max_size=20))
def test_each_check_run_alone_finds_what_the_lazy_validation_finds(seed, rows, contract, edits):
    frame = generate_leads(rows, seed=seed, collected_before=DAY,
                           defects=Defects(invalid_phone=0.1, invalid_email=0.1, missing_field=0.1, stale=0.1,
                                           out_of_target=0.2, generic_or_free_email=0.1, no_consent=0.1))
    records = frame.to_dict("records")
    for row, field, value in edits:
        if row < len(records):
            records[row][field] = value
    terms = make_contract(**CONTRACTS[contract])
    prepared = prepare_leads(raw_frame(records), terms, DAY, TZ)
    facts = facts_frame(prepared.values, prepared.missing, prepared.invalid)
    schema = build_schema(terms, DAY)
    fast = field_failures(facts, schema)
    assert triples(fast) == triples(validated_failures(facts, schema))
    assert fast["row"].dtype == "int64"


def test_the_comparison_sees_rules_fail():
    """Guard for the property above: the generated deliveries do break rules."""
    frame = generate_leads(200, seed=3, collected_before=DAY)
    terms = make_contract()
    prepared = prepare_leads(raw_frame(frame.to_dict("records")), terms, DAY, TZ)
    facts = facts_frame(prepared.values, prepared.missing, prepared.invalid)
    failures = field_failures(facts, build_schema(terms, DAY))
    assert {"INVALID_PHONE", "INVALID_EMAIL", "MISSING_FIELD", "STALE"} <= set(failures["code"])


def test_a_rule_that_cannot_run_is_named():
    facts = pd.DataFrame({"x": [1, 2]})
    schema = pa.DataFrameSchema({"x": pa.Column(checks=[pa.Check(lambda s: s.no_such_method(), name="STALE")])})
    with pytest.raises(RuntimeError, match="validation rules could not run: STALE"):
        field_failures(facts, schema)


def test_a_missing_fact_column_is_named():
    schema = pa.DataFrameSchema({"missing__email": pa.Column(checks=[pa.Check(lambda s: ~s, name="MISSING_FIELD")])})
    with pytest.raises(RuntimeError, match="no column missing__email"):
        field_failures(pd.DataFrame({"x": [True]}), schema)


def test_na_values_are_skipped_where_the_check_says_so():
    facts = pd.DataFrame({"v": pd.Series([1.0, None, 5.0]), "f": pd.Series([True, False, True])})
    schema = pa.DataFrameSchema({
        "v": pa.Column(checks=[pa.Check(lambda s: s < 3, name="OUT_OF_TARGET_SIZE", ignore_na=True)], nullable=True),
        "f": pa.Column(checks=[pa.Check(lambda s: ~s, name="MISSING_FIELD", ignore_na=False)]),
    })
    assert triples(field_failures(facts, schema)) == [(0, "MISSING_FIELD", "f"), (2, "MISSING_FIELD", "f"),
                                                      (2, "OUT_OF_TARGET_SIZE", "v")]
    assert triples(field_failures(facts, schema)) == triples(validated_failures(facts, schema))

