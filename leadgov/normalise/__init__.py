"""Vectorised normalisers of lead fields (docs/deliveries.md, "Normalisation").

Each module takes a pandas Series of raw (trimmed) strings, missing = NA, and returns Series or
DataFrames aligned to the input index. The work is done with pyarrow compute kernels (RE2 regular
expressions, which behave the same whatever the input dtype); the reference libraries
(email-validator, phonenumbers) are called only for the values a fast path cannot decide, once per
distinct raw string, so that a delivery of a million leads is normalised in seconds.

- `text`: case/accent/hyphen folding, words, whole-word keyword matching (and the small Arrow
  helpers the other modules share).
- `emails`: validity per email-validator, lower-cased address, local part and domain, generic and
  free-mail lists, academic domains, domain matching.
- `phones`: validity per phonenumbers for the contract's regions, E.164.
- `company_ids`: SIREN / SIRET checksums.
- `values`: integers, amounts, datetimes, French postal codes and departments.
"""
