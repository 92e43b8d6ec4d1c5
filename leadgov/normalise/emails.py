"""Emails: validity, normalised address and parts (docs/deliveries.md: Email normalisation,
INVALID_EMAIL, GENERIC_EMAIL, FREE_EMAIL, STUDENT, COMPETITOR).

Validity is email-validator's verdict, `validate_email(value, check_deliverability=False)` with
its defaults (no quoted local part, no IP-literal domain, no display name, a globally deliverable
domain: a dot in it, a TLD ending with a letter, not a special-use name). The library costs ~27 s
per million calls, so the work is done in three tiers:
1. FAST PATH (pure Arrow): a dot-atom local part (ASCII atext, Latin-1 letters, œ) of at most 64
   characters and a short ASCII domain of LDH labels with an alphabetic TLD, not special-use:
   addresses the library surely accepts;
2. the same local part with any other domain (IDN, Punycode, odd): the library checks the domain
   once per distinct domain, the length limits are applied in Arrow;
3. anything else: the library once per distinct value.
tests/leadgov/normalise/test_norm_emails.py proves the result equal to the library's on a large
odd sample.

Note: the library refuses the special-use names of `email_validator.SPECIAL_USE_DOMAIN_NAMES`
(arpa, invalid, local, localhost, onion, test and their subdomains) but ACCEPTS `.example`
domains (RFC 6761 says applications should not treat them as special), so the spec's
`rival-crm.example` addresses are valid.

The normalised address is the input trimmed (ASCII whitespace), its local part lower-cased and its
domain as the library reads it before any check: mapped by UTS #46 (`idna.uts46_remap`, the call
the library makes), which lower-cases it, puts it in NFC and turns fullwidth letters and the
fullwidth and ideographic dots into their plain forms. So `jean@ｇｍａｉｌ.com` is `jean@gmail.com`
(FREE_EMAIL, and the same person), `x@ｇｍａｉｌ．com` too. For an ASCII domain this is just lower case.
It is not the library's `normalized` form, which keeps the local part's case and converts Punycode
domains to Unicode: `x@xn--bcher-kva.de` and `x@bücher.de` stay different, as the keys already
stored (leads, suppression entries) were computed on them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import email_validator
import idna
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadgov.normalise.text import as_arrow, map_distinct, to_bool_series, to_str_series

GENERIC_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        "contact", "info", "infos", "accueil", "bonjour", "hello", "commercial", "commerciale",
        "sales", "vente", "ventes", "admin", "administration", "direction", "secretariat",
        "compta", "comptabilite", "rh", "recrutement", "jobs", "support", "service",
        "serviceclient", "noreply", "no-reply", "marketing", "communication", "office",
    }
)  # fmt: skip
FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com",
        "outlook.fr", "outlook.com", "live.fr", "live.com", "msn.com", "orange.fr",
        "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr", "aol.com",
        "icloud.com", "me.com", "gmx.fr", "gmx.com", "protonmail.com", "proton.me",
    }
)  # fmt: skip

_TRIM = " \t\r\n\f\v"
#: RFC 5322 atext, plus the Latin-1 letters and œ/Œ (internationalised local parts, accepted by
#: the library: letters, already NFC, never combining). Explicit classes, never (?i): RE2's case
#: folding would let the Kelvin sign match "k".
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\x{c0}-\x{d6}\x{d8}-\x{f6}\x{f8}-\x{ff}\x{152}\x{153}]"
#: A dot-atom local part followed by the first "@".
_FAST_LOCAL_RE = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
#: ASCII LDH labels and an alphabetic TLD.
_FAST_DOMAIN_RE = rf"^(?:{_LABEL}\.)+[A-Za-z]+$"
_FAST_MAX_LOCAL = 64  # characters; the library does not check it (only in strict mode)
_FAST_MAX_DOMAIN = 63  # characters: then no label can exceed the 63-octet limit
_MAX_TOTAL = 254  # octets: the library's limit on each form of the whole address


def _special_use_re() -> str:
    """RE2 pattern of the (lower-case) domains the library refuses as special-use, read from the
    library itself so that a change of its list is followed."""
    names = "|".join(re.escape(d) for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)
    return rf"(?:^|\.)(?:{names})$"


def _split(trimmed: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(fast local mask, local, domain): values whose local part is a short dot-atom of the fast
    characters, split at their first "@" (parts keep their case; empty for the others)."""
    ok = pc.fill_null(pc.match_substring_regex(trimmed, _FAST_LOCAL_RE), False)
    parts = pc.split_pattern(pc.if_else(ok, trimmed, pa.scalar("@", trimmed.type)), "@", max_splits=1)
    local, domain = pc.list_element(parts, 0), pc.list_element(parts, 1)
    return pc.and_(ok, pc.less_equal(pc.utf8_length(local), _FAST_MAX_LOCAL)), local, domain


def _fast_domain(domain: pa.Array) -> pa.Array:
    """Domains the library surely accepts: short ASCII LDH names with an alphabetic TLD, no "--"
    (R-LDH/Punycode labels) and no special-use suffix."""
    ok = pc.match_substring_regex(domain, _FAST_DOMAIN_RE)
    ok = pc.and_(ok, pc.less_equal(pc.utf8_length(domain), _FAST_MAX_DOMAIN))
    ok = pc.and_(ok, pc.invert(pc.match_substring(domain, "--")))
    return pc.and_(ok, pc.invert(pc.match_substring_regex(pc.ascii_lower(domain), _special_use_re())))


def is_valid_email(value: str) -> bool:
    """The library's verdict on one trimmed value (the slow path)."""
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def _domain_info(domain: str) -> dict[str, object]:
    """The library's verdict on a domain, with the UTF-8 lengths of its Unicode and ASCII forms.

    Validated behind the minimal local part "x": the domain checks do not depend on the local
    part, and a length failure of "x@domain" is a failure for any longer local part."""
    try:
        info = email_validator.validate_email("x@" + domain, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return {"ok": False, "i18n": 0, "ascii": 0}
    return {"ok": True, "i18n": len(info.domain.encode()), "ascii": len(info.ascii_domain.encode())}


_DOMAIN_TYPE = pa.struct([("ok", pa.bool_()), ("i18n", pa.int64()), ("ascii", pa.int64())])


def _valid_by_domain(local: pa.Array, domain: pa.Array) -> pa.Array:
    """Validity of addresses with a fast local part, their domain checked once per distinct domain.

    The library checks the domain alone, then the UTF-8 length of the address as given, with the
    Unicode domain and with the ASCII domain (the fast local part is its own normal form)."""
    info = map_distinct(domain, _domain_info, _DOMAIN_TYPE)
    i18n, ascii_ = pc.struct_field(info, "i18n"), pc.struct_field(info, "ascii")
    longest = pc.max_element_wise(pc.binary_length(domain), i18n, ascii_)
    total = pc.add(pc.add(pc.binary_length(local), 1), longest)
    return pc.and_(pc.struct_field(info, "ok"), pc.less_equal(total, _MAX_TOTAL))


def domain_name(domain: str) -> str:
    """A valid address's domain as the library reads it: UTS #46 mapped, as in
    `email_validator.syntax.validate_email_domain_name` (lower case, NFC, fullwidth forms and
    ideographic dots made plain; a Punycode label stays Punycode)."""
    mapped: str = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    return mapped


def _lower_parts(value: str) -> dict[str, object]:
    """Normalised address, local part (lower-cased) and domain (`domain_name`) of a valid address
    (one unquoted "@")."""
    local, _, domain = value.partition("@")
    local, domain = local.lower(), domain_name(domain)
    return {"valid": True, "email": f"{local}@{domain}", "local": local, "domain": domain}


def _slow_parts(value: str) -> dict[str, object]:
    """Validity, lower-cased address, local part and domain of one value, via the library."""
    if not is_valid_email(value):
        return {"valid": False, "email": None, "local": None, "domain": None}
    return _lower_parts(value)


_COLUMNS = ("valid", "email", "local", "domain")
_PARTS_TYPE = pa.struct([("valid", pa.bool_())] + [(name, pa.large_string()) for name in _COLUMNS[1:]])


def _fill(columns: dict[str, pa.Array], mask: pa.Array, parts: pa.Array) -> None:
    """Write per-row `parts` (a _PARTS_TYPE array over the rows of `mask`) into `columns`."""
    for name in _COLUMNS:
        values = pc.cast(pc.struct_field(parts, name), columns[name].type)
        columns[name] = pc.replace_with_mask(columns[name], mask, values)


def normalise_emails(s: pd.Series) -> pd.DataFrame:
    """Columns `email` (trimmed, lower-cased; NA if invalid or missing), `valid` (boolean, NA if
    missing), `local` and `domain` (lower-cased parts of valid emails, NA otherwise).

    Three tiers: fast local part and fast domain (pure Arrow); fast local part and another domain
    (the library once per distinct domain); anything else (the library once per distinct value)."""
    trimmed = pc.utf8_trim(as_arrow(s), _TRIM)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    fast_local, local, domain = _split(trimmed)
    fast = pc.and_(fast_local, _fast_domain(domain))
    fast = pc.fill_null(pc.and_(fast, pc.less_equal(pc.binary_length(trimmed), _MAX_TOTAL)), False)
    null = pa.scalar(None, pa.large_string())
    columns = {
        "valid": pc.if_else(fast, True, pa.scalar(None, pa.bool_())),
        "email": pc.if_else(fast, pc.cast(pc.utf8_lower(trimmed), pa.large_string()), null),
        "local": pc.if_else(fast, pc.cast(pc.utf8_lower(local), pa.large_string()), null),
        "domain": pc.if_else(fast, pc.cast(pc.ascii_lower(domain), pa.large_string()), null),
    }
    by_domain = pc.and_(fast_local, pc.invert(fast))
    if pc.any(by_domain).as_py():
        ok = _valid_by_domain(pc.filter(local, by_domain), pc.filter(domain, by_domain))
        columns["valid"] = pc.replace_with_mask(columns["valid"], by_domain, ok)
        accepted = pc.and_(by_domain, pc.fill_null(columns["valid"], False))
        _fill(columns, accepted, map_distinct(pc.filter(trimmed, accepted), _lower_parts, _PARTS_TYPE))
    slow = pc.and_(pc.invert(fast_local), pc.is_valid(trimmed))
    if pc.any(slow).as_py():
        _fill(columns, slow, map_distinct(pc.filter(trimmed, slow), _slow_parts, _PARTS_TYPE))
    index = s.index
    return pd.DataFrame(
        {
            "email": to_str_series(columns["email"], index),
            "valid": to_bool_series(columns["valid"], index),
            "local": to_str_series(columns["local"], index),
            "domain": to_str_series(columns["domain"], index),
        },
        index=index,
    )


# --- Domain rules ------------------------------------------------------------------------------

_ACADEMIC_LABEL = r"(?:^|\.)(?:edu|univ|univ-[^.]*)(?:\.|$)"
_ACADEMIC_FIRST = r"^(?:etu|etud|etudiant|etudiants)(?:\.|$)"


def _bool_numpy(arr: pa.Array, index: pd.Index) -> pd.Series:
    """A boolean Arrow array (nulls = False) as a plain `bool` Series on `index`."""
    return pd.Series(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), index=index)


def is_academic_domain(domains: pd.Series) -> pd.Series:
    """STUDENT rule on an email domain: a label equal to `edu`, a label equal to `univ` or starting
    with `univ-`, or a first label `etu`, `etud`, `etudiant` or `etudiants`. Missing -> False."""
    lowered = pc.utf8_lower(as_arrow(domains))
    hits = pc.or_(
        pc.match_substring_regex(lowered, _ACADEMIC_LABEL), pc.match_substring_regex(lowered, _ACADEMIC_FIRST)
    )
    return _bool_numpy(hits, domains.index)


def domain_matches(domains: pd.Series, candidates: Sequence[str]) -> pd.Series:
    """True where the domain equals, or is a subdomain of, one of `candidates` (case-insensitive;
    a candidate's surrounding spaces, leading "@" and trailing dot are ignored). Missing -> False."""
    cleaned = sorted({c.strip().lower().lstrip("@").strip(".") for c in candidates} - {""})
    if not cleaned:
        return pd.Series(False, index=domains.index)
    pattern = r"(?:^|\.)(?:" + "|".join(re.escape(c) for c in cleaned) + r")$"
    return _bool_numpy(pc.match_substring_regex(pc.utf8_lower(as_arrow(domains)), pattern), domains.index)
